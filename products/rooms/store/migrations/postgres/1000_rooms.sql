-- Rooms' schema, PostgreSQL flavour; ../sqlite mirrors it. The platform's
-- sessions (110) and refresh_tokens (111) come from platform-accounts.

CREATE TABLE accounts (
  id UUID PRIMARY KEY,
  public_number BIGINT NOT NULL UNIQUE,
  handle TEXT NOT NULL UNIQUE,
  full_name TEXT NOT NULL,
  display_name TEXT NOT NULL,
  phone TEXT UNIQUE,
  email TEXT UNIQUE,
  password_hash TEXT NOT NULL,
  birth_date TEXT,
  country TEXT,
  gender TEXT NOT NULL DEFAULT 'unspecified',
  bio TEXT NOT NULL DEFAULT '',
  avatar_url TEXT,
  role TEXT NOT NULL DEFAULT 'user',
  status TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'suspended', 'banned')),
  status_reason TEXT,
  is_active BOOLEAN NOT NULL DEFAULT TRUE,
  -- Access tokens issued at or before this instant are refused (sign-out everywhere).
  credentials_after TIMESTAMPTZ,
  created_at TIMESTAMPTZ NOT NULL,
  last_login_at TIMESTAMPTZ,
  CHECK (phone IS NOT NULL OR email IS NOT NULL)
);
CREATE INDEX idx_accounts_display_name ON accounts(lower(display_name));

CREATE TABLE password_resets (
  token_hash TEXT PRIMARY KEY,
  account_id UUID NOT NULL REFERENCES accounts(id),
  channel TEXT NOT NULL CHECK (channel IN ('email', 'staff')),
  issued_by UUID REFERENCES accounts(id),
  created_at TIMESTAMPTZ NOT NULL,
  expires_at TIMESTAMPTZ NOT NULL,
  used_at TIMESTAMPTZ
);
CREATE INDEX idx_password_resets_account ON password_resets(account_id);

CREATE TABLE audit_log (
  seq BIGSERIAL PRIMARY KEY,
  actor_id UUID,
  action TEXT NOT NULL,
  target_kind TEXT NOT NULL,
  target_id TEXT NOT NULL,
  detail TEXT NOT NULL DEFAULT '',
  created_at TIMESTAMPTZ NOT NULL
);

CREATE TABLE rooms (
  id UUID PRIMARY KEY,
  owner_id UUID NOT NULL UNIQUE REFERENCES accounts(id),
  name TEXT NOT NULL,
  name_key TEXT NOT NULL UNIQUE,
  logo_url TEXT,
  kind TEXT NOT NULL CHECK (kind IN ('public', 'private')),
  password_hash TEXT,
  seat_count BIGINT NOT NULL CHECK (seat_count BETWEEN 1 AND 15),
  capacity BIGINT NOT NULL,
  visitor_speak BOOLEAN NOT NULL,
  visitor_text BOOLEAN NOT NULL,
  visitor_pictures BOOLEAN NOT NULL,
  hidden BOOLEAN NOT NULL DEFAULT FALSE,
  apply_mode BOOLEAN NOT NULL DEFAULT FALSE,
  announcement TEXT NOT NULL DEFAULT '',
  greeting TEXT NOT NULL DEFAULT '',
  status TEXT NOT NULL CHECK (status IN ('open', 'closed')),
  present BIGINT NOT NULL DEFAULT 0 CHECK (present >= 0),
  last_activity_at TIMESTAMPTZ NOT NULL,
  empty_since TIMESTAMPTZ,
  created_at TIMESTAMPTZ NOT NULL,
  closed_at TIMESTAMPTZ,
  CHECK ((kind = 'private') = (password_hash IS NOT NULL)),
  CHECK (present <= capacity)
);
CREATE INDEX idx_rooms_discovery ON rooms(status, present DESC, last_activity_at DESC);

CREATE TABLE room_members (
  room_id UUID NOT NULL REFERENCES rooms(id),
  account_id UUID NOT NULL REFERENCES accounts(id),
  role TEXT NOT NULL CHECK (role IN ('admin', 'member')),
  created_at TIMESTAMPTZ NOT NULL,
  PRIMARY KEY (room_id, account_id)
);

CREATE TABLE room_participants (
  room_id UUID NOT NULL REFERENCES rooms(id),
  account_id UUID NOT NULL REFERENCES accounts(id),
  joined_at TIMESTAMPTZ NOT NULL,
  last_seen_at TIMESTAMPTZ NOT NULL,
  PRIMARY KEY (room_id, account_id)
);
CREATE INDEX idx_room_participants_seen ON room_participants(last_seen_at);

CREATE TABLE seats (
  room_id UUID NOT NULL REFERENCES rooms(id),
  seat_no BIGINT NOT NULL,
  occupant_id UUID UNIQUE REFERENCES accounts(id),
  locked BOOLEAN NOT NULL DEFAULT FALSE,
  muted BOOLEAN NOT NULL DEFAULT FALSE,
  muted_by_moderator BOOLEAN NOT NULL DEFAULT FALSE,
  PRIMARY KEY (room_id, seat_no)
);

