//! Retention rewards: the daily visit streak and achievements. Each reward
//! is a ledger entry with a key that can exist once (`daily:<user>:<day>`,
//! `achievement:<user>:<name>`), written in the same transaction as the
//! streak or achievement row, so no reward is ever paid twice.

use crate::ledger::{applied, CREDITS};
use crate::{emit_balance, on_pool, BeginWrite, Db, StoreResult};
use chrono::{DateTime, NaiveDate, Utc};
use fantooo_domain::ids::UserId;
use fantooo_domain::ledger::LedgerReason;
use fantooo_domain::rewards::{daily_reward, is_night, local_day, next_streak, Achievement, Progress};
use fantooo_domain::Credits;
use serde::Serialize;

/// The outcome of a day's first visit.
#[derive(Debug, Clone, Serialize)]
pub struct DailyVisit {
    pub streak: i64,
    pub day: NaiveDate,
    /// Credits paid for reaching this streak day, if any.
    pub reward: Option<Credits>,
    pub balance: Option<Credits>,
}

/// Counts today's visit for the streak and pays the day's reward. `None`
/// when today was already counted.
pub async fn record_visit(db: &Db, user: UserId, now: DateTime<Utc>) -> StoreResult<Option<DailyVisit>> {
    let today = local_day(now);
    on_pool!(db, p => {
        let mut tx = p.begin_write().await?;
        sqlx::query("INSERT INTO login_streaks (user_id, streak, last_day, updated_at) VALUES ($1, 1, '', $2) ON CONFLICT (user_id) DO NOTHING")
            .bind(user).bind(now).execute(&mut *tx).await?;
        // Updating first takes the row lock, so two first visits of the day
        // from two tabs count once.
        let (streak, last): (i64, String) = sqlx::query_as("UPDATE login_streaks SET updated_at = $2 WHERE user_id = $1 RETURNING streak, last_day")
            .bind(user).bind(now).fetch_one(&mut *tx).await?;
        // A fresh row has no day yet.
        let previous = last.parse::<NaiveDate>().ok().map(|d| (d, streak));
        let Some(streak) = next_streak(previous, today) else {
            tx.rollback().await?;
            return Ok(None);
        };
        sqlx::query("UPDATE login_streaks SET streak = $2, last_day = $3 WHERE user_id = $1")
            .bind(user).bind(streak).bind(today.to_string()).execute(&mut *tx).await?;
        let reward = daily_reward(streak);
        let mut balance = None;
        if let Some(credits) = reward {
            let key = format!("daily:{user}:{today}");
            let reference = format!("streak day {streak}");
            let movement = crate::ledger::Movement { user, delta: credits, reason: LedgerReason::Bonus, reference: Some(&reference), idempotency_key: &key, created_by: None };
            let b = applied(CREDITS.post_in(&mut *tx, &movement.posting(), now).await?)?;
            emit_balance!(tx, user, b, now);
            balance = Some(b);
        }
        tx.commit().await?;
        Ok(Some(DailyVisit { streak, day: today, reward, balance }))
    })
}

/// The current streak (0 when it has lapsed or never started) and whether
/// today's visit has been counted.
pub async fn streak(db: &Db, user: UserId, now: DateTime<Utc>) -> StoreResult<(i64, bool)> {
    let row: Option<(i64, String)> = on_pool!(db, p => sqlx::query_as("SELECT streak, last_day FROM login_streaks WHERE user_id = $1").bind(user).fetch_optional(p).await?);
    let today = local_day(now);
    Ok(match row.and_then(|(s, d)| d.parse::<NaiveDate>().ok().map(|d| (s, d))) {
        Some((s, d)) if d == today => (s, true),
        Some((s, d)) if today.pred_opt() == Some(d) => (s, false),
        _ => (0, false),
    })
}

/// What the user has done that achievements measure.
pub async fn progress(db: &Db, user: UserId) -> StoreResult<Progress> {
    let (chats, purchased): (i64, i64) = on_pool!(db, p => sqlx::query_as(
        "SELECT (SELECT COUNT(*) FROM chats WHERE real_user_id = $1),
                CAST(COALESCE((SELECT SUM(delta) FROM credit_ledger WHERE user_id = $1 AND reason = 'purchase'), 0) AS BIGINT)")
        .bind(user).fetch_one(p).await?);
    // Night is a Nairobi wall-clock window, which the two stores express
    // differently; the times are read and classified here instead.
    let sent: Vec<DateTime<Utc>> = on_pool!(db, p => sqlx::query_scalar(
        "SELECT m.created_at FROM messages m JOIN chats c ON c.id = m.chat_id WHERE c.real_user_id = $1 AND m.sender_type = 'real'")
        .bind(user).fetch_all(p).await?);
    let night_messages = sent.iter().filter(|t| is_night(**t)).count() as i64;
    Ok(Progress { chats, night_messages, credits_purchased: purchased })
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Earned {
    pub achievement: Achievement,
    pub credits: Credits,
    pub earned_at: DateTime<Utc>,
}

pub async fn earned(db: &Db, user: UserId) -> StoreResult<Vec<Earned>> {
    let sql = "SELECT achievement, credits, earned_at FROM user_achievements WHERE user_id = $1 ORDER BY earned_at";
    Ok(on_pool!(db, p => sqlx::query_as::<_, Earned>(sql).bind(user).fetch_all(p).await?))
}

/// Awards every achievement the user now meets and has not been paid for;
/// returns the new ones. Safe to call as often as convenient.
pub async fn award_achievements(db: &Db, user: UserId, now: DateTime<Utc>) -> StoreResult<Vec<Earned>> {
    let have: Vec<Achievement> = earned(db, user).await?.into_iter().map(|e| e.achievement).collect();
    if have.len() == Achievement::ALL.len() {
        return Ok(vec![]);
    }
    let p = progress(db, user).await?;
    let mut new = vec![];
    for a in Achievement::ALL.iter().copied().filter(|a| !have.contains(a) && a.is_met(&p)) {
        let credits = a.reward();
        let paid = on_pool!(db, pool => {
            let mut tx = pool.begin_write().await?;
            let inserted: Option<String> = sqlx::query_scalar(
                "INSERT INTO user_achievements (user_id, achievement, credits, earned_at) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING RETURNING achievement")
                .bind(user).bind(a).bind(credits.get()).bind(now).fetch_optional(&mut *tx).await?;
            if inserted.is_none() {
                // A concurrent call got there first.
                tx.rollback().await?;
                false
            } else {
                let key = format!("achievement:{user}:{a}");
                let movement = crate::ledger::Movement { user, delta: credits, reason: LedgerReason::Bonus, reference: Some(a.as_str()), idempotency_key: &key, created_by: None };
                let b = applied(CREDITS.post_in(&mut *tx, &movement.posting(), now).await?)?;
                emit_balance!(tx, user, b, now);
                tx.commit().await?;
                true
            }
        });
        if paid {
            new.push(Earned { achievement: a, credits, earned_at: now });
        }
    }
    Ok(new)
}

/// Messages the user sent per day over the last `days` days (for the
/// package suggestion).
pub async fn messages_per_day(db: &Db, user: UserId, days: i64, now: DateTime<Utc>) -> StoreResult<f64> {
    let since = now - chrono::Duration::days(days);
    let n: i64 = on_pool!(db, p => sqlx::query_scalar(
        "SELECT COUNT(*) FROM messages m JOIN chats c ON c.id = m.chat_id WHERE c.real_user_id = $1 AND m.sender_type = 'real' AND m.created_at >= $2")
        .bind(user).bind(since).fetch_one(p).await?);
    Ok(n as f64 / days.max(1) as f64)
}
