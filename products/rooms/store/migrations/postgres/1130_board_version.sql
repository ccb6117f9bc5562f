-- Moved on by every fold that wrote a total and by every rebuild, after
-- the totals themselves: a node's board cache reads this one row to tell a
-- board that has not changed (its copy stays) from one to read again.
ALTER TABLE board_fold ADD COLUMN version BIGINT NOT NULL DEFAULT 0;
