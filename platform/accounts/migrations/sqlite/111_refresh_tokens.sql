-- Rotating refresh tokens (platform-accounts), SQLite flavour; ../postgres
-- mirrors it. A sign-in starts a family; each rotation marks the presented
-- token used and adds the next one to the family. A used token presented
-- again revokes the whole family. Only the SHA-256 of a token is kept.
-- kind is the account's kind, carried into the access tokens of the family.

CREATE TABLE refresh_tokens (
  id TEXT PRIMARY KEY,
  family_id TEXT NOT NULL,
  account_id TEXT NOT NULL,
  kind TEXT NOT NULL,
  token_hash TEXT NOT NULL UNIQUE,
  created_at TEXT NOT NULL,
  expires_at TEXT NOT NULL,
  used_at TEXT,
  revoked_at TEXT
);
CREATE INDEX idx_refresh_tokens_family ON refresh_tokens(family_id);
CREATE INDEX idx_refresh_tokens_account ON refresh_tokens(account_id);
CREATE INDEX idx_refresh_tokens_expires ON refresh_tokens(expires_at);
