-- The unread-message email: per conversation and recipient, the last
-- message seq an email covered. The reminder job moves it forward with a
-- conditional upsert, so of two nodes (or two runs) one sends.
CREATE TABLE message_reminders (
  conversation_id UUID NOT NULL REFERENCES conversations(id),
  account_id UUID NOT NULL REFERENCES accounts(id),
  upto_seq BIGINT NOT NULL,
  emailed_at TIMESTAMPTZ NOT NULL,
  PRIMARY KEY (conversation_id, account_id)
);
CREATE INDEX idx_messages_created ON messages(created_at);
