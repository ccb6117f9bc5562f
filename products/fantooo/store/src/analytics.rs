//! Analytics. Each day's numbers are computed once into `daily_stats` and
//! `operator_daily_stats` by the daily-stats job (the recent days again on
//! every run, as they still change), so a chart over any range reads a few
//! hundred rows however many messages exist. Headline revenue for the
//! dashboard is read live from successful purchases.

use crate::{on_pool, BeginWrite, Db, StoreResult};
use chrono::{DateTime, Duration, NaiveDate, Utc};
use fantooo_domain::ids::OperatorId;
use serde::Serialize;

/// One day of platform numbers.
#[derive(Debug, Clone, Default, PartialEq, Serialize, sqlx::FromRow)]
pub struct DailyStats {
    pub day: NaiveDate,
    pub new_users: i64,
    pub active_users: i64,
    pub chats_started: i64,
    pub messages: i64,
    pub user_messages: i64,
    pub paid_messages: i64,
    pub credits_spent: i64,
    pub revenue_cents: i64,
    pub purchases: i64,
    /// Users whose first ever message was sent that day.
    pub first_chatting_users: i64,
    /// Users whose first ever paid message was sent that day (free → paid).
    pub first_paid_users: i64,
}

fn bounds(day: NaiveDate) -> (DateTime<Utc>, DateTime<Utc>) {
    let start = day.and_hms_opt(0, 0, 0).expect("midnight").and_utc();
    (start, start + Duration::days(1))
}

/// Computes one day from the source tables (range scans on indexed
/// timestamps; PostgreSQL prunes to the month's partition).
pub async fn compute_day(db: &Db, day: NaiveDate) -> StoreResult<DailyStats> {
    let (from, to) = bounds(day);
    let sql = "SELECT
        (SELECT COUNT(*) FROM real_users WHERE created_at >= $1 AND created_at < $2) AS new_users,
        (SELECT COUNT(DISTINCT c.real_user_id) FROM messages m JOIN chats c ON c.id = m.chat_id
           WHERE m.sender_type = 'real' AND m.created_at >= $1 AND m.created_at < $2) AS active_users,
        (SELECT COUNT(*) FROM chats WHERE created_at >= $1 AND created_at < $2) AS chats_started,
        (SELECT COUNT(*) FROM messages WHERE created_at >= $1 AND created_at < $2) AS messages,
        (SELECT COUNT(*) FROM messages WHERE sender_type = 'real' AND created_at >= $1 AND created_at < $2) AS user_messages,
        (SELECT COUNT(*) FROM messages WHERE credits_charged > 0 AND created_at >= $1 AND created_at < $2) AS paid_messages,
        (SELECT CAST(COALESCE(SUM(-delta), 0) AS BIGINT) FROM credit_ledger WHERE reason = 'message_charge' AND created_at >= $1 AND created_at < $2) AS credits_spent,
        (SELECT CAST(COALESCE(SUM(amount_cents), 0) AS BIGINT) FROM transactions WHERE type = 'purchase' AND status = 'success' AND created_at >= $1 AND created_at < $2) AS revenue_cents,
        (SELECT COUNT(*) FROM transactions WHERE type = 'purchase' AND status = 'success' AND created_at >= $1 AND created_at < $2) AS purchases,
        (SELECT COUNT(DISTINCT c.real_user_id) FROM chats c WHERE c.first_message_at >= $1 AND c.first_message_at < $2
           AND NOT EXISTS (SELECT 1 FROM chats e WHERE e.real_user_id = c.real_user_id AND e.first_message_at < $1)) AS first_chatting_users,
        (SELECT COUNT(DISTINCT l.user_id) FROM credit_ledger l WHERE l.reason = 'message_charge' AND l.created_at >= $1 AND l.created_at < $2
           AND NOT EXISTS (SELECT 1 FROM credit_ledger e WHERE e.user_id = l.user_id AND e.reason = 'message_charge' AND e.created_at < $1)) AS first_paid_users";
    #[derive(sqlx::FromRow)]
    struct Row {
        new_users: i64,
        active_users: i64,
        chats_started: i64,
        messages: i64,
        user_messages: i64,
        paid_messages: i64,
        credits_spent: i64,
        revenue_cents: i64,
        purchases: i64,
        first_chatting_users: i64,
        first_paid_users: i64,
    }
    let r: Row = on_pool!(db, p => sqlx::query_as(sql).bind(from).bind(to).fetch_one(p).await?);
    Ok(DailyStats {
        day,
        new_users: r.new_users,
        active_users: r.active_users,
        chats_started: r.chats_started,
        messages: r.messages,
        user_messages: r.user_messages,
        paid_messages: r.paid_messages,
        credits_spent: r.credits_spent,
        revenue_cents: r.revenue_cents,
        purchases: r.purchases,
        first_chatting_users: r.first_chatting_users,
        first_paid_users: r.first_paid_users,
    })
}

