-- SQLite flavour of ../postgres/1107_invitation_withdrawal.sql.
ALTER TABLE agency_invitations ADD COLUMN withdrawn_at TEXT;
