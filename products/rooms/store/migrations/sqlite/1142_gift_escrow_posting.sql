-- A gift accepted in a batch is debited in one transfer per escrow shard
-- of its batch (every sender's leg and the shard's credit); the gift's row
-- names that posting's idempotency key. A gift accepted on its own has its
-- own transfer, found by its id as reference, and no posting key.
ALTER TABLE gift_sends ADD COLUMN escrow_posting TEXT;
