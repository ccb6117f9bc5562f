-- SQLite flavour of ../postgres/1106_seat_sessions.sql (same columns).
CREATE TABLE seat_sessions (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  room_id TEXT NOT NULL REFERENCES rooms(id),
  seat_no INTEGER NOT NULL,
  account_id TEXT NOT NULL REFERENCES accounts(id),
  started_at TEXT NOT NULL,
  ended_at TEXT,
  end_reason TEXT
);
CREATE UNIQUE INDEX idx_seat_sessions_open ON seat_sessions(account_id) WHERE ended_at IS NULL;
CREATE INDEX idx_seat_sessions_account ON seat_sessions(account_id, started_at);
CREATE INDEX idx_seat_sessions_room_open ON seat_sessions(room_id) WHERE ended_at IS NULL;
