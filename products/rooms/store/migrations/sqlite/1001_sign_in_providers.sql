-- Sign-in through OpenID Connect providers (Google first): each external
-- identity (issuer + subject) belongs to one account. Accounts made from a
-- provider lack the handle, birth date and country of 1.1 until the person
-- fills them in (needs_profile).

CREATE TABLE account_identities (
  issuer TEXT NOT NULL,
  subject TEXT NOT NULL,
  account_id TEXT NOT NULL REFERENCES accounts(id),
  email TEXT,
  created_at TEXT NOT NULL,
  last_used_at TEXT NOT NULL,
  PRIMARY KEY (issuer, subject)
);
CREATE INDEX idx_account_identities_account ON account_identities(account_id);

ALTER TABLE accounts ADD COLUMN needs_profile BOOLEAN NOT NULL DEFAULT FALSE;

CREATE INDEX idx_password_resets_recent ON password_resets(account_id, created_at);
