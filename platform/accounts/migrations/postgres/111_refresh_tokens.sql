-- Rotating refresh tokens (platform-accounts), PostgreSQL flavour;
-- ../sqlite mirrors it. A sign-in starts a family; each rotation marks the
-- presented token used and adds the next one to the family. A used token
-- presented again revokes the whole family. Only the SHA-256 of a token is
-- kept. kind is the account's kind, carried into the access tokens of the
-- family.

CREATE TABLE refresh_tokens (
  id UUID PRIMARY KEY,
  family_id UUID NOT NULL,
  account_id UUID NOT NULL,
  kind TEXT NOT NULL,
  token_hash TEXT NOT NULL UNIQUE,
  created_at TIMESTAMPTZ NOT NULL,
  expires_at TIMESTAMPTZ NOT NULL,
  used_at TIMESTAMPTZ,
  revoked_at TIMESTAMPTZ
);
CREATE INDEX idx_refresh_tokens_family ON refresh_tokens(family_id);
CREATE INDEX idx_refresh_tokens_account ON refresh_tokens(account_id);
CREATE INDEX idx_refresh_tokens_expires ON refresh_tokens(expires_at);
