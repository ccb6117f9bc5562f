-- SQLite flavour of ../postgres/1010_economy.sql (same tables).
-- Rooms' coin economy. Balances are platform-ledger wallets (120): each
-- account's `coins` and `diamonds`, the treasury (`system/treasury`, opening
-- stock 1,000,000,000 coins, which funds purchases; `system/treasury:0..15`,
-- where gifts' platform shares return), the diamond issuer
-- (`system/diamond_issuer:0..15`), agencies' coin wallets and the payout
-- hold. These tables hold what the ledger does not: packages and purchases,
-- the gift catalogue and every gift sent, agencies, counters, payouts.

CREATE TABLE recharge_packages (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  coins INTEGER NOT NULL CHECK (coins > 0),
  bonus_coins INTEGER NOT NULL DEFAULT 0 CHECK (bonus_coins >= 0),
  price_minor INTEGER NOT NULL CHECK (price_minor > 0),
  currency TEXT NOT NULL,
  -- Comma-separated ISO country codes the package is offered in; '' = all.
  countries TEXT NOT NULL DEFAULT '',
  active BOOLEAN NOT NULL DEFAULT TRUE,
  sort INTEGER NOT NULL DEFAULT 0,
  created_at TEXT NOT NULL
);

-- A checkout at the payment provider with the package's price locked in.
CREATE TABLE coin_purchases (
  reference TEXT PRIMARY KEY,
  account_id TEXT NOT NULL REFERENCES accounts(id),
  package_id TEXT NOT NULL REFERENCES recharge_packages(id),
  coins INTEGER NOT NULL,
  bonus_coins INTEGER NOT NULL,
  price_minor INTEGER NOT NULL,
  currency TEXT NOT NULL,
  provider TEXT NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('pending', 'credited', 'failed', 'review')),
  gateway_response TEXT,
  reports INTEGER NOT NULL DEFAULT 0,
  created_at TEXT NOT NULL,
  settled_at TEXT
);
CREATE INDEX idx_coin_purchases_account ON coin_purchases(account_id, created_at DESC);

CREATE TABLE gifts (
  id TEXT PRIMARY KEY,
  code TEXT NOT NULL UNIQUE,
  name TEXT NOT NULL,
  category TEXT NOT NULL,
  rarity TEXT NOT NULL CHECK (rarity IN ('common', 'rare', 'epic', 'legendary')),
  price INTEGER NOT NULL CHECK (price > 0),
  -- XP multipliers in percent (100 = x1.00).
  wealth_pct INTEGER NOT NULL DEFAULT 100 CHECK (wealth_pct >= 0),
  charm_pct INTEGER NOT NULL DEFAULT 100 CHECK (charm_pct >= 0),
  -- The animation asset under /assets/gifts/.
  animation TEXT NOT NULL,
  active BOOLEAN NOT NULL DEFAULT TRUE,
  sort INTEGER NOT NULL DEFAULT 0
);

-- Agencies, as far as the gift split needs them: who is a member.
CREATE TABLE agencies (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL UNIQUE,
  owner_id TEXT NOT NULL UNIQUE REFERENCES accounts(id),
  created_at TEXT NOT NULL
);
CREATE TABLE agency_members (
  account_id TEXT PRIMARY KEY REFERENCES accounts(id),
  agency_id TEXT NOT NULL REFERENCES agencies(id),
  joined_at TEXT NOT NULL
);

-- One row per gift per recipient, with its BR-1 split.
CREATE TABLE gift_sends (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  id TEXT NOT NULL UNIQUE,
  sender_id TEXT NOT NULL REFERENCES accounts(id),
  request_key TEXT NOT NULL,
  recipient_id TEXT NOT NULL REFERENCES accounts(id),
  room_id TEXT NOT NULL REFERENCES rooms(id),
  owner_id TEXT NOT NULL,
  gift_id TEXT NOT NULL REFERENCES gifts(id),
  quantity INTEGER NOT NULL CHECK (quantity > 0),
  combo INTEGER NOT NULL CHECK (combo > 0),
  unit_price INTEGER NOT NULL,
  cost INTEGER NOT NULL CHECK (cost > 0),
  owner_share INTEGER NOT NULL CHECK (owner_share >= 0),
  receiver_share INTEGER NOT NULL CHECK (receiver_share >= 0),
  receiver_unit TEXT NOT NULL CHECK (receiver_unit IN ('coins', 'diamonds')),
  agency_id TEXT,
  agency_share INTEGER NOT NULL CHECK (agency_share >= 0),
  platform_share INTEGER NOT NULL CHECK (platform_share >= 0),
  wealth_xp INTEGER NOT NULL,
  charm_xp INTEGER NOT NULL,
  created_at TEXT NOT NULL,
  UNIQUE (sender_id, request_key, recipient_id),
  CHECK (owner_share + receiver_share + agency_share + platform_share = cost)
);
CREATE INDEX idx_gift_sends_sender ON gift_sends(sender_id, seq DESC);
CREATE INDEX idx_gift_sends_recipient ON gift_sends(recipient_id, seq DESC);
CREATE INDEX idx_gift_sends_room ON gift_sends(room_id, seq DESC);

-- Per-period counters, added to in each gift's transaction: board (wealth
-- = coins sent, charm = coins received, room = coins spent in a room,
-- agency = agency income, diamonds = diamonds earned, wealth_xp, charm_xp),
-- subject (account, room or agency id), period key (d:/w:/m:/all in the
-- ranking zone), and a shard picked by the gift, so gifts into one room
-- add to different rows instead of queueing on one. A board reads
-- SUM(amount) per subject over the shards.
CREATE TABLE gift_counters (
  board TEXT NOT NULL,
  period TEXT NOT NULL,
  subject TEXT NOT NULL,
  shard INTEGER NOT NULL,
  amount INTEGER NOT NULL CHECK (amount >= 0),
  gifts INTEGER NOT NULL,
  last_at TEXT NOT NULL,
  PRIMARY KEY (board, period, subject, shard)
);

-- Each level reached, once per track and subject.
CREATE TABLE level_events (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  track TEXT NOT NULL,
  subject TEXT NOT NULL,
  level INTEGER NOT NULL,
  reached_at TEXT NOT NULL,
  UNIQUE (track, subject, level)
);

CREATE TABLE diamond_exchanges (
  id TEXT PRIMARY KEY,
  account_id TEXT NOT NULL REFERENCES accounts(id),
  diamonds INTEGER NOT NULL CHECK (diamonds > 0),
  rate INTEGER NOT NULL CHECK (rate > 0),
  coins INTEGER NOT NULL CHECK (coins > 0),
  created_at TEXT NOT NULL
);
CREATE INDEX idx_diamond_exchanges_account ON diamond_exchanges(account_id, created_at DESC);

CREATE TABLE diamond_payouts (
  id TEXT PRIMARY KEY,
  account_id TEXT NOT NULL REFERENCES accounts(id),
  diamonds INTEGER NOT NULL CHECK (diamonds > 0),
  status TEXT NOT NULL CHECK (status IN ('requested', 'approved', 'paid', 'rejected')),
  requested_at TEXT NOT NULL,
  decided_by TEXT,
  decided_at TEXT,
  paid_at TEXT
);
CREATE INDEX idx_diamond_payouts_status ON diamond_payouts(status, requested_at);
