-- Sign-ups from a banned user's address or device, created but flagged
-- for an admin's review (allow or ban). One review per account.
CREATE TABLE signup_reviews (
  id UUID PRIMARY KEY,
  user_id UUID NOT NULL UNIQUE REFERENCES real_users(id),
  banned_user_id UUID NOT NULL REFERENCES real_users(id),
  ip_address TEXT,
  device_fingerprint TEXT,
  status TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'allowed', 'banned')),
  decided_by UUID REFERENCES admins(id),
  decided_at TIMESTAMPTZ,
  created_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX idx_signup_reviews_pending ON signup_reviews(status, created_at);
