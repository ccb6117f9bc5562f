-- Seat sessions: each time an account holds a seat, from taking it to
-- leaving it (left, moved, removed, kicked, timed out, the room closed, the
-- seat removed by a lower seat count or a VIP tier that ended), written in
-- the transaction of the seat change. Valid mic hours (BR-6) are summed
-- from these exact intervals. At most one open session per account (a
-- seat holds one account, an account one seat). The `agencies` job only
-- closes sessions whose seat is no longer held (a crash) and opens one for
-- a seat held without a session (seats taken before this table).
CREATE TABLE seat_sessions (
  id BIGSERIAL PRIMARY KEY,
  room_id UUID NOT NULL REFERENCES rooms(id),
  seat_no BIGINT NOT NULL,
  account_id UUID NOT NULL REFERENCES accounts(id),
  started_at TIMESTAMPTZ NOT NULL,
  ended_at TIMESTAMPTZ,
  end_reason TEXT
);
CREATE UNIQUE INDEX idx_seat_sessions_open ON seat_sessions(account_id) WHERE ended_at IS NULL;
CREATE INDEX idx_seat_sessions_account ON seat_sessions(account_id, started_at);
CREATE INDEX idx_seat_sessions_room_open ON seat_sessions(room_id) WHERE ended_at IS NULL;