/// Recomputes `day` into the daily tables (platform and per operator).
pub async fn refresh_day(db: &Db, day: NaiveDate, now: DateTime<Utc>) -> StoreResult<()> {
    let s = compute_day(db, day).await?;
    let (from, to) = bounds(day);
    on_pool!(db, p => {
        let mut tx = p.begin_write().await?;
        sqlx::query("INSERT INTO daily_stats (day, new_users, active_users, chats_started, messages, user_messages, paid_messages, credits_spent,
                       revenue_cents, purchases, first_chatting_users, first_paid_users, refreshed_at)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
                     ON CONFLICT (day) DO UPDATE SET new_users = excluded.new_users, active_users = excluded.active_users,
                       chats_started = excluded.chats_started, messages = excluded.messages, user_messages = excluded.user_messages,
                       paid_messages = excluded.paid_messages, credits_spent = excluded.credits_spent, revenue_cents = excluded.revenue_cents,
                       purchases = excluded.purchases, first_chatting_users = excluded.first_chatting_users,
                       first_paid_users = excluded.first_paid_users, refreshed_at = excluded.refreshed_at")
            .bind(day).bind(s.new_users).bind(s.active_users).bind(s.chats_started).bind(s.messages).bind(s.user_messages)
            .bind(s.paid_messages).bind(s.credits_spent).bind(s.revenue_cents).bind(s.purchases).bind(s.first_chatting_users)
            .bind(s.first_paid_users).bind(now).execute(&mut *tx).await?;
        sqlx::query("DELETE FROM operator_daily_stats WHERE day = $1").bind(day).execute(&mut *tx).await?;
        sqlx::query("INSERT INTO operator_daily_stats (day, operator_id, messages, chats, response_ms_total, responses)
                     SELECT $1, handled_by_operator_id, COUNT(*), COUNT(DISTINCT chat_id),
                            CAST(COALESCE(SUM(response_ms), 0) AS BIGINT), COUNT(response_ms)
                     FROM messages WHERE handled_by_operator_id IS NOT NULL AND created_at >= $2 AND created_at < $3
                     GROUP BY handled_by_operator_id")
            .bind(day).bind(from).bind(to).execute(&mut *tx).await?;
        tx.commit().await?;
    });
    Ok(())
}

/// The job: the last `recent_days` days again (they may still change), plus
/// any older day with data that was never aggregated (first run, or after
/// a gap), capped at `max_backfill` days per run.
pub async fn refresh(db: &Db, now: DateTime<Utc>, recent_days: i64, max_backfill: i64) -> StoreResult<u64> {
    let today = now.date_naive();
    let newest: Option<NaiveDate> = on_pool!(db, p => sqlx::query_scalar("SELECT MAX(day) FROM daily_stats").fetch_one(p).await?);
    let first_data: Option<DateTime<Utc>> =
        on_pool!(db, p => sqlx::query_scalar("SELECT MIN(created_at) FROM real_users").fetch_one(p).await?);
    let start = match newest {
        Some(d) => d.min(today - Duration::days(recent_days - 1)),
        None => first_data.map(|t| t.date_naive()).unwrap_or(today).max(today - Duration::days(max_backfill)),
    };
    let start = start.max(today - Duration::days(max_backfill));
    let mut day = start;
    let mut done = 0;
    while day <= today {
        refresh_day(db, day, now).await?;
        done += 1;
        day += Duration::days(1);
    }
    Ok(done)
}

/// Brings the recent days up to date (as the job does) when today's row
/// was last computed more than `max_age` ago or never, so a report opened
/// between the job's runs, or before its first, shows current numbers.
/// Returns whether it refreshed.
pub async fn refresh_if_stale(db: &Db, now: DateTime<Utc>, max_age: Duration) -> StoreResult<bool> {
    let last: Option<DateTime<Utc>> = on_pool!(db, p => sqlx::query_scalar("SELECT MAX(refreshed_at) FROM daily_stats WHERE day = $1").bind(now.date_naive()).fetch_one(p).await?);
    if last.is_some_and(|t| now - t < max_age) {
        return Ok(false);
    }
    refresh(db, now, 2, 400).await?;
    Ok(true)
}

/// Stored days in `[from, to]`, oldest first; days without a row are
/// filled with zeros so charts keep an even axis.
pub async fn range(db: &Db, from: NaiveDate, to: NaiveDate) -> StoreResult<Vec<DailyStats>> {
    let sql = "SELECT day, new_users, active_users, chats_started, messages, user_messages, paid_messages, credits_spent, revenue_cents,
                      purchases, first_chatting_users, first_paid_users
               FROM daily_stats WHERE day >= $1 AND day <= $2 ORDER BY day";
    let rows = on_pool!(db, p => sqlx::query_as::<_, DailyStats>(sql).bind(from).bind(to).fetch_all(p).await?);
    let mut out = Vec::new();
    let mut it = rows.into_iter().peekable();
    let mut day = from;
    while day <= to {
        match it.peek() {
            Some(r) if r.day == day => out.push(it.next().expect("peeked")),
            _ => out.push(DailyStats { day, ..Default::default() }),
        }
        day += Duration::days(1);
    }
    Ok(out)
}

/// An operator's numbers over a range, from the daily table.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct OperatorRank {
    pub operator_id: OperatorId,
    pub name: String,
    pub quality_score: f64,
    pub messages: i64,
    pub chats: i64,
    pub average_response_ms: Option<i64>,
}

