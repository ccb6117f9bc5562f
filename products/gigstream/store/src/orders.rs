//! Orders and their money. Every change is a step of the domain's state
//! machine (`gigstream_domain::order::transition`), taken inside one write
//! transaction together with its timeline event and its ledger posting;
//! the row carries a version, so two changes racing on one order cannot
//! both apply (the loser is told to reload).

use crate::escrow;
use chrono::{DateTime, Utc};
use gigstream_domain::fees::{FeePolicy, Quote};
use gigstream_domain::gig::{Requirement, Tier};
use gigstream_domain::ids::{AccountId, DeliveryId, GigId, OrderId};
use gigstream_domain::order::{self, Action, Actor, Ctx, OrderStatus, Refusal};
use gigstream_domain::Currency;
use platform_db::{on_pool, BeginWrite, Db, StoreError, StoreResult};
use serde::{Deserialize, Serialize};
use sqlx::types::Json;

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Order {
    pub id: OrderId,
    pub gig_id: GigId,
    pub buyer_id: AccountId,
    pub seller_id: AccountId,
    pub tier: Tier,
    pub gig_title: String,
    pub package_name: String,
    pub currency: Currency,
    pub price_minor: i64,
    pub buyer_fee_minor: i64,
    pub total_minor: i64,
    pub platform_fee_bps: i32,
    pub delivery_days: i32,
    pub revisions_allowed: i32,
    pub revisions_used: i32,
    pub version: i32,
    pub status: OrderStatus,
    pub payment_reference: String,
    pub payment_provider: Option<String>,
    pub paid_minor: i64,
    pub refunded_minor: i64,
    pub released_minor: i64,
    pub seller_earned_minor: i64,
    pub platform_earned_minor: i64,
    pub requirements: Json<Vec<Requirement>>,
    pub answers: Option<Json<Vec<(String, String)>>>,
    pub cancel_requested_by: Option<Actor>,
    pub late: bool,
    pub paid_at: Option<DateTime<Utc>>,
    pub started_at: Option<DateTime<Utc>>,
    pub due_at: Option<DateTime<Utc>>,
    pub first_delivered_at: Option<DateTime<Utc>>,
    pub delivered_at: Option<DateTime<Utc>>,
    pub completed_at: Option<DateTime<Utc>>,
    pub closed_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

const COLUMNS: &str = "id, gig_id, buyer_id, seller_id, tier, gig_title, package_name, currency, price_minor, buyer_fee_minor, total_minor,
    platform_fee_bps, delivery_days, revisions_allowed, revisions_used, version, status, payment_reference, payment_provider, paid_minor,
    refunded_minor, released_minor, seller_earned_minor, platform_earned_minor, requirements, answers, cancel_requested_by, late,
    paid_at, started_at, due_at, first_delivered_at, delivered_at, completed_at, closed_at, created_at, updated_at";

impl Order {
    pub fn ctx(&self) -> Ctx {
        Ctx {
            revisions_used: self.revisions_used,
            revisions_allowed: self.revisions_allowed,
            cancel_requested_by: self.cancel_requested_by,
            paid: self.paid_minor > 0,
        }
    }

    pub fn quote(&self) -> Quote {
        Quote { price: self.price_minor, buyer_fee: self.buyer_fee_minor, total: self.total_minor }
    }

    fn policy(&self) -> FeePolicy {
        FeePolicy { platform_fee_bps: self.platform_fee_bps as u32, buyer_fee_bps: 0, buyer_fee_min_minor: 0 }
    }

    /// What escrow still holds for this order.
    pub fn in_escrow(&self) -> i64 {
        self.paid_minor - self.refunded_minor - self.released_minor
    }

    /// Late now: delivered after the due date, or not yet and past it.
    pub fn is_late(&self, now: DateTime<Utc>) -> bool {
        self.late || (self.status.is_active() && order::is_late(self.due_at, self.first_delivered_at, now))
    }

    /// The side `account` is on, if any (an admin acts as admin only on
    /// orders that are not their own).
    pub fn actor_for(&self, account: AccountId, is_admin: bool) -> Option<Actor> {
        if account == self.buyer_id {
            Some(Actor::Buyer)
        } else if account == self.seller_id {
            Some(Actor::Seller)
        } else if is_admin {
            Some(Actor::Admin)
        } else {
            None
        }
    }
}

/// One line of an order's timeline.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Event {
    pub seq: i64,
    pub action: String,
    pub actor: String,
    pub from_status: String,
    pub to_status: String,
    pub note: Option<String>,
    pub amount_minor: Option<i64>,
    pub created_at: DateTime<Utc>,
}

