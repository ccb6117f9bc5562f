-- Server-side sessions (platform-accounts), SQLite flavour; ../postgres
-- mirrors it. A session is carried by a browser cookie or a bearer token;
-- only the SHA-256 of the token is kept. account_id is the product's
-- account id (hyphenated text here); there is no foreign key, since each
-- product defines its own accounts table. kind is the product's kind of
-- account (free text here; a product may check it).

CREATE TABLE sessions (
  token_hash TEXT PRIMARY KEY,
  account_id TEXT NOT NULL,
  kind TEXT NOT NULL,
  via TEXT NOT NULL CHECK (via IN ('cookie', 'bearer')),
  csrf_token TEXT NOT NULL,
  ip TEXT,
  user_agent TEXT,
  created_at TEXT NOT NULL,
  last_seen_at TEXT NOT NULL,
  expires_at TEXT NOT NULL,
  revoked_at TEXT
);
CREATE INDEX idx_sessions_account ON sessions(account_id);
CREATE INDEX idx_sessions_expires ON sessions(expires_at);
