//! Online status: a row per open realtime socket ([`opened`], refreshed
//! by [`refreshed`] on each ping, removed by [`closed`], which records the
//! person's last-seen time). [`of`] tells who is online (a fresh socket)
//! and when the others were last seen; rules in
//! `gigstream_domain::presence`. A change of someone's status is written
//! by [`announce`] to `presence_events`, a row per conversation of theirs
//! naming its other party, which the realtime tailer pushes live
//! ([`outbox`]).

use chrono::{DateTime, Utc};
use gigstream_domain::ids::AccountId;
use gigstream_domain::messaging::ConversationId;
use gigstream_domain::presence::{Presence, SocketId, STALE_AFTER_SECS};
use platform_db::{on_pool, BeginWrite, Db, LockKey, StoreResult};
use std::collections::HashMap;

/// A socket opened by `account`; `socket` is its own id.
pub async fn opened(db: &Db, socket: SocketId, account: AccountId, now: DateTime<Utc>) -> StoreResult<()> {
    let sql = "INSERT INTO presence_sockets (id, account_id, refreshed_at) VALUES ($1, $2, $3)";
    on_pool!(db, p => sqlx::query(sql).bind(socket).bind(account).bind(now).execute(p).await?.rows_affected());
    Ok(())
}

/// `account`'s sockets refreshed recently enough to count at `now`.
pub async fn live_sockets(db: &Db, account: AccountId, now: DateTime<Utc>) -> StoreResult<i64> {
    let fresh = now - chrono::Duration::seconds(STALE_AFTER_SECS);
    let sql = "SELECT COUNT(*) FROM presence_sockets WHERE account_id = $1 AND refreshed_at > $2";
    Ok(on_pool!(db, p => sqlx::query_scalar(sql).bind(account).bind(fresh).fetch_one(p).await?))
}

/// The socket is still open (it pinged).
pub async fn refreshed(db: &Db, socket: SocketId, now: DateTime<Utc>) -> StoreResult<()> {
    let sql = "UPDATE presence_sockets SET refreshed_at = $2 WHERE id = $1";
    on_pool!(db, p => sqlx::query(sql).bind(socket).bind(now).execute(p).await?.rows_affected());
    Ok(())
}

