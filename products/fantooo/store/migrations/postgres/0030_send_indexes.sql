-- A user's message has no operator, yet every one of them wrote an entry
-- into the index over handled_by_operator_id. Every query that index
-- serves asks for an operator (`= $1` or `IS NOT NULL`), so it now holds
-- operators' messages only.
DROP INDEX IF EXISTS idx_messages_operator;
CREATE INDEX idx_messages_operator ON messages(handled_by_operator_id) WHERE handled_by_operator_id IS NOT NULL;
