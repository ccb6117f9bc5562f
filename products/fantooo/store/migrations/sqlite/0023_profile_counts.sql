-- See the PostgreSQL migration of the same number: a profile's message
-- and revenue counters are spread over slots (by chat).
CREATE TABLE profile_message_counts (
  profile_id TEXT NOT NULL REFERENCES fictional_users(id),
  slot INTEGER NOT NULL,
  messages INTEGER NOT NULL,
  revenue_credits INTEGER NOT NULL,
  PRIMARY KEY (profile_id, slot)
);
