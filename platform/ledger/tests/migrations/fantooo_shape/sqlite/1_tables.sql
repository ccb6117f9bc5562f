-- Tables shaped like Fantooo's credit ledger (only the columns a Book uses,
-- plus one the ledger must leave alone).
CREATE TABLE real_users (
  id TEXT PRIMARY KEY,
  username TEXT NOT NULL UNIQUE,
  credits INTEGER NOT NULL DEFAULT 0 CHECK (credits >= 0),
  lifetime_credits_spent INTEGER NOT NULL DEFAULT 0
);

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
