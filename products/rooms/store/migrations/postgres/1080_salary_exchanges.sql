-- Salary exchanged for coins (requirement 6.4, BR-2): one row per exchange,
-- written in the transaction that moves the cents back to the salary fund
-- and credits the coins from the treasury. The rate is stored as applied;
-- (account_id, idempotency_key) is unique, so a repeated request finds the
-- first exchange instead of paying twice.
CREATE TABLE salary_exchanges (
  id UUID PRIMARY KEY,
  account_id UUID NOT NULL REFERENCES accounts(id),
  cents BIGINT NOT NULL CHECK (cents > 0),
  rate BIGINT NOT NULL CHECK (rate > 0),
  coins BIGINT NOT NULL CHECK (coins > 0),
  idempotency_key TEXT NOT NULL,
  created_at TIMESTAMPTZ NOT NULL,
  UNIQUE (account_id, idempotency_key)
);
CREATE INDEX idx_salary_exchanges_account ON salary_exchanges(account_id, created_at DESC);
