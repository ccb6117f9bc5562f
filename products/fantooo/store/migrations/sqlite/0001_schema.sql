-- Fantooo schema, SQLite flavour. The PostgreSQL flavour in ../postgres mirrors
-- it table for table; application SQL is shared between the two.
-- Lists are JSON arrays in TEXT, money in integer cents, durations
-- in milliseconds, every timestamp is UTC.

CREATE TABLE accounts (
  id TEXT PRIMARY KEY,
  kind TEXT NOT NULL CHECK (kind IN ('user', 'operator', 'admin')),
  login TEXT NOT NULL,
  password_hash TEXT NOT NULL,
  is_active BOOLEAN NOT NULL DEFAULT TRUE,
  created_at TEXT NOT NULL,
  last_login_at TEXT,
  UNIQUE (kind, login)
);

CREATE TABLE sessions (
  token_hash TEXT PRIMARY KEY,
  account_id TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
  kind TEXT NOT NULL CHECK (kind IN ('user', 'operator', 'admin')),
  via TEXT NOT NULL CHECK (via IN ('cookie', 'bearer')),
  csrf_token TEXT NOT NULL,
  ip TEXT,
  user_agent TEXT,
  created_at TEXT NOT NULL,
  last_seen_at TEXT NOT NULL,
  expires_at TEXT NOT NULL,
  revoked_at TEXT
);
CREATE INDEX idx_sessions_account ON sessions(account_id);

CREATE TABLE admins (
  id TEXT PRIMARY KEY,
  account_id TEXT NOT NULL UNIQUE REFERENCES accounts(id),
  name TEXT NOT NULL,
  email TEXT NOT NULL UNIQUE,
  role TEXT NOT NULL DEFAULT 'admin' CHECK (role IN ('super_admin', 'admin', 'moderator')),
  permissions TEXT NOT NULL,
  is_active BOOLEAN NOT NULL DEFAULT TRUE,
  last_login TEXT,
  last_activity TEXT,
  created_by TEXT REFERENCES admins(id),
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL,
  deleted_at TEXT
);
CREATE INDEX idx_admins_role ON admins(role);

-- The last active super admin can never be removed, whatever path the write takes.
CREATE TRIGGER prevent_last_super_admin BEFORE UPDATE ON admins
  WHEN OLD.role = 'super_admin' AND OLD.is_active AND OLD.deleted_at IS NULL
   AND (NOT NEW.is_active OR NEW.deleted_at IS NOT NULL OR NEW.role <> 'super_admin')
   AND (SELECT COUNT(*) FROM admins WHERE role = 'super_admin' AND is_active AND deleted_at IS NULL AND id <> OLD.id) = 0
BEGIN
  SELECT RAISE(ABORT, 'last_super_admin: cannot remove the last super admin');
END;

CREATE TABLE real_users (
  id TEXT PRIMARY KEY,
  account_id TEXT NOT NULL UNIQUE REFERENCES accounts(id),
  username TEXT NOT NULL UNIQUE,
  display_name TEXT NOT NULL,
  email TEXT NOT NULL UNIQUE,
  age INTEGER NOT NULL CHECK (age >= 18 AND age <= 100),
  gender TEXT NOT NULL CHECK (gender IN ('male', 'female', 'other')),
  looking_for TEXT NOT NULL CHECK (looking_for IN ('male', 'female', 'both')),
  location TEXT NOT NULL,
  latitude REAL,
  longitude REAL,
  bio TEXT,
  profile_picture TEXT,
  profile_pictures TEXT NOT NULL DEFAULT '[]',
  credits INTEGER NOT NULL DEFAULT 0 CHECK (credits >= 0),
  total_spent_cents INTEGER NOT NULL DEFAULT 0 CHECK (total_spent_cents >= 0),
  user_tier TEXT NOT NULL DEFAULT 'free' CHECK (user_tier IN ('free', 'bronze', 'silver', 'gold', 'platinum')),
  loyalty_points INTEGER NOT NULL DEFAULT 0,
  total_messages_sent INTEGER NOT NULL DEFAULT 0,
  total_chats INTEGER NOT NULL DEFAULT 0,
  favorite_count INTEGER NOT NULL DEFAULT 0,
  last_active_at TEXT,
  is_active BOOLEAN NOT NULL DEFAULT TRUE,
  is_verified BOOLEAN NOT NULL DEFAULT FALSE,
  is_banned BOOLEAN NOT NULL DEFAULT FALSE,
  ban_reason TEXT,
  banned_until TEXT,
  notification_preferences TEXT NOT NULL DEFAULT '{"email": true, "push": true}',
  privacy_settings TEXT NOT NULL DEFAULT '{"show_online": true, "show_location": true}',
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL,
  deleted_at TEXT
);
CREATE INDEX idx_real_users_location ON real_users(location);
CREATE INDEX idx_real_users_tier ON real_users(user_tier);
CREATE INDEX idx_real_users_last_active ON real_users(last_active_at DESC);

