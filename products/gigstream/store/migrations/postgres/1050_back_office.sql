-- The back office: where an account stands (suspended, banned, deleted by
-- its owner) and why, whether an admin verified it, an admin's role; gig
-- moderation decisions; the marketplace settings admins change.
ALTER TABLE accounts ADD COLUMN standing TEXT NOT NULL DEFAULT 'active'
  CHECK (standing IN ('active', 'suspended', 'banned', 'deleted'));
ALTER TABLE accounts ADD COLUMN standing_reason TEXT NOT NULL DEFAULT '';
ALTER TABLE accounts ADD COLUMN verified_at TIMESTAMPTZ;
ALTER TABLE accounts ADD COLUMN admin_role TEXT;
UPDATE accounts SET admin_role = 'owner' WHERE is_admin;
CREATE INDEX idx_accounts_created ON accounts(created_at, id);

-- One decision per gig: approved, or removed with the reason its seller sees.
CREATE TABLE gig_moderation (
  gig_id UUID PRIMARY KEY REFERENCES gigs(id),
  decision TEXT NOT NULL CHECK (decision IN ('approved', 'removed')),
  reason TEXT NOT NULL DEFAULT '',
  decided_by UUID NOT NULL REFERENCES accounts(id),
  decided_at TIMESTAMPTZ NOT NULL
);

-- Settings changed in the back office; a missing row means the default
-- the server was started with.
CREATE TABLE settings (
  name TEXT PRIMARY KEY,
  value BIGINT NOT NULL,
  updated_by UUID REFERENCES accounts(id),
  updated_at TIMESTAMPTZ NOT NULL
);
