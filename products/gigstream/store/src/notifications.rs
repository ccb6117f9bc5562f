//! Notifications, their preferences, push subscriptions and the delivery
//! outbox. [`create`] reads the person's preferences and writes the
//! notification and one delivery row per outside channel that is on (email,
//! and push when they have a subscription) in one transaction; the delivery
//! job claims due rows ([`claim_due`]), sends, and records the outcome with
//! a retry time ([`failed`]).

use chrono::{DateTime, Utc};
use gigstream_domain::ids::AccountId;
use gigstream_domain::notifications::{Channel, Event, Preference};
use platform_db::{on_pool, BeginWrite, Db, StoreResult};
use serde::Serialize;

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Notification {
    pub seq: i64,
    pub account_id: AccountId,
    pub event: Event,
    pub title: String,
    pub body: String,
    pub link: String,
    pub shown: bool,
    pub read_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

const COLUMNS: &str = "seq, account_id, event, title, body, link, shown, read_at, created_at";

/// What to tell whom.
#[derive(Debug, Clone)]
pub struct New<'a> {
    pub account: AccountId,
    pub event: Event,
    pub title: &'a str,
    pub body: &'a str,
    /// A path on the site (`/orders/…`).
    pub link: &'a str,
}

/// The stored notification and the outside channels queued for it.
#[derive(Debug, Clone)]
pub struct Created {
    pub notification: Notification,
    pub queued: Vec<Channel>,
}

/// [`create`] inside the caller's transaction `$tx` (`$n: &New`, `$now`):
/// reads the preferences, writes the notification and its deliveries.
/// Evaluates to the [`Created`].
macro_rules! create_in {
    ($tx:expr, $n:expr, $now:expr) => {{
        use gigstream_domain::notifications::{allowed, Channel, Preference};
        use $crate::notifications::{Created, Notification};
        let n: &$crate::notifications::New<'_> = $n;
        let now: chrono::DateTime<chrono::Utc> = $now;
        let choices: Vec<Preference> = sqlx::query_as::<_, (gigstream_domain::notifications::Event, Channel, bool)>(
            "SELECT event, channel, enabled FROM notification_preferences WHERE account_id = $1 AND event = $2",
        )
        .bind(n.account)
        .bind(n.event)
        .fetch_all(&mut *$tx)
        .await?
        .into_iter()
        .map(|(event, channel, enabled)| Preference { event, channel, enabled })
        .collect();
        let subscribed: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM push_subscriptions WHERE account_id = $1")
            .bind(n.account)
            .fetch_one(&mut *$tx)
            .await?;
        let notification: Notification = sqlx::query_as(
            "INSERT INTO notifications (account_id, event, title, body, link, shown, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING seq, account_id, event, title, body, link, shown, read_at, created_at",
        )
        .bind(n.account)
        .bind(n.event)
        .bind(n.title)
        .bind(n.body)
        .bind(n.link)
        .bind(allowed(&choices, n.event, Channel::InApp))
        .bind(now)
        .fetch_one(&mut *$tx)
        .await?;
        let mut queued = vec![];
        for channel in [Channel::Email, Channel::Push] {
            if !allowed(&choices, n.event, channel) || (channel == Channel::Push && subscribed == 0) {
                continue;
            }
            sqlx::query("INSERT INTO notification_deliveries (notification_seq, channel, next_at) VALUES ($1, $2, $3)")
                .bind(notification.seq)
                .bind(channel)
                .bind(now)
                .execute(&mut *$tx)
                .await?;
            queued.push(channel);
        }
        Created { notification, queued }
    }};
}
pub(crate) use create_in;

pub async fn create(db: &Db, n: &New<'_>, now: DateTime<Utc>) -> StoreResult<Created> {
    on_pool!(db, p => async {
        let mut tx = p.begin_write().await?;
        let created = create_in!(tx, n, now);
        tx.commit().await?;
        Ok(created)
    }.await)
}

/// The bell's page: newest first, older than `before` when given.
pub async fn page(db: &Db, account: AccountId, before: Option<i64>, limit: i64) -> StoreResult<Vec<Notification>> {
    let sql = format!("SELECT {COLUMNS} FROM notifications WHERE account_id = $1 AND shown AND seq < $2 ORDER BY seq DESC LIMIT $3");
    Ok(on_pool!(db, p => sqlx::query_as(&sql).bind(account).bind(before.unwrap_or(i64::MAX)).bind(limit).fetch_all(p).await?))
}

pub async fn unread(db: &Db, account: AccountId) -> StoreResult<i64> {
    Ok(on_pool!(db, p => sqlx::query_scalar(
        "SELECT COUNT(*) FROM notifications WHERE account_id = $1 AND shown AND read_at IS NULL")
        .bind(account).fetch_one(p).await?))
}

