-- The platform's money ledger, for products without ledger tables of their
-- own. A wallet holds one unit (a currency in minor units, coins, credits…)
-- for one owner; system accounts (escrow, platform fees) are wallets owned
-- by owner_kind 'system'. A balance moves only together with an entry here,
-- in the same transaction, and never goes below zero.
CREATE TABLE wallets (
  id TEXT PRIMARY KEY,
  owner_kind TEXT NOT NULL CHECK (owner_kind <> ''),
  owner_id TEXT NOT NULL CHECK (owner_id <> ''),
  unit TEXT NOT NULL CHECK (unit <> ''),
  balance INTEGER NOT NULL DEFAULT 0 CHECK (balance >= 0),
  created_at TEXT NOT NULL,
  UNIQUE (owner_kind, owner_id, unit)
);

-- One row per wallet per posting. A single movement is leg 0 of its own
-- posting; a transfer's legs share its transfer_id and idempotency key and
-- are numbered from 0, so (idempotency_key, leg) admits one posting per key.
CREATE TABLE ledger_entries (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  id TEXT NOT NULL UNIQUE,
  wallet_id TEXT NOT NULL REFERENCES wallets(id),
  unit TEXT NOT NULL,
  delta INTEGER NOT NULL CHECK (delta <> 0),
  balance_after INTEGER NOT NULL CHECK (balance_after >= 0),
  reason TEXT NOT NULL CHECK (reason <> ''),
  reference TEXT,
  idempotency_key TEXT NOT NULL CHECK (idempotency_key <> ''),
  transfer_id TEXT,
  leg INTEGER NOT NULL DEFAULT 0 CHECK (leg >= 0),
  created_by TEXT,
  created_at TEXT NOT NULL,
  UNIQUE (idempotency_key, leg)
);
CREATE INDEX idx_ledger_entries_wallet ON ledger_entries(wallet_id, seq DESC);
CREATE INDEX idx_ledger_entries_transfer ON ledger_entries(transfer_id) WHERE transfer_id IS NOT NULL;
CREATE INDEX idx_ledger_entries_reference ON ledger_entries(reference) WHERE reference IS NOT NULL;
