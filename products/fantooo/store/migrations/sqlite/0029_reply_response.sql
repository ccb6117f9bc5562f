-- The response time of a chat's last reply (milliseconds from the user's
-- waiting message to the reply, NULL when the reply answered nothing new),
-- written by the reply's one chat statement so the message row can carry
-- it without a read of the chat before.
ALTER TABLE chats ADD COLUMN last_response_ms INTEGER;
