-- Sign-ups from a banned user's address or device, created but flagged
-- for an admin's review (allow or ban). One review per account.
CREATE TABLE signup_reviews (
  id TEXT PRIMARY KEY,
  user_id TEXT NOT NULL UNIQUE REFERENCES real_users(id),
  banned_user_id TEXT NOT NULL REFERENCES real_users(id),
  ip_address TEXT,
  device_fingerprint TEXT,
  status TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'allowed', 'banned')),
  decided_by TEXT REFERENCES admins(id),
  decided_at TEXT,
  created_at TEXT NOT NULL
);
CREATE INDEX idx_signup_reviews_pending ON signup_reviews(status, created_at);
