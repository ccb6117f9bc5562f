-- Users may delete their own account: the refund of their unused credits
-- is then recorded before any staff member has handled it, so the handler
-- becomes optional.
ALTER TABLE credit_refunds ALTER COLUMN processed_by DROP NOT NULL;
