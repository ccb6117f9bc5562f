//! The back office's SQL: people (search, standing, verification), the
//! gig moderation queue, orders and refunds for the admins' lists, the
//! marketplace settings, and the figures of the analytics page. Every
//! change writes its platform-audit entry inside its own transaction.

use chrono::{DateTime, Utc};
use gigstream_domain::backoffice::{self as rules, PaidOrder, Settings, Standing};
use gigstream_domain::ids::{AccountId, GigId, OrderId};
use gigstream_domain::{Currency, FeePolicy, OrderStatus};
use platform_audit::Record;
use platform_db::{on_pool, BeginWrite, Db, StoreError, StoreResult};
use serde::Serialize;
use serde_json::json;

/// Who acts in the back office, for the audit log.
#[derive(Debug, Clone, Copy)]
pub struct Admin<'a> {
    pub id: AccountId,
    pub ip: Option<&'a str>,
}

/// Which page of a list, by `(sort key, id)`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum At<K> {
    First,
    /// Older than this row.
    Before(K),
    /// Newer than this row.
    After(K),
}

impl<K> At<K> {
    /// The row condition and the order for a list sorted newest first by
    /// `(key, id)`; `$k`, `$i` are the cursor's placeholders.
    fn clause(&self, key: &str, id: &str, k: usize, i: usize) -> (String, &'static str) {
        match self {
            At::First => ("TRUE".into(), "DESC"),
            At::Before(_) => (format!("({key} < ${k} OR ({key} = ${k} AND {id} < ${i}))"), "DESC"),
            At::After(_) => (format!("({key} > ${k} OR ({key} = ${k} AND {id} > ${i}))"), "ASC"),
        }
    }

    /// [`At::clause`] for a list sorted oldest first: "older" (the next
    /// page) is later in time.
    fn clause_ascending(&self, key: &str, id: &str, k: usize, i: usize) -> (String, &'static str) {
        match self {
            At::First => ("TRUE".into(), "ASC"),
            At::Before(_) => (format!("({key} > ${k} OR ({key} = ${k} AND {id} > ${i}))"), "ASC"),
            At::After(_) => (format!("({key} < ${k} OR ({key} = ${k} AND {id} < ${i}))"), "DESC"),
        }
    }

    fn cursor(&self) -> Option<&K> {
        match self {
            At::First => None,
            At::Before(c) | At::After(c) => Some(c),
        }
    }
}

fn refused(field: &'static str, message: impl Into<String>) -> StoreError {
    StoreError::Refused { field, message: message.into() }
}

/// An account as the back office lists it.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct User {
    pub id: AccountId,
    pub email: String,
    pub username: String,
    pub display_name: String,
    pub is_admin: bool,
    pub admin_role: Option<String>,
    pub standing: Standing,
    pub standing_reason: String,
    pub verified_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

const USER_COLUMNS: &str = "id, email, username, display_name, is_admin, admin_role, standing, standing_reason, verified_at, created_at";

/// What the user list is narrowed to.
#[derive(Debug, Clone, Default)]
pub struct UserFilter {
    /// Part of the email, username or name.
    pub q: Option<String>,
    pub standing: Option<Standing>,
}

/// A page of users, newest first (`limit + 1` rows in the page's order,
/// for `platform_backoffice::keyset::KeysetPage::from_rows`).
pub async fn users(db: &Db, f: &UserFilter, at: &At<(DateTime<Utc>, AccountId)>, limit: i64) -> StoreResult<Vec<User>> {
    let (cond, order) = at.clause("created_at", "id", 3, 4);
    let sql = format!(
        "SELECT {USER_COLUMNS} FROM accounts
         WHERE ($1 IS NULL OR lower(email) LIKE $1 OR lower(username) LIKE $1 OR lower(display_name) LIKE $1)
           AND ($2 IS NULL OR standing = $2) AND {cond}
         ORDER BY created_at {order}, id {order} LIMIT $5"
    );
    let like = f.q.as_deref().map(|q| format!("%{}%", q.trim().to_lowercase().replace(['%', '_'], "")));
    let (k, i) = at.cursor().map_or((None, None), |(k, i)| (Some(*k), Some(*i)));
    Ok(on_pool!(db, p => sqlx::query_as(&sql).bind(like).bind(f.standing.map(|s| s.to_string())).bind(k).bind(i).bind(limit + 1)
        .fetch_all(p).await?))
}

pub async fn user(db: &Db, id: AccountId) -> StoreResult<User> {
    let sql = format!("SELECT {USER_COLUMNS} FROM accounts WHERE id = $1");
    on_pool!(db, p => sqlx::query_as(&sql).bind(id).fetch_optional(p).await?).ok_or(StoreError::NotFound)
}

