-- Coin requests (requirement 5.3, 5.4): a user asks a reseller for coins
-- with up to three payment-proof pictures; the reseller (or a super admin)
-- approves, moving coins from the reseller's stock wallet
-- (`reseller/<account id>` in coins, platform-ledger) to the user in the
-- same transaction as the state change, or rejects; the requester may
-- cancel; an unprocessed request expires after 72 hours. Only a pending
-- request moves, and only once (a conditional update on `status`).
CREATE TABLE coin_requests (
  id UUID PRIMARY KEY,
  requester_id UUID NOT NULL REFERENCES accounts(id),
  reseller_id UUID NOT NULL REFERENCES accounts(id),
  coins BIGINT NOT NULL CHECK (coins > 0),
  message TEXT NOT NULL DEFAULT '',
  -- Media keys of the proof pictures, one per line (served only to the
  -- requester, the reseller and staff).
  proofs TEXT NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('pending', 'approved', 'rejected', 'cancelled', 'expired')),
  -- What approval paid (may differ from what was asked), how, and why.
  approved_coins BIGINT CHECK (approved_coins > 0),
  payment TEXT CHECK (payment IN ('cash', 'credit')),
  credit_days BIGINT CHECK (credit_days BETWEEN 1 AND 365),
  note TEXT NOT NULL DEFAULT '',
  decided_by UUID,
  decided_at TIMESTAMPTZ,
  repaid_at TIMESTAMPTZ,
  created_at TIMESTAMPTZ NOT NULL,
  expires_at TIMESTAMPTZ NOT NULL,
  CHECK (requester_id <> reseller_id),
  CHECK ((status = 'approved') = (approved_coins IS NOT NULL))
);
-- One pending request per user per reseller.
CREATE UNIQUE INDEX coin_requests_one_pending ON coin_requests (requester_id, reseller_id) WHERE status = 'pending';
CREATE INDEX idx_coin_requests_requester ON coin_requests (requester_id, created_at DESC);
CREATE INDEX idx_coin_requests_reseller ON coin_requests (reseller_id, status, created_at DESC);
CREATE INDEX idx_coin_requests_status ON coin_requests (status, created_at DESC);
