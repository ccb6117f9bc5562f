-- Operator side: who answered how fast, what happened to each operator, the
-- daily quality trend, scheduled job runs, and realtime events addressed to
-- operators.

ALTER TABLE messages ADD COLUMN response_ms INTEGER;
ALTER TABLE real_users ADD COLUMN lifetime_credits_spent INTEGER NOT NULL DEFAULT 0;
ALTER TABLE chats ADD COLUMN idle_warned_at TEXT;
ALTER TABLE chats ADD COLUMN escalated_at TEXT;
ALTER TABLE chats ADD COLUMN escalation_reason TEXT;
CREATE INDEX idx_chats_assigned_active ON chats(assigned_operator_id) WHERE assigned_operator_id IS NOT NULL;
CREATE INDEX idx_chats_last_message ON chats(last_message_at) WHERE status IN ('active', 'idle', 'escalated');

-- Events are ephemeral (pruned daily), so the table is rebuilt with the new
-- kinds and an operator address.
DROP TABLE realtime_events;
CREATE TABLE realtime_events (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  chat_id TEXT,
  user_id TEXT,
  operator_id TEXT,
  kind TEXT NOT NULL CHECK (kind IN ('typing', 'receipt', 'balance', 'queue', 'assigned', 'idle_warning', 'taken_away', 'admin_alert')),
  payload TEXT NOT NULL,
  created_at TEXT NOT NULL
);
CREATE INDEX idx_realtime_events_created ON realtime_events(created_at);

CREATE TABLE operator_incidents (
  id TEXT PRIMARY KEY,
  operator_id TEXT NOT NULL REFERENCES operators(id),
  chat_id TEXT REFERENCES chats(id),
  kind TEXT NOT NULL CHECK (kind IN ('idle_warning', 'reassigned', 'suspended', 'reactivated', 'online', 'offline', 'assigned')),
  detail TEXT,
  created_at TEXT NOT NULL
);
CREATE INDEX idx_operator_incidents ON operator_incidents(operator_id, created_at DESC);

CREATE TABLE operator_quality_history (
  operator_id TEXT NOT NULL REFERENCES operators(id),
  day TEXT NOT NULL,
  quality_score REAL NOT NULL,
  PRIMARY KEY (operator_id, day)
);

CREATE TABLE job_runs (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  job TEXT NOT NULL,
  node TEXT NOT NULL,
  started_at TEXT NOT NULL,
  finished_at TEXT NOT NULL,
  counts TEXT NOT NULL DEFAULT '{}',
  error TEXT
);
CREATE INDEX idx_job_runs_job ON job_runs(job, seq DESC);
