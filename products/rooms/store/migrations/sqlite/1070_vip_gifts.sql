-- SQLite flavour of ../postgres/1070_vip_gifts.sql.
-- VIP given to another user (requirement 9.5): the giver pays through the
-- ledger (reason vip_gift, key vip:<giver>:<request key>, the same
-- namespace as the giver's own purchases) and the purchase row is the
-- recipient's, with given_by naming the giver. Its request_key is
-- gift:<giver>:<request key>, so it never meets the recipient's own keys;
-- one gift per giver and key.
ALTER TABLE vip_purchases ADD COLUMN given_by TEXT REFERENCES accounts(id);
CREATE UNIQUE INDEX idx_vip_purchases_given ON vip_purchases(given_by, request_key) WHERE given_by IS NOT NULL;