impl Event {
    /// The event in words.
    pub fn words(&self) -> &'static str {
        match self.action.parse::<Action>() {
            Ok(a) => a.timeline_words(),
            Err(_) => "Order placed",
        }
    }
}

/// A delivered file, stored through platform-media.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeliveredFile {
    pub key: String,
    pub name: String,
    pub content_type: String,
    pub bytes: i64,
}

/// One delivery of an order. Every delivery is kept: the first is
/// version 1, each delivery after a revision request the next version.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Delivery {
    pub id: DeliveryId,
    #[sqlx(skip)]
    pub version: i64,
    pub message: String,
    pub files: Json<Vec<DeliveredFile>>,
    pub created_at: DateTime<Utc>,
}

fn refusal(r: Refusal) -> StoreError {
    crate::rule(r.message())
}

/// What a step does besides changing the row.
#[derive(Default)]
struct Effects {
    payment: Option<i64>,
    refund: Option<(i64, String, String)>,
    release: bool,
    delivery: Option<(String, Vec<DeliveredFile>)>,
}

/// Loads the order by `$1 = id`, inside a transaction.
macro_rules! load {
    ($tx:expr, $id:expr) => {{
        let sql = format!("SELECT {COLUMNS} FROM orders WHERE id = $1");
        let o: Option<Order> = sqlx::query_as(&sql).bind($id).fetch_optional(&mut *$tx).await?;
        o.ok_or(StoreError::NotFound)?
    }};
}