CREATE TABLE seat_requests (
  room_id UUID NOT NULL REFERENCES rooms(id),
  account_id UUID NOT NULL REFERENCES accounts(id),
  created_at TIMESTAMPTZ NOT NULL,
  PRIMARY KEY (room_id, account_id)
);

CREATE TABLE seat_invites (
  room_id UUID NOT NULL REFERENCES rooms(id),
  account_id UUID NOT NULL REFERENCES accounts(id),
  seat_no BIGINT NOT NULL,
  invited_by UUID NOT NULL REFERENCES accounts(id),
  expires_at TIMESTAMPTZ NOT NULL,
  PRIMARY KEY (room_id, account_id)
);

CREATE TABLE room_bans (
  room_id UUID NOT NULL REFERENCES rooms(id),
  account_id UUID NOT NULL REFERENCES accounts(id),
  kind TEXT NOT NULL CHECK (kind IN ('kick', 'block')),
  until TIMESTAMPTZ,
  reason TEXT NOT NULL DEFAULT '',
  by_id UUID NOT NULL REFERENCES accounts(id),
  created_at TIMESTAMPTZ NOT NULL,
  PRIMARY KEY (room_id, account_id)
);

CREATE TABLE moderation_log (
  seq BIGSERIAL PRIMARY KEY,
  room_id UUID NOT NULL REFERENCES rooms(id),
  actor_id UUID NOT NULL REFERENCES accounts(id),
  target_id UUID REFERENCES accounts(id),
  action TEXT NOT NULL,
  reason TEXT NOT NULL DEFAULT '',
  created_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX idx_moderation_log_room ON moderation_log(room_id, seq);

-- The room outbox: every room event, written in the transaction of the
-- change, tailed by sequence number for live delivery and replay.
CREATE TABLE room_events (
  seq BIGSERIAL PRIMARY KEY,
  room_id UUID NOT NULL,
  kind TEXT NOT NULL,
  payload TEXT NOT NULL,
  created_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX idx_room_events_room ON room_events(room_id, seq);

CREATE TABLE room_messages (
  seq BIGSERIAL PRIMARY KEY,
  room_id UUID NOT NULL REFERENCES rooms(id),
  author_id UUID NOT NULL REFERENCES accounts(id),
  body TEXT NOT NULL,
  created_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX idx_room_messages_room ON room_messages(room_id, seq);

CREATE TABLE user_follows (
  follower_id UUID NOT NULL REFERENCES accounts(id),
  followee_id UUID NOT NULL REFERENCES accounts(id),
  created_at TIMESTAMPTZ NOT NULL,
  PRIMARY KEY (follower_id, followee_id),
  CHECK (follower_id <> followee_id)
);
CREATE INDEX idx_user_follows_followee ON user_follows(followee_id);

CREATE TABLE room_follows (
  follower_id UUID NOT NULL REFERENCES accounts(id),
  room_id UUID NOT NULL REFERENCES rooms(id),
  created_at TIMESTAMPTZ NOT NULL,
  PRIMARY KEY (follower_id, room_id)
);
CREATE INDEX idx_room_follows_room ON room_follows(room_id);

CREATE TABLE user_blocks (
  blocker_id UUID NOT NULL REFERENCES accounts(id),
  blocked_id UUID NOT NULL REFERENCES accounts(id),
  created_at TIMESTAMPTZ NOT NULL,
  PRIMARY KEY (blocker_id, blocked_id)
);

CREATE TABLE private_messages (
  seq BIGSERIAL PRIMARY KEY,
  sender_id UUID NOT NULL REFERENCES accounts(id),
  recipient_id UUID NOT NULL REFERENCES accounts(id),
  body TEXT NOT NULL,
  created_at TIMESTAMPTZ NOT NULL,
  read_at TIMESTAMPTZ
);
CREATE INDEX idx_private_messages_pair ON private_messages(sender_id, recipient_id, seq);
CREATE INDEX idx_private_messages_recipient ON private_messages(recipient_id, seq);

-- The user outbox: events for one person (private messages, read marks).
CREATE TABLE user_events (
  seq BIGSERIAL PRIMARY KEY,
  account_id UUID NOT NULL,
  kind TEXT NOT NULL,
  payload TEXT NOT NULL,
  created_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX idx_user_events_account ON user_events(account_id, seq);

CREATE TABLE job_runs (
  seq BIGSERIAL PRIMARY KEY,
  job TEXT NOT NULL,
  node TEXT NOT NULL,
  started_at TIMESTAMPTZ NOT NULL,
  finished_at TIMESTAMPTZ NOT NULL,
  counts JSONB NOT NULL DEFAULT '{}',
  error TEXT
);
CREATE INDEX idx_job_runs_job ON job_runs(job, seq DESC);
