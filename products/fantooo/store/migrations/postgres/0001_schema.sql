-- Fantooo schema, PostgreSQL flavour. The SQLite flavour in ../sqlite mirrors
-- it table for table; application SQL is shared between the two.
-- Lists are JSONB arrays (TEXT in SQLite), money in integer cents, durations
-- in milliseconds, every timestamp is UTC.

CREATE TABLE accounts (
  id UUID PRIMARY KEY,
  kind TEXT NOT NULL CHECK (kind IN ('user', 'operator', 'admin')),
  login TEXT NOT NULL,
  password_hash TEXT NOT NULL,
  is_active BOOLEAN NOT NULL DEFAULT TRUE,
  created_at TIMESTAMPTZ NOT NULL,
  last_login_at TIMESTAMPTZ,
  UNIQUE (kind, login)
);

CREATE TABLE sessions (
  token_hash TEXT PRIMARY KEY,
  account_id UUID NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
  kind TEXT NOT NULL CHECK (kind IN ('user', 'operator', 'admin')),
  via TEXT NOT NULL CHECK (via IN ('cookie', 'bearer')),
  csrf_token TEXT NOT NULL,
  ip TEXT,
  user_agent TEXT,
  created_at TIMESTAMPTZ NOT NULL,
  last_seen_at TIMESTAMPTZ NOT NULL,
  expires_at TIMESTAMPTZ NOT NULL,
  revoked_at TIMESTAMPTZ
);
CREATE INDEX idx_sessions_account ON sessions(account_id);

CREATE TABLE admins (
  id UUID PRIMARY KEY,
  account_id UUID NOT NULL UNIQUE REFERENCES accounts(id),
  name TEXT NOT NULL,
  email TEXT NOT NULL UNIQUE,
  role TEXT NOT NULL DEFAULT 'admin' CHECK (role IN ('super_admin', 'admin', 'moderator')),
  permissions JSONB NOT NULL,
  is_active BOOLEAN NOT NULL DEFAULT TRUE,
  last_login TIMESTAMPTZ,
  last_activity TIMESTAMPTZ,
  created_by UUID REFERENCES admins(id),
  created_at TIMESTAMPTZ NOT NULL,
  updated_at TIMESTAMPTZ NOT NULL,
  deleted_at TIMESTAMPTZ
);
CREATE INDEX idx_admins_role ON admins(role);

-- The last active super admin can never be removed, whatever path the write takes.
CREATE FUNCTION prevent_last_super_admin_removal() RETURNS TRIGGER AS $$
BEGIN
  IF OLD.role = 'super_admin' AND OLD.is_active AND OLD.deleted_at IS NULL
     AND (NEW.is_active = FALSE OR NEW.deleted_at IS NOT NULL OR NEW.role <> 'super_admin') THEN
    PERFORM 1 FROM admins WHERE role = 'super_admin' AND is_active AND deleted_at IS NULL FOR UPDATE;
    IF (SELECT COUNT(*) FROM admins WHERE role = 'super_admin' AND is_active AND deleted_at IS NULL AND id <> OLD.id) = 0 THEN
      RAISE EXCEPTION 'last_super_admin: cannot remove the last super admin';
    END IF;
  END IF;
  RETURN NEW;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER prevent_last_super_admin BEFORE UPDATE ON admins
  FOR EACH ROW EXECUTE FUNCTION prevent_last_super_admin_removal();

