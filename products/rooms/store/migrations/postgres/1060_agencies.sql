-- PostgreSQL flavour (see ../sqlite/1060_agencies.sql for the same tables on SQLite).
-- Agencies' full flow (requirement 6): a user creates an agency (pending
-- until staff approve it), staff suspend and reactivate it; users apply to
-- join one agency at a time and the owner accepts or rejects. The member
-- count sits on the agency row, raised by a conditional update under the
-- member limit, so two accepts racing for the last place queue on that row
-- and exactly one wins (`rooms check` compares it with the member rows).
ALTER TABLE agencies ADD COLUMN country TEXT NOT NULL DEFAULT '';
ALTER TABLE agencies ADD COLUMN status TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('pending', 'active', 'suspended', 'rejected'));
ALTER TABLE agencies ADD COLUMN status_reason TEXT NOT NULL DEFAULT '';
ALTER TABLE agencies ADD COLUMN member_limit BIGINT NOT NULL DEFAULT 50 CHECK (member_limit >= 1);
ALTER TABLE agencies ADD COLUMN member_count BIGINT NOT NULL DEFAULT 0 CHECK (member_count >= 0);
UPDATE agencies SET member_count = (SELECT COUNT(*) FROM agency_members m WHERE m.agency_id = agencies.id);
CREATE INDEX idx_agencies_created ON agencies(created_at DESC);
CREATE INDEX idx_agency_members_agency ON agency_members(agency_id);

CREATE TABLE agency_applications (
  id UUID PRIMARY KEY,
  agency_id UUID NOT NULL REFERENCES agencies(id),
  account_id UUID NOT NULL REFERENCES accounts(id),
  status TEXT NOT NULL CHECK (status IN ('pending', 'accepted', 'rejected', 'withdrawn')),
  message TEXT NOT NULL DEFAULT '',
  created_at TIMESTAMPTZ NOT NULL,
  decided_at TIMESTAMPTZ
);
-- One pending application per user: one agency at a time.
CREATE UNIQUE INDEX one_pending_application ON agency_applications(account_id) WHERE status = 'pending';
CREATE INDEX idx_agency_applications_agency ON agency_applications(agency_id, status, created_at);
