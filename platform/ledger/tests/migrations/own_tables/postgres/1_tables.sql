-- A product's own balance and ledger tables (only the columns a Book uses,
-- plus one the ledger must leave alone).
CREATE TABLE members (
  id UUID PRIMARY KEY,
  username TEXT NOT NULL UNIQUE,
  credits BIGINT NOT NULL DEFAULT 0 CHECK (credits >= 0),
  lifetime_spent BIGINT NOT NULL DEFAULT 0
);

CREATE TABLE member_ledger (
  seq BIGSERIAL PRIMARY KEY,
  id UUID NOT NULL UNIQUE,
  member_id UUID NOT NULL REFERENCES members(id),
  delta BIGINT NOT NULL CHECK (delta <> 0),
  balance_after BIGINT NOT NULL CHECK (balance_after >= 0),
  reason TEXT NOT NULL CHECK (reason IN ('purchase', 'message_charge', 'refund', 'bonus', 'admin_adjustment')),
  reference TEXT,
  idempotency_key TEXT NOT NULL UNIQUE,
  created_by UUID,
  created_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX idx_member_ledger ON member_ledger(member_id, seq DESC);