CREATE TABLE fictional_users (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  age INTEGER NOT NULL CHECK (age >= 18 AND age <= 100),
  gender TEXT NOT NULL CHECK (gender IN ('male', 'female', 'other')),
  location TEXT NOT NULL,
  bio TEXT NOT NULL,
  personality_traits TEXT NOT NULL DEFAULT '[]',
  interests TEXT NOT NULL DEFAULT '[]',
  occupation TEXT,
  education TEXT,
  relationship_status TEXT,
  profile_pictures TEXT NOT NULL CHECK (json_valid(profile_pictures) AND json_type(profile_pictures) = 'array' AND json_array_length(profile_pictures) BETWEEN 3 AND 10),
  cover_photo TEXT,
  response_style TEXT CHECK (response_style IN ('flirty', 'romantic', 'friendly', 'intellectual', 'playful')),
  response_templates TEXT NOT NULL DEFAULT '[]',
  personality_guidelines TEXT,
  operator_notes TEXT,
  total_chats INTEGER NOT NULL DEFAULT 0,
  total_messages INTEGER NOT NULL DEFAULT 0,
  average_rating REAL NOT NULL DEFAULT 0,
  total_revenue_credits INTEGER NOT NULL DEFAULT 0,
  conversion_rate REAL NOT NULL DEFAULT 0,
  is_active BOOLEAN NOT NULL DEFAULT TRUE,
  is_featured BOOLEAN NOT NULL DEFAULT FALSE,
  featured_until TEXT,
  max_concurrent_chats INTEGER NOT NULL DEFAULT 10,
  tags TEXT NOT NULL DEFAULT '[]',
  category TEXT,
  popularity_score INTEGER NOT NULL DEFAULT 0,
  created_by TEXT REFERENCES admins(id),
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL,
  deleted_at TEXT
);
CREATE INDEX idx_fictional_gender ON fictional_users(gender);
CREATE INDEX idx_fictional_listing ON fictional_users(is_featured DESC, popularity_score DESC, id) WHERE deleted_at IS NULL AND is_active;

CREATE TABLE operators (
  id TEXT PRIMARY KEY,
  account_id TEXT NOT NULL UNIQUE REFERENCES accounts(id),
  name TEXT NOT NULL,
  email TEXT NOT NULL UNIQUE,
  specializations TEXT NOT NULL DEFAULT '[]',
  languages TEXT NOT NULL DEFAULT '["en"]',
  skill_level TEXT NOT NULL DEFAULT 'junior' CHECK (skill_level IN ('junior', 'mid', 'senior', 'expert')),
  is_active BOOLEAN NOT NULL DEFAULT TRUE,
  is_available BOOLEAN NOT NULL DEFAULT FALSE,
  max_concurrent_chats INTEGER NOT NULL DEFAULT 5 CHECK (max_concurrent_chats > 0),
  current_chat_count INTEGER NOT NULL DEFAULT 0 CHECK (current_chat_count >= 0),
  total_messages_sent INTEGER NOT NULL DEFAULT 0,
  total_chats_handled INTEGER NOT NULL DEFAULT 0,
  average_response_ms INTEGER,
  average_user_rating REAL NOT NULL DEFAULT 0,
  total_ratings INTEGER NOT NULL DEFAULT 0,
  quality_score REAL NOT NULL DEFAULT 100 CHECK (quality_score BETWEEN 0 AND 100),
  idle_incidents INTEGER NOT NULL DEFAULT 0,
  reassignment_count INTEGER NOT NULL DEFAULT 0,
  user_complaints INTEGER NOT NULL DEFAULT 0,
  quality_threshold REAL NOT NULL DEFAULT 60,
  is_suspended BOOLEAN NOT NULL DEFAULT FALSE,
  suspension_reason TEXT,
  suspended_until TEXT,
  last_activity TEXT,
  last_login TEXT,
  total_online_ms INTEGER NOT NULL DEFAULT 0,
  hourly_rate_cents INTEGER,
  commission_rate REAL,
  total_earnings_cents INTEGER NOT NULL DEFAULT 0,
  created_by TEXT REFERENCES admins(id),
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL,
  deleted_at TEXT
);
CREATE INDEX idx_operators_available ON operators(is_available, is_active) WHERE deleted_at IS NULL;
CREATE INDEX idx_operators_quality ON operators(quality_score DESC);

