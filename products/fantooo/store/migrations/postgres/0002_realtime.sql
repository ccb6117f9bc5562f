-- Ephemeral and derived realtime events (typing, read receipts, balance
-- changes). Like messages, every node tails this table by `seq`; rows are
-- pruned after a day by the maintenance job.
CREATE TABLE realtime_events (
  seq BIGSERIAL PRIMARY KEY,
  chat_id UUID,
  user_id UUID,
  kind TEXT NOT NULL CHECK (kind IN ('typing', 'receipt', 'balance', 'presence')),
  payload JSONB NOT NULL,
  created_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX idx_realtime_events_created ON realtime_events(created_at);

-- A retried send carries the same client id; the send path looks it up
-- under the chat lock so a retry never creates (or charges) twice.
CREATE INDEX idx_messages_client ON messages(chat_id, client_id) WHERE client_id IS NOT NULL;
