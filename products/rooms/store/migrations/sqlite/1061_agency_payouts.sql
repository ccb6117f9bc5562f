-- SQLite flavour of ../postgres/1061_agency_payouts.sql (same columns).
-- Payouts through the agency: a member of an active agency asks for a
-- payout (the diamonds move to the payout hold at once, as before); the
-- agency's owner confirms it first, then staff approve and mark it paid.
-- Rejected at any step (by the owner, or by staff before it is paid) the
-- diamonds return to the member. Users without an agency are paid
-- directly, as before (agency_id NULL).
ALTER TABLE diamond_payouts ADD COLUMN agency_id TEXT;
ALTER TABLE diamond_payouts ADD COLUMN agency_confirmed_by TEXT;
ALTER TABLE diamond_payouts ADD COLUMN agency_confirmed_at TEXT;
ALTER TABLE diamond_payouts ADD COLUMN paid_by TEXT;
CREATE INDEX idx_diamond_payouts_agency ON diamond_payouts(agency_id, status);
