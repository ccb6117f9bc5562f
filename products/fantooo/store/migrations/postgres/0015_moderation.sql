-- A user's own words are never rewritten by staff, only redacted for
-- moderation: the text becomes a marker everyone sees, the message is
-- flagged so the user is told a moderator changed it, and the original
-- stays in message_edit_history for admins (anonymised with the account
-- on GDPR deletion).
ALTER TABLE messages ADD COLUMN moderated BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE messages ADD COLUMN moderated_at TIMESTAMPTZ;
ALTER TABLE messages ADD COLUMN moderated_by UUID;
