-- Sign-in providers (Google): an external identity is its issuer and
-- subject and belongs to one account.
CREATE TABLE account_identities (
  issuer TEXT NOT NULL,
  subject TEXT NOT NULL,
  account_id TEXT NOT NULL REFERENCES accounts(id),
  email TEXT NOT NULL,
  created_at TEXT NOT NULL,
  last_used_at TEXT NOT NULL,
  PRIMARY KEY (issuer, subject)
);
CREATE INDEX idx_account_identities_account ON account_identities(account_id);
