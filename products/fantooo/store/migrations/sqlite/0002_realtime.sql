-- Ephemeral and derived realtime events (typing, read receipts, balance
-- changes), tailed by `seq` like messages and pruned after a day.
CREATE TABLE realtime_events (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  chat_id TEXT,
  user_id TEXT,
  kind TEXT NOT NULL CHECK (kind IN ('typing', 'receipt', 'balance', 'presence')),
  payload TEXT NOT NULL,
  created_at TEXT NOT NULL
);
CREATE INDEX idx_realtime_events_created ON realtime_events(created_at);

-- A retried send carries the same client id; the send path looks it up
-- under the write lock so a retry never creates (or charges) twice.
CREATE INDEX idx_messages_client ON messages(chat_id, client_id) WHERE client_id IS NOT NULL;
