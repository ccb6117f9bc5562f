-- One number that moves whenever a session may no longer be served as it
-- was: a session revoked, expired early or deleted; an account deactivated,
-- deleted, its kind or password changed; a user banned, unbanned, renamed
-- or deleted; an operator renamed, suspended or deleted. Each node caches
-- live sessions and reads this row every few milliseconds: when it moved,
-- the node drops its cache.
CREATE TABLE sign_in_version (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  version INTEGER NOT NULL
);
INSERT INTO sign_in_version (id, version) VALUES (1, 0);

CREATE TRIGGER sign_in_version_sessions_update AFTER UPDATE OF revoked_at, expires_at, account_id, kind ON sessions
BEGIN
  UPDATE sign_in_version SET version = version + 1 WHERE id = 1;
END;

CREATE TRIGGER sign_in_version_sessions_delete AFTER DELETE ON sessions
BEGIN
  UPDATE sign_in_version SET version = version + 1 WHERE id = 1;
END;

CREATE TRIGGER sign_in_version_accounts_update AFTER UPDATE OF is_active, kind, password_hash ON accounts
BEGIN
  UPDATE sign_in_version SET version = version + 1 WHERE id = 1;
END;

CREATE TRIGGER sign_in_version_accounts_delete AFTER DELETE ON accounts
BEGIN
  UPDATE sign_in_version SET version = version + 1 WHERE id = 1;
END;

CREATE TRIGGER sign_in_version_real_users_update AFTER UPDATE OF is_banned, banned_until, is_active, deleted_at, display_name, account_id ON real_users
BEGIN
  UPDATE sign_in_version SET version = version + 1 WHERE id = 1;
END;

CREATE TRIGGER sign_in_version_real_users_delete AFTER DELETE ON real_users
BEGIN
  UPDATE sign_in_version SET version = version + 1 WHERE id = 1;
END;

CREATE TRIGGER sign_in_version_operators_update AFTER UPDATE OF name, is_active, is_suspended, deleted_at, account_id ON operators
BEGIN
  UPDATE sign_in_version SET version = version + 1 WHERE id = 1;
END;

CREATE TRIGGER sign_in_version_operators_delete AFTER DELETE ON operators
BEGIN
  UPDATE sign_in_version SET version = version + 1 WHERE id = 1;
END;
