-- SQLite flavour of ../postgres/1030_levels.sql (same tables).
-- Level ladders as data (requirement 9, BR-3, BR-4): per track, the XP each
-- level starts at, its badge and the privileges it unlocks (a comma list of
-- rooms_domain::status::Privilege names). Staff may change them; these are
-- the defaults of rooms_domain::status::Ladder::default_for.
CREATE TABLE level_steps (
  track TEXT NOT NULL CHECK (track IN ('wealth', 'charm', 'room')),
  level INTEGER NOT NULL CHECK (level >= 1),
  xp INTEGER NOT NULL CHECK (xp >= 0),
  badge TEXT NOT NULL,
  privileges TEXT NOT NULL DEFAULT '',
  PRIMARY KEY (track, level)
);

INSERT INTO level_steps (track, level, xp, badge, privileges) VALUES
  ('wealth', 1, 0, 'Copper', ''),
  ('wealth', 2, 10856, 'Bronze', ''),
  ('wealth', 3, 20001, 'Silver', 'coloured_name'),
  ('wealth', 4, 50000, 'Gold', 'premium_frames'),
  ('wealth', 5, 100000, 'Platinum', 'entry_notice'),
  ('wealth', 6, 250000, 'Emerald', ''),
  ('wealth', 7, 500000, 'Ruby', ''),
  ('wealth', 8, 1000000, 'Sapphire', ''),
  ('wealth', 9, 2500000, 'Diamond', ''),
  ('wealth', 10, 5000000, 'Legend', ''),
  ('charm', 1, 0, 'Spark', ''),
  ('charm', 2, 10856, 'Glow', ''),
  ('charm', 3, 20001, 'Shine', 'coloured_name'),
  ('charm', 4, 50000, 'Star', ''),
  ('charm', 5, 100000, 'Radiant', ''),
  ('charm', 6, 250000, 'Dazzle', ''),
  ('charm', 7, 500000, 'Idol', ''),
  ('charm', 8, 1000000, 'Icon', ''),
  ('charm', 9, 2500000, 'Superstar', ''),
  ('charm', 10, 5000000, 'Muse', ''),
  ('room', 1, 0, 'Cozy', ''),
  ('room', 2, 500001, 'Lively', ''),
  ('room', 3, 1500000, 'Popular', ''),
  ('room', 4, 5000000, 'Famous', ''),
  ('room', 5, 15000000, 'Legendary', '');
