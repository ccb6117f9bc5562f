-- Staff switches for the two exchanges (requirement 6.4, 10): diamonds →
-- coins and salary → coins. No row: the exchange follows the app's
-- configuration (open by default). Each change is written with its
-- platform-audit entry in one transaction; the reason is shown to users.
CREATE TABLE exchange_switches (
  name TEXT PRIMARY KEY CHECK (name IN ('diamonds', 'salary')),
  open BOOLEAN NOT NULL,
  reason TEXT NOT NULL DEFAULT '',
  changed_by UUID REFERENCES accounts(id),
  changed_at TIMESTAMPTZ NOT NULL
);
