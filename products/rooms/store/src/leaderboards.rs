//! Rankings (requirement 9.3) read from the per-period counters each gift
//! maintains (`gift_counters`, see [`crate::gifts`]): never a scan of the
//! gifts. A period's key comes from the ranking clock, so a new day, week
//! or month starts a fresh board at once and no one sees a half-reset one.
//! Ties go to whoever reached the amount first (earlier last gift).

use crate::{on_pool, Db, StoreResult};
use chrono::{DateTime, Utc};
use rooms_domain::progress::{Period, RankingClock};
use serde::Serialize;

/// Which board.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Board {
    /// Users by coins sent.
    Wealth,
    /// Users by coins received.
    Charm,
    /// Rooms by coins spent in them.
    Rooms,
    /// Agencies by income (their shares).
    Agencies,
}

impl Board {
    pub const ALL: [Board; 4] = [Board::Wealth, Board::Charm, Board::Rooms, Board::Agencies];

    pub fn as_str(self) -> &'static str {
        match self {
            Board::Wealth => "wealth",
            Board::Charm => "charm",
            Board::Rooms => "rooms",
            Board::Agencies => "agencies",
        }
    }

    pub fn parse(s: &str) -> Option<Board> {
        Board::ALL.into_iter().find(|b| b.as_str() == s)
    }

    /// The counter board it reads.
    fn counter(self) -> &'static str {
        match self {
            Board::Wealth => "wealth",
            Board::Charm => "charm",
            Board::Rooms => "room",
            Board::Agencies => "agency",
        }
    }

    /// The SQL giving a subject's display name.
    fn name_sql(self) -> &'static str {
        match self {
            Board::Wealth | Board::Charm => "(SELECT display_name FROM accounts a WHERE CAST(a.id AS TEXT) = x.subject)",
            Board::Rooms => "(SELECT name FROM rooms r WHERE CAST(r.id AS TEXT) = x.subject)",
            Board::Agencies => "(SELECT name FROM agencies g WHERE CAST(g.id AS TEXT) = x.subject)",
        }
    }
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Row {
    pub rank: i64,
    pub subject: String,
    pub name: Option<String>,
    pub amount: i64,
    pub last_at: DateTime<Utc>,
}

pub const PAGE: i64 = 20;

/// One page of a board for the period containing `now`.
pub async fn board(db: &Db, board: Board, period: Period, clock: &RankingClock, now: DateTime<Utc>, page: i64) -> StoreResult<Vec<Row>> {
    let key = clock.key(period, now);
    let offset = page.max(0) * PAGE;
    let sql = format!(
        "SELECT CAST(ROW_NUMBER() OVER (ORDER BY x.amount DESC, x.last_at ASC, x.subject) AS BIGINT) + $3 AS rank, x.subject, {} AS name, x.amount, x.last_at
         FROM (SELECT subject, CAST(SUM(amount) AS BIGINT) AS amount, MAX(last_at) AS last_at FROM gift_counters
               WHERE board = $1 AND period = $2 GROUP BY subject
               ORDER BY amount DESC, last_at ASC, subject LIMIT $4 OFFSET $3) x
         ORDER BY x.amount DESC, x.last_at ASC, x.subject",
        board.name_sql()
    );
    Ok(on_pool!(db, p => sqlx::query_as::<_, Row>(&sql).bind(board.counter()).bind(&key).bind(offset).bind(PAGE).fetch_all(p).await?))
}

/// `subject`'s rank on a board (1-based) and amount, if on it.
pub async fn rank_of(
    db: &Db,
    board: Board,
    period: Period,
    clock: &RankingClock,
    now: DateTime<Utc>,
    subject: &str,
) -> StoreResult<Option<(i64, i64)>> {
    let key = clock.key(period, now);
    let mine: Option<(i64, DateTime<Utc>)> = on_pool!(db, p => sqlx::query_as(
        "SELECT CAST(SUM(amount) AS BIGINT), MAX(last_at) FROM gift_counters WHERE board = $1 AND period = $2 AND subject = $3 HAVING COUNT(*) > 0")
        .bind(board.counter()).bind(&key).bind(subject).fetch_optional(p).await?);
    let Some((amount, last)) = mine else { return Ok(None) };
    let ahead: i64 = on_pool!(db, p => sqlx::query_scalar(
        "SELECT COUNT(*) FROM (SELECT subject, SUM(amount) AS amount, MAX(last_at) AS last_at FROM gift_counters WHERE board = $1 AND period = $2 GROUP BY subject) x
         WHERE x.amount > $3 OR (x.amount = $3 AND x.last_at < $4) OR (x.amount = $3 AND x.last_at = $4 AND x.subject < $5)")
        .bind(board.counter()).bind(&key).bind(amount).bind(last).bind(subject).fetch_one(p).await?);
    Ok(Some((ahead + 1, amount)))
}

/// Levels live in [`crate::levels`] (ladders as data).
pub use crate::levels::{level, Level};
