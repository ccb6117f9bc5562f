-- Tables shaped like Fantooo's credit ledger (only the columns a Book uses,
-- plus one the ledger must leave alone).
CREATE TABLE real_users (
  id UUID PRIMARY KEY,
  username TEXT NOT NULL UNIQUE,
  credits BIGINT NOT NULL DEFAULT 0 CHECK (credits >= 0),
  lifetime_credits_spent BIGINT NOT NULL DEFAULT 0
);

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
