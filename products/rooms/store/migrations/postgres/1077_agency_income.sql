-- PostgreSQL flavour (see ../sqlite/1077_agency_income.sql for the same tables on SQLite).
-- BR-6 income targets and the agency dashboard (6.3): the `agencies` job
-- adds each minute an active member spends on a mic seat to that day's
-- row (valid mic hours cap each day at 5 h when read), and settles each
-- member's month once: the salary of the highest target reached (US cents,
-- through the ledger; what the member claimed ahead as an advance is
-- deducted) and the coins beyond it × IECP as diamonds. One row per
-- agency, member and month: running the settlement twice settles once.
CREATE TABLE agency_mic_days (
  account_id UUID NOT NULL REFERENCES accounts(id),
  agency_id UUID NOT NULL REFERENCES agencies(id),
  day TEXT NOT NULL,
  seconds BIGINT NOT NULL CHECK (seconds >= 0),
  PRIMARY KEY (account_id, agency_id, day)
);
-- When mic time was last added (one row).
CREATE TABLE agency_mic_clock (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  last_at TIMESTAMPTZ NOT NULL
);
CREATE TABLE agency_settlements (
  agency_id UUID NOT NULL REFERENCES agencies(id),
  account_id UUID NOT NULL REFERENCES accounts(id),
  month TEXT NOT NULL,
  coins BIGINT NOT NULL CHECK (coins >= 0),
  target_coins BIGINT NOT NULL CHECK (target_coins >= 0),
  salary_cents BIGINT NOT NULL CHECK (salary_cents >= 0),
  advances_cents BIGINT NOT NULL CHECK (advances_cents >= 0),
  excess_diamonds BIGINT NOT NULL CHECK (excess_diamonds >= 0),
  until_at TIMESTAMPTZ NOT NULL,
  settled_at TIMESTAMPTZ NOT NULL,
  PRIMARY KEY (agency_id, account_id, month)
);
