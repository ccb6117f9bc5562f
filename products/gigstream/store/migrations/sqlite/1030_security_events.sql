-- Security events: infected uploads refused by the virus scanner (and,
-- later, other events the back office lists). Nothing here refers to a
-- stored file: an infected upload never reaches the media store.
CREATE TABLE security_events (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  kind TEXT NOT NULL,
  account_id TEXT REFERENCES accounts(id),
  ip TEXT,
  detail TEXT NOT NULL DEFAULT '{}',
  created_at TEXT NOT NULL
);
CREATE INDEX idx_security_events_kind ON security_events(kind, seq);
