-- Back office: analytics pre-aggregated per day (refreshed by the
-- daily-stats job, so charts never scan the message table), lifted bans,
-- and indexes for the admin searches.

CREATE TABLE daily_stats (
  day DATE PRIMARY KEY,
  new_users BIGINT NOT NULL DEFAULT 0,
  active_users BIGINT NOT NULL DEFAULT 0,
  chats_started BIGINT NOT NULL DEFAULT 0,
  messages BIGINT NOT NULL DEFAULT 0,
  user_messages BIGINT NOT NULL DEFAULT 0,
  paid_messages BIGINT NOT NULL DEFAULT 0,
  credits_spent BIGINT NOT NULL DEFAULT 0,
  revenue_cents BIGINT NOT NULL DEFAULT 0,
  purchases BIGINT NOT NULL DEFAULT 0,
  first_chatting_users BIGINT NOT NULL DEFAULT 0,
  first_paid_users BIGINT NOT NULL DEFAULT 0,
  refreshed_at TIMESTAMPTZ NOT NULL
);

CREATE TABLE operator_daily_stats (
  day DATE NOT NULL,
  operator_id UUID NOT NULL REFERENCES operators(id),
  messages BIGINT NOT NULL DEFAULT 0,
  chats BIGINT NOT NULL DEFAULT 0,
  response_ms_total BIGINT NOT NULL DEFAULT 0,
  responses BIGINT NOT NULL DEFAULT 0,
  PRIMARY KEY (day, operator_id)
);

-- An unbanned user's traces stop blocking new accounts.
ALTER TABLE banned_users_tracking ADD COLUMN lifted_at TIMESTAMPTZ;

CREATE INDEX idx_messages_created ON messages(created_at);
CREATE INDEX idx_chats_created ON chats(created_at);
CREATE INDEX idx_chats_user_first_message ON chats(real_user_id, first_message_at);
CREATE INDEX idx_real_users_created ON real_users(created_at DESC, id DESC);
CREATE INDEX idx_ledger_reason_created ON credit_ledger(reason, created_at);
CREATE INDEX idx_operator_incidents_chat ON operator_incidents(chat_id, created_at DESC);
CREATE INDEX idx_admin_activity_entity ON admin_activity_log(entity_type, entity_id, seq DESC);
