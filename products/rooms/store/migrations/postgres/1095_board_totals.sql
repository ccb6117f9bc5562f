-- Each board's standing per period and subject (the sum of its
-- gift_counters shards), kept for reads: a page is the first rows of
-- idx_board_totals_rank, never a grouping of the counters. Gifts write
-- only the sharded counters (no hot row); `leaderboards::fold` copies the
-- sums of the subjects recent gifts touched (amounts only grow).
CREATE TABLE board_totals (
  board TEXT NOT NULL,
  period TEXT NOT NULL,
  subject TEXT NOT NULL,
  amount BIGINT NOT NULL CHECK (amount >= 0),
  last_at TIMESTAMPTZ NOT NULL,
  PRIMARY KEY (board, period, subject)
);
CREATE INDEX idx_board_totals_rank ON board_totals(board, period, amount DESC, last_at, subject);

-- How far the folds have read gift_sends (by creation time, through
-- idx_gift_sends_created; each fold reads a little before it again, for
-- gifts committed late).
CREATE TABLE board_fold (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  folded_to TIMESTAMPTZ
);
INSERT INTO board_fold (id, folded_to) VALUES (1, NULL);

INSERT INTO board_totals (board, period, subject, amount, last_at)
SELECT board, period, subject, SUM(amount), MAX(last_at) FROM gift_counters
WHERE board IN ('wealth', 'charm', 'room', 'agency')
GROUP BY board, period, subject;
