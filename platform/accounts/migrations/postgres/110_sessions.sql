-- Server-side sessions (platform-accounts), PostgreSQL flavour; ../sqlite
-- mirrors it. A session is carried by a browser cookie or a bearer token;
-- only the SHA-256 of the token is kept. account_id is the product's
-- account id; there is no foreign key, since each product defines its own
-- accounts table. kind is the product's kind of account (free text here; a
-- product may check it).

CREATE TABLE sessions (
  token_hash TEXT PRIMARY KEY,
  account_id UUID NOT NULL,
  kind TEXT NOT NULL,
  via TEXT NOT NULL CHECK (via IN ('cookie', 'bearer')),
  csrf_token TEXT NOT NULL,
  ip TEXT,
  user_agent TEXT,
  created_at TIMESTAMPTZ NOT NULL,
  last_seen_at TIMESTAMPTZ NOT NULL,
  expires_at TIMESTAMPTZ NOT NULL,
  revoked_at TIMESTAMPTZ
);
CREATE INDEX idx_sessions_account ON sessions(account_id);
CREATE INDEX idx_sessions_expires ON sessions(expires_at);
