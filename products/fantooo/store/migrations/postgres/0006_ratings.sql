-- Who a user's rating of a chat is about: the operator who last answered.
ALTER TABLE chats ADD COLUMN rated_operator_id UUID REFERENCES operators(id);
CREATE INDEX idx_chats_rated_operator ON chats(rated_operator_id) WHERE rated_operator_id IS NOT NULL;

-- Finding the charge of a message (the invariant check, refunds).
CREATE INDEX idx_ledger_reference ON credit_ledger(reference) WHERE reference IS NOT NULL;
