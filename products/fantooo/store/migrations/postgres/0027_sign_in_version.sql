-- One number that moves whenever a session may no longer be served as it
-- was: a session revoked, expired early or deleted; an account deactivated,
-- deleted, its kind or password changed; a user banned, unbanned, renamed
-- or deleted; an operator renamed, suspended or deleted. Each node caches
-- live sessions and reads this row every few milliseconds: when it moved,
-- the node drops its cache.
CREATE TABLE sign_in_version (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  version BIGINT NOT NULL
);
INSERT INTO sign_in_version (id, version) VALUES (1, 0);

CREATE FUNCTION bump_sign_in_version() RETURNS TRIGGER AS $$
BEGIN
  UPDATE sign_in_version SET version = version + 1 WHERE id = 1;
  RETURN NULL;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER sign_in_version_sessions AFTER UPDATE OF revoked_at, expires_at, account_id, kind OR DELETE ON sessions
  FOR EACH STATEMENT EXECUTE FUNCTION bump_sign_in_version();
CREATE TRIGGER sign_in_version_accounts AFTER UPDATE OF is_active, kind, password_hash OR DELETE ON accounts
  FOR EACH STATEMENT EXECUTE FUNCTION bump_sign_in_version();
CREATE TRIGGER sign_in_version_users AFTER UPDATE OF is_banned, banned_until, is_active, deleted_at, display_name, account_id OR DELETE ON real_users
  FOR EACH STATEMENT EXECUTE FUNCTION bump_sign_in_version();
CREATE TRIGGER sign_in_version_operators AFTER UPDATE OF name, is_active, is_suspended, deleted_at, account_id OR DELETE ON operators
  FOR EACH STATEMENT EXECUTE FUNCTION bump_sign_in_version();
