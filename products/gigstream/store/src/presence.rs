//! Online status: a row per open realtime socket ([`opened`], refreshed
//! by [`refreshed`] on each ping, removed by [`closed`], which records the
//! person's last-seen time). [`of`] tells who is online (a fresh socket)
//! and when the others were last seen; rules in
//! `gigstream_domain::presence`.

use chrono::{DateTime, Utc};
use gigstream_domain::ids::AccountId;
use gigstream_domain::presence::{Presence, SocketId, STALE_AFTER_SECS};
use platform_db::{on_pool, BeginWrite, Db, StoreResult};
use std::collections::HashMap;

/// A socket opened by `account`; `socket` is its own id.
pub async fn opened(db: &Db, socket: SocketId, account: AccountId, now: DateTime<Utc>) -> StoreResult<()> {
    let sql = "INSERT INTO presence_sockets (id, account_id, refreshed_at) VALUES ($1, $2, $3)";
    on_pool!(db, p => sqlx::query(sql).bind(socket).bind(account).bind(now).execute(p).await?.rows_affected());
    Ok(())
}

/// The socket is still open (it pinged).
pub async fn refreshed(db: &Db, socket: SocketId, now: DateTime<Utc>) -> StoreResult<()> {
    let sql = "UPDATE presence_sockets SET refreshed_at = $2 WHERE id = $1";
    on_pool!(db, p => sqlx::query(sql).bind(socket).bind(now).execute(p).await?.rows_affected());
    Ok(())
}

/// The socket closed: its row goes, the person was last seen `now`.
pub async fn closed(db: &Db, socket: SocketId, account: AccountId, now: DateTime<Utc>) -> StoreResult<()> {
    on_pool!(db, p => async {
        let mut tx = p.begin_write().await?;
        sqlx::query("DELETE FROM presence_sockets WHERE id = $1").bind(socket).execute(&mut *tx).await?;
        sqlx::query(
            "INSERT INTO last_seen (account_id, seen_at) VALUES ($1, $2)
             ON CONFLICT (account_id) DO UPDATE SET seen_at = excluded.seen_at WHERE last_seen.seen_at < excluded.seen_at")
            .bind(account).bind(now).execute(&mut *tx).await?;
        tx.commit().await?;
        Ok::<_, platform_db::StoreError>(())
    }.await)
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
