//! VIP (requirement 9.5, BR-5): the tiers as data (`vip_tiers`), buying or
//! renewing one, or giving one to someone else, with coins through the ledger (the price seen is checked,
//! a repeated request key is refused, too few coins writes nothing; the
//! same tier stacks on the time left, a higher one starts now, a lower one
//! is refused while a higher runs), the job that ends lapsed memberships,
//! and what a running tier gives: the badge, the entry notice, VIP-only
//! gifts, the shield against room admins (`vip_shield!` in seats) and the
//! seats added to the holder's own room (`fit_seats!`).

use crate::economy;
use crate::{on_pool, refused, sale, BeginWrite, Db, StoreError, StoreResult};
use chrono::{DateTime, Utc};
use rooms_domain::ids::{AccountId, RoomId, VipPurchaseId};
use rooms_domain::status::{self, Privilege};
use rooms_domain::vip::{self as rules, Kind, Tier, Tiers};
use serde::Serialize;
use serde_json::json;
use std::collections::BTreeSet;

/// The ledger reason of a VIP purchase.
pub const VIP_PURCHASE: &str = "vip_purchase";
/// The ledger reason of VIP given to someone else (the giver pays).
pub const VIP_GIFT: &str = "vip_gift";

type TierRow = (i64, String, i64, i64, i64, String);

/// Every tier, as stored.
pub async fn tiers(db: &Db) -> StoreResult<Tiers> {
    let rows: Vec<TierRow> = on_pool!(db, p => sqlx::query_as("SELECT tier, name, price, days, extra_seats, privileges FROM vip_tiers ORDER BY tier").fetch_all(p).await?);
    let mut out = vec![];
    for (tier, name, price, days, extra_seats, privileges) in rows {
        let privileges = status::parse_privileges(&privileges).map_err(StoreError::Invalid)?;
        out.push(Tier { tier, name, price, days, extra_seats, privileges });
    }
    Tiers::new(out).map_err(StoreError::Invalid)
}

/// Someone's running tier.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Membership {
    pub tier: i64,
    pub name: String,
    pub expires_at: DateTime<Utc>,
    /// Everything the tier unlocks (with the tiers below it).
    pub privileges: BTreeSet<Privilege>,
    /// Seats it adds to the holder's own room.
    pub extra_seats: i64,
}

/// The tiers `who` hold at `now` (absent: none, or lapsed).
pub async fn held(db: &Db, who: &[AccountId], now: DateTime<Utc>) -> StoreResult<Vec<(AccountId, i64, DateTime<Utc>)>> {
    let mut out = vec![];
    for chunk in who.chunks(100) {
        let marks = (0..chunk.len()).map(|i| format!("${}", i + 2)).collect::<Vec<_>>().join(", ");
        let sql = format!("SELECT account_id, tier, expires_at FROM vip_memberships WHERE expires_at > $1 AND account_id IN ({marks})");
        let rows: Vec<(AccountId, i64, DateTime<Utc>)> = on_pool!(db, p => {
            let mut q = sqlx::query_as(&sql).bind(now);
            for a in chunk {
                q = q.bind(*a);
            }
            q.fetch_all(p).await?
        });
        out.extend(rows);
    }
    Ok(out)
}

/// `who`'s running tier at `now`.
pub async fn membership(db: &Db, who: AccountId, now: DateTime<Utc>) -> StoreResult<Option<Membership>> {
    let Some((_, tier, expires_at)) = held(db, &[who], now).await?.pop() else { return Ok(None) };
    let tiers = tiers(db).await?;
    Ok(Some(Membership {
        tier,
        name: tiers.get(tier).map(|t| t.name.clone()).unwrap_or_else(|| format!("VIP {tier}")),
        expires_at,
        privileges: tiers.unlocked(tier),
        extra_seats: tiers.extra_seats(tier),
    }))
}

