//! What Rooms' back office reads and changes: users with their balances,
//! balance adjustments through the ledger, every ledger movement, the gift
//! catalogue, rooms with their statistics and the live figures. Every
//! change writes its platform-audit entry (who, what, before and after,
//! why) in the change's own transaction.

use crate::economy::{self, book, coins, diamonds};
use crate::gifts::Gift;
use crate::{on_pool, BeginWrite, Db, StoreError, StoreResult};
use chrono::{DateTime, Duration, Utc};
use platform_ledger::{Amount, Leg, Transfer, Unit};
use rooms_domain::account::{AccountStatus, PlatformRole};
use rooms_domain::ids::{AccountId, GiftId, RoomId};
use serde::Serialize;
use serde_json::json;

/// The reason of staff adjustments in the ledger.
pub const ADJUSTMENT: &str = "staff_adjustment";

/// A page position over an integer key (newest/largest first).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum At {
    First,
    Before(i64),
    After(i64),
}

impl At {
    fn bounds(self) -> (i64, i64, &'static str) {
        match self {
            At::First => (i64::MIN, i64::MAX, "DESC"),
            At::Before(k) => (i64::MIN, k, "DESC"),
            At::After(k) => (k, i64::MAX, "ASC"),
        }
    }
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct UserRow {
    pub id: AccountId,
    pub public_number: i64,
    pub handle: String,
    pub display_name: String,
    pub role: PlatformRole,
    pub status: AccountStatus,
    pub status_reason: Option<String>,
    pub created_at: DateTime<Utc>,
    #[sqlx(skip)]
    pub coins: i64,
    #[sqlx(skip)]
    pub diamonds: i64,
}

/// Users matching `q` (part of handle or name, or the public number) and
/// `status`, by public number, `limit + 1` rows in the page's order.
pub async fn users(db: &Db, q: &str, status: Option<AccountStatus>, at: At, limit: i64) -> StoreResult<Vec<UserRow>> {
    let (lo, hi, order) = at.bounds();
    let q = q.trim().trim_start_matches('@').to_lowercase();
    let like = format!("%{}%", q.replace(['%', '_'], ""));
    let number: i64 = q.parse().unwrap_or(-1);
    let status = status.map(|s| s.to_string()).unwrap_or_default();
    let sql = format!(
        "SELECT id, public_number, handle, display_name, role, status, status_reason, created_at FROM accounts
         WHERE ($1 = '' OR LOWER(handle) LIKE $2 OR LOWER(display_name) LIKE $2 OR public_number = $3)
           AND ($4 = '' OR status = $4) AND public_number > $5 AND public_number < $6
         ORDER BY public_number {order} LIMIT $7"
    );
    let mut rows: Vec<UserRow> = on_pool!(db, p => sqlx::query_as::<_, UserRow>(&sql)
        .bind(&q).bind(&like).bind(number).bind(&status).bind(lo).bind(hi).bind(limit + 1).fetch_all(p).await?);
    for r in &mut rows {
        let b = economy::balances(db, r.id).await?;
        (r.coins, r.diamonds) = (b.coins, b.diamonds);
    }
    Ok(rows)
}

/// Coins or diamonds, by name.
pub fn unit_named(name: &str) -> Option<Unit> {
    match name {
        economy::COINS => Some(coins()),
        economy::DIAMONDS => Some(diamonds()),
        _ => None,
    }
}

/// A staff adjustment.
pub struct Adjust<'a> {
    pub staff: AccountId,
    pub account: AccountId,
    pub unit: Unit,
    /// Positive credits the account from the treasury (coins) or the
    /// diamond issuer; negative takes back, never below zero.
    pub delta: i64,
    pub reason: &'a str,
    /// One adjustment per key: a repeated form or request changes nothing.
    pub key: &'a str,
}

#[derive(Debug, Clone, Serialize)]
pub struct Adjusted {
    pub duplicate: bool,
    pub unit: String,
    pub delta: i64,
    pub balance: i64,
}

