-- SQLite flavour of ../postgres/1105_exchange_switches.sql (same columns).
CREATE TABLE exchange_switches (
  name TEXT PRIMARY KEY CHECK (name IN ('diamonds', 'salary')),
  open INTEGER NOT NULL,
  reason TEXT NOT NULL DEFAULT '',
  changed_by TEXT REFERENCES accounts(id),
  changed_at TEXT NOT NULL
);
