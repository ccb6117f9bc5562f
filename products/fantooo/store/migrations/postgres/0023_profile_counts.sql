-- A profile's message and revenue counters spread over slots (by chat),
-- as operator_reply_counts did for replies: every paid send updated its
-- profile's fictional_users row, so the users of one popular profile
-- queued on that row's lock until each other's commits.
-- fictional_users.total_messages and total_revenue_credits keep what was
-- counted before; a profile's totals are those plus its slots.
CREATE TABLE profile_message_counts (
  profile_id UUID NOT NULL REFERENCES fictional_users(id),
  slot SMALLINT NOT NULL,
  messages BIGINT NOT NULL,
  revenue_credits BIGINT NOT NULL,
  PRIMARY KEY (profile_id, slot)
);
