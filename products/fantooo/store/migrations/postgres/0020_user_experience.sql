-- What users see and do beyond chatting: unread replies per chat (raised
-- by each profile message, lowered by the user's read receipts), a
-- verified recovery email with its single-use tokens (stored hashed), and
-- blocking or reporting a profile.
ALTER TABLE chats ADD COLUMN user_unread BIGINT NOT NULL DEFAULT 0 CHECK (user_unread >= 0);
UPDATE chats SET user_unread = (SELECT COUNT(*) FROM messages m WHERE m.chat_id = chats.id AND m.sender_type = 'fictional'
                                AND m.status <> 'read' AND m.deleted_at IS NULL);

ALTER TABLE real_users ADD COLUMN recovery_email TEXT;
ALTER TABLE real_users ADD COLUMN recovery_email_verified_at TIMESTAMPTZ;
CREATE INDEX idx_real_users_recovery_email ON real_users(lower(recovery_email)) WHERE recovery_email IS NOT NULL;

CREATE TABLE recovery_tokens (
  token_hash TEXT PRIMARY KEY,
  purpose TEXT NOT NULL CHECK (purpose IN ('verify_email', 'reset_password')),
  user_id UUID NOT NULL REFERENCES real_users(id),
  email TEXT NOT NULL,
  created_at TIMESTAMPTZ NOT NULL,
  expires_at TIMESTAMPTZ NOT NULL,
  used_at TIMESTAMPTZ
);
CREATE INDEX idx_recovery_tokens_user ON recovery_tokens(user_id, purpose, created_at DESC);

CREATE TABLE profile_blocks (
  user_id UUID NOT NULL REFERENCES real_users(id),
  profile_id UUID NOT NULL REFERENCES fictional_users(id),
  created_at TIMESTAMPTZ NOT NULL,
  PRIMARY KEY (user_id, profile_id)
);

CREATE TABLE profile_reports (
  id UUID PRIMARY KEY,
  user_id UUID NOT NULL REFERENCES real_users(id),
  profile_id UUID NOT NULL REFERENCES fictional_users(id),
  chat_id UUID REFERENCES chats(id),
  reason TEXT NOT NULL CHECK (reason IN ('spam', 'offensive', 'fake', 'underage', 'other')),
  details TEXT,
  status TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'resolved', 'dismissed')),
  handled_by UUID REFERENCES admins(id),
  handled_at TIMESTAMPTZ,
  created_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX idx_profile_reports_status ON profile_reports(status, created_at);

-- A reply for a user, and a user's unread count after reading, go to the
-- user's own channel (every page, not only the open chat).
ALTER TABLE realtime_events DROP CONSTRAINT realtime_events_kind_check;
ALTER TABLE realtime_events ADD CONSTRAINT realtime_events_kind_check
  CHECK (kind IN ('typing', 'receipt', 'balance', 'queue', 'assigned', 'idle_warning', 'taken_away', 'admin_alert', 'edited', 'released',
                  'reply', 'unread'));
