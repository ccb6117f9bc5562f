-- Single-use tokens (platform-accounts): password-reset and address
-- verification links, staff-issued reset codes. Only the SHA-256 of a token
-- is kept. account_id is the product's id of whom the token is for; there
-- is no foreign key (each product defines its own accounts), so a product
-- deleting an account forgets its tokens in the same transaction. detail is
-- what the token was issued about (the address a link was mailed to).
CREATE TABLE one_time_tokens (
  token_hash TEXT PRIMARY KEY,
  purpose TEXT NOT NULL,
  account_id UUID NOT NULL,
  detail TEXT,
  issued_by UUID,
  created_at TIMESTAMPTZ NOT NULL,
  expires_at TIMESTAMPTZ NOT NULL,
  used_at TIMESTAMPTZ
);
CREATE INDEX idx_one_time_tokens_account ON one_time_tokens(account_id, purpose, created_at);