/// Suspends, bans or reinstates an account. Anything but `active` ends
/// its sessions and pauses its live gigs in the same transaction; the
/// reason is what the user is shown when signing in.
pub async fn set_standing(db: &Db, admin: Admin<'_>, id: AccountId, to: Standing, reason: &str, now: DateTime<Utc>) -> StoreResult<User> {
    if id == admin.id {
        return Err(refused("standing", "You cannot change your own account's standing."));
    }
    let reason = reason.trim().to_string();
    let admin_id = admin.id.to_string();
    let subject = id.to_string();
    on_pool!(db, p => async {
        let mut tx = p.begin_write().await?;
        let (from, old_reason): (Standing, String) = sqlx::query_as("SELECT standing, standing_reason FROM accounts WHERE id = $1")
            .bind(id).fetch_optional(&mut *tx).await?.ok_or(StoreError::NotFound)?;
        rules::standing_change(from, to, &reason).map_err(|(f, m)| refused(f, m))?;
        let active = to == Standing::Active;
        sqlx::query("UPDATE accounts SET standing = $2, standing_reason = $3, is_active = $4 WHERE id = $1")
            .bind(id).bind(to).bind(if active { "" } else { reason.as_str() }).bind(active).execute(&mut *tx).await?;
        let mut paused = 0;
        let mut ended = 0;
        if !active {
            ended = sqlx::query("UPDATE sessions SET revoked_at = $2 WHERE account_id = $1 AND revoked_at IS NULL")
                .bind(id).bind(now).execute(&mut *tx).await?.rows_affected();
            paused = sqlx::query("UPDATE gigs SET status = 'paused', updated_at = $2 WHERE seller_id = $1 AND status = 'active'")
                .bind(id).bind(now).execute(&mut *tx).await?.rows_affected();
        }
        let before = json!({ "standing": from, "reason": old_reason });
        let after = json!({ "standing": to, "reason": reason, "sessions_ended": ended, "gigs_paused": paused });
        let action = match to { Standing::Active => "user.reinstate", Standing::Suspended => "user.suspend", _ => "user.ban" };
        let mut entry = Record::new("admin", Some(&admin_id), action).subject("user", &subject).change(Some(&before), Some(&after)).ip(admin.ip);
        if !reason.is_empty() {
            entry = entry.reason(&reason);
        }
        platform_audit::record_in(&mut *tx, &entry, now).await?;
        tx.commit().await?;
        Ok::<_, StoreError>(())
    }.await)?;
    user(db, id).await
}

/// Marks an account verified (once).
pub async fn verify(db: &Db, admin: Admin<'_>, id: AccountId, now: DateTime<Utc>) -> StoreResult<User> {
    let admin_id = admin.id.to_string();
    let subject = id.to_string();
    on_pool!(db, p => async {
        let mut tx = p.begin_write().await?;
        let n = sqlx::query("UPDATE accounts SET verified_at = $2 WHERE id = $1 AND verified_at IS NULL AND standing <> 'deleted'")
            .bind(id).bind(now).execute(&mut *tx).await?.rows_affected();
        if n == 0 {
            let exists: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM accounts WHERE id = $1").bind(id).fetch_one(&mut *tx).await?;
            return Err(if exists > 0 { StoreError::Rule("This account is already verified.".into()) } else { StoreError::NotFound });
        }
        let after = json!({ "verified_at": now });
        let entry = Record::new("admin", Some(&admin_id), "user.verify").subject("user", &subject).change(None, Some(&after)).ip(admin.ip);
        platform_audit::record_in(&mut *tx, &entry, now).await?;
        tx.commit().await?;
        Ok::<_, StoreError>(())
    }.await)?;
    user(db, id).await
}

/// A gig as the moderation queue lists it.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct QueuedGig {
    pub id: GigId,
    pub slug: String,
    pub title: String,
    pub category: String,
    pub status: String,
    pub seller_id: AccountId,
    pub seller: String,
    pub decision: Option<String>,
    pub reason: Option<String>,
    pub created_at: DateTime<Utc>,
    pub decided_at: Option<DateTime<Utc>>,
}

impl QueuedGig {
    /// What the list is sorted by in `view` (with the id), for its cursor.
    pub fn sort_key(&self, view: GigView) -> DateTime<Utc> {
        match view {
            GigView::Queue => self.created_at,
            _ => self.decided_at.unwrap_or(self.created_at),
        }
    }
}

