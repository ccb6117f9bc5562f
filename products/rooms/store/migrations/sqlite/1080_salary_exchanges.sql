-- SQLite flavour of ../postgres/1080_salary_exchanges.sql (same columns).
CREATE TABLE salary_exchanges (
  id TEXT PRIMARY KEY,
  account_id TEXT NOT NULL REFERENCES accounts(id),
  cents INTEGER NOT NULL CHECK (cents > 0),
  rate INTEGER NOT NULL CHECK (rate > 0),
  coins INTEGER NOT NULL CHECK (coins > 0),
  idempotency_key TEXT NOT NULL,
  created_at TEXT NOT NULL,
  UNIQUE (account_id, idempotency_key)
);
CREATE INDEX idx_salary_exchanges_account ON salary_exchanges(account_id, created_at DESC);
