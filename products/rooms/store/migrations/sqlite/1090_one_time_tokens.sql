-- Password-reset tokens move into the platform's single-use tokens
-- (platform-accounts 112): the channel becomes the purpose (reset_email,
-- reset_staff), the rest keeps its meaning.
INSERT INTO one_time_tokens (token_hash, purpose, account_id, detail, issued_by, created_at, expires_at, used_at)
  SELECT token_hash, 'reset_' || channel, account_id, NULL, issued_by, created_at, expires_at, used_at FROM password_resets;
DROP TABLE password_resets;