/// Marks one of `account`'s notifications read; false if it is not theirs.
pub async fn mark_read(db: &Db, account: AccountId, seq: i64, now: DateTime<Utc>) -> StoreResult<bool> {
    let sql = "UPDATE notifications SET read_at = COALESCE(read_at, $3) WHERE seq = $1 AND account_id = $2";
    let n = on_pool!(db, p => sqlx::query(sql).bind(seq).bind(account).bind(now).execute(p).await?.rows_affected());
    Ok(n == 1)
}

/// Marks all of `account`'s notifications read; how many were unread.
pub async fn mark_all_read(db: &Db, account: AccountId, now: DateTime<Utc>) -> StoreResult<u64> {
    let sql = "UPDATE notifications SET read_at = $2 WHERE account_id = $1 AND read_at IS NULL";
    Ok(on_pool!(db, p => sqlx::query(sql).bind(account).bind(now).execute(p).await?.rows_affected()))
}

/// The choices `account` made (not the defaults).
pub async fn preferences(db: &Db, account: AccountId) -> StoreResult<Vec<Preference>> {
    let rows: Vec<(Event, Channel, bool)> = on_pool!(db, p => sqlx::query_as(
        "SELECT event, channel, enabled FROM notification_preferences WHERE account_id = $1")
        .bind(account).fetch_all(p).await?);
    Ok(rows.into_iter().map(|(event, channel, enabled)| Preference { event, channel, enabled }).collect())
}

