-- SQLite flavour of ../postgres/1076_agency_leaving.sql (same columns).
-- Leaving with notice (6.5): a member asks to leave, or the owner removes
-- them; the membership ends `ends_at` (the notice period later), until
-- then it holds its place and its gifts still credit the agency. A job
-- ends due memberships and keeps the past membership, so the month's
-- settlement and the dashboard still count its income up to the end.
ALTER TABLE agency_members ADD COLUMN leave_asked_at TEXT;
ALTER TABLE agency_members ADD COLUMN leave_asked_by TEXT;
ALTER TABLE agency_members ADD COLUMN ends_at TEXT;
CREATE INDEX idx_agency_members_ends ON agency_members(ends_at) WHERE ends_at IS NOT NULL;
CREATE TABLE agency_past_members (
  agency_id TEXT NOT NULL REFERENCES agencies(id),
  account_id TEXT NOT NULL REFERENCES accounts(id),
  joined_at TEXT NOT NULL,
  left_at TEXT NOT NULL,
  -- 'left' (the member asked) or 'removed' (by the owner).
  how TEXT NOT NULL CHECK (how IN ('left', 'removed')),
  PRIMARY KEY (agency_id, account_id, left_at)
);
CREATE INDEX idx_agency_past_members_left ON agency_past_members(agency_id, left_at);
