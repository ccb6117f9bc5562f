-- Moved on every change of what a bearer request's account read gives
-- (who the account is, its role and status, when its credentials were last
-- revoked) and on every deletion, whoever writes. Each node reads it every
-- 50 ms and serves its cache of bearer credentials only while a read that
-- found it unchanged began less than 100 ms ago. A sign-in (last_login_at)
-- or a new password hash alone does not move it: a password change
-- revokes the credentials, which does.
CREATE TABLE account_sign_in_version (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  version INTEGER NOT NULL
);
INSERT INTO account_sign_in_version (id, version) VALUES (1, 0);

CREATE TRIGGER account_sign_in_version_update AFTER UPDATE ON accounts
  WHEN
    OLD.handle IS NOT NEW.handle
    OR OLD.full_name IS NOT NEW.full_name
    OR OLD.display_name IS NOT NEW.display_name
    OR OLD.phone IS NOT NEW.phone
    OR OLD.email IS NOT NEW.email
    OR OLD.birth_date IS NOT NEW.birth_date
    OR OLD.country IS NOT NEW.country
    OR OLD.gender IS NOT NEW.gender
    OR OLD.bio IS NOT NEW.bio
    OR OLD.avatar_url IS NOT NEW.avatar_url
    OR OLD.role IS NOT NEW.role
    OR OLD.status IS NOT NEW.status
    OR OLD.status_reason IS NOT NEW.status_reason
    OR OLD.is_active IS NOT NEW.is_active
    OR OLD.credentials_after IS NOT NEW.credentials_after
    OR OLD.needs_profile IS NOT NEW.needs_profile
BEGIN
  UPDATE account_sign_in_version SET version = version + 1 WHERE id = 1;
END;

CREATE TRIGGER account_sign_in_version_delete AFTER DELETE ON accounts
BEGIN
  UPDATE account_sign_in_version SET version = version + 1 WHERE id = 1;
END;