/// Moves `delta` between the account and the system wallet of its unit as
/// one ledger transfer (reason [`ADJUSTMENT`], the staff member as its
/// author), with its audit entry, in one transaction. A debit larger than
/// the balance is refused with `Insufficient` and writes nothing.
pub async fn adjust(db: &Db, a: &Adjust<'_>, now: DateTime<Utc>) -> StoreResult<Adjusted> {
    if a.delta == 0 {
        return Err(StoreError::Refused { field: "amount", message: "Enter a whole number other than 0 (negative takes back).".into() });
    }
    if a.reason.trim().is_empty() {
        return Err(StoreError::Refused { field: "reason", message: "Give a reason; it is kept with the ledger entry.".into() });
    }
    let system = if a.unit == coins() { economy::TREASURY.to_string() } else { economy::issuer_shard(a.key) };
    let system = economy::system(db, &system).await?;
    let key = format!("{ADJUSTMENT}:{}", a.key);
    let reference = a.reason.trim().chars().take(200).collect::<String>();
    let (who, staff) = (a.account.to_string(), a.staff.to_string());
    let outcome = on_pool!(db, p => async {
        let mut tx = p.begin_write().await?;
        let exists: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM accounts WHERE id = $1").bind(a.account).fetch_one(&mut *tx).await?;
        if exists == 0 {
            return Err(StoreError::NotFound);
        }
        let wallet = economy::account_wallet_in(&mut *tx, a.account, &a.unit, now).await?;
        let before: i64 = sqlx::query_scalar("SELECT balance FROM wallets WHERE id = $1").bind(wallet).fetch_one(&mut *tx).await?;
        let t = Transfer {
            legs: vec![
                Leg { wallet: system, unit: a.unit.clone(), delta: Amount(-a.delta) },
                Leg { wallet, unit: a.unit.clone(), delta: Amount(a.delta) },
            ],
            reason: ADJUSTMENT,
            reference: Some(&reference),
            idempotency_key: &key,
            created_by: Some(platform_ledger::ActorId(a.staff.0)),
        };
        if let platform_ledger::Transferred::Duplicate = book().transfer_in(&mut *tx, &t, now).await? {
            return Ok(Adjusted { duplicate: true, unit: a.unit.to_string(), delta: a.delta, balance: before });
        }
        let after = before + a.delta;
        let (b, f) = (json!({ a.unit.to_string(): before }), json!({ a.unit.to_string(): after }));
        let entry = platform_audit::Record::new("staff", Some(&staff), "balance.adjust")
            .subject("account", &who)
            .change(Some(&b), Some(&f))
            .reason(a.reason.trim());
        platform_audit::record_in(&mut *tx, &entry, now).await?;
        economy::balance_event!(tx, a.account, now);
        tx.commit().await?;
        Ok::<Adjusted, StoreError>(Adjusted { duplicate: false, unit: a.unit.to_string(), delta: a.delta, balance: after })
    }
    .await);
    match outcome {
        Err(StoreError::Conflict(_)) if economy::key_used(db, &key).await? => {
            let b = economy::balances(db, a.account).await?;
            let balance = if a.unit == coins() { b.coins } else { b.diamonds };
            Ok(Adjusted { duplicate: true, unit: a.unit.to_string(), delta: a.delta, balance })
        }
        other => other,
    }
}

/// One ledger movement with its wallet's owner.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Movement {
    pub seq: i64,
    pub owner_kind: String,
    pub owner_id: String,
    pub unit: String,
    pub delta: i64,
    pub balance_after: i64,
    pub reason: String,
    pub reference: Option<String>,
    /// The staff member or system that caused it, when not the owner.
    pub created_by: Option<platform_ledger::ActorId>,
    pub created_at: DateTime<Utc>,
}

/// What the transactions list is narrowed to.
#[derive(Debug, Clone, Default)]
pub struct Movements {
    pub unit: Option<String>,
    pub reason: Option<String>,
    /// An account id: its wallets' movements only.
    pub account: Option<String>,
}

/// Ledger movements by sequence, `limit + 1` rows in the page's order.
pub async fn movements(db: &Db, f: &Movements, at: At, limit: i64) -> StoreResult<Vec<Movement>> {
    let (lo, hi, order) = at.bounds();
    let sql = format!(
        "SELECT e.seq, w.owner_kind, w.owner_id, e.unit, e.delta, e.balance_after, e.reason, e.reference, e.created_by, e.created_at
         FROM ledger_entries e JOIN wallets w ON w.id = e.wallet_id
         WHERE ($1 = '' OR e.unit = $1) AND ($2 = '' OR e.reason = $2) AND ($3 = '' OR (w.owner_kind = 'account' AND w.owner_id = $3))
           AND e.seq > $4 AND e.seq < $5
         ORDER BY e.seq {order} LIMIT $6"
    );
    let s = |v: &Option<String>| v.clone().unwrap_or_default();
    Ok(on_pool!(db, p => sqlx::query_as::<_, Movement>(&sql)
        .bind(s(&f.unit)).bind(s(&f.reason)).bind(s(&f.account)).bind(lo).bind(hi).bind(limit + 1).fetch_all(p).await?))
}