CREATE TABLE real_users (
  id UUID PRIMARY KEY,
  account_id UUID NOT NULL UNIQUE REFERENCES accounts(id),
  username TEXT NOT NULL UNIQUE,
  display_name TEXT NOT NULL,
  email TEXT NOT NULL UNIQUE,
  age BIGINT NOT NULL CHECK (age >= 18 AND age <= 100),
  gender TEXT NOT NULL CHECK (gender IN ('male', 'female', 'other')),
  looking_for TEXT NOT NULL CHECK (looking_for IN ('male', 'female', 'both')),
  location TEXT NOT NULL,
  latitude DOUBLE PRECISION,
  longitude DOUBLE PRECISION,
  bio TEXT,
  profile_picture TEXT,
  profile_pictures JSONB NOT NULL DEFAULT '[]',
  credits BIGINT NOT NULL DEFAULT 0 CHECK (credits >= 0),
  total_spent_cents BIGINT NOT NULL DEFAULT 0 CHECK (total_spent_cents >= 0),
  user_tier TEXT NOT NULL DEFAULT 'free' CHECK (user_tier IN ('free', 'bronze', 'silver', 'gold', 'platinum')),
  loyalty_points BIGINT NOT NULL DEFAULT 0,
  total_messages_sent BIGINT NOT NULL DEFAULT 0,
  total_chats BIGINT NOT NULL DEFAULT 0,
  favorite_count BIGINT NOT NULL DEFAULT 0,
  last_active_at TIMESTAMPTZ,
  is_active BOOLEAN NOT NULL DEFAULT TRUE,
  is_verified BOOLEAN NOT NULL DEFAULT FALSE,
  is_banned BOOLEAN NOT NULL DEFAULT FALSE,
  ban_reason TEXT,
  banned_until TIMESTAMPTZ,
  notification_preferences JSONB NOT NULL DEFAULT '{"email": true, "push": true}',
  privacy_settings JSONB NOT NULL DEFAULT '{"show_online": true, "show_location": true}',
  created_at TIMESTAMPTZ NOT NULL,
  updated_at TIMESTAMPTZ NOT NULL,
  deleted_at TIMESTAMPTZ
);
CREATE INDEX idx_real_users_location ON real_users(location);
CREATE INDEX idx_real_users_tier ON real_users(user_tier);
CREATE INDEX idx_real_users_last_active ON real_users(last_active_at DESC);

CREATE TABLE fictional_users (
  id UUID PRIMARY KEY,
  name TEXT NOT NULL,
  age BIGINT NOT NULL CHECK (age >= 18 AND age <= 100),
  gender TEXT NOT NULL CHECK (gender IN ('male', 'female', 'other')),
  location TEXT NOT NULL,
  bio TEXT NOT NULL,
  personality_traits JSONB NOT NULL DEFAULT '[]',
  interests JSONB NOT NULL DEFAULT '[]',
  occupation TEXT,
  education TEXT,
  relationship_status TEXT,
  profile_pictures JSONB NOT NULL CHECK (jsonb_typeof(profile_pictures) = 'array' AND jsonb_array_length(profile_pictures) BETWEEN 3 AND 10),
  cover_photo TEXT,
  response_style TEXT CHECK (response_style IN ('flirty', 'romantic', 'friendly', 'intellectual', 'playful')),
  response_templates JSONB NOT NULL DEFAULT '[]',
  personality_guidelines TEXT,
  operator_notes TEXT,
  total_chats BIGINT NOT NULL DEFAULT 0,
  total_messages BIGINT NOT NULL DEFAULT 0,
  average_rating DOUBLE PRECISION NOT NULL DEFAULT 0,
  total_revenue_credits BIGINT NOT NULL DEFAULT 0,
  conversion_rate DOUBLE PRECISION NOT NULL DEFAULT 0,
  is_active BOOLEAN NOT NULL DEFAULT TRUE,
  is_featured BOOLEAN NOT NULL DEFAULT FALSE,
  featured_until TIMESTAMPTZ,
  max_concurrent_chats BIGINT NOT NULL DEFAULT 10,
  tags JSONB NOT NULL DEFAULT '[]',
  category TEXT,
  popularity_score BIGINT NOT NULL DEFAULT 0,
  created_by UUID REFERENCES admins(id),
  created_at TIMESTAMPTZ NOT NULL,
  updated_at TIMESTAMPTZ NOT NULL,
  deleted_at TIMESTAMPTZ
);
CREATE INDEX idx_fictional_gender ON fictional_users(gender);
CREATE INDEX idx_fictional_listing ON fictional_users(is_featured DESC, popularity_score DESC, id) WHERE deleted_at IS NULL AND is_active;
CREATE INDEX idx_fictional_tags ON fictional_users USING GIN(tags);