/// Stores `choices` (all in one transaction).
pub async fn set_preferences(db: &Db, account: AccountId, choices: &[Preference]) -> StoreResult<()> {
    on_pool!(db, p => async {
        let mut tx = p.begin_write().await?;
        for c in choices {
            sqlx::query(
                "INSERT INTO notification_preferences (account_id, event, channel, enabled) VALUES ($1, $2, $3, $4)
                 ON CONFLICT (account_id, event, channel) DO UPDATE SET enabled = excluded.enabled")
                .bind(account).bind(c.event).bind(c.channel).bind(c.enabled).execute(&mut *tx).await?;
        }
        tx.commit().await?;
        Ok(())
    }.await)
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct PushSubscription {
    pub endpoint: String,
    pub p256dh: String,
    pub auth: String,
}

/// Adds (or moves to `account`) a browser's subscription.
pub async fn subscribe(db: &Db, account: AccountId, s: &PushSubscription, now: DateTime<Utc>) -> StoreResult<()> {
    let sql = "INSERT INTO push_subscriptions (endpoint, account_id, p256dh, auth, created_at) VALUES ($1, $2, $3, $4, $5)
               ON CONFLICT (endpoint) DO UPDATE SET account_id = excluded.account_id, p256dh = excluded.p256dh, auth = excluded.auth";
    on_pool!(db, p => sqlx::query(sql).bind(&s.endpoint).bind(account).bind(&s.p256dh).bind(&s.auth).bind(now).execute(p).await?.rows_affected());
    Ok(())
}

/// Removes one of `account`'s subscriptions; false if it was not theirs.
pub async fn unsubscribe(db: &Db, account: AccountId, endpoint: &str) -> StoreResult<bool> {
    let sql = "DELETE FROM push_subscriptions WHERE endpoint = $1 AND account_id = $2";
    Ok(on_pool!(db, p => sqlx::query(sql).bind(endpoint).bind(account).execute(p).await?.rows_affected()) == 1)
}

/// Forgets a subscription the push service says is gone.
pub async fn forget(db: &Db, endpoint: &str) -> StoreResult<()> {
    on_pool!(db, p => sqlx::query("DELETE FROM push_subscriptions WHERE endpoint = $1").bind(endpoint).execute(p).await?.rows_affected());
    Ok(())
}

pub async fn subscriptions(db: &Db, account: AccountId) -> StoreResult<Vec<PushSubscription>> {
    let sql = "SELECT endpoint, p256dh, auth FROM push_subscriptions WHERE account_id = $1 ORDER BY created_at";
    Ok(on_pool!(db, p => sqlx::query_as(sql).bind(account).fetch_all(p).await?))
}

/// A delivery the job has claimed, with what it needs to send it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Due {
    pub id: i64,
    pub channel: Channel,
    pub attempts: i32,
    pub seq: i64,
    pub account_id: AccountId,
    pub event: Event,
    pub title: String,
    pub body: String,
    pub link: String,
    pub email: String,
    pub display_name: String,
}

/// Claims up to `limit` pending deliveries due by `now` for two minutes
/// (another node skips them meanwhile; an unfinished claim runs out).
pub async fn claim_due(db: &Db, now: DateTime<Utc>, limit: i64) -> StoreResult<Vec<Due>> {
    let candidates: Vec<i64> = on_pool!(db, p => sqlx::query_scalar(
        "SELECT id FROM notification_deliveries WHERE status = 'pending' AND next_at <= $1
         AND (claimed_until IS NULL OR claimed_until < $1) ORDER BY id LIMIT $2")
        .bind(now).bind(limit).fetch_all(p).await?);
    let until = now + chrono::Duration::minutes(2);
    let mut claimed = vec![];
    for id in candidates {
        let n = on_pool!(db, p => sqlx::query(
            "UPDATE notification_deliveries SET claimed_until = $2 WHERE id = $1 AND status = 'pending'
             AND (claimed_until IS NULL OR claimed_until < $3)")
            .bind(id).bind(until).bind(now).execute(p).await?.rows_affected());
        if n == 1 {
            claimed.push(id);
        }
    }
    if claimed.is_empty() {
        return Ok(vec![]);
    }
    let sql = format!(
        "SELECT d.id, d.channel, d.attempts, n.seq, n.account_id, n.event, n.title, n.body, n.link, a.email, a.display_name
         FROM notification_deliveries d JOIN notifications n ON n.seq = d.notification_seq JOIN accounts a ON a.id = n.account_id
         WHERE d.id IN ({}) ORDER BY d.id",
        platform_db::int_list(&claimed)
    );
    Ok(on_pool!(db, p => sqlx::query_as(&sql).fetch_all(p).await?))
}

pub async fn delivered(db: &Db, id: i64, now: DateTime<Utc>) -> StoreResult<()> {
    let sql =
        "UPDATE notification_deliveries SET status = 'sent', sent_at = $2, attempts = attempts + 1, claimed_until = NULL WHERE id = $1";
    on_pool!(db, p => sqlx::query(sql).bind(id).bind(now).execute(p).await?.rows_affected());
    Ok(())
}

/// Not sent: `retry_at` schedules another attempt; `None` gives up.
pub async fn failed(db: &Db, id: i64, error: &str, retry_at: Option<DateTime<Utc>>) -> StoreResult<()> {
    let sql = "UPDATE notification_deliveries SET attempts = attempts + 1, last_error = $2, claimed_until = NULL,
               status = CASE WHEN $3 THEN 'pending' ELSE 'failed' END, next_at = COALESCE($4, next_at) WHERE id = $1";
    on_pool!(db, p => sqlx::query(sql).bind(id).bind(error).bind(retry_at.is_some()).bind(retry_at).execute(p).await?.rows_affected());
    Ok(())
}

/// Nothing to send it with (no relay configured, no subscription left).
pub async fn skipped(db: &Db, id: i64, why: &str) -> StoreResult<()> {
    let sql = "UPDATE notification_deliveries SET status = 'skipped', last_error = $2, claimed_until = NULL WHERE id = $1";
    on_pool!(db, p => sqlx::query(sql).bind(id).bind(why).execute(p).await?.rows_affected());
    Ok(())
}

/// A delivery's state, for tests and the back office.
pub async fn deliveries_of(db: &Db, seq: i64) -> StoreResult<Vec<(Channel, String, i32)>> {
    let sql = "SELECT channel, status, attempts FROM notification_deliveries WHERE notification_seq = $1 ORDER BY channel";
    Ok(on_pool!(db, p => sqlx::query_as(sql).bind(seq).fetch_all(p).await?))
}

/// The realtime tailer's view of the notifications table.
pub mod outbox {
    use super::*;

    pub async fn head(db: &Db) -> StoreResult<i64> {
        let v: Option<i64> = on_pool!(db, p => sqlx::query_scalar("SELECT MAX(seq) FROM notifications").fetch_one(p).await?);
        Ok(v.unwrap_or(0))
    }

    pub async fn after(db: &Db, after: i64, limit: i64) -> StoreResult<Vec<Notification>> {
        let sql = format!("SELECT {COLUMNS} FROM notifications WHERE seq > $1 ORDER BY seq LIMIT $2");
        Ok(on_pool!(db, p => sqlx::query_as(&sql).bind(after).bind(limit).fetch_all(p).await?))
    }

    pub async fn by_seqs(db: &Db, seqs: &[i64]) -> StoreResult<Vec<Notification>> {
        if seqs.is_empty() {
            return Ok(vec![]);
        }
        let sql = format!("SELECT {COLUMNS} FROM notifications WHERE seq IN ({}) ORDER BY seq", platform_db::int_list(seqs));
        Ok(on_pool!(db, p => sqlx::query_as(&sql).fetch_all(p).await?))
    }
}
