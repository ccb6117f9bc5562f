-- Payments through Stripe and PayPal, refunds sent to the provider, seller
-- earnings with their clearance, and withdrawals.

-- A checkout opened at a provider for an order (one per provider the buyer tried).
CREATE TABLE order_checkouts (
  order_id UUID NOT NULL REFERENCES orders(id),
  provider TEXT NOT NULL,
  checkout_id TEXT NOT NULL,
  payment_id TEXT,
  created_at TIMESTAMPTZ NOT NULL,
  updated_at TIMESTAMPTZ NOT NULL,
  PRIMARY KEY (order_id, provider)
);
CREATE INDEX idx_order_checkouts_checkout ON order_checkouts(provider, checkout_id);

-- What became of each refund at the provider: pending until it answers;
-- none when the order was not paid through a provider (demo data).
ALTER TABLE refunds ADD COLUMN provider_status TEXT NOT NULL DEFAULT 'pending';
ALTER TABLE refunds ADD COLUMN provider_refund_id TEXT;
ALTER TABLE refunds ADD COLUMN provider_error TEXT;
ALTER TABLE refunds ADD COLUMN sent_at TIMESTAMPTZ;
CREATE INDEX idx_refunds_pending ON refunds(created_at) WHERE provider_status = 'pending';

-- A seller's earnings from one order: pending from release, available once cleared.
CREATE TABLE earnings (
  order_id UUID PRIMARY KEY REFERENCES orders(id),
  seller_id UUID NOT NULL REFERENCES accounts(id),
  currency TEXT NOT NULL,
  amount_minor BIGINT NOT NULL CHECK (amount_minor > 0),
  released_at TIMESTAMPTZ NOT NULL,
  cleared_at TIMESTAMPTZ
);
CREATE INDEX idx_earnings_uncleared ON earnings(released_at) WHERE cleared_at IS NULL;
CREATE INDEX idx_earnings_seller ON earnings(seller_id, released_at DESC);

CREATE TABLE withdrawals (
  id UUID PRIMARY KEY,
  seller_id UUID NOT NULL REFERENCES accounts(id),
  currency TEXT NOT NULL,
  amount_minor BIGINT NOT NULL CHECK (amount_minor > 0),
  fee_minor BIGINT NOT NULL CHECK (fee_minor >= 0 AND fee_minor < amount_minor),
  method TEXT NOT NULL,
  destination TEXT NOT NULL,
  status TEXT NOT NULL,
  payout_id TEXT,
  note TEXT,
  decided_by UUID,
  created_at TIMESTAMPTZ NOT NULL,
  decided_at TIMESTAMPTZ,
  paid_at TIMESTAMPTZ,
  updated_at TIMESTAMPTZ NOT NULL
);
-- One open request per seller, whatever races.
CREATE UNIQUE INDEX idx_withdrawals_one_open ON withdrawals(seller_id) WHERE status IN ('requested', 'approved');
CREATE INDEX idx_withdrawals_status ON withdrawals(status, created_at, id);
CREATE INDEX idx_withdrawals_seller ON withdrawals(seller_id, created_at DESC);