/// The busiest operators over `[from, to]` (whole days); the response
/// time is `operations::response_times` over the same days, the figure
/// every page shows.
pub async fn operator_ranking(db: &Db, from: NaiveDate, to: NaiveDate, limit: i64) -> StoreResult<Vec<OperatorRank>> {
    let sql = "SELECT o.id AS operator_id, o.name, o.quality_score, CAST(SUM(s.messages) AS BIGINT) AS messages, CAST(SUM(s.chats) AS BIGINT) AS chats,
                      CAST(NULL AS BIGINT) AS average_response_ms
               FROM operator_daily_stats s JOIN operators o ON o.id = s.operator_id
               WHERE s.day >= $1 AND s.day <= $2
               GROUP BY o.id, o.name, o.quality_score ORDER BY messages DESC, o.quality_score DESC LIMIT $3";
    let mut rows = on_pool!(db, p => sqlx::query_as::<_, OperatorRank>(sql).bind(from).bind(to).bind(limit).fetch_all(p).await?);
    let times = crate::operations::response_times(db, bounds(from).0, bounds(to).1, None).await?;
    for r in &mut rows {
        r.average_response_ms = times.get(&r.operator_id).copied().flatten();
    }
    Ok(rows)
}

/// Revenue (KES cents) from successful purchases since each cut-off.
#[derive(Debug, Clone, Default, Serialize, sqlx::FromRow)]
pub struct Revenue {
    pub today_cents: i64,
    pub week_cents: i64,
    pub month_cents: i64,
}

pub async fn revenue(db: &Db, now: DateTime<Utc>) -> StoreResult<Revenue> {
    let today = bounds(now.date_naive()).0;
    let sql = "SELECT
        CAST(COALESCE(SUM(CASE WHEN created_at >= $1 THEN amount_cents ELSE 0 END), 0) AS BIGINT) AS today_cents,
        CAST(COALESCE(SUM(CASE WHEN created_at >= $2 THEN amount_cents ELSE 0 END), 0) AS BIGINT) AS week_cents,
        CAST(COALESCE(SUM(amount_cents), 0) AS BIGINT) AS month_cents
        FROM transactions WHERE type = 'purchase' AND status = 'success' AND created_at >= $3";
    Ok(
        on_pool!(db, p => sqlx::query_as::<_, Revenue>(sql).bind(today).bind(now - Duration::days(7)).bind(now - Duration::days(30)).fetch_one(p).await?),
    )
}