/// The tier `who` holds at `now` (0: none).
pub async fn tier_of(db: &Db, who: AccountId, now: DateTime<Utc>) -> StoreResult<i64> {
    Ok(held(db, &[who], now).await?.pop().map_or(0, |(_, t, _)| t))
}

/// What a purchase did.
#[derive(Debug, Clone, Serialize)]
pub struct Bought {
    pub purchase_id: VipPurchaseId,
    pub tier: i64,
    pub kind: Kind,
    pub price: i64,
    pub days: i64,
    /// The tier's new end.
    pub expires_at: DateTime<Utc>,
    /// The buyer's coins after.
    pub balance: i64,
}

/// Buys `tier` for its days at the price the buyer saw (`seen_price`; a
/// changed price → `price_changed`). Refusals: `tier_unavailable`,
/// `higher_tier_held` (buy that tier to extend it), `duplicate_purchase`
/// (the request key was used); too few coins → `Insufficient`, nothing
/// written. The debit, the purchase record, the membership, the wealth XP
/// and the seats of the buyer's room are one transaction (`sale`).
pub async fn buy(db: &Db, who: AccountId, tier: i64, seen_price: i64, key: &str, now: DateTime<Utc>) -> StoreResult<Bought> {
    sell(db, who, who, tier, seen_price, key, now).await
}

/// Gives `tier` for its days to `recipient`, paid by `giver` at the price
/// seen (requirement 9.5): the time stacks on the recipient's same tier
/// and a higher tier starts now, as when buying; the giver's coins go
/// through the ledger (reason `vip_gift`, the giver's request keys shared
/// with their own purchases) and count as the giver's wealth XP; the
/// recipient's purchase row names the giver (`given_by`) and the recipient
/// is told (`vip_gift`). Refusals as [`buy`], plus `recipient_higher_tier`
/// (they hold a higher tier: give that one), and `recipient` named when
/// the account does not exist, is not active, or is the giver (buy it
/// instead). `balance` is the giver's.
pub async fn give(
    db: &Db,
    giver: AccountId,
    recipient: AccountId,
    tier: i64,
    seen_price: i64,
    key: &str,
    now: DateTime<Utc>,
) -> StoreResult<Bought> {
    if giver == recipient {
        return Err(StoreError::Refused { field: "recipient", message: "That is you: buy VIP for yourself instead".into() });
    }
    sell(db, giver, recipient, tier, seen_price, key, now).await
}

