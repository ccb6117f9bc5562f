-- Users may delete their own account: the refund of their unused credits
-- is then recorded before any staff member has handled it, so the handler
-- becomes optional. SQLite cannot relax NOT NULL in place: the table is
-- rebuilt with its rows and indexes.
CREATE TABLE credit_refunds_new (
  id TEXT PRIMARY KEY,
  user_id TEXT NOT NULL REFERENCES real_users(id),
  amount INTEGER NOT NULL CHECK (amount > 0),
  reason TEXT NOT NULL CHECK (reason IN ('accidental_send', 'inappropriate_content', 'system_error', 'admin_discretion', 'account_deletion')),
  message_id TEXT,
  chat_id TEXT REFERENCES chats(id),
  processed_by TEXT REFERENCES admins(id),
  notes TEXT,
  status TEXT NOT NULL DEFAULT 'completed' CHECK (status IN ('pending', 'completed', 'rejected')),
  created_at TEXT NOT NULL
);
INSERT INTO credit_refunds_new (id, user_id, amount, reason, message_id, chat_id, processed_by, notes, status, created_at)
  SELECT id, user_id, amount, reason, message_id, chat_id, processed_by, notes, status, created_at FROM credit_refunds;
DROP TABLE credit_refunds;
ALTER TABLE credit_refunds_new RENAME TO credit_refunds;
CREATE INDEX idx_refunds_user ON credit_refunds(user_id, created_at DESC);
CREATE INDEX idx_refunds_message ON credit_refunds(message_id) WHERE message_id IS NOT NULL;
CREATE INDEX idx_refunds_status ON credit_refunds(status, created_at DESC);
