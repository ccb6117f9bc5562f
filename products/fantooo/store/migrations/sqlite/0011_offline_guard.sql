-- An operator cannot go offline while holding open chats, whatever path the
-- write takes; suspension, deactivation and deletion, which hand the chats
-- back themselves, may.
CREATE TRIGGER prevent_offline_with_chats BEFORE UPDATE OF is_available ON operators
  WHEN OLD.is_available AND NOT NEW.is_available
   AND NOT NEW.is_suspended AND NEW.is_active AND NEW.deleted_at IS NULL
   AND EXISTS (SELECT 1 FROM chats WHERE assigned_operator_id = NEW.id AND status IN ('active', 'idle', 'escalated'))
BEGIN
  SELECT RAISE(ABORT, 'offline_with_chats: cannot go offline while holding chats');
END;