CREATE TABLE chats (
  id TEXT PRIMARY KEY,
  real_user_id TEXT NOT NULL REFERENCES real_users(id),
  fictional_user_id TEXT NOT NULL REFERENCES fictional_users(id),
  assigned_operator_id TEXT REFERENCES operators(id),
  assignment_time TEXT,
  last_operator_activity TEXT,
  assignment_count INTEGER NOT NULL DEFAULT 0,
  previous_operator_ids TEXT NOT NULL DEFAULT '[]',
  status TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'idle', 'closed', 'archived', 'escalated')),
  close_reason TEXT,
  message_count INTEGER NOT NULL DEFAULT 0,
  free_messages_used INTEGER NOT NULL DEFAULT 0,
  paid_messages_count INTEGER NOT NULL DEFAULT 0,
  total_credits_spent INTEGER NOT NULL DEFAULT 0,
  user_satisfaction_rating INTEGER CHECK (user_satisfaction_rating BETWEEN 1 AND 5),
  operator_notes TEXT,
  admin_notes TEXT,
  flags TEXT NOT NULL DEFAULT '[]',
  first_message_at TEXT,
  last_message_at TEXT,
  last_user_message_at TEXT,
  last_fictional_message_at TEXT,
  average_response_ms INTEGER,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL,
  closed_at TEXT,
  UNIQUE (real_user_id, fictional_user_id)
);
CREATE INDEX idx_chats_fictional_user ON chats(fictional_user_id);
CREATE INDEX idx_chats_operator ON chats(assigned_operator_id, status);
CREATE INDEX idx_chats_status ON chats(status, last_message_at DESC);

-- PostgreSQL partitions messages by month; SQLite keeps one table.
-- `seq` orders the outbox that every node tails for realtime fan-out.
CREATE TABLE messages (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  id TEXT NOT NULL UNIQUE,
  chat_id TEXT NOT NULL REFERENCES chats(id),
  sender_type TEXT NOT NULL CHECK (sender_type IN ('real', 'fictional')),
  content TEXT NOT NULL,
  original_content TEXT,
  content_type TEXT NOT NULL DEFAULT 'text' CHECK (content_type IN ('text', 'image', 'voice', 'video', 'gif')),
  media_url TEXT,
  handled_by_operator_id TEXT REFERENCES operators(id),
  sent_by_admin_id TEXT REFERENCES admins(id),
  is_free_message BOOLEAN NOT NULL DEFAULT FALSE,
  credits_charged INTEGER NOT NULL DEFAULT 0 CHECK (credits_charged >= 0),
  client_id TEXT,
  is_edited BOOLEAN NOT NULL DEFAULT FALSE,
  edited_by TEXT,
  edited_at TEXT,
  edit_count INTEGER NOT NULL DEFAULT 0,
  status TEXT NOT NULL DEFAULT 'sent' CHECK (status IN ('sending', 'sent', 'delivered', 'read', 'failed')),
  delivered_at TEXT,
  read_at TEXT,
  is_flagged BOOLEAN NOT NULL DEFAULT FALSE,
  flag_reason TEXT,
  created_at TEXT NOT NULL,
  updated_at TEXT,
  deleted_at TEXT
);
CREATE INDEX idx_messages_chat ON messages(chat_id, seq DESC);
CREATE INDEX idx_messages_operator ON messages(handled_by_operator_id);