/// Takes `steps` on order `id` inside `tx`: checks each transition, lets
/// `change` set the row's fields and say what else happens, writes the row
/// (if its version is unchanged), the events and the ledger postings.
macro_rules! take_steps {
    ($tx:expr, $id:expr, $steps:expr, $actor_id:expr, $note:expr, $now:expr, $change:expr) => {{
        let mut o: Order = load!($tx, $id);
        let version = o.version;
        let mut trail = vec![];
        for &(action, actor) in $steps {
            let from = o.status;
            o.status = order::transition(from, action, actor, o.ctx()).map_err(refusal)?;
            trail.push((action, actor, from, o.status));
        }
        let change: &dyn Fn(&mut Order) -> StoreResult<Effects> = &$change;
        let fx = change(&mut o)?;
        if let Some((amount, key, _)) = &fx.refund {
            order::refund_amount(Some(*amount), o.paid_minor, o.refunded_minor, o.released_minor).map_err(escrow::refused)?;
            o.refunded_minor += amount;
            let refund_id = OrderId::new();
            let inserted = sqlx::query(
                "INSERT INTO refunds (id, order_id, amount_minor, request_key, reason, created_by, created_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (request_key) DO NOTHING",
            )
            .bind(refund_id)
            .bind(o.id)
            .bind(*amount)
            .bind(format!("{}:{key}", o.id))
            .bind(&fx.refund.as_ref().map(|r| r.2.clone()).unwrap_or_default())
            .bind($actor_id)
            .bind($now)
            .execute(&mut *$tx)
            .await?
            .rows_affected();
            if inserted == 0 {
                return Err(crate::rule("This refund was already made."));
            }
            let reason = fx.refund.as_ref().map(|r| r.2.as_str()).unwrap_or_default();
            crate::invoices::issue_in!($tx, crate::invoices::Kind::CreditNote, &o, Some((refund_id, *amount, reason)), $now);
        }
        let mut released = None;
        if fx.release {
            let s = o.policy().settle(o.quote(), o.refunded_minor);
            // Whatever escrow still holds for the order goes out now.
            let (seller, platform) = (s.seller, s.platform);
            debug_assert_eq!(seller + platform, o.in_escrow());
            o.released_minor += seller + platform;
            o.seller_earned_minor += seller;
            o.platform_earned_minor += platform;
            released = Some((seller, platform));
        }
        o.updated_at = $now;
        let n = sqlx::query(
            "UPDATE orders SET status = $3, revisions_used = $4, version = version + 1, payment_provider = $5, paid_minor = $6,
                 refunded_minor = $7, released_minor = $8, seller_earned_minor = $9, platform_earned_minor = $10, answers = $11,
                 cancel_requested_by = $12, late = $13, paid_at = $14, started_at = $15, due_at = $16, first_delivered_at = $17,
                 delivered_at = $18, completed_at = $19, closed_at = $20, updated_at = $21
             WHERE id = $1 AND version = $2",
        )
        .bind(o.id)
        .bind(version)
        .bind(o.status)
        .bind(o.revisions_used)
        .bind(&o.payment_provider)
        .bind(o.paid_minor)
        .bind(o.refunded_minor)
        .bind(o.released_minor)
        .bind(o.seller_earned_minor)
        .bind(o.platform_earned_minor)
        .bind(&o.answers)
        .bind(o.cancel_requested_by)
        .bind(o.late)
        .bind(o.paid_at)
        .bind(o.started_at)
        .bind(o.due_at)
        .bind(o.first_delivered_at)
        .bind(o.delivered_at)
        .bind(o.completed_at)
        .bind(o.closed_at)
        .bind($now)
        .execute(&mut *$tx)
        .await?
        .rows_affected();
        if n == 0 {
            return Err(crate::rule("This order changed meanwhile; reload it and try again."));
        }
        o.version = version + 1;
        for (action, actor, from, to) in trail {
            let amount = match action {
                Action::Pay => fx.payment,
                Action::Refund | Action::ResolveRefund | Action::ResolveSplit => fx.refund.as_ref().map(|r| r.0),
                Action::Release | Action::ResolveRelease => released.map(|(s, p)| s + p),
                _ => None,
            };
            let actor_id: Option<AccountId> = if actor == Actor::System { None } else { $actor_id };
            sqlx::query(
                "INSERT INTO order_events (order_id, action, actor, actor_id, from_status, to_status, note, amount_minor, created_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
            )
            .bind(o.id)
            .bind(action.as_str())
            .bind(actor.as_str())
            .bind(actor_id)
            .bind(from.as_str())
            .bind(to.as_str())
            .bind($note)
            .bind(amount)
            .bind($now)
            .execute(&mut *$tx)
            .await?;
        }
        if let Some((message, files)) = &fx.delivery {
            sqlx::query("INSERT INTO deliveries (id, order_id, message, files, created_at) VALUES ($1, $2, $3, $4, $5)")
                .bind(DeliveryId::new())
                .bind(o.id)
                .bind(message)
                .bind(Json(files))
                .bind($now)
                .execute(&mut *$tx)
                .await?;
        }
        if let Some(amount) = fx.payment {
            escrow::credit_payment_in(&mut *$tx, o.id, o.currency, amount, $now).await?;
        }
        if let Some((amount, key, _)) = &fx.refund {
            escrow::refund_in(&mut *$tx, o.id, o.currency, *amount, key, $now).await?;
        }
        if let Some((seller, platform)) = released {
            escrow::release_in(&mut *$tx, o.id, o.seller_id, o.currency, seller, platform, $now).await?;
            if seller > 0 {
                // Pending until the clearance job makes it available (crate::wallet).
                sqlx::query(
                    "INSERT INTO earnings (order_id, seller_id, currency, amount_minor, released_at) VALUES ($1, $2, $3, $4, $5)
                     ON CONFLICT (order_id) DO NOTHING",
                )
                .bind(o.id)
                .bind(o.seller_id)
                .bind(o.currency)
                .bind(seller)
                .bind($now)
                .execute(&mut *$tx)
                .await?;
                sqlx::query("UPDATE gigs SET orders_completed = orders_completed + 1 WHERE id = $1")
                    .bind(o.gig_id)
                    .execute(&mut *$tx)
                    .await?;
                // The seller's level follows their completed orders (ratings come with reviews).
                let done: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM orders WHERE seller_id = $1 AND seller_earned_minor > 0")
                    .bind(o.seller_id)
                    .fetch_one(&mut *$tx)
                    .await?;
                let level = gigstream_domain::gig::SellerLevel::for_record(done, None);
                sqlx::query("UPDATE gigs SET seller_level = $1 WHERE seller_id = $2 AND seller_level <> $1")
                    .bind(level)
                    .bind(o.seller_id)
                    .execute(&mut *$tx)
                    .await?;
            }
        }
        o
    }};
}

