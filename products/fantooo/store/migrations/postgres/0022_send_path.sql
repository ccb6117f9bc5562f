-- The send path's row updates made HOT-able, and an operator's reply
-- count spread over slots.
--
-- A chat's counters and last_message_at move on every message. Two
-- indexes covered last_message_at, so each of those updates wrote a new
-- entry into every index of chats. Auto-close and the chat lists filter
-- or order by COALESCE(last_message_at, created_at), which neither index
-- serves; the back office's recent-chats list (an optional status, then
-- last_message_at) now sorts the chats of its status. Status alone stays
-- indexed.
DROP INDEX IF EXISTS idx_chats_last_message;
DROP INDEX IF EXISTS idx_chats_status;
CREATE INDEX idx_chats_status ON chats(status);
-- Room on each page for the new row versions of HOT updates.
ALTER TABLE chats SET (fillfactor = 80);
ALTER TABLE real_users SET (fillfactor = 80);
ALTER TABLE fictional_users SET (fillfactor = 80);

-- Replies counted per operator in a few slots (by chat), so one
-- operator's replies in different chats do not queue on one row.
-- operators.total_messages_sent keeps what was counted before.
CREATE TABLE operator_reply_counts (
  operator_id UUID NOT NULL REFERENCES operators(id),
  slot SMALLINT NOT NULL,
  messages BIGINT NOT NULL,
  last_at TIMESTAMPTZ NOT NULL,
  PRIMARY KEY (operator_id, slot)
);
