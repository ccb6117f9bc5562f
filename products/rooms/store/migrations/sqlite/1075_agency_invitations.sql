-- SQLite flavour of ../postgres/1075_agency_invitations.sql (same tables).
-- An agency's owner invites a user (by public number); the user accepts or
-- declines; unanswered, the invitation expires after 7 days. Accepting
-- takes a place under the member limit the way an accepted application
-- does (one conditional update on the agency row).
CREATE TABLE agency_invitations (
  id TEXT PRIMARY KEY,
  agency_id TEXT NOT NULL REFERENCES agencies(id),
  account_id TEXT NOT NULL REFERENCES accounts(id),
  invited_by TEXT NOT NULL REFERENCES accounts(id),
  status TEXT NOT NULL CHECK (status IN ('pending', 'accepted', 'declined', 'expired', 'cancelled')),
  created_at TEXT NOT NULL,
  expires_at TEXT NOT NULL,
  decided_at TEXT
);
-- One pending invitation from an agency to a user.
CREATE UNIQUE INDEX one_pending_invitation ON agency_invitations(agency_id, account_id) WHERE status = 'pending';
CREATE INDEX idx_agency_invitations_account ON agency_invitations(account_id, status);
CREATE INDEX idx_agency_invitations_due ON agency_invitations(expires_at) WHERE status = 'pending';
