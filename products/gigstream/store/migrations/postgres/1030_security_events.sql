-- Security events: infected uploads refused by the virus scanner (and,
-- later, other events the back office lists). Nothing here refers to a
-- stored file: an infected upload never reaches the media store.
CREATE TABLE security_events (
  seq BIGSERIAL PRIMARY KEY,
  kind TEXT NOT NULL,
  account_id UUID REFERENCES accounts(id),
  ip TEXT,
  detail JSONB NOT NULL DEFAULT '{}',
  created_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX idx_security_events_kind ON security_events(kind, seq);