CREATE TABLE operators (
  id UUID PRIMARY KEY,
  account_id UUID NOT NULL UNIQUE REFERENCES accounts(id),
  name TEXT NOT NULL,
  email TEXT NOT NULL UNIQUE,
  specializations JSONB NOT NULL DEFAULT '[]',
  languages JSONB NOT NULL DEFAULT '["en"]',
  skill_level TEXT NOT NULL DEFAULT 'junior' CHECK (skill_level IN ('junior', 'mid', 'senior', 'expert')),
  is_active BOOLEAN NOT NULL DEFAULT TRUE,
  is_available BOOLEAN NOT NULL DEFAULT FALSE,
  max_concurrent_chats BIGINT NOT NULL DEFAULT 5 CHECK (max_concurrent_chats > 0),
  current_chat_count BIGINT NOT NULL DEFAULT 0 CHECK (current_chat_count >= 0),
  total_messages_sent BIGINT NOT NULL DEFAULT 0,
  total_chats_handled BIGINT NOT NULL DEFAULT 0,
  average_response_ms BIGINT,
  average_user_rating DOUBLE PRECISION NOT NULL DEFAULT 0,
  total_ratings BIGINT NOT NULL DEFAULT 0,
  quality_score DOUBLE PRECISION NOT NULL DEFAULT 100 CHECK (quality_score BETWEEN 0 AND 100),
  idle_incidents BIGINT NOT NULL DEFAULT 0,
  reassignment_count BIGINT NOT NULL DEFAULT 0,
  user_complaints BIGINT NOT NULL DEFAULT 0,
  quality_threshold DOUBLE PRECISION NOT NULL DEFAULT 60,
  is_suspended BOOLEAN NOT NULL DEFAULT FALSE,
  suspension_reason TEXT,
  suspended_until TIMESTAMPTZ,
  last_activity TIMESTAMPTZ,
  last_login TIMESTAMPTZ,
  total_online_ms BIGINT NOT NULL DEFAULT 0,
  hourly_rate_cents BIGINT,
  commission_rate DOUBLE PRECISION,
  total_earnings_cents BIGINT NOT NULL DEFAULT 0,
  created_by UUID REFERENCES admins(id),
  created_at TIMESTAMPTZ NOT NULL,
  updated_at TIMESTAMPTZ NOT NULL,
  deleted_at TIMESTAMPTZ
);
CREATE INDEX idx_operators_available ON operators(is_available, is_active) WHERE deleted_at IS NULL;
CREATE INDEX idx_operators_quality ON operators(quality_score DESC);

CREATE TABLE chats (
  id UUID PRIMARY KEY,
  real_user_id UUID NOT NULL REFERENCES real_users(id),
  fictional_user_id UUID NOT NULL REFERENCES fictional_users(id),
  assigned_operator_id UUID REFERENCES operators(id),
  assignment_time TIMESTAMPTZ,
  last_operator_activity TIMESTAMPTZ,
  assignment_count BIGINT NOT NULL DEFAULT 0,
  previous_operator_ids JSONB NOT NULL DEFAULT '[]',
  status TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'idle', 'closed', 'archived', 'escalated')),
  close_reason TEXT,
  message_count BIGINT NOT NULL DEFAULT 0,
  free_messages_used BIGINT NOT NULL DEFAULT 0,
  paid_messages_count BIGINT NOT NULL DEFAULT 0,
  total_credits_spent BIGINT NOT NULL DEFAULT 0,
  user_satisfaction_rating BIGINT CHECK (user_satisfaction_rating BETWEEN 1 AND 5),
  operator_notes TEXT,
  admin_notes TEXT,
  flags JSONB NOT NULL DEFAULT '[]',
  first_message_at TIMESTAMPTZ,
  last_message_at TIMESTAMPTZ,
  last_user_message_at TIMESTAMPTZ,
  last_fictional_message_at TIMESTAMPTZ,
  average_response_ms BIGINT,
  created_at TIMESTAMPTZ NOT NULL,
  updated_at TIMESTAMPTZ NOT NULL,
  closed_at TIMESTAMPTZ,
  UNIQUE (real_user_id, fictional_user_id)
);
CREATE INDEX idx_chats_fictional_user ON chats(fictional_user_id);
CREATE INDEX idx_chats_operator ON chats(assigned_operator_id, status);
CREATE INDEX idx_chats_status ON chats(status, last_message_at DESC);

