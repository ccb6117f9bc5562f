-- Single-use tokens (platform-accounts): password-reset and address
-- verification links, staff-issued reset codes. Only the SHA-256 of a token
-- is kept. account_id is the product's id of whom the token is for; there
-- is no foreign key (each product defines its own accounts), so a product
-- deleting an account forgets its tokens in the same transaction. detail is
-- what the token was issued about (the address a link was mailed to).
CREATE TABLE one_time_tokens (
  token_hash TEXT PRIMARY KEY,
  purpose TEXT NOT NULL,
  account_id TEXT NOT NULL,
  detail TEXT,
  issued_by TEXT,
  created_at TEXT NOT NULL,
  expires_at TEXT NOT NULL,
  used_at TEXT
);
CREATE INDEX idx_one_time_tokens_account ON one_time_tokens(account_id, purpose, created_at);