platform_kernel::text_enum! {
    /// Which gigs a moderation list shows.
    pub enum GigView { Queue => "queue", Approved => "approved", Removed => "removed" }
}

/// A page of gigs waiting for a decision (oldest first), or of those
/// decided (latest decision first): `limit + 1` rows in the page's order,
/// for `KeysetPage::from_rows`.
pub async fn gigs(db: &Db, view: GigView, at: &At<(DateTime<Utc>, GigId)>, limit: i64) -> StoreResult<Vec<QueuedGig>> {
    let (filter, (cond, order), key) = match view {
        GigView::Queue => {
            ("m.gig_id IS NULL AND g.status IN ('active', 'paused')", at.clause_ascending("g.created_at", "g.id", 1, 2), "g.created_at")
        }
        GigView::Approved => ("m.decision = 'approved'", at.clause("m.decided_at", "g.id", 1, 2), "m.decided_at"),
        GigView::Removed => ("m.decision = 'removed'", at.clause("m.decided_at", "g.id", 1, 2), "m.decided_at"),
    };
    let sql = format!(
        "SELECT g.id, g.slug, g.title, g.category, g.status, g.seller_id, a.username AS seller, m.decision, m.reason, g.created_at,
                m.decided_at
         FROM gigs g JOIN accounts a ON a.id = g.seller_id LEFT JOIN gig_moderation m ON m.gig_id = g.id
         WHERE {filter} AND {cond} ORDER BY {key} {order}, g.id {order} LIMIT $3"
    );
    let (k, i) = at.cursor().map_or((None, None), |(k, i)| (Some(*k), Some(*i)));
    Ok(on_pool!(db, p => sqlx::query_as(&sql).bind(k).bind(i).bind(limit + 1).fetch_all(p).await?))
}

/// Approves a gig, or removes it with the reason its seller is shown
/// (the gig leaves search at once; its orders go on).
pub async fn decide_gig(db: &Db, admin: Admin<'_>, id: GigId, remove: bool, reason: &str, now: DateTime<Utc>) -> StoreResult<()> {
    let reason = reason.trim().to_string();
    if remove && reason.chars().count() < 5 {
        return Err(refused("reason", "Give the reason the seller will be shown (at least 5 characters)."));
    }
    if reason.chars().count() > 500 {
        return Err(refused("reason", "Keep the reason under 500 characters."));
    }
    let admin_id = admin.id.to_string();
    let subject = id.to_string();
    on_pool!(db, p => async {
        let mut tx = p.begin_write().await?;
        let status: String = sqlx::query_scalar("SELECT status FROM gigs WHERE id = $1").bind(id).fetch_optional(&mut *tx).await?
            .ok_or(StoreError::NotFound)?;
        let before: Option<(String, String)> = sqlx::query_as("SELECT decision, reason FROM gig_moderation WHERE gig_id = $1")
            .bind(id).fetch_optional(&mut *tx).await?;
        if before.as_ref().is_some_and(|(d, _)| d == "removed") {
            return Err(StoreError::Rule("This gig was already removed.".into()));
        }
        if status == "deleted" {
            return Err(StoreError::Rule("Its seller deleted this gig.".into()));
        }
        let decision = if remove { "removed" } else { "approved" };
        sqlx::query(
            "INSERT INTO gig_moderation (gig_id, decision, reason, decided_by, decided_at) VALUES ($1, $2, $3, $4, $5)
             ON CONFLICT (gig_id) DO UPDATE SET decision = excluded.decision, reason = excluded.reason,
               decided_by = excluded.decided_by, decided_at = excluded.decided_at",
        )
        .bind(id).bind(decision).bind(&reason).bind(admin.id).bind(now).execute(&mut *tx).await?;
        if remove {
            sqlx::query("UPDATE gigs SET status = 'deleted', updated_at = $2 WHERE id = $1").bind(id).bind(now).execute(&mut *tx).await?;
            sqlx::query("DELETE FROM gig_terms WHERE gig_id = $1").bind(id).execute(&mut *tx).await?;
        }
        let b = json!({ "status": status, "decision": before.map(|(d, _)| d) });
        let a = json!({ "status": if remove { "deleted" } else { status.as_str() }, "decision": decision });
        let action = if remove { "gig.remove" } else { "gig.approve" };
        let mut entry = Record::new("admin", Some(&admin_id), action).subject("gig", &subject).change(Some(&b), Some(&a)).ip(admin.ip);
        if !reason.is_empty() {
            entry = entry.reason(&reason);
        }
        platform_audit::record_in(&mut *tx, &entry, now).await?;
        tx.commit().await?;
        Ok::<_, StoreError>(())
    }.await)
}

