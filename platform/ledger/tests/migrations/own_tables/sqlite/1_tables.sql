-- A product's own balance and ledger tables (only the columns a Book uses,
-- plus one the ledger must leave alone).
CREATE TABLE members (
  id TEXT PRIMARY KEY,
  username TEXT NOT NULL UNIQUE,
  credits INTEGER NOT NULL DEFAULT 0 CHECK (credits >= 0),
  lifetime_spent INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE member_ledger (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  id TEXT NOT NULL UNIQUE,
  member_id TEXT NOT NULL REFERENCES members(id),
  delta INTEGER NOT NULL CHECK (delta <> 0),
  balance_after INTEGER NOT NULL CHECK (balance_after >= 0),
  reason TEXT NOT NULL CHECK (reason IN ('purchase', 'message_charge', 'refund', 'bonus', 'admin_adjustment')),
  reference TEXT,
  idempotency_key TEXT NOT NULL UNIQUE,
  created_by TEXT,
  created_at TEXT NOT NULL
);
CREATE INDEX idx_member_ledger ON member_ledger(member_id, seq DESC);
