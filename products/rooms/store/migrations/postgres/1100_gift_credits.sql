-- Gifts are accepted and credited in two steps (see gifts.rs, "Hot rows"):
-- the sender's transaction debits the sender into one of 64 escrow
-- wallets and records the gift with credited_at NULL; a batched writer
-- then credits the owners', receivers', agencies' and platform's shares of
-- many gifts at once (one ledger posting per wallet per batch) and marks
-- each gift with its batch in the same transaction. Gifts from before the
-- split were credited in their own transaction.
ALTER TABLE gift_sends ADD COLUMN credit_batch UUID;
ALTER TABLE gift_sends ADD COLUMN credited_at TIMESTAMPTZ;
UPDATE gift_sends SET credited_at = created_at;
CREATE INDEX idx_gift_sends_pending ON gift_sends(seq) WHERE credited_at IS NULL;
CREATE INDEX idx_gift_sends_batch ON gift_sends(credit_batch) WHERE credit_batch IS NOT NULL;

CREATE TABLE gift_credit_batches (
  id UUID PRIMARY KEY,
  gifts BIGINT NOT NULL CHECK (gifts > 0),
  coins BIGINT NOT NULL,
  diamonds BIGINT NOT NULL,
  created_at TIMESTAMPTZ NOT NULL
);