/// A seller's gigs removed by an admin, with the reasons.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Removed {
    pub gig_id: GigId,
    pub title: String,
    pub reason: String,
    pub removed_at: DateTime<Utc>,
}

pub async fn removed_gigs_of(db: &Db, seller: AccountId) -> StoreResult<Vec<Removed>> {
    let sql = "SELECT g.id AS gig_id, g.title, m.reason, m.decided_at AS removed_at FROM gig_moderation m JOIN gigs g ON g.id = m.gig_id
               WHERE g.seller_id = $1 AND m.decision = 'removed' ORDER BY m.decided_at DESC";
    Ok(on_pool!(db, p => sqlx::query_as(sql).bind(seller).fetch_all(p).await?))
}

/// An order as the admins' lists show it.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct OrderLine {
    pub id: OrderId,
    pub gig_title: String,
    pub buyer: String,
    pub seller: String,
    pub status: OrderStatus,
    pub currency: Currency,
    pub total_minor: i64,
    pub paid_minor: i64,
    pub refunded_minor: i64,
    pub released_minor: i64,
    pub created_at: DateTime<Utc>,
}

/// Orders newest first, optionally of one status (disputes: `disputed`).
pub async fn orders(db: &Db, status: Option<OrderStatus>, at: &At<(DateTime<Utc>, OrderId)>, limit: i64) -> StoreResult<Vec<OrderLine>> {
    let (cond, order) = at.clause("o.created_at", "o.id", 2, 3);
    let sql = format!(
        "SELECT o.id, o.gig_title, b.username AS buyer, s.username AS seller, o.status, o.currency, o.total_minor, o.paid_minor,
                o.refunded_minor, o.released_minor, o.created_at
         FROM orders o JOIN accounts b ON b.id = o.buyer_id JOIN accounts s ON s.id = o.seller_id
         WHERE ($1 IS NULL OR o.status = $1) AND {cond} ORDER BY o.created_at {order}, o.id {order} LIMIT $4"
    );
    let (k, i) = at.cursor().map_or((None, None), |(k, i)| (Some(*k), Some(*i)));
    Ok(on_pool!(db, p => sqlx::query_as(&sql).bind(status.map(|s| s.to_string())).bind(k).bind(i).bind(limit + 1).fetch_all(p).await?))
}

/// A refund as the admins' list shows it.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct RefundLine {
    pub id: String,
    pub order_id: OrderId,
    pub gig_title: String,
    pub currency: Currency,
    pub amount_minor: i64,
    pub reason: String,
    pub provider_status: String,
    pub provider_error: Option<String>,
    pub created_at: DateTime<Utc>,
}

/// A page of refunds, newest first, optionally only those the provider
/// has not confirmed (`limit + 1` rows in the page's order).
pub async fn refunds(db: &Db, pending_only: bool, at: &At<(DateTime<Utc>, String)>, limit: i64) -> StoreResult<Vec<RefundLine>> {
    let (cond, order) = at.clause("r.created_at", "CAST(r.id AS TEXT)", 2, 3);
    let sql = format!(
        "SELECT CAST(r.id AS TEXT) AS id, r.order_id, o.gig_title, o.currency, r.amount_minor, r.reason, r.provider_status,
                r.provider_error, r.created_at
         FROM refunds r JOIN orders o ON o.id = r.order_id WHERE (NOT $1 OR r.provider_status = 'pending') AND {cond}
         ORDER BY r.created_at {order}, CAST(r.id AS TEXT) {order} LIMIT $4"
    );
    let (k, i) = at.cursor().map_or((None, None), |(k, i)| (Some(*k), Some(i.clone())));
    Ok(on_pool!(db, p => sqlx::query_as(&sql).bind(pending_only).bind(k).bind(i).bind(limit + 1).fetch_all(p).await?))
}

/// A page of security events, newest first, optionally of one kind
/// (`limit + 1` rows in the page's order; the cursor is the event's seq).
pub async fn security_events(
    db: &Db,
    kind: Option<crate::security::Kind>,
    at: &At<i64>,
    limit: i64,
) -> StoreResult<Vec<crate::security::Event>> {
    let (cond, order) = at.clause("seq", "seq", 2, 2);
    let sql = format!(
        "SELECT seq, kind, account_id, ip, detail, created_at FROM security_events
         WHERE ($1 IS NULL OR kind = $1) AND {cond} ORDER BY seq {order} LIMIT $3"
    );
    let k = at.cursor().copied();
    Ok(on_pool!(db, p => sqlx::query_as(&sql).bind(kind.map(|k| k.to_string())).bind(k).bind(limit + 1).fetch_all(p).await?))
}