/// The socket closed: its row goes, the person was last seen `now`. True
/// when no live socket of theirs is left (they went offline).
pub async fn closed(db: &Db, socket: SocketId, account: AccountId, now: DateTime<Utc>) -> StoreResult<bool> {
    on_pool!(db, p => async {
        let mut tx = p.begin_write().await?;
        sqlx::query("DELETE FROM presence_sockets WHERE id = $1").bind(socket).execute(&mut *tx).await?;
        sqlx::query(
            "INSERT INTO last_seen (account_id, seen_at) VALUES ($1, $2)
             ON CONFLICT (account_id) DO UPDATE SET seen_at = excluded.seen_at WHERE last_seen.seen_at < excluded.seen_at")
            .bind(account).bind(now).execute(&mut *tx).await?;
        tx.commit().await?;
        Ok::<_, platform_db::StoreError>(())
    }.await)?;
    Ok(live_sockets(db, account, now).await? == 0)
}

/// The status of each of `accounts` at `now` (never seen: offline, no time).
pub async fn of(db: &Db, accounts: &[AccountId], now: DateTime<Utc>) -> StoreResult<HashMap<AccountId, Presence>> {
    let mut out: HashMap<AccountId, Presence> = accounts.iter().map(|a| (*a, Presence { online: false, last_seen: None })).collect();
    if accounts.is_empty() {
        return Ok(out);
    }
    let fresh = now - chrono::Duration::seconds(STALE_AFTER_SECS);
    for a in accounts {
        let (sockets, seen): (Vec<DateTime<Utc>>, Option<DateTime<Utc>>) = on_pool!(db, p => {
            let sockets: Vec<DateTime<Utc>> = sqlx::query_scalar("SELECT refreshed_at FROM presence_sockets WHERE account_id = $1")
                .bind(a).fetch_all(p).await?;
            let seen: Option<DateTime<Utc>> = sqlx::query_scalar("SELECT seen_at FROM last_seen WHERE account_id = $1")
                .bind(a).fetch_optional(p).await?;
            (sockets, seen)
        });
        let online = sockets.iter().any(|t| *t > fresh);
        // A socket of a node that died counts as closed when it last pinged.
        let stale = sockets.iter().filter(|t| **t <= fresh).max().copied();
        let last_seen = seen.into_iter().chain(stale).max();
        out.insert(*a, Presence { online, last_seen });
    }
    Ok(out)
}

/// Drops sockets not refreshed since `before` (their node died), keeping
/// their time as the person's last-seen time.
pub async fn purge_stale(db: &Db, before: DateTime<Utc>) -> StoreResult<u64> {
    on_pool!(db, p => async {
        let mut tx = p.begin_write().await?;
        let rows: Vec<(AccountId, DateTime<Utc>)> = sqlx::query_as(
            "SELECT account_id, MAX(refreshed_at) FROM presence_sockets WHERE refreshed_at < $1 GROUP BY account_id")
            .bind(before).fetch_all(&mut *tx).await?;
        for (account, at) in &rows {
            sqlx::query(
                "INSERT INTO last_seen (account_id, seen_at) VALUES ($1, $2)
                 ON CONFLICT (account_id) DO UPDATE SET seen_at = excluded.seen_at WHERE last_seen.seen_at < excluded.seen_at")
                .bind(account).bind(at).execute(&mut *tx).await?;
        }
        let n = sqlx::query("DELETE FROM presence_sockets WHERE refreshed_at < $1").bind(before).execute(&mut *tx).await?.rows_affected();
        tx.commit().await?;
        Ok::<_, platform_db::StoreError>(n)
    }.await)
}

/// One change of someone's status, addressed to one conversation's other
/// party.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Change {
    pub seq: i64,
    pub conversation_id: ConversationId,
    /// Whose status changed.
    pub account_id: AccountId,
    /// Who is told: the conversation's other party.
    pub viewer_id: AccountId,
    pub online: bool,
    pub created_at: DateTime<Utc>,
}

impl Change {
    /// The status as of the change (offline: last seen then).
    pub fn presence(&self) -> Presence {
        Presence { online: self.online, last_seen: (!self.online).then_some(self.created_at) }
    }
}

/// Writes that `account` is online (or offline) at `now`, for the other
/// party of each of their conversations, unless that is what was last
/// written for them; "offline" is written only while no live socket of
/// theirs is left. Announcements of one person are serialised
/// ([`LockKey`]), so two sockets closing at once write "offline" once, not
/// twice, and one opening as the last closes never leaves "offline" last.
/// Returns the rows written.
pub async fn announce(db: &Db, account: AccountId, online: bool, now: DateTime<Utc>) -> StoreResult<u64> {
    let fresh = now - chrono::Duration::seconds(STALE_AFTER_SECS);
    let sql = "INSERT INTO presence_events (conversation_id, account_id, viewer_id, online, created_at)
               SELECT c.id, $1, CASE WHEN c.buyer_id = $1 THEN c.seller_id ELSE c.buyer_id END, $2, $3
               FROM conversations c
               WHERE (c.buyer_id = $1 OR c.seller_id = $1)
                 AND COALESCE((SELECT e.online FROM presence_events e WHERE e.account_id = $1 ORDER BY e.seq DESC LIMIT 1), NOT $2) <> $2
                 AND ($2 OR NOT EXISTS (SELECT 1 FROM presence_sockets s WHERE s.account_id = $1 AND s.refreshed_at > $4))";
    on_pool!(db, p => async {
        let mut tx = p.begin_write().await?;
        LockKey::lock_key(&mut *tx, PRESENCE_LOCK, &account.to_string()).await?;
        let n = sqlx::query(sql).bind(account).bind(online).bind(now).bind(fresh).execute(&mut *tx).await?.rows_affected();
        tx.commit().await?;
        Ok::<_, platform_db::StoreError>(n)
    }.await)
}

/// The lock class of one person's announcements ([`LockKey`]).
const PRESENCE_LOCK: i32 = 4_700_001;

/// Deletes status changes older than `before` (they are never replayed).
pub async fn purge_events(db: &Db, before: DateTime<Utc>) -> StoreResult<u64> {
    let sql = "DELETE FROM presence_events WHERE created_at < $1";
    Ok(on_pool!(db, p => sqlx::query(sql).bind(before).execute(p).await?.rows_affected()))
}

/// The status changes, for the tailer: its head, rows after a seq, rows by seq.
pub mod outbox {
    use super::*;

    const COLUMNS: &str = "seq, conversation_id, account_id, viewer_id, online, created_at";

    pub async fn head(db: &Db) -> StoreResult<i64> {
        let v: Option<i64> = on_pool!(db, p => sqlx::query_scalar("SELECT MAX(seq) FROM presence_events").fetch_one(p).await?);
        Ok(v.unwrap_or(0))
    }

    pub async fn after(db: &Db, after: i64, limit: i64) -> StoreResult<Vec<Change>> {
        let sql = format!("SELECT {COLUMNS} FROM presence_events WHERE seq > $1 ORDER BY seq LIMIT $2");
        Ok(on_pool!(db, p => sqlx::query_as(&sql).bind(after).bind(limit).fetch_all(p).await?))
    }

    pub async fn by_seqs(db: &Db, seqs: &[i64]) -> StoreResult<Vec<Change>> {
        if seqs.is_empty() {
            return Ok(vec![]);
        }
        let sql = format!("SELECT {COLUMNS} FROM presence_events WHERE seq IN ({}) ORDER BY seq", platform_db::int_list(seqs));
        Ok(on_pool!(db, p => sqlx::query_as(&sql).fetch_all(p).await?))
    }
}
