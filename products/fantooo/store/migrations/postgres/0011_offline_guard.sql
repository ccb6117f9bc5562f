-- An operator cannot go offline while holding open chats, whatever path the
-- write takes; suspension, deactivation and deletion, which hand the chats
-- back themselves, may.
CREATE FUNCTION prevent_offline_with_chats() RETURNS TRIGGER AS $$
DECLARE
  held BIGINT;
BEGIN
  IF OLD.is_available AND NOT NEW.is_available
     AND NOT NEW.is_suspended AND NEW.is_active AND NEW.deleted_at IS NULL THEN
    SELECT COUNT(*) INTO held FROM chats
     WHERE assigned_operator_id = NEW.id AND status IN ('active', 'idle', 'escalated');
    IF held > 0 THEN
      RAISE EXCEPTION 'offline_with_chats: cannot go offline while holding % chats', held;
    END IF;
  END IF;
  RETURN NEW;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER prevent_offline_with_chats BEFORE UPDATE OF is_available ON operators
  FOR EACH ROW EXECUTE FUNCTION prevent_offline_with_chats();
