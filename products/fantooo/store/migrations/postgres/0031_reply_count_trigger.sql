-- An operator's reply is counted by its message's insert: one statement
-- (one round trip) fewer in the reply's transaction. The slot is the last
-- hex digit of the chat's id (one of 16, the same for every reply in a
-- chat, which the chat's lock serialises anyway), so one operator's
-- replies in different chats rarely meet on one row. Slots counted before
-- by chat_slot in the application stay; the readers add up every slot.
CREATE FUNCTION count_operator_reply() RETURNS TRIGGER AS $$
BEGIN
  INSERT INTO operator_reply_counts (operator_id, slot, messages, last_at)
  VALUES (NEW.handled_by_operator_id, position(right(NEW.chat_id::text, 1) IN '0123456789abcdef') - 1, 1, NEW.created_at)
  ON CONFLICT (operator_id, slot) DO UPDATE SET messages = operator_reply_counts.messages + 1,
    last_at = GREATEST(operator_reply_counts.last_at, excluded.last_at);
  RETURN NULL;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER operator_reply_count AFTER INSERT ON messages
  FOR EACH ROW WHEN (NEW.handled_by_operator_id IS NOT NULL) EXECUTE FUNCTION count_operator_reply();