/// Setting names in the `settings` table.
const PLATFORM_FEE: &str = "platform_fee_bps";
const BUYER_FEE: &str = "buyer_fee_bps";
const BUYER_FEE_MIN: &str = "buyer_fee_min_minor";
const CLEARANCE: &str = "clearance_days";

/// The settings in force: stored values over the server's defaults.
pub async fn settings(db: &Db, defaults: Settings) -> StoreResult<Settings> {
    let rows: Vec<(String, i64)> = on_pool!(db, p => sqlx::query_as("SELECT name, value FROM settings").fetch_all(p).await?);
    let mut s = defaults;
    for (name, value) in rows {
        match name.as_str() {
            PLATFORM_FEE => s.fees.platform_fee_bps = u32::try_from(value).unwrap_or(s.fees.platform_fee_bps),
            BUYER_FEE => s.fees.buyer_fee_bps = u32::try_from(value).unwrap_or(s.fees.buyer_fee_bps),
            BUYER_FEE_MIN => s.fees.buyer_fee_min_minor = value,
            CLEARANCE => s.clearance_days = u32::try_from(value).unwrap_or(s.clearance_days),
            _ => {}
        }
    }
    Ok(s)
}

/// Stores new settings (checked; all or nothing) with their audit entry.
pub async fn save_settings(db: &Db, admin: Admin<'_>, defaults: Settings, new: Settings, now: DateTime<Utc>) -> StoreResult<Settings> {
    // The web layer names every bad field; this keeps the store safe on its own.
    if let Err(bad) = new.check() {
        let (field, message) = bad.into_iter().next().unwrap_or(("settings", String::new()));
        return Err(refused(field, message));
    }
    let old = settings(db, defaults).await?;
    let admin_id = admin.id.to_string();
    let values: [(&str, i64); 4] = [
        (PLATFORM_FEE, i64::from(new.fees.platform_fee_bps)),
        (BUYER_FEE, i64::from(new.fees.buyer_fee_bps)),
        (BUYER_FEE_MIN, new.fees.buyer_fee_min_minor),
        (CLEARANCE, i64::from(new.clearance_days)),
    ];
    on_pool!(db, p => async {
        let mut tx = p.begin_write().await?;
        for (name, value) in values {
            sqlx::query(
                "INSERT INTO settings (name, value, updated_by, updated_at) VALUES ($1, $2, $3, $4)
                 ON CONFLICT (name) DO UPDATE SET value = excluded.value, updated_by = excluded.updated_by, updated_at = excluded.updated_at",
            )
            .bind(name).bind(value).bind(admin.id).bind(now).execute(&mut *tx).await?;
        }
        let before = serde_json::to_value(flat(&old)).unwrap_or_default();
        let after = serde_json::to_value(flat(&new)).unwrap_or_default();
        let entry = Record::new("admin", Some(&admin_id), "settings.update").subject("settings", "marketplace")
            .change(Some(&before), Some(&after)).ip(admin.ip);
        platform_audit::record_in(&mut *tx, &entry, now).await?;
        tx.commit().await?;
        Ok::<_, StoreError>(())
    }.await)?;
    Ok(new)
}

fn flat(s: &Settings) -> serde_json::Value {
    let FeePolicy { platform_fee_bps, buyer_fee_bps, buyer_fee_min_minor } = s.fees;
    json!({ "platform_fee_bps": platform_fee_bps, "buyer_fee_bps": buyer_fee_bps, "buyer_fee_min_minor": buyer_fee_min_minor,
            "clearance_days": s.clearance_days })
}

/// The paid orders of `[from, until)`, for the analytics page.
pub async fn paid_orders(db: &Db, from: DateTime<Utc>, until: DateTime<Utc>) -> StoreResult<Vec<PaidOrder>> {
    let sql = "SELECT paid_at, paid_minor, buyer_fee_minor, price_minor, platform_fee_bps FROM orders
               WHERE paid_at IS NOT NULL AND paid_at >= $1 AND paid_at < $2";
    let rows: Vec<(DateTime<Utc>, i64, i64, i64, i32)> = on_pool!(db, p => sqlx::query_as(sql).bind(from).bind(until).fetch_all(p).await?);
    Ok(rows
        .into_iter()
        .map(|(paid_at, paid_minor, buyer_fee_minor, price, bps)| PaidOrder {
            paid_at,
            paid_minor,
            buyer_fee_minor,
            platform_fee_minor: gigstream_domain::fees::percent_of(price, u32::try_from(bps).unwrap_or(0)),
        })
        .collect())
}
