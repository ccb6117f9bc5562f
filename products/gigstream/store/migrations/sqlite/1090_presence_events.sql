-- Changes of someone's online status, one row per conversation of theirs,
-- for the realtime tailer to push to the conversation's other party
-- (viewer_id). Not history: purged after a day.
CREATE TABLE presence_events (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  conversation_id TEXT NOT NULL REFERENCES conversations(id),
  account_id TEXT NOT NULL REFERENCES accounts(id),
  viewer_id TEXT NOT NULL REFERENCES accounts(id),
  online BOOLEAN NOT NULL,
  created_at TEXT NOT NULL
);
CREATE INDEX idx_presence_events_created ON presence_events(created_at);
CREATE INDEX idx_presence_events_account ON presence_events(account_id, seq);
