-- Each room's Janus AudioBridge room number, stored (1, 2, …; allocated the
-- first time voice needs it). The unique index makes two rooms allocating
-- at once conflict; the loser takes the next number.
ALTER TABLE rooms ADD COLUMN voice_number BIGINT;
CREATE UNIQUE INDEX idx_rooms_voice_number ON rooms(voice_number);