CREATE TABLE message_edit_history (
  id TEXT PRIMARY KEY,
  message_id TEXT NOT NULL,
  original_content TEXT NOT NULL,
  new_content TEXT NOT NULL,
  edited_by TEXT NOT NULL,
  editor_type TEXT NOT NULL CHECK (editor_type IN ('admin', 'operator')),
  edit_reason TEXT,
  created_at TEXT NOT NULL
);
CREATE INDEX idx_edit_history_message ON message_edit_history(message_id, created_at DESC);

CREATE TABLE chat_queue (
  id TEXT PRIMARY KEY,
  chat_id TEXT NOT NULL UNIQUE REFERENCES chats(id),
  priority TEXT NOT NULL CHECK (priority IN ('urgent', 'high', 'normal', 'low')),
  priority_score INTEGER NOT NULL,
  user_tier TEXT NOT NULL,
  user_lifetime_value_cents INTEGER NOT NULL DEFAULT 0,
  required_specializations TEXT NOT NULL DEFAULT '[]',
  preferred_operator_id TEXT REFERENCES operators(id),
  excluded_operator_ids TEXT NOT NULL DEFAULT '[]',
  entered_queue_at TEXT NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 0,
  last_attempt_at TEXT,
  created_at TEXT NOT NULL
);
CREATE INDEX idx_queue_priority ON chat_queue(priority_score DESC, entered_queue_at ASC);

CREATE TABLE credit_packages (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  credits INTEGER NOT NULL CHECK (credits > 0),
  price_cents INTEGER NOT NULL CHECK (price_cents > 0),
  currency TEXT NOT NULL DEFAULT 'KES',
  bonus_credits INTEGER NOT NULL DEFAULT 0 CHECK (bonus_credits >= 0),
  badge TEXT,
  is_featured BOOLEAN NOT NULL DEFAULT FALSE,
  sort_order INTEGER NOT NULL DEFAULT 0,
  is_active BOOLEAN NOT NULL DEFAULT TRUE,
  valid_from TEXT,
  valid_until TEXT,
  variant TEXT,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL
);

CREATE TABLE transactions (
  id TEXT PRIMARY KEY,
  real_user_id TEXT REFERENCES real_users(id),
  type TEXT NOT NULL CHECK (type IN ('purchase', 'refund', 'bonus', 'deduction')),
  amount_cents INTEGER NOT NULL,
  currency TEXT NOT NULL DEFAULT 'KES',
  credits_amount INTEGER NOT NULL,
  payment_provider TEXT NOT NULL DEFAULT 'paystack',
  provider_reference TEXT NOT NULL UNIQUE,
  provider_response TEXT,
  status TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'processing', 'success', 'failed', 'refunded')),
  failure_reason TEXT,
  webhook_received_count INTEGER NOT NULL DEFAULT 0,
  last_webhook_at TEXT,
  package_id TEXT REFERENCES credit_packages(id),
  package_snapshot TEXT,
  promo_code TEXT,
  discount_cents INTEGER NOT NULL DEFAULT 0,
  needs_manual_review BOOLEAN NOT NULL DEFAULT FALSE,
  review_reason TEXT,
  reviewed_by TEXT REFERENCES admins(id),
  reviewed_at TEXT,
  created_at TEXT NOT NULL,
  completed_at TEXT,
  refunded_at TEXT
);
CREATE INDEX idx_transactions_user ON transactions(real_user_id, created_at DESC);
CREATE INDEX idx_transactions_status ON transactions(status, created_at);

-- The credit ledger: a user's balance moves only through rows here, written in
-- the same transaction as the change to real_users.credits.
CREATE TABLE credit_ledger (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  id TEXT NOT NULL UNIQUE,
  user_id TEXT NOT NULL REFERENCES real_users(id),
  delta INTEGER NOT NULL CHECK (delta <> 0),
  balance_after INTEGER NOT NULL CHECK (balance_after >= 0),
  reason TEXT NOT NULL CHECK (reason IN ('purchase', 'message_charge', 'refund', 'bonus', 'admin_adjustment')),
  reference TEXT,
  idempotency_key TEXT NOT NULL UNIQUE,
  created_by TEXT,
  created_at TEXT NOT NULL
);
CREATE INDEX idx_ledger_user ON credit_ledger(user_id, seq DESC);