/// Runs `take_steps!` in its own write transaction.
async fn step(
    db: &Db,
    id: OrderId,
    steps: &[(Action, Actor)],
    actor_id: Option<AccountId>,
    note: Option<&str>,
    now: DateTime<Utc>,
    change: impl Fn(&mut Order) -> StoreResult<Effects> + Send + Sync,
) -> StoreResult<Order> {
    on_pool!(db, p => async {
        let mut tx = p.begin_write().await?;
        let o = take_steps!(tx, id, steps, actor_id, note, now, change);
        tx.commit().await?;
        Ok::<_, StoreError>(o)
    }
    .await)
}

/// Places an order for one package of an active gig, at today's price and
/// fees (both locked into the order).
pub async fn place(db: &Db, buyer: AccountId, gig: GigId, tier: Tier, policy: FeePolicy, now: DateTime<Utc>) -> StoreResult<Order> {
    let g = crate::gigs::get(db, gig).await?;
    if g.status != gigstream_domain::gig::GigStatus::Active {
        return Err(StoreError::Refused { field: "gig", message: "This gig is not taking orders right now".into() });
    }
    if g.seller_id == buyer {
        return Err(StoreError::Refused { field: "gig", message: "You cannot order your own gig".into() });
    }
    let pkg = crate::gigs::packages(db, gig)
        .await?
        .into_iter()
        .find(|p| p.tier == tier)
        .ok_or_else(|| StoreError::Refused { field: "tier", message: format!("This gig has no {} package", tier.label()) })?;
    let q = policy.quote(pkg.price_minor);
    let id = OrderId::new();
    let reference = format!("gs_{}", id.as_uuid().simple());
    on_pool!(db, p => async {
        let mut tx = p.begin_write().await?;
        sqlx::query(
            "INSERT INTO orders (id, gig_id, buyer_id, seller_id, tier, gig_title, package_name, currency, price_minor, buyer_fee_minor,
                 total_minor, platform_fee_bps, delivery_days, revisions_allowed, status, payment_reference, requirements, created_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, 'placed', $15, $16, $17, $17)",
        )
        .bind(id).bind(gig).bind(buyer).bind(g.seller_id).bind(tier).bind(&g.title).bind(&pkg.name).bind(g.currency)
        .bind(q.price).bind(q.buyer_fee).bind(q.total).bind(policy.platform_fee_bps as i32).bind(pkg.delivery_days).bind(pkg.revisions)
        .bind(&reference).bind(&g.requirements).bind(now)
        .execute(&mut *tx).await?;
        sqlx::query(
            "INSERT INTO order_events (order_id, action, actor, actor_id, from_status, to_status, note, amount_minor, created_at)
             VALUES ($1, 'place', 'buyer', $2, 'placed', 'placed', NULL, $3, $4)",
        )
        .bind(id).bind(buyer).bind(q.total).bind(now)
        .execute(&mut *tx).await?;
        tx.commit().await?;
        Ok::<_, StoreError>(())
    }
    .await)?;
    get(db, id).await
}

/// What a payment confirmation did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Confirmed {
    /// The payment is now in escrow.
    Credited,
    /// The order was already paid (another notification got there first).
    AlreadyPaid,
    /// This provider event was seen before; nothing changed.
    DuplicateEvent,
}

