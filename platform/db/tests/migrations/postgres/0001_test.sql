CREATE TABLE wallets (
  id BIGSERIAL PRIMARY KEY,
  owner TEXT NOT NULL CONSTRAINT wallets_owner_key UNIQUE,
  balance BIGINT NOT NULL CHECK (balance >= 0),
  locked INTEGER NOT NULL DEFAULT 0
);
CREATE FUNCTION refuse_locked_wallet() RETURNS TRIGGER AS $$
BEGIN
  IF OLD.locked = 1 THEN
    RAISE EXCEPTION 'wallet_locked: this wallet is locked';
  END IF;
  RETURN NEW;
END $$ LANGUAGE plpgsql;
CREATE TRIGGER wallets_locked BEFORE UPDATE ON wallets FOR EACH ROW EXECUTE FUNCTION refuse_locked_wallet();