/// A tier sold to `holder`, paid by `payer` (the same for a purchase).
async fn sell(
    db: &Db,
    payer: AccountId,
    holder: AccountId,
    tier: i64,
    seen_price: i64,
    key: &str,
    now: DateTime<Utc>,
) -> StoreResult<Bought> {
    sale::check_key(key)?;
    let tiers = tiers(db).await?;
    let Some(t) = tiers.get(tier).cloned() else { return Err(refused("tier_unavailable", format!("There is no VIP {tier}"))) };
    sale::check_price(t.price, seen_price)?;
    let till = sale::till(db, key).await?;
    let id = VipPurchaseId::new();
    let ledger_key = format!("vip:{payer}:{key}");
    let gift = payer != holder;
    let (stored_key, reason, given_by) =
        if gift { (format!("gift:{payer}:{key}"), VIP_GIFT, Some(payer)) } else { (key.to_string(), VIP_PURCHASE, None) };
    let (expires_at, kind) = sale::settled(on_pool!(db, p => async {
        let mut tx = p.begin_write().await?;
        let giver_name = if gift {
            sale_key_unused!(tx, "SELECT COUNT(*) FROM vip_purchases WHERE given_by = $1 AND request_key = $2", payer, &stored_key);
            let found: Option<(String, String)> = sqlx::query_as("SELECT status, display_name FROM accounts WHERE id = $1").bind(holder).fetch_optional(&mut *tx).await?;
            if found.as_ref().is_none_or(|(status, _)| status != "active") {
                return Err(StoreError::Refused { field: "recipient", message: "No active account has that number".into() });
            }
            sqlx::query_scalar::<_, String>("SELECT display_name FROM accounts WHERE id = $1").bind(payer).fetch_one(&mut *tx).await?
        } else {
            sale_key_unused!(tx, "SELECT COUNT(*) FROM vip_purchases WHERE account_id = $1 AND request_key = $2", payer, key);
            String::new()
        };
        let current: Option<(i64, DateTime<Utc>)> = sqlx::query_as("SELECT tier, expires_at FROM vip_memberships WHERE account_id = $1")
            .bind(holder).fetch_optional(&mut *tx).await?;
        let (expires_at, kind) = rules::after_purchase(current, tier, t.days, now).map_err(|r| {
            let (code, message) = if gift { r.for_recipient() } else { (r.code(), r.message()) };
            refused(code, message)
        })?;
        let kind_text = match kind { Kind::New => "new", Kind::Renewal => "renewal", Kind::Upgrade => "upgrade" };
        sqlx::query("INSERT INTO vip_purchases (id, account_id, tier, request_key, kind, price, days, expires_at, created_at, given_by)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)")
            .bind(id).bind(holder).bind(tier).bind(&stored_key).bind(kind_text).bind(t.price).bind(t.days).bind(expires_at).bind(now).bind(given_by)
            .execute(&mut *tx).await?;
        sqlx::query("INSERT INTO vip_memberships (account_id, tier, expires_at, updated_at) VALUES ($1, $2, $3, $4)
                     ON CONFLICT (account_id) DO UPDATE SET tier = excluded.tier, expires_at = excluded.expires_at, updated_at = excluded.updated_at")
            .bind(holder).bind(tier).bind(expires_at).bind(now).execute(&mut *tx).await?;
        sale_charge!(tx, &till, payer, t.price, reason, id.to_string(), &ledger_key, key, now);
        let room: Option<RoomId> = sqlx::query_scalar("SELECT id FROM rooms WHERE owner_id = $1").bind(holder).fetch_optional(&mut *tx).await?;
        if let Some(room) = room {
            fit_seats!(tx, room, now);
        }
        let told = json!({"tier": tier, "name": t.name, "expires_at": expires_at, "kind": kind});
        if gift {
            let mut got = told.clone();
            got["from"] = json!({"id": payer, "name": giver_name});
            user_event!(tx, holder, "vip_gift", got, now);
            user_event!(tx, payer, "vip_given", json!({"tier": tier, "name": t.name, "to": holder}), now);
        } else {
            user_event!(tx, holder, "vip", told, now);
        }
        tx.commit().await?;
        Ok::<(DateTime<Utc>, Kind), StoreError>((expires_at, kind))
    }
    .await))?;
    Ok(Bought { purchase_id: id, tier, kind, price: t.price, days: t.days, expires_at, balance: economy::balances(db, payer).await?.coins })
}

/// What the job ended.
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct Expired {
    /// Each membership ended, with its tier.
    pub ended: Vec<(AccountId, i64)>,
    /// Who sat on a VIP seat of a holder's room that went with the tier:
    /// the room, the seat and the person (off the seat now; voice mutes
    /// them).
    pub unseated: Vec<Unseated>,
}

/// Someone taken off a seat that existed only as a VIP seat.
#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq)]
pub struct Unseated {
    pub room: RoomId,
    pub seat: i64,
    pub account: AccountId,
}

/// The job: ends the memberships lapsed at `now` (the end instant
/// included), takes their extra seats out of the holders' rooms and tells
/// each holder (`vip_expired`), and each person who sat on a removed seat
/// (`seat_removed` to the room, `vip_seat_removed` to them). Returns what
/// it ended and whom it unseated, for voice to mute.
pub async fn expire(db: &Db, now: DateTime<Utc>) -> StoreResult<Expired> {
    on_pool!(db, p => {
        let mut tx = p.begin_write().await?;
        let gone: Vec<(AccountId, i64)> = sqlx::query_as(
            "SELECT account_id, tier FROM vip_memberships WHERE expires_at <= $1 ORDER BY account_id LIMIT 1000")
            .bind(now).fetch_all(&mut *tx).await?;
        let mut out = Expired::default();
        for (who, tier) in &gone {
            let n = sqlx::query("DELETE FROM vip_memberships WHERE account_id = $1 AND expires_at <= $2")
                .bind(*who).bind(now).execute(&mut *tx).await?.rows_affected();
            if n == 0 {
                continue;
            }
            out.ended.push((*who, *tier));
            let room: Option<RoomId> = sqlx::query_scalar("SELECT id FROM rooms WHERE owner_id = $1").bind(*who).fetch_optional(&mut *tx).await?;
            if let Some(room) = room {
                for (seat, account) in fit_seats!(tx, room, now) {
                    user_event!(tx, account, "vip_seat_removed", json!({"room": room, "seat": seat}), now);
                    out.unseated.push(Unseated { room, seat, account });
                }
            }
            user_event!(tx, *who, "vip_expired", json!({"tier": tier}), now);
        }
        tx.commit().await?;
        Ok(out)
    })
}

/// One purchase, for the history.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Purchase {
    pub id: VipPurchaseId,
    pub tier: i64,
    pub kind: String,
    pub price: i64,
    pub days: i64,
    pub expires_at: DateTime<Utc>,
    pub created_at: DateTime<Utc>,
    /// Who paid, when it was given.
    pub given_by: Option<AccountId>,
}