/// The ledger reasons in use (for the filter).
pub async fn reasons(db: &Db) -> StoreResult<Vec<String>> {
    Ok(on_pool!(db, p => sqlx::query_scalar::<_, String>("SELECT DISTINCT reason FROM ledger_entries ORDER BY reason").fetch_all(p).await?))
}

// ------------------------------------------------------------------ gifts

/// Every gift, retired ones too.
pub async fn all_gifts(db: &Db) -> StoreResult<Vec<Gift>> {
    let sql = "SELECT id, code, name, category, rarity, price, wealth_pct, charm_pct, animation, active, sort, min_vip FROM gifts ORDER BY active DESC, category, sort, price";
    Ok(on_pool!(db, p => sqlx::query_as::<_, Gift>(sql).fetch_all(p).await?))
}

/// A gift's fields as staff set them (checked by `rooms_domain::economy`'s
/// rules in the web layer before they reach here).
#[derive(Debug, Clone, Serialize)]
pub struct GiftFields {
    pub code: String,
    pub name: String,
    pub category: String,
    pub rarity: String,
    pub price: i64,
    pub wealth_pct: i64,
    pub charm_pct: i64,
    pub animation: String,
    pub sort: i64,
    /// The lowest VIP tier that may send it (0: everyone).
    pub min_vip: i64,
}

/// Creates (`id` None) or edits a gift, with its audit entry.
pub async fn save_gift(db: &Db, staff: AccountId, id: Option<GiftId>, g: &GiftFields, now: DateTime<Utc>) -> StoreResult<GiftId> {
    let staff = staff.to_string();
    let after = serde_json::to_value(g).unwrap_or_default();
    let result = on_pool!(db, p => async {
        let mut tx = p.begin_write().await?;
        let (gid, before) = match id {
            Some(gid) => {
                let old: Option<Gift> = sqlx::query_as(
                    "SELECT id, code, name, category, rarity, price, wealth_pct, charm_pct, animation, active, sort, min_vip FROM gifts WHERE id = $1")
                    .bind(gid).fetch_optional(&mut *tx).await?;
                let old = old.ok_or(StoreError::NotFound)?;
                sqlx::query("UPDATE gifts SET code = $2, name = $3, category = $4, rarity = $5, price = $6, wealth_pct = $7, charm_pct = $8, animation = $9, sort = $10, min_vip = $11 WHERE id = $1")
                    .bind(gid).bind(&g.code).bind(&g.name).bind(&g.category).bind(&g.rarity).bind(g.price).bind(g.wealth_pct)
                    .bind(g.charm_pct).bind(&g.animation).bind(g.sort).bind(g.min_vip).execute(&mut *tx).await?;
                (gid, Some(serde_json::to_value(&old).unwrap_or_default()))
            }
            None => {
                let gid = GiftId::new();
                sqlx::query("INSERT INTO gifts (id, code, name, category, rarity, price, wealth_pct, charm_pct, animation, active, sort, min_vip)
                             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, TRUE, $10, $11)")
                    .bind(gid).bind(&g.code).bind(&g.name).bind(&g.category).bind(&g.rarity).bind(g.price).bind(g.wealth_pct)
                    .bind(g.charm_pct).bind(&g.animation).bind(g.sort).bind(g.min_vip).execute(&mut *tx).await?;
                (gid, None)
            }
        };
        let gid_text = gid.to_string();
        let action = if before.is_some() { "gift.update" } else { "gift.create" };
        let entry = platform_audit::Record::new("staff", Some(&staff), action).subject("gift", &gid_text).change(before.as_ref(), Some(&after));
        platform_audit::record_in(&mut *tx, &entry, now).await?;
        tx.commit().await?;
        Ok::<GiftId, StoreError>(gid)
    }
    .await);
    match result {
        Err(StoreError::Conflict(_)) => Err(StoreError::Refused { field: "code", message: "Another gift already has this code.".into() }),
        other => other,
    }
}

