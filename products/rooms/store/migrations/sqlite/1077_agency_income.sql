-- SQLite flavour of ../postgres/1077_agency_income.sql (same tables).
-- BR-6 income targets and the agency dashboard (6.3): the `agencies` job
-- adds each minute an active member spends on a mic seat to that day's
-- row (valid mic hours cap each day at 5 h when read), and settles each
-- member's month once: the salary of the highest target reached (US cents,
-- through the ledger; what the member claimed ahead as an advance is
-- deducted) and the coins beyond it × IECP as diamonds. One row per
-- agency, member and month: running the settlement twice settles once.
CREATE TABLE agency_mic_days (
  account_id TEXT NOT NULL REFERENCES accounts(id),
  agency_id TEXT NOT NULL REFERENCES agencies(id),
  day TEXT NOT NULL,
  seconds INTEGER NOT NULL CHECK (seconds >= 0),
  PRIMARY KEY (account_id, agency_id, day)
);
-- When mic time was last added (one row).
CREATE TABLE agency_mic_clock (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  last_at TEXT NOT NULL
);
CREATE TABLE agency_settlements (
  agency_id TEXT NOT NULL REFERENCES agencies(id),
  account_id TEXT NOT NULL REFERENCES accounts(id),
  month TEXT NOT NULL,
  coins INTEGER NOT NULL CHECK (coins >= 0),
  target_coins INTEGER NOT NULL CHECK (target_coins >= 0),
  salary_cents INTEGER NOT NULL CHECK (salary_cents >= 0),
  advances_cents INTEGER NOT NULL CHECK (advances_cents >= 0),
  excess_diamonds INTEGER NOT NULL CHECK (excess_diamonds >= 0),
  until_at TEXT NOT NULL,
  settled_at TEXT NOT NULL,
  PRIMARY KEY (agency_id, account_id, month)
);