/// `who`'s latest purchases, newest first.
pub async fn purchases(db: &Db, who: AccountId, limit: i64) -> StoreResult<Vec<Purchase>> {
    Ok(on_pool!(db, p => sqlx::query_as::<_, Purchase>(
        "SELECT id, tier, kind, price, days, expires_at, created_at, given_by FROM vip_purchases WHERE account_id = $1 ORDER BY created_at DESC, id LIMIT $2")
        .bind(who).bind(limit).fetch_all(p).await?))
}

/// VIP's invariants for `rooms check`.
pub const CHECKS: &[(&str, &str)] = &[
    (
        "VIP purchase without its ledger debit of its price",
        "SELECT COUNT(*) FROM vip_purchases p WHERE p.price <> COALESCE((SELECT -SUM(e.delta) FROM ledger_entries e
           WHERE e.reference = CAST(p.id AS TEXT) AND e.reason IN ('vip_purchase', 'vip_gift') AND e.delta < 0), 0)",
    ),
    (
        "VIP membership ending after its purchases allow",
        "SELECT COUNT(*) FROM vip_memberships m WHERE m.expires_at > COALESCE((SELECT MAX(p.expires_at) FROM vip_purchases p
           WHERE p.account_id = m.account_id AND p.tier = m.tier), m.expires_at)",
    ),
    (
        "room with more VIP seats than its owner's tier adds",
        "SELECT COUNT(*) FROM rooms r WHERE r.bonus_seats > COALESCE((SELECT t.extra_seats FROM vip_memberships m
           JOIN vip_tiers t ON t.tier = m.tier WHERE m.account_id = r.owner_id), 0)",
    ),
    (
        "wealth XP counters differ from the gifts' XP and the coins spent on frames and VIP",
        "SELECT COUNT(*) FROM (SELECT subject FROM (
           SELECT subject, amount FROM gift_counters WHERE board = 'wealth_xp' AND period = 'all'
           UNION ALL SELECT CAST(sender_id AS TEXT), -wealth_xp FROM gift_sends
           UNION ALL SELECT CAST(account_id AS TEXT), -price FROM frame_purchases
           UNION ALL SELECT CAST(COALESCE(given_by, account_id) AS TEXT), -price FROM vip_purchases) x
         GROUP BY subject HAVING SUM(amount) <> 0) y",
    ),
];