/// Confirms a payment reported by a provider: credits escrow exactly once,
/// however many notifications arrive and in whatever order or concurrency.
/// Idempotent by the provider's event id and by our reference. The amount
/// and currency must be the order's total.
pub async fn confirm_payment(
    db: &Db,
    provider: &str,
    reference: &str,
    provider_event_id: &str,
    amount_minor: i64,
    currency: Currency,
    now: DateTime<Utc>,
) -> StoreResult<Confirmed> {
    let r = on_pool!(db, p => async {
        let mut tx = p.begin_write().await?;
        let fresh = sqlx::query(
            "INSERT INTO payment_events (provider, event_id, reference, outcome, created_at) VALUES ($1, $2, $3, 'received', $4)
             ON CONFLICT (provider, event_id) DO NOTHING",
        )
        .bind(provider).bind(provider_event_id).bind(reference).bind(now)
        .execute(&mut *tx).await?.rows_affected();
        if fresh == 0 {
            return Ok(Confirmed::DuplicateEvent);
        }
        let found: Option<(OrderId, OrderStatus, i64, Currency)> =
            sqlx::query_as("SELECT id, status, total_minor, currency FROM orders WHERE payment_reference = $1")
                .bind(reference).fetch_optional(&mut *tx).await?;
        let Some((id, status, total, cur)) = found else { return Err(StoreError::NotFound) };
        if status != OrderStatus::Placed {
            sqlx::query("UPDATE payment_events SET outcome = 'already_paid' WHERE provider = $1 AND event_id = $2")
                .bind(provider).bind(provider_event_id).execute(&mut *tx).await?;
            tx.commit().await?;
            return Ok(Confirmed::AlreadyPaid);
        }
        if total != amount_minor || cur != currency {
            return Err(StoreError::Refused {
                field: "amount",
                message: format!("The payment ({amount_minor} {currency}) does not match the order total ({total} {cur})"),
            });
        }
        let provider_name = provider.to_string();
        let steps = [(Action::Pay, Actor::System)];
        let change = move |o: &mut Order| {
            o.paid_minor = o.total_minor;
            o.paid_at = Some(now);
            o.payment_provider = Some(provider_name.clone());
            Ok(Effects { payment: Some(o.total_minor), ..Effects::default() })
        };
        let o = take_steps!(tx, id, &steps, None::<AccountId>, None::<&str>, now, change);
        crate::invoices::issue_in!(tx, crate::invoices::Kind::Invoice, &o, None, now);
        sqlx::query("UPDATE payment_events SET outcome = 'credited' WHERE provider = $1 AND event_id = $2")
            .bind(provider).bind(provider_event_id).execute(&mut *tx).await?;
        tx.commit().await?;
        Ok::<_, StoreError>(Confirmed::Credited)
    }
    .await);
    match r {
        // A racing notification for the same reference committed first.
        Err(StoreError::Rule(_)) => Ok(Confirmed::AlreadyPaid),
        // The same event id raced in; the other one holds it.
        Err(StoreError::Conflict(_)) => Ok(Confirmed::DuplicateEvent),
        other => other,
    }
}

/// The buyer answers the gig's questions; work starts and the clock runs.
pub async fn submit_requirements(db: &Db, id: OrderId, buyer: AccountId, answers: Vec<String>, now: DateTime<Utc>) -> StoreResult<Order> {
    step(db, id, &[(Action::SubmitRequirements, Actor::Buyer)], Some(buyer), None, now, move |o| {
        let pairs = gigstream_domain::gig::check_answers(&o.requirements.0, &answers)
            .map_err(|e| StoreError::Refused { field: "answers", message: e.0[0].message.clone() })?;
        o.answers = Some(Json(pairs));
        o.started_at = Some(now);
        o.due_at = Some(order::due_at(now, o.delivery_days));
        Ok(Effects::default())
    })
    .await
}

/// The seller delivers files and a message.
pub async fn deliver(
    db: &Db,
    id: OrderId,
    seller: AccountId,
    message: &str,
    files: Vec<DeliveredFile>,
    now: DateTime<Utc>,
) -> StoreResult<Order> {
    let message = message.trim().to_string();
    if message.is_empty() || message.chars().count() > 5_000 {
        return Err(StoreError::Refused {
            field: "message",
            message: "Write a message of up to 5,000 characters with the delivery".into(),
        });
    }
    step(db, id, &[(Action::Deliver, Actor::Seller)], Some(seller), None, now, move |o| {
        o.delivered_at = Some(now);
        if o.first_delivered_at.is_none() {
            o.first_delivered_at = Some(now);
            o.late = order::is_late(o.due_at, Some(now), now);
        }
        Ok(Effects { delivery: Some((message.clone(), files.clone())), ..Effects::default() })
    })
    .await
}

