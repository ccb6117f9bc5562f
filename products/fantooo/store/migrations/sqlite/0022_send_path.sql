-- See the PostgreSQL migration of the same number: the chat indexes over
-- last_message_at served no query; an operator's reply count is spread
-- over slots (by chat).
DROP INDEX IF EXISTS idx_chats_last_message;
DROP INDEX IF EXISTS idx_chats_status;
CREATE INDEX idx_chats_status ON chats(status);

CREATE TABLE operator_reply_counts (
  operator_id TEXT NOT NULL REFERENCES operators(id),
  slot INTEGER NOT NULL,
  messages INTEGER NOT NULL,
  last_at TEXT NOT NULL,
  PRIMARY KEY (operator_id, slot)
);
