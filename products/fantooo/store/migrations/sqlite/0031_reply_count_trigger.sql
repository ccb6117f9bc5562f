-- See the PostgreSQL migration of the same number: an operator's reply is
-- counted by its message's insert, in the slot of the last hex digit of
-- the chat's id.
CREATE TRIGGER operator_reply_count AFTER INSERT ON messages
WHEN NEW.handled_by_operator_id IS NOT NULL
BEGIN
  INSERT INTO operator_reply_counts (operator_id, slot, messages, last_at)
  VALUES (NEW.handled_by_operator_id, instr('0123456789abcdef', lower(substr(NEW.chat_id, -1))) - 1, 1, NEW.created_at)
  ON CONFLICT (operator_id, slot) DO UPDATE SET messages = messages + 1,
    last_at = CASE WHEN excluded.last_at > last_at THEN excluded.last_at ELSE last_at END;
END;
