-- Recovery links move into the platform's single-use tokens
-- (platform-accounts 112, applied just before this): same hash, purpose,
-- user (as the token's account), address (as its detail) and times.
INSERT INTO one_time_tokens (token_hash, purpose, account_id, detail, issued_by, created_at, expires_at, used_at)
  SELECT token_hash, purpose, user_id, email, NULL, created_at, expires_at, used_at FROM recovery_tokens;
DROP TABLE recovery_tokens;