-- Messages are partitioned by month; the server creates partitions ahead.
-- `seq` orders the outbox that every node tails for realtime fan-out.
CREATE TABLE messages (
  seq BIGSERIAL NOT NULL,
  id UUID NOT NULL,
  chat_id UUID NOT NULL REFERENCES chats(id),
  sender_type TEXT NOT NULL CHECK (sender_type IN ('real', 'fictional')),
  content TEXT NOT NULL,
  original_content TEXT,
  content_type TEXT NOT NULL DEFAULT 'text' CHECK (content_type IN ('text', 'image', 'voice', 'video', 'gif')),
  media_url TEXT,
  handled_by_operator_id UUID REFERENCES operators(id),
  sent_by_admin_id UUID REFERENCES admins(id),
  is_free_message BOOLEAN NOT NULL DEFAULT FALSE,
  credits_charged BIGINT NOT NULL DEFAULT 0 CHECK (credits_charged >= 0),
  client_id TEXT,
  is_edited BOOLEAN NOT NULL DEFAULT FALSE,
  edited_by UUID,
  edited_at TIMESTAMPTZ,
  edit_count BIGINT NOT NULL DEFAULT 0,
  status TEXT NOT NULL DEFAULT 'sent' CHECK (status IN ('sending', 'sent', 'delivered', 'read', 'failed')),
  delivered_at TIMESTAMPTZ,
  read_at TIMESTAMPTZ,
  is_flagged BOOLEAN NOT NULL DEFAULT FALSE,
  flag_reason TEXT,
  created_at TIMESTAMPTZ NOT NULL,
  updated_at TIMESTAMPTZ,
  deleted_at TIMESTAMPTZ,
  PRIMARY KEY (id, created_at)
) PARTITION BY RANGE (created_at);
CREATE TABLE messages_default PARTITION OF messages DEFAULT;
CREATE INDEX idx_messages_chat ON messages(chat_id, seq DESC);
CREATE INDEX idx_messages_seq ON messages(seq);
CREATE INDEX idx_messages_operator ON messages(handled_by_operator_id);

