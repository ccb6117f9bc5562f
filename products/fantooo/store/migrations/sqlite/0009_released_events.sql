-- A chat handed back by its operator is announced like one taken away, so
-- sockets that followed it re-check their access. SQLite cannot change a
-- CHECK in place; the events are ephemeral, so the table is rebuilt.
DROP TABLE realtime_events;
CREATE TABLE realtime_events (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  chat_id TEXT,
  user_id TEXT,
  operator_id TEXT,
  kind TEXT NOT NULL CHECK (kind IN ('typing', 'receipt', 'balance', 'queue', 'assigned', 'idle_warning', 'taken_away', 'admin_alert', 'edited', 'released')),
  payload TEXT NOT NULL,
  created_at TEXT NOT NULL
);
CREATE INDEX idx_realtime_events_created ON realtime_events(created_at);
