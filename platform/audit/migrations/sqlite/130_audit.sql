-- The audit log: who (actor kind and id) did what (action) to which subject,
-- the subject's state before and after, why, from which address, when.
-- Rows are only ever inserted, inside the transaction of the change.
CREATE TABLE audit_entries (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  actor_kind TEXT NOT NULL CHECK (actor_kind <> ''),
  actor_id TEXT,
  action TEXT NOT NULL CHECK (action <> ''),
  subject_kind TEXT,
  subject_id TEXT,
  before_value TEXT,
  after_value TEXT,
  reason TEXT,
  ip TEXT,
  at TEXT NOT NULL
);
CREATE INDEX audit_entries_actor ON audit_entries (actor_kind, actor_id, seq DESC);
CREATE INDEX audit_entries_subject ON audit_entries (subject_kind, subject_id, seq DESC);
CREATE INDEX audit_entries_action ON audit_entries (action, seq DESC);
CREATE INDEX audit_entries_at ON audit_entries (at);

-- Notices for the back office: to one admin (recipient_id), to every admin
-- of a role (recipient_role), or to every admin (both NULL). Each reader
-- marks them read for themselves.
CREATE TABLE admin_notices (
  id TEXT PRIMARY KEY,
  kind TEXT NOT NULL CHECK (kind <> ''),
  title TEXT NOT NULL CHECK (title <> ''),
  body TEXT NOT NULL DEFAULT '',
  link TEXT,
  recipient_id TEXT,
  recipient_role TEXT,
  created_at TEXT NOT NULL,
  CHECK (recipient_id IS NULL OR recipient_role IS NULL)
);
CREATE INDEX admin_notices_recipient ON admin_notices (recipient_id, id DESC);
CREATE INDEX admin_notices_role ON admin_notices (recipient_role, id DESC);

CREATE TABLE admin_notice_reads (
  notice_id TEXT NOT NULL REFERENCES admin_notices(id) ON DELETE CASCADE,
  reader_id TEXT NOT NULL,
  read_at TEXT NOT NULL,
  PRIMARY KEY (notice_id, reader_id)
);