CREATE TABLE message_edit_history (
  id UUID PRIMARY KEY,
  message_id UUID NOT NULL,
  original_content TEXT NOT NULL,
  new_content TEXT NOT NULL,
  edited_by UUID NOT NULL,
  editor_type TEXT NOT NULL CHECK (editor_type IN ('admin', 'operator')),
  edit_reason TEXT,
  created_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX idx_edit_history_message ON message_edit_history(message_id, created_at DESC);

CREATE TABLE chat_queue (
  id UUID PRIMARY KEY,
  chat_id UUID NOT NULL UNIQUE REFERENCES chats(id),
  priority TEXT NOT NULL CHECK (priority IN ('urgent', 'high', 'normal', 'low')),
  priority_score BIGINT NOT NULL,
  user_tier TEXT NOT NULL,
  user_lifetime_value_cents BIGINT NOT NULL DEFAULT 0,
  required_specializations JSONB NOT NULL DEFAULT '[]',
  preferred_operator_id UUID REFERENCES operators(id),
  excluded_operator_ids JSONB NOT NULL DEFAULT '[]',
  entered_queue_at TIMESTAMPTZ NOT NULL,
  attempts BIGINT NOT NULL DEFAULT 0,
  last_attempt_at TIMESTAMPTZ,
  created_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX idx_queue_priority ON chat_queue(priority_score DESC, entered_queue_at ASC);

CREATE TABLE credit_packages (
  id UUID PRIMARY KEY,
  name TEXT NOT NULL,
  credits BIGINT NOT NULL CHECK (credits > 0),
  price_cents BIGINT NOT NULL CHECK (price_cents > 0),
  currency TEXT NOT NULL DEFAULT 'KES',
  bonus_credits BIGINT NOT NULL DEFAULT 0 CHECK (bonus_credits >= 0),
  badge TEXT,
  is_featured BOOLEAN NOT NULL DEFAULT FALSE,
  sort_order BIGINT NOT NULL DEFAULT 0,
  is_active BOOLEAN NOT NULL DEFAULT TRUE,
  valid_from TIMESTAMPTZ,
  valid_until TIMESTAMPTZ,
  variant TEXT,
  created_at TIMESTAMPTZ NOT NULL,
  updated_at TIMESTAMPTZ NOT NULL
);

CREATE TABLE transactions (
  id UUID PRIMARY KEY,
  real_user_id UUID REFERENCES real_users(id),
  type TEXT NOT NULL CHECK (type IN ('purchase', 'refund', 'bonus', 'deduction')),
  amount_cents BIGINT NOT NULL,
  currency TEXT NOT NULL DEFAULT 'KES',
  credits_amount BIGINT NOT NULL,
  payment_provider TEXT NOT NULL DEFAULT 'paystack',
  provider_reference TEXT NOT NULL UNIQUE,
  provider_response JSONB,
  status TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'processing', 'success', 'failed', 'refunded')),
  failure_reason TEXT,
  webhook_received_count BIGINT NOT NULL DEFAULT 0,
  last_webhook_at TIMESTAMPTZ,
  package_id UUID REFERENCES credit_packages(id),
  package_snapshot JSONB,
  promo_code TEXT,
  discount_cents BIGINT NOT NULL DEFAULT 0,
  needs_manual_review BOOLEAN NOT NULL DEFAULT FALSE,
  review_reason TEXT,
  reviewed_by UUID REFERENCES admins(id),
  reviewed_at TIMESTAMPTZ,
  created_at TIMESTAMPTZ NOT NULL,
  completed_at TIMESTAMPTZ,
  refunded_at TIMESTAMPTZ
);
CREATE INDEX idx_transactions_user ON transactions(real_user_id, created_at DESC);
CREATE INDEX idx_transactions_status ON transactions(status, created_at);