CREATE TABLE credit_refunds (
  id TEXT PRIMARY KEY,
  user_id TEXT NOT NULL REFERENCES real_users(id),
  amount INTEGER NOT NULL CHECK (amount > 0),
  reason TEXT NOT NULL CHECK (reason IN ('accidental_send', 'inappropriate_content', 'system_error', 'admin_discretion', 'account_deletion')),
  message_id TEXT,
  chat_id TEXT REFERENCES chats(id),
  processed_by TEXT NOT NULL REFERENCES admins(id),
  notes TEXT,
  status TEXT NOT NULL DEFAULT 'completed' CHECK (status IN ('pending', 'completed', 'rejected')),
  created_at TEXT NOT NULL
);
CREATE INDEX idx_refunds_user ON credit_refunds(user_id, created_at DESC);

CREATE TABLE deleted_users (
  id TEXT PRIMARY KEY,
  original_user_id TEXT NOT NULL,
  username TEXT,
  email TEXT,
  deletion_reason TEXT,
  deletion_requested_at TEXT,
  deletion_completed_at TEXT NOT NULL,
  total_spent_cents INTEGER,
  total_messages_sent INTEGER,
  account_age_days INTEGER,
  data_anonymized BOOLEAN NOT NULL DEFAULT TRUE,
  messages_anonymized BOOLEAN NOT NULL DEFAULT TRUE,
  unused_credits INTEGER,
  refund_amount_cents INTEGER,
  refund_processed BOOLEAN NOT NULL DEFAULT FALSE,
  created_at TEXT NOT NULL
);
CREATE INDEX idx_deleted_users_original ON deleted_users(original_user_id);

CREATE TABLE banned_users_tracking (
  id TEXT PRIMARY KEY,
  user_id TEXT NOT NULL REFERENCES real_users(id),
  ban_reason TEXT NOT NULL,
  banned_by TEXT NOT NULL REFERENCES admins(id),
  banned_until TEXT,
  is_permanent BOOLEAN NOT NULL DEFAULT FALSE,
  ip_addresses TEXT NOT NULL DEFAULT '[]',
  device_fingerprints TEXT NOT NULL DEFAULT '[]',
  email_pattern TEXT,
  circumvention_attempts INTEGER NOT NULL DEFAULT 0,
  last_attempt_at TEXT,
  created_at TEXT NOT NULL
);
CREATE INDEX idx_banned_users ON banned_users_tracking(user_id);

CREATE TABLE user_activity_log (
  id TEXT PRIMARY KEY,
  user_id TEXT NOT NULL REFERENCES real_users(id),
  activity_type TEXT NOT NULL,
  entity_type TEXT,
  entity_id TEXT,
  metadata TEXT,
  session_id TEXT,
  ip_address TEXT,
  user_agent TEXT,
  device_fingerprint TEXT,
  created_at TEXT NOT NULL
);
CREATE INDEX idx_activity_user ON user_activity_log(user_id, created_at DESC);
CREATE INDEX idx_activity_type ON user_activity_log(activity_type, created_at DESC);
CREATE INDEX idx_activity_ip ON user_activity_log(ip_address);
CREATE INDEX idx_activity_device ON user_activity_log(device_fingerprint);

CREATE TABLE admin_notifications (
  id TEXT PRIMARY KEY,
  type TEXT NOT NULL CHECK (type IN ('operator_suspended', 'chat_escalation', 'payment_failed', 'high_refund_rate', 'system_error', 'security_alert')),
  message TEXT NOT NULL,
  metadata TEXT,
  is_read BOOLEAN NOT NULL DEFAULT FALSE,
  read_by TEXT REFERENCES admins(id),
  read_at TEXT,
  priority TEXT NOT NULL DEFAULT 'normal' CHECK (priority IN ('low', 'normal', 'high', 'critical')),
  created_at TEXT NOT NULL
);
CREATE INDEX idx_admin_notifications_unread ON admin_notifications(is_read, created_at DESC);

