-- SQLite flavour of ../postgres/1031_frames.sql (same tables).
-- Avatar frames (requirements 5.5, 5.7): a catalogue, each bought with
-- coins for a number of days through the ledger (reason frame_purchase,
-- key frame:<account>:<request key>); rebuying adds to the time left; one
-- worn at a time; a job deletes lapsed ones. `code` names the CSS frame
-- drawn around the avatar (assets/status.css); premium frames need the
-- premium_frames privilege (a wealth level).
CREATE TABLE frames (
  id TEXT PRIMARY KEY,
  code TEXT NOT NULL UNIQUE,
  name TEXT NOT NULL,
  price INTEGER NOT NULL CHECK (price > 0),
  days INTEGER NOT NULL CHECK (days > 0),
  premium BOOLEAN NOT NULL DEFAULT FALSE,
  active BOOLEAN NOT NULL DEFAULT TRUE,
  sort INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE owned_frames (
  account_id TEXT NOT NULL REFERENCES accounts(id),
  frame_id TEXT NOT NULL REFERENCES frames(id),
  expires_at TEXT NOT NULL,
  worn BOOLEAN NOT NULL DEFAULT FALSE,
  PRIMARY KEY (account_id, frame_id)
);
CREATE UNIQUE INDEX idx_owned_frames_worn ON owned_frames(account_id) WHERE worn;
CREATE INDEX idx_owned_frames_expiry ON owned_frames(expires_at);

CREATE TABLE frame_purchases (
  id TEXT PRIMARY KEY,
  account_id TEXT NOT NULL REFERENCES accounts(id),
  frame_id TEXT NOT NULL REFERENCES frames(id),
  request_key TEXT NOT NULL,
  price INTEGER NOT NULL CHECK (price > 0),
  days INTEGER NOT NULL CHECK (days > 0),
  expires_at TEXT NOT NULL,
  created_at TEXT NOT NULL,
  UNIQUE (account_id, request_key)
);
CREATE INDEX idx_frame_purchases_account ON frame_purchases(account_id, created_at DESC);

INSERT INTO frames (id, code, name, price, days, premium, active, sort) VALUES
  ('01930000-0000-7000-8000-000000000001', 'gold', 'Gold ring', 500, 30, FALSE, TRUE, 1),
  ('01930000-0000-7000-8000-000000000002', 'neon', 'Neon glow', 1200, 30, FALSE, TRUE, 2),
  ('01930000-0000-7000-8000-000000000003', 'hearts', 'Hearts', 2000, 30, FALSE, TRUE, 3),
  ('01930000-0000-7000-8000-000000000004', 'royal', 'Royal', 8000, 30, TRUE, TRUE, 4);
