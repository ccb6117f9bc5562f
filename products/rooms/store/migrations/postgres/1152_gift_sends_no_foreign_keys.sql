-- An accepted gift's row is written in a batch that has just read the room,
-- the sender's presence in it, the seat holders and the gift, in the same
-- transaction; accounts, rooms and gifts are never deleted. The foreign-key
-- checks repeated that per row (a lookup and a KEY SHARE lock on the hot
-- room, seat holders' and gift rows, shared by every concurrent batch), so
-- they are dropped; `rooms check` reports a gift naming a missing account,
-- room or gift instead.
ALTER TABLE gift_sends DROP CONSTRAINT IF EXISTS gift_sends_sender_id_fkey;
ALTER TABLE gift_sends DROP CONSTRAINT IF EXISTS gift_sends_recipient_id_fkey;
ALTER TABLE gift_sends DROP CONSTRAINT IF EXISTS gift_sends_room_id_fkey;
ALTER TABLE gift_sends DROP CONSTRAINT IF EXISTS gift_sends_gift_id_fkey;