-- The credit ledger: a user's balance moves only through rows here, written in
-- the same transaction as the change to real_users.credits.
CREATE TABLE credit_ledger (
  seq BIGSERIAL PRIMARY KEY,
  id UUID NOT NULL UNIQUE,
  user_id UUID NOT NULL REFERENCES real_users(id),
  delta BIGINT NOT NULL CHECK (delta <> 0),
  balance_after BIGINT NOT NULL CHECK (balance_after >= 0),
  reason TEXT NOT NULL CHECK (reason IN ('purchase', 'message_charge', 'refund', 'bonus', 'admin_adjustment')),
  reference TEXT,
  idempotency_key TEXT NOT NULL UNIQUE,
  created_by UUID,
  created_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX idx_ledger_user ON credit_ledger(user_id, seq DESC);

CREATE TABLE credit_refunds (
  id UUID PRIMARY KEY,
  user_id UUID NOT NULL REFERENCES real_users(id),
  amount BIGINT NOT NULL CHECK (amount > 0),
  reason TEXT NOT NULL CHECK (reason IN ('accidental_send', 'inappropriate_content', 'system_error', 'admin_discretion', 'account_deletion')),
  message_id UUID,
  chat_id UUID REFERENCES chats(id),
  processed_by UUID NOT NULL REFERENCES admins(id),
  notes TEXT,
  status TEXT NOT NULL DEFAULT 'completed' CHECK (status IN ('pending', 'completed', 'rejected')),
  created_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX idx_refunds_user ON credit_refunds(user_id, created_at DESC);

CREATE TABLE deleted_users (
  id UUID PRIMARY KEY,
  original_user_id UUID NOT NULL,
  username TEXT,
  email TEXT,
  deletion_reason TEXT,
  deletion_requested_at TIMESTAMPTZ,
  deletion_completed_at TIMESTAMPTZ NOT NULL,
  total_spent_cents BIGINT,
  total_messages_sent BIGINT,
  account_age_days BIGINT,
  data_anonymized BOOLEAN NOT NULL DEFAULT TRUE,
  messages_anonymized BOOLEAN NOT NULL DEFAULT TRUE,
  unused_credits BIGINT,
  refund_amount_cents BIGINT,
  refund_processed BOOLEAN NOT NULL DEFAULT FALSE,
  created_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX idx_deleted_users_original ON deleted_users(original_user_id);

CREATE TABLE banned_users_tracking (
  id UUID PRIMARY KEY,
  user_id UUID NOT NULL REFERENCES real_users(id),
  ban_reason TEXT NOT NULL,
  banned_by UUID NOT NULL REFERENCES admins(id),
  banned_until TIMESTAMPTZ,
  is_permanent BOOLEAN NOT NULL DEFAULT FALSE,
  ip_addresses JSONB NOT NULL DEFAULT '[]',
  device_fingerprints JSONB NOT NULL DEFAULT '[]',
  email_pattern TEXT,
  circumvention_attempts BIGINT NOT NULL DEFAULT 0,
  last_attempt_at TIMESTAMPTZ,
  created_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX idx_banned_users ON banned_users_tracking(user_id);
CREATE INDEX idx_banned_ips ON banned_users_tracking USING GIN(ip_addresses);
CREATE INDEX idx_banned_devices ON banned_users_tracking USING GIN(device_fingerprints);

CREATE TABLE user_activity_log (
  id UUID NOT NULL,
  user_id UUID NOT NULL REFERENCES real_users(id),
  activity_type TEXT NOT NULL,
  entity_type TEXT,
  entity_id UUID,
  metadata JSONB,
  session_id TEXT,
  ip_address TEXT,
  user_agent TEXT,
  device_fingerprint TEXT,
  created_at TIMESTAMPTZ NOT NULL,
  PRIMARY KEY (id, created_at)
) PARTITION BY RANGE (created_at);
CREATE TABLE user_activity_log_default PARTITION OF user_activity_log DEFAULT;
CREATE INDEX idx_activity_user ON user_activity_log(user_id, created_at DESC);
CREATE INDEX idx_activity_type ON user_activity_log(activity_type, created_at DESC);
CREATE INDEX idx_activity_ip ON user_activity_log(ip_address);
CREATE INDEX idx_activity_device ON user_activity_log(device_fingerprint);

CREATE TABLE admin_notifications (
  id UUID PRIMARY KEY,
  type TEXT NOT NULL CHECK (type IN ('operator_suspended', 'chat_escalation', 'payment_failed', 'high_refund_rate', 'system_error', 'security_alert')),
  message TEXT NOT NULL,
  metadata JSONB,
  is_read BOOLEAN NOT NULL DEFAULT FALSE,
  read_by UUID REFERENCES admins(id),
  read_at TIMESTAMPTZ,
  priority TEXT NOT NULL DEFAULT 'normal' CHECK (priority IN ('low', 'normal', 'high', 'critical')),
  created_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX idx_admin_notifications_unread ON admin_notifications(is_read, created_at DESC);

CREATE TABLE profile_media_validation (
  id UUID PRIMARY KEY,
  fictional_user_id UUID REFERENCES fictional_users(id),
  real_user_id UUID REFERENCES real_users(id),
  media_url TEXT NOT NULL,
  media_type TEXT NOT NULL CHECK (media_type IN ('profile_picture', 'cover_photo', 'gallery')),
  file_size_bytes BIGINT,
  file_format TEXT,
  dimensions TEXT,
  is_approved BOOLEAN NOT NULL DEFAULT FALSE,
  is_flagged BOOLEAN NOT NULL DEFAULT FALSE,
  flag_reason TEXT,
  moderated_by UUID REFERENCES admins(id),
  moderated_at TIMESTAMPTZ,
  created_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX idx_media_validation_fictional ON profile_media_validation(fictional_user_id);

CREATE TABLE location_validation_log (
  id UUID PRIMARY KEY,
  user_id UUID REFERENCES real_users(id),
  location_text TEXT NOT NULL,
  latitude DOUBLE PRECISION,
  longitude DOUBLE PRECISION,
  is_valid BOOLEAN NOT NULL,
  validation_error TEXT,
  geocoding_service TEXT NOT NULL,
  corrected_location TEXT,
  corrected_latitude DOUBLE PRECISION,
  corrected_longitude DOUBLE PRECISION,
  created_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX idx_location_validation_user ON location_validation_log(user_id);

-- Every stated age is logged, including refused under-18 attempts (which have
-- no user yet, hence the nullable user_id and the attempt context).
CREATE TABLE age_verification_log (
  id UUID PRIMARY KEY,
  user_id UUID REFERENCES real_users(id),
  attempted_username TEXT,
  stated_age BIGINT NOT NULL,
  verification_method TEXT NOT NULL DEFAULT 'self_declared' CHECK (verification_method IN ('self_declared', 'id_verification', 'third_party')),
  id_document_type TEXT,
  id_verified BOOLEAN NOT NULL DEFAULT FALSE,
  verified_by UUID REFERENCES admins(id),
  verified_at TIMESTAMPTZ,
  is_compliant BOOLEAN NOT NULL,
  compliance_notes TEXT,
  ip_address TEXT,
  created_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX idx_age_verification_user ON age_verification_log(user_id);
CREATE INDEX idx_age_verification_compliance ON age_verification_log(is_compliant, created_at DESC);

CREATE TABLE favorites (
  user_id UUID NOT NULL REFERENCES real_users(id),
  fictional_user_id UUID NOT NULL REFERENCES fictional_users(id),
  created_at TIMESTAMPTZ NOT NULL,
  PRIMARY KEY (user_id, fictional_user_id)
);

CREATE TABLE notifications (
  id UUID PRIMARY KEY,
  user_id UUID NOT NULL REFERENCES real_users(id),
  type TEXT NOT NULL,
  message TEXT NOT NULL,
  is_read BOOLEAN NOT NULL DEFAULT FALSE,
  created_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX idx_notifications_user ON notifications(user_id, created_at DESC);

CREATE TABLE app_settings (
  key TEXT PRIMARY KEY,
  value JSONB NOT NULL,
  updated_by UUID REFERENCES admins(id),
  updated_at TIMESTAMPTZ NOT NULL
);

-- Who did what in the back office, with before/after for every change.
CREATE TABLE admin_activity_log (
  seq BIGSERIAL PRIMARY KEY,
  admin_id UUID REFERENCES admins(id),
  action TEXT NOT NULL,
  entity_type TEXT,
  entity_id TEXT,
  before_value JSONB,
  after_value JSONB,
  ip_address TEXT,
  created_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX idx_admin_activity_admin ON admin_activity_log(admin_id, seq DESC);

-- Refused registrations and logins that match a banned user's traces.
CREATE TABLE security_events (
  seq BIGSERIAL PRIMARY KEY,
  kind TEXT NOT NULL,
  detail TEXT NOT NULL,
  ip_address TEXT,
  created_at TIMESTAMPTZ NOT NULL
);