CREATE TABLE profile_media_validation (
  id TEXT PRIMARY KEY,
  fictional_user_id TEXT REFERENCES fictional_users(id),
  real_user_id TEXT REFERENCES real_users(id),
  media_url TEXT NOT NULL,
  media_type TEXT NOT NULL CHECK (media_type IN ('profile_picture', 'cover_photo', 'gallery')),
  file_size_bytes INTEGER,
  file_format TEXT,
  dimensions TEXT,
  is_approved BOOLEAN NOT NULL DEFAULT FALSE,
  is_flagged BOOLEAN NOT NULL DEFAULT FALSE,
  flag_reason TEXT,
  moderated_by TEXT REFERENCES admins(id),
  moderated_at TEXT,
  created_at TEXT NOT NULL
);
CREATE INDEX idx_media_validation_fictional ON profile_media_validation(fictional_user_id);

CREATE TABLE location_validation_log (
  id TEXT PRIMARY KEY,
  user_id TEXT REFERENCES real_users(id),
  location_text TEXT NOT NULL,
  latitude REAL,
  longitude REAL,
  is_valid BOOLEAN NOT NULL,
  validation_error TEXT,
  geocoding_service TEXT NOT NULL,
  corrected_location TEXT,
  corrected_latitude REAL,
  corrected_longitude REAL,
  created_at TEXT NOT NULL
);
CREATE INDEX idx_location_validation_user ON location_validation_log(user_id);

-- Every stated age is logged, including refused under-18 attempts (which have
-- no user yet, hence the nullable user_id and the attempt context).
CREATE TABLE age_verification_log (
  id TEXT PRIMARY KEY,
  user_id TEXT REFERENCES real_users(id),
  attempted_username TEXT,
  stated_age INTEGER NOT NULL,
  verification_method TEXT NOT NULL DEFAULT 'self_declared' CHECK (verification_method IN ('self_declared', 'id_verification', 'third_party')),
  id_document_type TEXT,
  id_verified BOOLEAN NOT NULL DEFAULT FALSE,
  verified_by TEXT REFERENCES admins(id),
  verified_at TEXT,
  is_compliant BOOLEAN NOT NULL,
  compliance_notes TEXT,
  ip_address TEXT,
  created_at TEXT NOT NULL
);
CREATE INDEX idx_age_verification_user ON age_verification_log(user_id);
CREATE INDEX idx_age_verification_compliance ON age_verification_log(is_compliant, created_at DESC);

CREATE TABLE favorites (
  user_id TEXT NOT NULL REFERENCES real_users(id),
  fictional_user_id TEXT NOT NULL REFERENCES fictional_users(id),
  created_at TEXT NOT NULL,
  PRIMARY KEY (user_id, fictional_user_id)
);

CREATE TABLE notifications (
  id TEXT PRIMARY KEY,
  user_id TEXT NOT NULL REFERENCES real_users(id),
  type TEXT NOT NULL,
  message TEXT NOT NULL,
  is_read BOOLEAN NOT NULL DEFAULT FALSE,
  created_at TEXT NOT NULL
);
CREATE INDEX idx_notifications_user ON notifications(user_id, created_at DESC);

CREATE TABLE app_settings (
  key TEXT PRIMARY KEY,
  value TEXT NOT NULL,
  updated_by TEXT REFERENCES admins(id),
  updated_at TEXT NOT NULL
);

-- Who did what in the back office, with before/after for every change.
CREATE TABLE admin_activity_log (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  admin_id TEXT REFERENCES admins(id),
  action TEXT NOT NULL,
  entity_type TEXT,
  entity_id TEXT,
  before_value TEXT,
  after_value TEXT,
  ip_address TEXT,
  created_at TEXT NOT NULL
);
CREATE INDEX idx_admin_activity_admin ON admin_activity_log(admin_id, seq DESC);

-- Refused registrations and logins that match a banned user's traces.
CREATE TABLE security_events (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  kind TEXT NOT NULL,
  detail TEXT NOT NULL,
  ip_address TEXT,
  created_at TEXT NOT NULL
);
