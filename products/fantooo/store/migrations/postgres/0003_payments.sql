-- Payments. A transaction row remembers what the provider last reported
-- (status, amount, currency) separately from what we locked in at checkout,
-- so a report that arrives before our own checkout record can be decided
-- once that record exists; and when we last asked the provider.
ALTER TABLE transactions ADD COLUMN provider_status TEXT;
ALTER TABLE transactions ADD COLUMN reported_amount_cents BIGINT;
ALTER TABLE transactions ADD COLUMN reported_currency TEXT;
ALTER TABLE transactions ADD COLUMN authorization_url TEXT;
ALTER TABLE transactions ADD COLUMN last_verified_at TIMESTAMPTZ;
CREATE INDEX idx_transactions_review ON transactions(created_at) WHERE needs_manual_review;

CREATE INDEX idx_refunds_message ON credit_refunds(message_id) WHERE message_id IS NOT NULL;
CREATE INDEX idx_refunds_status ON credit_refunds(status, created_at DESC);

-- Consecutive days with a visit, in Nairobi calendar days (YYYY-MM-DD).
CREATE TABLE login_streaks (
  user_id UUID PRIMARY KEY REFERENCES real_users(id),
  streak BIGINT NOT NULL CHECK (streak > 0),
  last_day TEXT NOT NULL,
  updated_at TIMESTAMPTZ NOT NULL
);

-- Each achievement is earned (and paid) at most once per user.
CREATE TABLE user_achievements (
  user_id UUID NOT NULL REFERENCES real_users(id),
  achievement TEXT NOT NULL CHECK (achievement IN ('first_chat', 'social_butterfly', 'night_owl', 'big_spender')),
  credits BIGINT NOT NULL CHECK (credits > 0),
  earned_at TIMESTAMPTZ NOT NULL,
  PRIMARY KEY (user_id, achievement)
);
