-- An agency's owner withdraws a pending invitation: it ends as `cancelled`
-- with the time of the withdrawal here (cancelled without it: the invitee
-- joined another agency), and reads as `withdrawn`.
ALTER TABLE agency_invitations ADD COLUMN withdrawn_at TIMESTAMPTZ;
