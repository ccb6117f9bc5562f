CREATE TABLE wallets (
  id INTEGER PRIMARY KEY,
  owner TEXT NOT NULL CONSTRAINT wallets_owner_key UNIQUE,
  balance INTEGER NOT NULL CHECK (balance >= 0),
  locked INTEGER NOT NULL DEFAULT 0
);
CREATE TRIGGER wallets_locked BEFORE UPDATE ON wallets
  WHEN OLD.locked = 1
BEGIN
  SELECT RAISE(ABORT, 'wallet_locked: this wallet is locked');
END;
