-- Moved on every change of what a bearer request's account read gives
-- (who the account is, its role and status, when its credentials were last
-- revoked) and on every deletion, whoever writes. Each node reads it every
-- 50 ms and serves its cache of bearer credentials only while a read that
-- found it unchanged began less than 100 ms ago. A sign-in (last_login_at)
-- or a new password hash alone does not move it: a password change
-- revokes the credentials, which does.
CREATE TABLE account_sign_in_version (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  version BIGINT NOT NULL
);
INSERT INTO account_sign_in_version (id, version) VALUES (1, 0);

CREATE FUNCTION bump_account_sign_in_version() RETURNS TRIGGER AS $$
BEGIN
  UPDATE account_sign_in_version SET version = version + 1 WHERE id = 1;
  RETURN NULL;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER account_sign_in_version_update AFTER UPDATE ON accounts
  FOR EACH ROW WHEN (
    OLD.handle IS DISTINCT FROM NEW.handle
    OR OLD.full_name IS DISTINCT FROM NEW.full_name
    OR OLD.display_name IS DISTINCT FROM NEW.display_name
    OR OLD.phone IS DISTINCT FROM NEW.phone
    OR OLD.email IS DISTINCT FROM NEW.email
    OR OLD.birth_date IS DISTINCT FROM NEW.birth_date
    OR OLD.country IS DISTINCT FROM NEW.country
    OR OLD.gender IS DISTINCT FROM NEW.gender
    OR OLD.bio IS DISTINCT FROM NEW.bio
    OR OLD.avatar_url IS DISTINCT FROM NEW.avatar_url
    OR OLD.role IS DISTINCT FROM NEW.role
    OR OLD.status IS DISTINCT FROM NEW.status
    OR OLD.status_reason IS DISTINCT FROM NEW.status_reason
    OR OLD.is_active IS DISTINCT FROM NEW.is_active
    OR OLD.credentials_after IS DISTINCT FROM NEW.credentials_after
    OR OLD.needs_profile IS DISTINCT FROM NEW.needs_profile
  ) EXECUTE FUNCTION bump_account_sign_in_version();
CREATE TRIGGER account_sign_in_version_delete AFTER DELETE OR TRUNCATE ON accounts
  FOR EACH STATEMENT EXECUTE FUNCTION bump_account_sign_in_version();