/// The buyer asks for a revision (while the package has some left).
pub async fn request_revision(db: &Db, id: OrderId, buyer: AccountId, note: &str, now: DateTime<Utc>) -> StoreResult<Order> {
    let note = required_note(note, "note")?;
    step(db, id, &[(Action::RequestRevision, Actor::Buyer)], Some(buyer), Some(&note), now, |o| {
        o.revisions_used += 1;
        Ok(Effects::default())
    })
    .await
}

/// The buyer accepts the delivery: the order completes and escrow is
/// released to the seller's pending earnings, minus the fees.
pub async fn accept(db: &Db, id: OrderId, buyer: AccountId, now: DateTime<Utc>) -> StoreResult<Order> {
    let steps = [(Action::Accept, Actor::Buyer), (Action::Release, Actor::System)];
    step(db, id, &steps, Some(buyer), None, now, move |o| {
        o.completed_at = Some(now);
        o.closed_at = Some(now);
        Ok(Effects { release: true, ..Effects::default() })
    })
    .await
}

/// Completes and releases every order delivered at least three days ago
/// (the `auto-complete` job). Returns how many.
pub async fn auto_complete(db: &Db, now: DateTime<Utc>) -> StoreResult<u64> {
    Ok(auto_completed(db, now).await?.len() as u64)
}