/// Retires (`active` false) or restores a gift, with its audit entry; false
/// when it already was so.
pub async fn set_gift_active(db: &Db, staff: AccountId, id: GiftId, active: bool, now: DateTime<Utc>) -> StoreResult<bool> {
    let (staff, gid) = (staff.to_string(), id.to_string());
    on_pool!(db, p => async {
        let mut tx = p.begin_write().await?;
        let known: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM gifts WHERE id = $1").bind(id).fetch_one(&mut *tx).await?;
        if known == 0 {
            return Err(StoreError::NotFound);
        }
        let n = sqlx::query("UPDATE gifts SET active = $2 WHERE id = $1 AND active <> $2").bind(id).bind(active).execute(&mut *tx).await?.rows_affected();
        if n == 1 {
            let (b, a) = (json!({ "active": !active }), json!({ "active": active }));
            let action = if active { "gift.restore" } else { "gift.retire" };
            let entry = platform_audit::Record::new("staff", Some(&staff), action).subject("gift", &gid).change(Some(&b), Some(&a));
            platform_audit::record_in(&mut *tx, &entry, now).await?;
        }
        tx.commit().await?;
        Ok::<bool, StoreError>(n == 1)
    }
    .await)
}

// ------------------------------------------------------- rooms and figures

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct RoomStat {
    pub id: RoomId,
    pub name: String,
    pub status: String,
    pub present: i64,
    pub seat_count: i64,
    pub created_at: DateTime<Utc>,
    #[sqlx(skip)]
    pub gifts: i64,
    #[sqlx(skip)]
    pub coins_received: i64,
}

/// Rooms, open ones first by people present, with their gift totals.
pub async fn rooms(db: &Db, limit: i64) -> StoreResult<Vec<RoomStat>> {
    let sql =
        "SELECT id, name, status, present, seat_count, created_at FROM rooms ORDER BY status DESC, present DESC, created_at DESC LIMIT $1";
    let mut rows: Vec<RoomStat> = on_pool!(db, p => sqlx::query_as::<_, RoomStat>(sql).bind(limit).fetch_all(p).await?);
    for r in &mut rows {
        let (n, c): (i64, Option<i64>) = on_pool!(db, p => sqlx::query_as("SELECT COUNT(*), SUM(cost) FROM gift_sends WHERE room_id = $1")
            .bind(r.id).fetch_one(p).await?);
        (r.gifts, r.coins_received) = (n, c.unwrap_or(0));
    }
    Ok(rows)
}

/// The live figures of the back office's first page.
#[derive(Debug, Clone, Serialize)]
pub struct Figures {
    pub at: DateTime<Utc>,
    pub rooms_open: i64,
    pub listeners: i64,
    pub active_users_today: i64,
    /// Gifts sent in each of the last 30 minutes, oldest first.
    pub gifts_per_minute: Vec<i64>,
    pub coins_spent_today: i64,
    /// Credited purchases since midnight UTC, per currency, in minor units.
    pub revenue_today: Vec<(String, i64)>,
}

pub async fn figures(db: &Db, now: DateTime<Utc>) -> StoreResult<Figures> {
    let midnight = now.date_naive().and_hms_opt(0, 0, 0).expect("midnight").and_utc();
    let rooms_open: i64 = on_pool!(db, p => sqlx::query_scalar("SELECT COUNT(*) FROM rooms WHERE status = 'open'").fetch_one(p).await?);
    let listeners: i64 = on_pool!(db, p => sqlx::query_scalar("SELECT COUNT(*) FROM room_participants").fetch_one(p).await?);
    let active: i64 = on_pool!(db, p => sqlx::query_scalar("SELECT COUNT(DISTINCT account_id) FROM room_participants WHERE last_seen_at >= $1")
        .bind(midnight).fetch_one(p).await?);
    let start = now - Duration::minutes(30);
    let mut gifts_per_minute = Vec::with_capacity(30);
    for m in 0..30 {
        let (from, until) = (start + Duration::minutes(m), start + Duration::minutes(m + 1));
        let n: i64 = on_pool!(db, p => sqlx::query_scalar("SELECT COUNT(*) FROM gift_sends WHERE created_at >= $1 AND created_at < $2")
            .bind(from).bind(until).fetch_one(p).await?);
        gifts_per_minute.push(n);
    }
    let spent: Option<i64> = on_pool!(db, p => sqlx::query_scalar("SELECT SUM(cost) FROM gift_sends WHERE created_at >= $1")
        .bind(midnight).fetch_one(p).await?);
    let revenue: Vec<(String, i64)> = on_pool!(db, p => sqlx::query_as(
        "SELECT currency, SUM(price_minor) FROM coin_purchases WHERE status = 'credited' AND settled_at >= $1 GROUP BY currency ORDER BY currency")
        .bind(midnight).fetch_all(p).await?);
    Ok(Figures {
        at: now,
        rooms_open,
        listeners,
        active_users_today: active,
        gifts_per_minute,
        coins_spent_today: spent.unwrap_or(0),
        revenue_today: revenue,
    })
}
