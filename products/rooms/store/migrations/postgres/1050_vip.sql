-- VIP tiers (requirement 9.5, BR-5) as data: each tier's price in coins,
-- the days a purchase adds, the seats it adds to the holder's own room
-- (within the 15-seat cap) and the privileges it unlocks on top of the
-- tiers below (comma-separated, as level_steps). A membership is one row
-- per account (tier and end); buying the same tier stacks on the time
-- left, a higher one starts now. Purchases go through the ledger (reason
-- vip_purchase, key vip:<account>:<request key>); the vip job ends lapsed
-- memberships. Gifts may name a minimum tier; rooms keep the seats their
-- owner's tier adds apart from the owner's own choice.
CREATE TABLE vip_tiers (
  tier BIGINT PRIMARY KEY CHECK (tier BETWEEN 1 AND 7),
  name TEXT NOT NULL,
  price BIGINT NOT NULL CHECK (price > 0),
  days BIGINT NOT NULL CHECK (days > 0),
  extra_seats BIGINT NOT NULL DEFAULT 0 CHECK (extra_seats >= 0),
  privileges TEXT NOT NULL DEFAULT ''
);

CREATE TABLE vip_memberships (
  account_id UUID PRIMARY KEY REFERENCES accounts(id),
  tier BIGINT NOT NULL CHECK (tier BETWEEN 1 AND 7),
  expires_at TIMESTAMPTZ NOT NULL,
  updated_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX idx_vip_memberships_expiry ON vip_memberships(expires_at);

CREATE TABLE vip_purchases (
  id UUID PRIMARY KEY,
  account_id UUID NOT NULL REFERENCES accounts(id),
  tier BIGINT NOT NULL,
  request_key TEXT NOT NULL,
  kind TEXT NOT NULL CHECK (kind IN ('new', 'renewal', 'upgrade')),
  price BIGINT NOT NULL CHECK (price > 0),
  days BIGINT NOT NULL CHECK (days > 0),
  expires_at TIMESTAMPTZ NOT NULL,
  created_at TIMESTAMPTZ NOT NULL,
  UNIQUE (account_id, request_key)
);
CREATE INDEX idx_vip_purchases_account ON vip_purchases(account_id, created_at DESC);

ALTER TABLE gifts ADD COLUMN min_vip BIGINT NOT NULL DEFAULT 0 CHECK (min_vip BETWEEN 0 AND 7);
ALTER TABLE rooms ADD COLUMN bonus_seats BIGINT NOT NULL DEFAULT 0 CHECK (bonus_seats >= 0 AND seat_count + bonus_seats <= 15);

INSERT INTO vip_tiers (tier, name, price, days, extra_seats, privileges) VALUES
  (1, 'VIP 1', 1000, 30, 1, 'entry_notice,exclusive_gifts,extra_seats'),
  (2, 'VIP 2', 3000, 30, 1, ''),
  (3, 'VIP 3', 8000, 30, 2, 'coloured_name'),
  (4, 'VIP 4', 20000, 30, 2, 'mute_protection'),
  (5, 'VIP 5', 50000, 30, 3, 'kick_protection'),
  (6, 'VIP 6', 100000, 30, 4, ''),
  (7, 'SVIP', 300000, 30, 5, '');

-- Coins spent on frames add wealth XP (BR-4, 9.1) from now on; the frames
-- bought before count too.
INSERT INTO gift_counters (board, period, subject, shard, amount, gifts, last_at)
  SELECT 'wealth_xp', 'all', CAST(account_id AS TEXT), 0, SUM(price), 0, MAX(created_at) FROM frame_purchases WHERE 1 = 1 GROUP BY account_id
  ON CONFLICT (board, period, subject, shard) DO UPDATE SET amount = gift_counters.amount + excluded.amount;