/// [`auto_complete`], returning the orders it completed (each committed
/// on its own), for the caller to tell their parties.
pub async fn auto_completed(db: &Db, now: DateTime<Utc>) -> StoreResult<Vec<Order>> {
    let before = now - chrono::Duration::days(order::AUTO_COMPLETE_AFTER_DAYS);
    let sql = "SELECT id FROM orders WHERE status = 'delivered' AND delivered_at <= $1 ORDER BY delivered_at LIMIT 500";
    let ids: Vec<OrderId> = on_pool!(db, p => sqlx::query_scalar(sql).bind(before).fetch_all(p).await?);
    let mut done = vec![];
    let steps = [(Action::AutoComplete, Actor::System), (Action::Release, Actor::System)];
    for id in ids {
        let r = step(db, id, &steps, None, None, now, move |o| {
            if !o.delivered_at.is_some_and(|d| order::auto_complete_due(d, now)) {
                return Err(crate::rule("not due"));
            }
            o.completed_at = Some(now);
            o.closed_at = Some(now);
            Ok(Effects { release: true, ..Effects::default() })
        })
        .await;
        match r {
            Ok(o) => done.push(o),
            // Someone acted on it meanwhile (accepted, asked for a revision).
            Err(StoreError::Rule(_)) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(done)
}

fn required_note(note: &str, field: &'static str) -> StoreResult<String> {
    let n = note.trim().to_string();
    if n.is_empty() || n.chars().count() > 2_000 {
        return Err(StoreError::Refused { field, message: "Say why, in up to 2,000 characters".into() });
    }
    Ok(n)
}

/// One side asks to cancel; the other side's cancel then completes it.
pub async fn request_cancel(db: &Db, id: OrderId, actor: Actor, who: AccountId, reason: &str, now: DateTime<Utc>) -> StoreResult<Order> {
    let reason = required_note(reason, "reason")?;
    step(db, id, &[(Action::RequestCancel, actor)], Some(who), Some(&reason), now, move |o| {
        o.cancel_requested_by = Some(actor);
        Ok(Effects::default())
    })
    .await
}

/// Cancels: before payment by either side; after it by an admin, or by one
/// side once the other has asked. A paid order is then refunded — all that
/// escrow holds, or (by an admin) `refund` of it, the rest released to the
/// seller. `request_key` makes a double submit refund once.
pub async fn cancel(
    db: &Db,
    id: OrderId,
    (actor, who): (Actor, AccountId),
    refund: Option<i64>,
    request_key: &str,
    reason: &str,
    now: DateTime<Utc>,
) -> StoreResult<Order> {
    if refund.is_some() && actor != Actor::Admin {
        return Err(StoreError::Refused { field: "amount", message: "Only an admin can cancel with a partial refund".into() });
    }
    let current = get(db, id).await?;
    let paid = current.paid_minor > 0;
    let mut steps = vec![(Action::Cancel, actor)];
    if paid {
        steps.push((Action::Refund, if actor == Actor::Admin { Actor::Admin } else { Actor::System }));
    }
    let key = request_key.to_string();
    let reason = reason.trim().to_string();
    let note_text = reason.clone();
    let note = (!note_text.is_empty()).then_some(note_text.as_str());
    step(db, id, &steps, Some(who), note, now, move |o| {
        o.closed_at = Some(now);
        if o.paid_minor == 0 {
            return Ok(Effects::default());
        }
        let amount = order::refund_amount(refund, o.paid_minor, o.refunded_minor, o.released_minor).map_err(escrow::refused)?;
        let rest = o.in_escrow() - amount;
        Ok(Effects { refund: Some((amount, key.clone(), reason.clone())), release: rest > 0, ..Effects::default() })
    })
    .await
}

/// An admin refunds part of a paid, open order (goodwill); the order goes
/// on. Never more than escrow still holds; once per request key.
pub async fn refund_part(
    db: &Db,
    id: OrderId,
    admin: AccountId,
    amount: i64,
    request_key: &str,
    reason: &str,
    now: DateTime<Utc>,
) -> StoreResult<Order> {
    let reason = required_note(reason, "reason")?;
    let note = reason.clone();
    let key = request_key.to_string();
    let open = [OrderStatus::Paid, OrderStatus::InProgress, OrderStatus::Delivered, OrderStatus::RevisionRequested, OrderStatus::Disputed];
    let r = on_pool!(db, p => async {
        let mut tx = p.begin_write().await?;
        let o: Order = load!(tx, id);
        if !open.contains(&o.status) {
            return Err(crate::rule(format!("You cannot refund part of an order that is {}.", o.status.words())));
        }
        let change = move |o: &mut Order| {
            let amount = order::refund_amount(Some(amount), o.paid_minor, o.refunded_minor, o.released_minor).map_err(escrow::refused)?;
            if amount == o.in_escrow() {
                return Err(StoreError::Refused { field: "amount", message: "To refund everything, cancel the order".into() });
            }
            Ok(Effects { refund: Some((amount, key.clone(), reason.clone())), ..Effects::default() })
        };
        let o = take_steps!(tx, id, &[], Some(admin), Some(note.as_str()), now, change);
        sqlx::query(
            "INSERT INTO order_events (order_id, action, actor, actor_id, from_status, to_status, note, amount_minor, created_at)
             VALUES ($1, 'refund', 'admin', $2, $3, $3, $4, $5, $6)",
        )
        .bind(o.id).bind(admin).bind(o.status.as_str()).bind(&note).bind(amount).bind(now)
        .execute(&mut *tx).await?;
        tx.commit().await?;
        Ok::<_, StoreError>(o)
    }
    .await);
    r
}

/// Either side opens a dispute; an admin resolves it.
pub async fn dispute(db: &Db, id: OrderId, actor: Actor, who: AccountId, reason: &str, now: DateTime<Utc>) -> StoreResult<Order> {
    let reason = required_note(reason, "reason")?;
    step(db, id, &[(Action::Dispute, actor)], Some(who), Some(&reason), now, |_| Ok(Effects::default())).await
}

/// How an admin settles a dispute.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case", tag = "outcome")]
pub enum Resolution {
    /// Everything escrow holds goes to the seller (minus fees).
    Release,
    /// Everything escrow holds goes back to the buyer.
    Refund,
    /// `refund_minor` back to the buyer, the rest to the seller.
    Split { refund_minor: i64 },
}

pub async fn resolve(
    db: &Db,
    id: OrderId,
    admin: AccountId,
    resolution: Resolution,
    request_key: &str,
    note: &str,
    now: DateTime<Utc>,
) -> StoreResult<Order> {
    let note = required_note(note, "note")?;
    let key = request_key.to_string();
    let action = match resolution {
        Resolution::Release => Action::ResolveRelease,
        Resolution::Refund => Action::ResolveRefund,
        Resolution::Split { .. } => Action::ResolveSplit,
    };
    let reason = note.clone();
    step(db, id, &[(action, Actor::Admin)], Some(admin), Some(&note), now, move |o| {
        o.closed_at = Some(now);
        o.completed_at = Some(now);
        let refund = match resolution {
            Resolution::Release => None,
            Resolution::Refund => {
                Some(order::refund_amount(None, o.paid_minor, o.refunded_minor, o.released_minor).map_err(escrow::refused)?)
            }
            Resolution::Split { refund_minor } => {
                let amount =
                    order::refund_amount(Some(refund_minor), o.paid_minor, o.refunded_minor, o.released_minor).map_err(escrow::refused)?;
                if amount == o.in_escrow() {
                    return Err(StoreError::Refused {
                        field: "amount",
                        message: "A split leaves something for the seller; use refund".into(),
                    });
                }
                Some(amount)
            }
        };
        let rest = o.in_escrow() - refund.unwrap_or(0);
        Ok(Effects { refund: refund.map(|a| (a, key.clone(), reason.clone())), release: rest > 0, ..Effects::default() })
    })
    .await
}

pub async fn get(db: &Db, id: OrderId) -> StoreResult<Order> {
    let sql = format!("SELECT {COLUMNS} FROM orders WHERE id = $1");
    on_pool!(db, p => sqlx::query_as(&sql).bind(id).fetch_optional(p).await?).ok_or(StoreError::NotFound)
}

pub async fn by_reference(db: &Db, reference: &str) -> StoreResult<Order> {
    let sql = format!("SELECT {COLUMNS} FROM orders WHERE payment_reference = $1");
    on_pool!(db, p => sqlx::query_as(&sql).bind(reference).fetch_optional(p).await?).ok_or(StoreError::NotFound)
}

/// An account's orders as buyer or as seller, newest first.
pub async fn for_account(db: &Db, account: AccountId, as_seller: bool, limit: i64) -> StoreResult<Vec<Order>> {
    let col = if as_seller { "seller_id" } else { "buyer_id" };
    let sql = format!("SELECT {COLUMNS} FROM orders WHERE {col} = $1 ORDER BY created_at DESC, id DESC LIMIT $2");
    Ok(on_pool!(db, p => sqlx::query_as(&sql).bind(account).bind(limit).fetch_all(p).await?))
}

/// The order's timeline, oldest first.
pub async fn timeline(db: &Db, id: OrderId) -> StoreResult<Vec<Event>> {
    let sql = "SELECT seq, action, actor, from_status, to_status, note, amount_minor, created_at FROM order_events
               WHERE order_id = $1 ORDER BY seq";
    Ok(on_pool!(db, p => sqlx::query_as(sql).bind(id).fetch_all(p).await?))
}

/// The order's deliveries, oldest (version 1) first.
pub async fn deliveries(db: &Db, id: OrderId) -> StoreResult<Vec<Delivery>> {
    let sql = "SELECT id, message, files, created_at FROM deliveries WHERE order_id = $1 ORDER BY created_at, id";
    let mut rows: Vec<Delivery> = on_pool!(db, p => sqlx::query_as(sql).bind(id).fetch_all(p).await?);
    for (n, d) in rows.iter_mut().enumerate() {
        d.version = n as i64 + 1;
    }
    Ok(rows)
}

/// Whether `key` is a file delivered on an order `account` is the buyer
/// or the seller of (nobody else, admins included).
pub async fn delivered_file_visible(db: &Db, key: &str, account: AccountId) -> StoreResult<bool> {
    let sql = "SELECT d.files, o.buyer_id, o.seller_id FROM deliveries d JOIN orders o ON o.id = d.order_id
               WHERE CAST(d.files AS TEXT) LIKE $1";
    let rows: Vec<(Json<Vec<DeliveredFile>>, AccountId, AccountId)> =
        on_pool!(db, p => sqlx::query_as(sql).bind(format!("%{key}%")).fetch_all(p).await?);
    Ok(rows.iter().any(|(files, b, s)| files.0.iter().any(|f| f.key == key) && (*b == account || *s == account)))
}
