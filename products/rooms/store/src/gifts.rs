//! Gifts (requirements 5.2, 9): the catalogue, sending a gift to one or
//! several seat holders, the BR-1 split through the ledger, gift history,
//! per-period counters for rankings, and levels.
//!
//! A gift is accepted and credited in one transaction with the other
//! requests of its batch ([`accept_many`], every request on a node goes
//! through it): the sender is debited into one of 64 escrow wallets (one
//! ledger transfer into the batch's escrow shard, each sender's debits
//! summed into one leg, named by each gift's `escrow_posting`), a
//! `gift_sends` row records each gift with its BR-1 split (receiver, room
//! owner, agency, platform) — unique per sender, key and recipient, so a
//! retried request changes nothing —, the counters move, and the batch's
//! shares are paid in the same transaction as a credit batch: per wallet
//! the sum of its gifts' shares, out of the same escrow shard (one coin
//! transfer keyed `gift_credit:<batch>` and one diamond transfer keyed
//! `gift_credit_diamonds:<batch>`, the batch their reference, recorded in
//! `gift_credit_batches` with its totals). The rows are inserted with
//! `credit_batch` and `credited_at` set, so no row is updated after its
//! insert, and the answer comes after the shares are credited. The escrow
//! shard's two legs cancel: its row is locked with the batch's other
//! wallets but not written. A gift's ledger story reads as before: from the
//! gift its `escrow_posting` (the sender's debit) and its `credit_batch`
//! (the shares), which `rooms check` holds against the ledger.
//!
//! A gift accepted on its own ([`accept`]: a batch that failed as a whole,
//! or [`send`]) is debited into escrow with `credited_at` empty and
//! credited later by [`credit_pending`] (run by the node's credit writer
//! after such a gift, and by the `gift_credits` job for whatever a stopped
//! node or an older version left): one transaction takes the waiting gifts,
//! posts the same credit batch, and marks each gift with it — exactly once,
//! since a gift is marked only in the transaction that pays it.
//!
//! **Hot rows.** Nothing an accepted gift writes is one row per room: the
//! room's totals and rankings are `gift_counters` rows keyed by (board,
//! period, subject, shard) — a lone gift's shard taken from its request
//! key, a batch's lent to it for its transaction ([`CounterShard`]) — so
//! gifts written at once into one room add to different rows (up to
//! sixteen), not one, and a board reads the sum over the shards; the cost
//! goes to one of 64 escrow wallets picked by the key (a batch's first);
//! `gift_sends` and the outboxes are append-only. The wallets all of a
//! room's gifts pay into — the owner's, each receiver's, the agency's
//! and a treasury shard (by the credit batch's id) — are written once per
//! accept batch, not once per gift, as the batch's last statements before
//! its events and commit: concurrent batches into one room wait for each
//! other only there, from the ledger's lock read to the commit.
//!
//! **Lock order.** Both transactions move money last, all of their
//! transfers in one `transfers_in` call, which locks every wallet they
//! touch in id order before the first leg. Every other posting of two or
//! more transfers goes the same way (one transfer locks its own legs in id
//! order), so no two transactions wait on each other in a cycle.

use crate::economy::{self, account_wallet_in, book, coins, diamonds, AGENCY};
use crate::{on_pool, refused, BeginWrite, Db, StoreError, StoreResult};
use chrono::{DateTime, Utc};
use platform_ledger::{wallets, Amount, Leg, Transfer, Transferred, WalletId};
use rooms_domain::economy::{self as rules, SplitRates};
use rooms_domain::ids::{AccountId, AgencyId, GiftCreditId, GiftId, GiftSendId, RoomId};
use rooms_domain::progress::{Period, RankingClock, Track};
use serde::Serialize;
use serde_json::json;
use std::collections::BTreeMap;

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Gift {
    pub id: GiftId,
    pub code: String,
    pub name: String,
    pub category: String,
    pub rarity: String,
    pub price: i64,
    pub wealth_pct: i64,
    pub charm_pct: i64,
    pub animation: String,
    pub active: bool,
    pub sort: i64,
    /// The lowest VIP tier that may send it (0: everyone).
    pub min_vip: i64,
}

const GIFT_COLUMNS: &str = "id, code, name, category, rarity, price, wealth_pct, charm_pct, animation, active, sort, min_vip";

pub struct NewGift<'a> {
    pub code: &'a str,
    pub name: &'a str,
    pub category: &'a str,
    pub rarity: &'a str,
    pub price: i64,
    pub wealth_pct: i64,
    pub charm_pct: i64,
    pub animation: &'a str,
    pub sort: i64,
    /// The lowest VIP tier that may send it (0: everyone).
    pub min_vip: i64,
}

impl<'a> NewGift<'a> {
    /// A common gift of the classic category for everyone, first in its
    /// category, whose price counts in full towards wealth and charm, with
    /// the animation named by its code; other fields by struct update
    /// (`NewGift { min_vip: 3, ..NewGift::plain("crown", "Crown", 100) }`).
    pub fn plain(code: &'a str, name: &'a str, price: i64) -> NewGift<'a> {
        NewGift {
            code,
            name,
            category: "classic",
            rarity: "common",
            price,
            wealth_pct: 100,
            charm_pct: 100,
            animation: code,
            sort: 0,
            min_vip: 0,
        }
    }
}

pub async fn create_gift(db: &Db, g: &NewGift<'_>) -> StoreResult<GiftId> {
    if g.price < 1 {
        return Err(StoreError::Refused { field: "price", message: "A gift costs at least 1 coin".into() });
    }
    if !(0..=rooms_domain::vip::TOP_TIER).contains(&g.min_vip) {
        return Err(StoreError::Refused { field: "min_vip", message: format!("0 (everyone) to {}", rooms_domain::vip::TOP_TIER) });
    }
    let id = GiftId::new();
    on_pool!(db, p => sqlx::query(
        "INSERT INTO gifts (id, code, name, category, rarity, price, wealth_pct, charm_pct, animation, active, sort, min_vip)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, TRUE, $10, $11)")
        .bind(id).bind(g.code).bind(g.name).bind(g.category).bind(g.rarity).bind(g.price).bind(g.wealth_pct).bind(g.charm_pct)
        .bind(g.animation).bind(g.sort).bind(g.min_vip).execute(p).await?.rows_affected());
    Ok(id)
}

/// The active catalogue, by category then order.
pub async fn catalogue(db: &Db) -> StoreResult<Vec<Gift>> {
    let sql = format!("SELECT {GIFT_COLUMNS} FROM gifts WHERE active ORDER BY category, sort, price");
    Ok(on_pool!(db, p => sqlx::query_as::<_, Gift>(&sql).fetch_all(p).await?))
}

/// Every gift, active or not, as of `version` (the `gifts` row of
/// `cache_versions`, read by the caller): this node's copy when it is of
/// that version, else read again and kept.
async fn all_gifts_at(db: &Db, version: i64) -> StoreResult<std::sync::Arc<Vec<Gift>>> {
    CATALOGUE
        .at_or_read(db, version, || async {
            let sql = format!("SELECT {GIFT_COLUMNS} FROM gifts");
            Ok(on_pool!(db, p => sqlx::query_as::<_, Gift>(&sql).fetch_all(p).await?))
        })
        .await
}

static CATALOGUE: crate::node_cache::PerDb<crate::node_cache::Versioned<Vec<Gift>>> = crate::node_cache::PerDb::new();

pub async fn gift(db: &Db, id: GiftId) -> StoreResult<Gift> {
    let sql = format!("SELECT {GIFT_COLUMNS} FROM gifts WHERE id = $1");
    on_pool!(db, p => sqlx::query_as::<_, Gift>(&sql).bind(id).fetch_optional(p).await?).ok_or(StoreError::NotFound)
}

/// Makes `who` a member of a new agency named `name` owned by `owner`
/// (the minimal membership the split needs), or of `agency` when given.
pub async fn create_agency(db: &Db, name: &str, owner: AccountId, now: DateTime<Utc>) -> StoreResult<AgencyId> {
    let id = AgencyId::new();
    on_pool!(db, p => sqlx::query("INSERT INTO agencies (id, name, owner_id, created_at) VALUES ($1, $2, $3, $4)")
        .bind(id).bind(name).bind(owner).bind(now).execute(p).await?.rows_affected());
    Ok(id)
}

pub async fn join_agency(db: &Db, agency: AgencyId, who: AccountId, now: DateTime<Utc>) -> StoreResult<()> {
    on_pool!(db, p => async {
        let mut tx = p.begin_write().await?;
        sqlx::query("INSERT INTO agency_members (account_id, agency_id, joined_at) VALUES ($1, $2, $3)")
            .bind(who).bind(agency).bind(now).execute(&mut *tx).await?;
        sqlx::query("UPDATE agencies SET member_count = member_count + 1 WHERE id = $1").bind(agency).execute(&mut *tx).await?;
        tx.commit().await?;
        Ok::<(), StoreError>(())
    }
    .await)
}

/// Who receives a send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Recipients {
    /// These seat holders (one or several).
    Seated(Vec<AccountId>),
    /// Everyone on a seat but the sender.
    AllSeated,
}

pub struct SendGift<'a> {
    pub sender: AccountId,
    pub room: RoomId,
    pub gift: GiftId,
    pub recipients: Recipients,
    pub quantity: i64,
    /// The combo count the client shows (1 for a single send).
    pub combo: i64,
    /// The client's idempotency key: a retry with it sends nothing again.
    pub key: &'a str,
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct GiftSend {
    pub seq: i64,
    pub id: GiftSendId,
    pub sender_id: AccountId,
    pub recipient_id: AccountId,
    pub room_id: RoomId,
    pub owner_id: AccountId,
    pub gift_id: GiftId,
    pub quantity: i64,
    pub combo: i64,
    pub unit_price: i64,
    pub cost: i64,
    pub owner_share: i64,
    pub receiver_share: i64,
    pub receiver_unit: String,
    pub agency_id: Option<AgencyId>,
    pub agency_share: i64,
    pub platform_share: i64,
    pub wealth_xp: i64,
    pub charm_xp: i64,
    pub created_at: DateTime<Utc>,
}

const SEND_COLUMNS: &str = "seq, id, sender_id, recipient_id, room_id, owner_id, gift_id, quantity, combo, unit_price, cost, owner_share, \
                            receiver_share, receiver_unit, agency_id, agency_share, platform_share, wealth_xp, charm_xp, created_at";

#[derive(Debug, Clone, Serialize)]
pub struct Sent {
    pub sends: Vec<GiftSend>,
    /// The request key was used before: these are the first request's
    /// sends and nothing moved now.
    pub duplicate: bool,
    /// The sender's coins after.
    pub balance: i64,
    /// The shares were credited in the transaction that accepted the gift
    /// ([`accept_many`]); when false (accepted on its own by [`accept`], or
    /// a retry's answer) [`credit_pending`] credits them, if not done yet.
    #[serde(skip)]
    pub credited: bool,
}

/// Economy settings a send reads.
#[derive(Debug, Clone, Copy, Default)]
pub struct Settings {
    pub rates: SplitRates,
    pub clock: RankingClock,
}

async fn sends_for_key(db: &Db, sender: AccountId, key: &str) -> StoreResult<Vec<GiftSend>> {
    let sql = format!("SELECT {SEND_COLUMNS} FROM gift_sends WHERE sender_id = $1 AND request_key = $2 ORDER BY seq");
    Ok(on_pool!(db, p => sqlx::query_as::<_, GiftSend>(&sql).bind(sender).bind(key).fetch_all(p).await?))
}

/// One counter increment.
type CounterKey = (&'static str, String, String);

/// Adds `(key, shard, amount, gifts)` rows to `gift_counters` in the
/// transaction, 200 rows a statement, in the order given (the caller's
/// lock order). The one upsert behind a single accept and a batch.
macro_rules! add_counters {
    ($tx:expr, $rows:expr, $now:expr) => {{
        let rows: Vec<(&CounterKey, i64, i64, i64)> = $rows;
        for chunk in rows.chunks(200) {
            let values = (0..chunk.len())
                .map(|i| {
                    let b = i * 6;
                    format!("(${}, ${}, ${}, ${}, ${}, ${}, ${})", b + 1, b + 2, b + 3, b + 4, b + 5, b + 6, chunk.len() * 6 + 1)
                })
                .collect::<Vec<_>>()
                .join(", ");
            let sql = format!(
                "INSERT INTO gift_counters (board, period, subject, shard, amount, gifts, last_at) VALUES {values}
                 ON CONFLICT (board, period, subject, shard) DO UPDATE SET amount = gift_counters.amount + excluded.amount,
                   gifts = gift_counters.gifts + excluded.gifts, last_at = excluded.last_at"
            );
            let mut q = sqlx::query(&sql);
            for ((board, period, subject), shard, amount, n) in chunk {
                q = q.bind(*board).bind(period.as_str()).bind(subject.as_str()).bind(*shard).bind(*amount).bind(*n);
            }
            q.bind($now).execute(&mut *$tx).await?;
        }
    }};
}

/// One `gift_sends` row to write: a request's gift to one recipient.
struct NewSend<'a> {
    id: GiftSendId,
    sender: AccountId,
    key: &'a str,
    recipient: AccountId,
    room: RoomId,
    owner: AccountId,
    gift: &'a Gift,
    quantity: i64,
    combo: i64,
    agency: Option<AgencyId>,
    split: rules::Split,
    wealth_xp: i64,
    charm_xp: i64,
    /// The idempotency key of the batch's escrow transfer that debits it
    /// ([`accept_many`]); `None` when it has a transfer of its own.
    posting: Option<String>,
    /// The credit batch that pays its shares in the same transaction
    /// ([`accept_many`]); `None` when [`credit_pending`] credits it later.
    credit: Option<GiftCreditId>,
}

impl<'a> NewSend<'a> {
    /// The row of `s`'s gift `g` (costing `cost` a recipient) to `recipient`.
    fn of(
        s: &SendGift<'a>,
        g: &'a Gift,
        owner: AccountId,
        cost: i64,
        recipient: AccountId,
        agency: Option<AgencyId>,
        rates: SplitRates,
    ) -> Self {
        NewSend {
            id: GiftSendId::new(),
            sender: s.sender,
            key: s.key,
            recipient,
            room: s.room,
            owner,
            gift: g,
            quantity: s.quantity,
            combo: s.combo.clamp(1, 100_000),
            agency,
            split: rules::split(cost, agency.is_some(), rates),
            wealth_xp: rules::xp(cost, g.wealth_pct),
            charm_xp: rules::xp(cost, g.charm_pct),
            posting: None,
            credit: None,
        }
    }

    /// An agency member's share is paid in diamonds.
    fn unit(&self) -> &'static str {
        if self.agency.is_some() {
            economy::DIAMONDS
        } else {
            economy::COINS
        }
    }

    /// Adds this send to the counters, on `shard`; `keys` are the periods'
    /// keys at the time of the sends ([`period_keys`]).
    fn count(&self, counters: &mut BTreeMap<(CounterKey, i64), (i64, i64)>, keys: &[String], shard: i64) {
        let mut one: BTreeMap<CounterKey, (i64, i64)> = BTreeMap::new();
        // XP is read only all-time (levels, VIP, `rooms check`), so its
        // boards have no daily, weekly or monthly rows.
        let all = keys.iter().position(|k| k == ALL_TIME).map_or(&keys[..0], |i| &keys[i..=i]);
        count(&mut one, keys, "wealth", self.sender.to_string(), self.split.cost);
        count(&mut one, all, "wealth_xp", self.sender.to_string(), self.wealth_xp);
        count(&mut one, keys, "charm", self.recipient.to_string(), self.split.cost);
        count(&mut one, all, "charm_xp", self.recipient.to_string(), self.charm_xp);
        count(&mut one, keys, "room", self.room.to_string(), self.split.cost);
        if let Some(a) = self.agency {
            count(&mut one, keys, "agency", a.to_string(), self.split.agency);
            count(&mut one, keys, "diamonds", self.recipient.to_string(), self.split.receiver);
        }
        for (k, (amount, n)) in one {
            let e = counters.entry((k, shard)).or_insert((0, 0));
            e.0 += amount;
            e.1 += n;
        }
    }

    /// The escrow transfer's idempotency key and reference.
    fn transfer_key(&self) -> (String, String) {
        (format!("{}:{}:{}:{}", economy::GIFT, self.sender, self.key, self.recipient), self.id.to_string())
    }
}

/// The level tracks the sends move, each once, in lock order: the
/// senders' wealth, the rooms, the recipients' charm.
fn level_tracks(rows: &[NewSend<'_>]) -> Vec<(Track, &'static str, String, Option<RoomId>)> {
    let mut tracks: BTreeMap<(&'static str, String), (Track, &'static str, RoomId)> = BTreeMap::new();
    for x in rows {
        tracks.entry((Track::Wealth.as_str(), x.sender.to_string())).or_insert((Track::Wealth, "wealth_xp", x.room));
        tracks.entry((Track::Room.as_str(), x.room.to_string())).or_insert((Track::Room, "room", x.room));
        tracks.entry((Track::Charm.as_str(), x.recipient.to_string())).or_insert((Track::Charm, "charm_xp", x.room));
    }
    tracks.into_iter().map(|((_, subject), (track, board, room))| (track, board, subject, Some(room))).collect()
}

/// Inserts the sends (500 rows a statement) and evaluates to the rows
/// written, in the order given.
macro_rules! insert_sends {
    ($tx:expr, $rows:expr, $now:expr) => {{
        let rows: &[NewSend<'_>] = $rows;
        let mut inserted: BTreeMap<GiftSendId, GiftSend> = BTreeMap::new();
        for chunk in rows.chunks(500) {
            let values = (0..chunk.len()).map(|k| format!("({})", platform_db::placeholders(k * 23 + 1, 23))).collect::<Vec<_>>().join(", ");
            let sql = format!(
                "INSERT INTO gift_sends (id, sender_id, request_key, recipient_id, room_id, owner_id, gift_id, quantity, combo, unit_price, cost,
                   owner_share, receiver_share, receiver_unit, agency_id, agency_share, platform_share, wealth_xp, charm_xp, created_at, escrow_posting,
                   credit_batch, credited_at)
                 VALUES {values} RETURNING {SEND_COLUMNS}"
            );
            let mut q = sqlx::query_as::<_, GiftSend>(&sql);
            for x in chunk {
                q = q.bind(x.id).bind(x.sender).bind(x.key).bind(x.recipient).bind(x.room).bind(x.owner).bind(x.gift.id).bind(x.quantity)
                    .bind(x.combo).bind(x.gift.price).bind(x.split.cost).bind(x.split.owner).bind(x.split.receiver)
                    .bind(x.unit()).bind(x.agency).bind(x.split.agency).bind(x.split.platform).bind(x.wealth_xp).bind(x.charm_xp).bind($now).bind(x.posting.as_deref())
                    .bind(x.credit).bind(x.credit.map(|_| $now));
            }
            for row in q.fetch_all(&mut *$tx).await? {
                inserted.insert(row.id, row);
            }
        }
        let mut out: Vec<GiftSend> = Vec::with_capacity(rows.len());
        for x in rows {
            out.push(inserted.remove(&x.id).ok_or_else(|| StoreError::Invalid("a gift send was not returned".into()))?);
        }
        out
    }};
}

/// One accepted request as its events tell it.
struct Told<'a> {
    sender: AccountId,
    room: RoomId,
    gift: &'a Gift,
    quantity: i64,
    combo: i64,
    /// The whole request's cost (every recipient's).
    total: i64,
    sends: &'a [GiftSend],
}

/// The events of accepted requests, in their order: one `gifts` frame
/// per room (`{"gifts": [...]}`, each item what the animation and the
/// totals need) and one `gifts_received` per recipient (`{"gifts":
/// [{from, gift, quantity, room}]}`). Pure: [`gift_events`] writes them.
#[allow(clippy::type_complexity)]
fn gift_frames(
    told: &[Told<'_>],
    names: &BTreeMap<AccountId, String>,
) -> (Vec<(RoomId, serde_json::Value)>, Vec<(AccountId, serde_json::Value)>) {
    let name_of = |a: &AccountId| names.get(a).cloned().unwrap_or_default();
    let mut rooms: Vec<(RoomId, Vec<serde_json::Value>)> = vec![];
    let mut people: BTreeMap<AccountId, Vec<serde_json::Value>> = BTreeMap::new();
    for t in told {
        let to: Vec<serde_json::Value> = t
            .sends
            .iter()
            .map(|x| json!({"account": x.recipient_id, "name": name_of(&x.recipient_id), "cost": x.cost, "share": x.receiver_share, "unit": x.receiver_unit}))
            .collect();
        let item = json!({
            "sender": t.sender, "sender_name": name_of(&t.sender), "gift": t.gift.code, "gift_name": t.gift.name, "rarity": t.gift.rarity,
            "animation": t.gift.animation, "quantity": t.quantity, "combo": t.combo, "cost": t.total, "to": to,
        });
        match rooms.iter_mut().find(|(r, _)| *r == t.room) {
            Some((_, list)) => list.push(item),
            None => rooms.push((t.room, vec![item])),
        }
        for x in t.sends {
            people
                .entry(x.recipient_id)
                .or_default()
                .push(json!({"from": t.sender, "gift": t.gift.code, "quantity": t.quantity, "room": t.room}));
        }
    }
    (
        rooms.into_iter().map(|(r, list)| (r, json!({ "gifts": list }))).collect(),
        people.into_iter().map(|(a, list)| (a, json!({ "gifts": list }))).collect(),
    )
}

/// Writes the events of accepted requests in the transaction, with a fixed
/// number of statements whatever their count: the names (one read), the
/// rooms' `gifts` frames (one insert), the senders' balances (one read) and
/// the recipients' `gifts_received` with the senders' `balance` (one insert).
macro_rules! gift_events {
    ($tx:expr, $told:expr, $now:expr) => {{
        let told: &[Told<'_>] = $told;
        let mut named: Vec<AccountId> =
            told.iter().flat_map(|t| std::iter::once(t.sender).chain(t.sends.iter().map(|x| x.recipient_id))).collect();
        named.sort();
        named.dedup();
        if !told.is_empty() {
            let sql = format!("SELECT id, display_name FROM accounts WHERE id IN ({})", platform_db::placeholders(1, named.len()));
            let mut q = sqlx::query_as::<_, (AccountId, String)>(&sql);
            for a in &named {
                q = q.bind(*a);
            }
            let names: BTreeMap<AccountId, String> = q.fetch_all(&mut *$tx).await?.into_iter().collect();
            gift_events_named!($tx, told, &names, &[], $now);
        }
    }};
}

/// [`gift_events!`] with the names read already, and a `balance` event
/// also for each of `$also` (the accounts the transaction credited), in
/// the same read and insert; evaluates to the coins after the
/// transaction's transfers of the senders and of `$also` (read for their
/// `balance` events).
macro_rules! gift_events_named {
    ($tx:expr, $told:expr, $names:expr, $also:expr, $now:expr) => {{
        let told: &[Told<'_>] = $told;
        let names: &BTreeMap<AccountId, String> = $names;
        let also: &[AccountId] = $also;
        let mut senders: Vec<AccountId> = told.iter().map(|t| t.sender).chain(also.iter().copied()).collect();
        senders.sort();
        senders.dedup();
        let mut coins_after: BTreeMap<AccountId, i64> = BTreeMap::new();
        if !told.is_empty() {
            let (room_frames, user_frames) = gift_frames(told, names);
            let values = (0..room_frames.len())
                .map(|i| format!("(${}, 'gifts', ${}, ${})", i * 2 + 1, i * 2 + 2, room_frames.len() * 2 + 1))
                .collect::<Vec<_>>()
                .join(", ");
            let sql = format!("INSERT INTO room_events (room_id, kind, payload, created_at) VALUES {values}");
            let mut q = sqlx::query(&sql);
            for (room, data) in &room_frames {
                q = q.bind(*room).bind(data.to_string());
            }
            q.bind($now).execute(&mut *$tx).await?;
            // The senders' coins and diamonds, for their `balance` events.
            let balances = economy::balances_in!($tx, &senders);
            let mut rows: Vec<(AccountId, &'static str, String)> =
                user_frames.iter().map(|(a, d)| (*a, "gifts_received", d.to_string())).collect();
            for (a, b) in balances {
                coins_after.insert(a, b.coins);
                rows.push((a, "balance", json!({"coins": b.coins, "diamonds": b.diamonds}).to_string()));
            }
            for chunk in rows.chunks(500) {
                let values = (0..chunk.len())
                    .map(|i| format!("(${}, ${}, ${}, ${})", i * 3 + 1, i * 3 + 2, i * 3 + 3, chunk.len() * 3 + 1))
                    .collect::<Vec<_>>()
                    .join(", ");
                let sql = format!("INSERT INTO user_events (account_id, kind, payload, created_at) VALUES {values}");
                let mut q = sqlx::query(&sql);
                for (a, kind, data) in chunk {
                    q = q.bind(*a).bind(*kind).bind(data.as_str());
                }
                q.bind($now).execute(&mut *$tx).await?;
            }
        }
        coins_after
    }};
}

fn count(counters: &mut BTreeMap<CounterKey, (i64, i64)>, keys: &[String], board: &'static str, subject: String, amount: i64) {
    if amount <= 0 {
        return;
    }
    for key in keys {
        let e = counters.entry((board, key.clone(), subject.clone())).or_insert((0, 0));
        e.0 += amount;
        e.1 += 1;
    }
}

/// The all-time period's counter key.
const ALL_TIME: &str = "all";

/// Every period's key at `now` (one counter row per period and subject),
/// worked out once for all the sends written at `now`.
fn period_keys(clock: &RankingClock, now: DateTime<Utc>) -> Vec<String> {
    Period::ALL.iter().map(|p| clock.key(*p, now)).collect()
}

/// The seat holders a send goes to, from who holds a seat now (in seat
/// order): `not_to_self`, `not_on_seat`, `no_recipients`, or more than
/// [`rules::MAX_RECIPIENTS`].
fn pick_recipients(sender: AccountId, wanted: &Recipients, seated: &[AccountId]) -> StoreResult<Vec<AccountId>> {
    let recipients: Vec<AccountId> = match wanted {
        Recipients::AllSeated => seated.iter().copied().filter(|a| *a != sender).collect(),
        Recipients::Seated(list) => {
            let mut out: Vec<AccountId> = vec![];
            for a in list {
                if *a == sender {
                    return Err(refused("not_to_self", "You cannot send a gift to yourself"));
                }
                if !seated.contains(a) {
                    return Err(refused("not_on_seat", "Gifts go to people on a seat"));
                }
                if !out.contains(a) {
                    out.push(*a);
                }
            }
            out
        }
    };
    if recipients.is_empty() {
        return Err(refused("no_recipients", "Nobody on a seat to send to"));
    }
    if recipients.len() > rules::MAX_RECIPIENTS {
        return Err(StoreError::Refused { field: "recipients", message: format!("At most {} recipients", rules::MAX_RECIPIENTS) });
    }
    Ok(recipients)
}

/// Sends a gift and credits it: [`accept`], then [`credit_pending`] (which
/// credits this gift and any other waiting, in batches). Callers on a busy
/// path accept only and let the batched writer credit.
pub async fn send(db: &Db, s: &SendGift<'_>, settings: &Settings, now: DateTime<Utc>) -> StoreResult<Sent> {
    let sent = accept(db, s, settings, now).await?;
    if !sent.duplicate && !sent.credited {
        credit_pending(db, now).await?;
    }
    Ok(sent)
}

/// Accepts a gift: see the module documentation. Refusals: `gift_unavailable`,
/// `vip_required` (a VIP-only gift from a sender below its tier),
/// `not_in_room`, `not_on_seat`, `no_recipients`, `not_to_self`; too few
/// coins → `Insufficient` with the whole send's cost, nothing written.
/// The sender is debited into an escrow wallet; the shares are credited by
/// [`credit_pending`].
pub async fn accept(db: &Db, s: &SendGift<'_>, settings: &Settings, now: DateTime<Utc>) -> StoreResult<Sent> {
    if s.key.trim().is_empty() || s.key.len() > 100 {
        return Err(StoreError::Refused { field: "idempotency_key", message: "1 to 100 characters".into() });
    }
    let earlier = sends_for_key(db, s.sender, s.key).await?;
    if !earlier.is_empty() {
        return Ok(Sent { sends: earlier, duplicate: true, balance: economy::balances(db, s.sender).await?.coins, credited: false });
    }
    let g = gift(db, s.gift).await.map_err(|_| refused("gift_unavailable", "That gift is not available"))?;
    if !g.active {
        return Err(refused("gift_unavailable", "That gift is not available"));
    }
    if g.min_vip > 0 && !rooms_domain::vip::may_send(g.min_vip, crate::vip::tier_of(db, s.sender, now).await?) {
        return Err(refused("vip_required", format!("{} is a VIP gift: it opens at VIP {}.", g.name, g.min_vip)));
    }
    let cost = rules::gift_cost(g.price, s.quantity).map_err(|e| match e {
        rules::CostError::Quantity => StoreError::Refused { field: "quantity", message: format!("1 to {}", rules::MAX_QUANTITY) },
        rules::CostError::Overflow => StoreError::Refused { field: "quantity", message: "That is too many".into() },
    })?;
    let combo = s.combo.clamp(1, 100_000);
    let escrow = economy::system(db, &economy::escrow_shard(s.key)).await?;
    let ladders = crate::levels::ladders(db).await?;
    let outcome = on_pool!(db, p => async {
        let mut tx = p.begin_write().await?;
        let room: Option<(AccountId, String)> = sqlx::query_as("SELECT owner_id, status FROM rooms WHERE id = $1").bind(s.room).fetch_optional(&mut *tx).await?;
        let Some((owner, status)) = room else { return Err(StoreError::NotFound) };
        if status != "open" {
            return Err(refused("room_closed", "This room is closed"));
        }
        let present: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM room_participants WHERE room_id = $1 AND account_id = $2")
            .bind(s.room).bind(s.sender).fetch_one(&mut *tx).await?;
        if present == 0 {
            return Err(refused("not_in_room", "Join the room first"));
        }
        let seated: Vec<AccountId> = sqlx::query_scalar("SELECT occupant_id FROM seats WHERE room_id = $1 AND occupant_id IS NOT NULL ORDER BY seat_no")
            .bind(s.room).fetch_all(&mut *tx).await?;
        let recipients = pick_recipients(s.sender, &s.recipients, &seated)?;
        let total = cost * recipients.len() as i64;
        let sender_w = account_wallet_in(&mut *tx, s.sender, &coins(), now).await?;
        let available: i64 = sqlx::query_scalar("SELECT balance FROM wallets WHERE id = $1").bind(sender_w).fetch_one(&mut *tx).await?;
        if available < total {
            return Err(StoreError::Insufficient { required: total, available });
        }
        // Agency membership of each recipient; one past its notice no longer counts (6.5).
        let mut rows: Vec<NewSend<'_>> = vec![];
        for r in &recipients {
            let agency: Option<AgencyId> = sqlx::query_scalar(
                "SELECT m.agency_id FROM agency_members m JOIN agencies a ON a.id = m.agency_id
                 WHERE m.account_id = $1 AND a.status = 'active' AND (m.ends_at IS NULL OR m.ends_at > $2)")
                .bind(*r).bind(now).fetch_optional(&mut *tx).await?;
            rows.push(NewSend::of(s, &g, owner, cost, *r, agency, settings.rates));
        }
        let sends = insert_sends!(tx, &rows, now);
        // Counters: one statement, rows in key order (the lock order).
        let mut counters: BTreeMap<(CounterKey, i64), (i64, i64)> = BTreeMap::new();
        let shard = i64::from(rules::shard_of(s.key));
        let keys = period_keys(&settings.clock, now);
        for x in &rows {
            x.count(&mut counters, &keys, shard);
        }
        add_counters!(tx, counters.iter().map(|((k, shard), (amount, n))| (k, *shard, *amount, *n)).collect(), now);
        // Levels reached: each recorded and announced once.
        levels_reached_many!(tx, &ladders, &level_tracks(&rows), now);
        // Then the money: the sender's coins into one of the 64 escrow wallets
        // (by the key), the one row this transaction shares with other
        // senders, held from here to the commit (only the events follow). One transfer per
        // recipient, keyed by the sender, the request key and the recipient.
        let keys: Vec<(String, String)> = rows.iter().map(NewSend::transfer_key).collect();
        let transfers: Vec<Transfer> = rows
            .iter()
            .zip(&keys)
            .map(|(x, (key, reference))| Transfer {
                legs: vec![
                    Leg { wallet: sender_w, unit: coins(), delta: Amount(-x.split.cost) },
                    Leg { wallet: escrow, unit: coins(), delta: Amount(x.split.cost) },
                ],
                reason: economy::GIFT,
                reference: Some(reference),
                idempotency_key: key,
                created_by: None,
            })
            .collect();
        let done = book().transfers_in(&mut *tx, &transfers, now).await?;
        if done.iter().any(|d| matches!(d, Transferred::Duplicate)) {
            return Err(StoreError::Conflict("gift_sends request key".into()));
        }
        // The room sees the animation; each recipient hears of it. Written
        // after the money, right before the commit: an event's seq is taken
        // when it is written, and one taken before a wait for the escrow
        // shard would commit long after later seqs, past what listeners wait for.
        let told = [Told { sender: s.sender, room: s.room, gift: &g, quantity: s.quantity, combo, total, sends: &sends }];
        gift_events!(tx, &told, now);
        tx.commit().await?;
        Ok::<Vec<GiftSend>, StoreError>(sends)
    }
    .await);
    match outcome {
        Ok(sends) => Ok(Sent { sends, duplicate: false, balance: economy::balances(db, s.sender).await?.coins, credited: false }),
        // A retry that raced the first request: the first one's sends stand.
        Err(e @ (StoreError::Conflict(_) | StoreError::Insufficient { .. })) => {
            let earlier = sends_for_key(db, s.sender, s.key).await?;
            if earlier.is_empty() {
                Err(e)
            } else {
                Ok(Sent { sends: earlier, duplicate: true, balance: economy::balances(db, s.sender).await?.coins, credited: false })
            }
        }
        Err(e) => Err(e),
    }
}

/// A gift request its caller owns (for a queue of requests).
#[derive(Debug, Clone)]
pub struct GiftRequest {
    pub sender: AccountId,
    pub room: RoomId,
    pub gift: GiftId,
    pub recipients: Recipients,
    pub quantity: i64,
    pub combo: i64,
    pub key: String,
}

impl GiftRequest {
    pub fn as_send(&self) -> SendGift<'_> {
        SendGift {
            sender: self.sender,
            room: self.room,
            gift: self.gift,
            recipients: self.recipients.clone(),
            quantity: self.quantity,
            combo: self.combo,
            key: &self.key,
        }
    }
}

/// The ledger side of crediting `$rows` (gifts whose costs sit in their
/// escrow shards) as batch `$batch`, in the transaction: per wallet, the
/// sum of the gifts' shares — escrow shards debited by the costs; owners,
/// coin receivers, agencies and the treasury shard `$treasury` credited in
/// coins (an agency member's share returns to the treasury); receivers'
/// diamonds issued from the issuer shard `$issuer` — and the batch's
/// `gift_credit_batches` row with its totals. Each wallet is found once:
/// the escrow shards from this node's cache of system wallets, the others
/// in one statement by (kind, unit, owner); only a wallet not there yet is
/// opened (an upsert, which would otherwise be written every time).
/// Evaluates to the coin and diamond legs and the accounts credited; the
/// caller posts them ([`CreditKeys::transfers`]) with its other transfers.
macro_rules! credit_plan {
    ($tx:expr, $db:expr, $rows:expr, $batch:expr, $treasury:expr, $issuer:expr, $now:expr) => {{
        let rows: &[Pending] = $rows;
        let (db, batch, treasury, issuer, now): (&Db, GiftCreditId, WalletId, WalletId, DateTime<Utc>) = ($db, $batch, $treasury, $issuer, $now);
        let mut opened: BTreeMap<(&'static str, String, &'static str), WalletId> = BTreeMap::new();
        let mut wanted: std::collections::BTreeSet<(&'static str, &'static str, String)> = Default::default();
        for r in rows {
            let shard = escrow_of(r);
            if !opened.contains_key(&(wallets::SYSTEM, shard.clone(), economy::COINS)) {
                let w = economy::system(db, &shard).await?;
                opened.insert((wallets::SYSTEM, shard, economy::COINS), w);
            }
            if r.owner_share > 0 {
                wanted.insert((economy::ACCOUNT, economy::COINS, r.owner_id.to_string()));
            }
            if r.receiver_share > 0 {
                let unit = if r.receiver_unit == economy::DIAMONDS { economy::DIAMONDS } else { economy::COINS };
                wanted.insert((economy::ACCOUNT, unit, r.recipient_id.to_string()));
            }
            if let (Some(a), true) = (r.agency_id, r.agency_share > 0) {
                wanted.insert((AGENCY, economy::COINS, a.to_string()));
            }
        }
        if !wanted.is_empty() {
            let values = platform_db::value_tuples(1, 3, wanted.len());
            let sql = format!(
                "WITH v (k, u, o) AS (VALUES {values}) SELECT v.k, v.u, v.o, w.id FROM v JOIN wallets w ON w.owner_kind = v.k AND w.unit = v.u AND w.owner_id = v.o"
            );
            let mut q = sqlx::query_as::<_, (String, String, String, WalletId)>(&sql);
            for (kind, unit, owner) in &wanted {
                q = q.bind(*kind).bind(*unit).bind(owner.as_str());
            }
            for (kind, unit, owner, id) in q.fetch_all(&mut *$tx).await? {
                if let Some((k, u, _)) = wanted.iter().find(|(k, u, o)| *k == kind && *u == unit && *o == owner) {
                    opened.insert((*k, owner, *u), id);
                }
            }
        }
        for (k, u, o) in &wanted {
            if !opened.contains_key(&(*k, o.clone(), *u)) {
                let unit = if *u == economy::DIAMONDS { diamonds() } else { coins() };
                let w = wallets::open_in(&mut *$tx, k, o, &unit, now).await?.id;
                opened.insert((*k, o.clone(), *u), w);
            }
        }
        let wallet = |k: &'static str, o: String, u: &'static str| {
            opened.get(&(k, o, u)).copied().ok_or_else(|| StoreError::Invalid("a gift's wallet was not opened".into()))
        };
        let mut coin_legs: BTreeMap<WalletId, i64> = BTreeMap::new();
        let mut diamond_legs: BTreeMap<WalletId, i64> = BTreeMap::new();
        let mut told: std::collections::BTreeSet<AccountId> = Default::default();
        let (mut coins_total, mut diamonds_total) = (0i64, 0i64);
        for r in rows {
            let escrow = wallet(wallets::SYSTEM, escrow_of(r), economy::COINS)?;
            *coin_legs.entry(escrow).or_default() -= r.cost;
            coins_total += r.cost;
            if r.owner_share > 0 {
                let w = wallet(economy::ACCOUNT, r.owner_id.to_string(), economy::COINS)?;
                *coin_legs.entry(w).or_default() += r.owner_share;
                told.insert(r.owner_id);
            }
            if r.receiver_unit == economy::DIAMONDS {
                *coin_legs.entry(treasury).or_default() += r.receiver_share;
                if r.receiver_share > 0 {
                    let w = wallet(economy::ACCOUNT, r.recipient_id.to_string(), economy::DIAMONDS)?;
                    *diamond_legs.entry(w).or_default() += r.receiver_share;
                    *diamond_legs.entry(issuer).or_default() -= r.receiver_share;
                    diamonds_total += r.receiver_share;
                    told.insert(r.recipient_id);
                }
            } else if r.receiver_share > 0 {
                let w = wallet(economy::ACCOUNT, r.recipient_id.to_string(), economy::COINS)?;
                *coin_legs.entry(w).or_default() += r.receiver_share;
                told.insert(r.recipient_id);
            }
            if let (Some(a), true) = (r.agency_id, r.agency_share > 0) {
                let w = wallet(AGENCY, a.to_string(), economy::COINS)?;
                *coin_legs.entry(w).or_default() += r.agency_share;
            }
            *coin_legs.entry(treasury).or_default() += r.platform_share;
        }
        sqlx::query("INSERT INTO gift_credit_batches (id, gifts, coins, diamonds, created_at) VALUES ($1, $2, $3, $4, $5)")
            .bind(batch).bind(rows.len() as i64).bind(coins_total).bind(diamonds_total).bind(now).execute(&mut *$tx).await?;
        (coin_legs, diamond_legs, told)
    }};
}

/// A credit batch's reference (its id) and the idempotency keys of its
/// coin transfer ([`GIFT_CREDIT`]) and diamond transfer
/// ([`GIFT_CREDIT_DIAMONDS`]).
struct CreditKeys {
    reference: String,
    coins: String,
    diamonds: String,
}

impl CreditKeys {
    fn of(batch: GiftCreditId) -> Self {
        CreditKeys {
            reference: batch.to_string(),
            coins: format!("{GIFT_CREDIT}:{batch}"),
            diamonds: format!("{GIFT_CREDIT_DIAMONDS}:{batch}"),
        }
    }

    /// The batch's transfers: the coin legs and the diamond legs, each
    /// only when it moves something, the batch their reference.
    fn transfers(&self, coin_legs: &BTreeMap<WalletId, i64>, diamond_legs: &BTreeMap<WalletId, i64>) -> Vec<Transfer<'_>> {
        [(coin_legs, coins(), economy::GIFT, &self.coins), (diamond_legs, diamonds(), economy::GIFT_DIAMONDS, &self.diamonds)]
            .into_iter()
            .filter_map(|(m, unit, reason, key)| {
                let legs: Vec<Leg> =
                    m.iter().filter(|(_, d)| **d != 0).map(|(w, d)| Leg { wallet: *w, unit: unit.clone(), delta: Amount(*d) }).collect();
                (legs.len() >= 2).then_some(Transfer {
                    legs,
                    reason,
                    reference: Some(&self.reference),
                    idempotency_key: key,
                    created_by: None,
                })
            })
            .collect()
    }
}

/// The idempotency key of a batch's escrow transfer into its shard: the
/// batch (its first send's id) and the shard's wallet name (the credit
/// writer reads the shard back from it: [`escrow_of`]).
fn escrow_posting(batch: &str, shard: &str) -> String {
    format!("{}:{batch}:{shard}", economy::GIFT)
}

/// The most requests [`accept_many`] takes at once.
pub const ACCEPT_BATCH: usize = 128;

/// The counter shard a batch ([`accept_many`]) counts its gifts on, lent
/// to it until its transaction ends.
///
/// Taken from the batch's first key, as a lone gift's is, a sender's
/// counters would spread over all sixteen shards within a few batches,
/// and every fold ([`crate::leaderboards::fold`]) and level read sums a
/// subject's shards: under load, those reads took a third of the store's
/// time per gift. Lent instead: a batch takes the first shard no other batch
/// of this process holds, starting from one picked at random when the
/// process starts, so concurrent batches of a node never share a counter
/// row (nor wait there for each other's commit), and a subject's counters
/// gather on about as many shards as nodes run batches at once. Batches
/// of two nodes may meet on a shard; the later then waits for the
/// earlier's commit, as on any row both write.
#[derive(Debug)]
pub struct CounterShard {
    shard: u32,
    /// Whether this lease holds its shard (with every shard lent at once,
    /// the first is shared).
    held: bool,
}

/// The shards lent now, one bit each.
static LENT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
/// Where this process starts looking for a free shard.
static FIRST_SHARD: std::sync::OnceLock<u32> = std::sync::OnceLock::new();

impl CounterShard {
    /// The first shard free on this process, from the process's own start.
    pub fn lend() -> CounterShard {
        let first = *FIRST_SHARD.get_or_init(|| rand::random::<u32>() % rules::SHARDS);
        for i in 0..rules::SHARDS {
            let shard = (first + i) % rules::SHARDS;
            let bit = 1u32 << shard;
            if LENT.fetch_or(bit, std::sync::atomic::Ordering::AcqRel) & bit == 0 {
                return CounterShard { shard, held: true };
            }
        }
        CounterShard { shard: first, held: false }
    }

    pub fn shard(&self) -> u32 {
        self.shard
    }
}

impl Drop for CounterShard {
    fn drop(&mut self) {
        if self.held {
            LENT.fetch_and(!(1u32 << self.shard), std::sync::atomic::Ordering::AcqRel);
        }
    }
}

/// One request's place in a batch while it is decided.
enum Decided {
    /// Answered already (a refusal, or a key used before the batch).
    Done(StoreResult<Sent>),
    /// The key was used before this batch: the first request's sends.
    Earlier,
    /// Accepted in this batch: its recipients, agencies and splits, its cost.
    Accepted { owner: AccountId, gift: usize, cost: i64, total: i64, plans: Vec<(AccountId, Option<AgencyId>)> },
    /// The same sender and key as an earlier request of this batch.
    Copy(usize),
}

/// Accepts many gift requests (any senders, any rooms) in one transaction,
/// with the same rules, rows and refusals as [`accept`] for each, decided
/// in order: the keys used before (with the catalogue's and ladders'
/// versions, so this node's copies of them and of the escrow shard's id
/// serve without a read while nothing changed), then in the transaction
/// the rooms, participants, seats, agencies, names and senders' coins of
/// the whole batch in one statement; each request is decided in
/// memory against its sender's running balance, so one sender's
/// `Insufficient` or a refusal is only that request's answer; the sends
/// are inserted, the counters merged over the batch (one upsert, in key
/// order), and the batch's escrow transfer — into one escrow shard, one
/// leg per sender — and its credit batch's transfers out of that shard to
/// the owners, receivers, agencies and treasury posted in one
/// `transfers_in_new_keys` call (all wallets locked in id order; the keys
/// name the batch, so they are not looked up): the gifts are credited when
/// the batch commits ([`Sent::credited`]).
/// A key used before
/// is answered with its first sends; two requests of one sender with one
/// key in the batch are applied once (the second answers as a retry).
/// `Err` means the batch as a whole wrote nothing (a key taken by a
/// concurrent request, a balance spent meanwhile, a database error): run
/// its requests one by one through [`accept`].
pub async fn accept_many(db: &Db, reqs: &[SendGift<'_>], settings: &Settings, now: DateTime<Utc>) -> StoreResult<Vec<StoreResult<Sent>>> {
    if reqs.len() > ACCEPT_BATCH {
        return Err(StoreError::Invalid(format!("at most {ACCEPT_BATCH} gift requests at once")));
    }
    let mut decided: Vec<Option<Decided>> = reqs.iter().map(|_| None).collect();
    for (i, s) in reqs.iter().enumerate() {
        if s.key.trim().is_empty() || s.key.len() > 100 {
            decided[i] = Some(Decided::Done(Err(StoreError::Refused { field: "idempotency_key", message: "1 to 100 characters".into() })));
        }
    }
    let open = |decided: &[Option<Decided>]| -> Vec<usize> { (0..reqs.len()).filter(|i| decided[*i].is_none()).collect() };
    // Keys used before this batch: one query, each (sender, key) pair a
    // probe of the unique index on sender, key and recipient — a plan that
    // does not hang on the table's statistics (a `request_key IN (...)`
    // alone cannot use that index and scanned the table). The same
    // statement reads the catalogue's and the ladders' versions, so this
    // node's copies of them are read again only when an admin changed them.
    let live = open(&decided);
    if live.is_empty() {
        return Ok(decided
            .into_iter()
            .map(|d| match d {
                Some(Decided::Done(r)) => r,
                _ => Err(StoreError::Invalid("a gift request was not decided".into())),
            })
            .collect());
    }
    let pairs =
        (0..live.len()).map(|i| format!("(sender_id = ${} AND request_key = ${})", 2 * i + 1, 2 * i + 2)).collect::<Vec<_>>().join(" OR ");
    let sql = format!(
        "SELECT DISTINCT CAST(sender_id AS TEXT), request_key, CAST(0 AS BIGINT) FROM gift_sends WHERE {pairs}
         UNION ALL {}",
        crate::node_cache::VERSIONS
    );
    let rows: Vec<(String, String, i64)> = on_pool!(db, p => {
        let mut q = sqlx::query_as(&sql);
        for i in &live {
            q = q.bind(reqs[*i].sender).bind(reqs[*i].key);
        }
        q.fetch_all(p).await?
    });
    let version_of = |name: &str| rows.iter().find(|(n, k, _)| n == name && k.is_empty()).map_or(0, |r| r.2);
    let (gifts_version, ladders_version) = (version_of(crate::node_cache::GIFTS), version_of(crate::node_cache::LADDERS));
    for i in live {
        let sender = reqs[i].sender.to_string();
        if rows.iter().any(|(a, k, _)| *a == sender && k == reqs[i].key) {
            decided[i] = Some(Decided::Earlier);
        }
    }
    // The gifts (this node's catalogue), then each request's gift, VIP tier and cost.
    let live = open(&decided);
    let found = all_gifts_at(db, gifts_version).await?;
    let mut costs: Vec<(usize, i64)> = vec![(0, 0); reqs.len()];
    for i in live {
        let s = &reqs[i];
        let Some(gi) = found.iter().position(|g| g.id == s.gift && g.active) else {
            decided[i] = Some(Decided::Done(Err(refused("gift_unavailable", "That gift is not available"))));
            continue;
        };
        let g = &found[gi];
        if g.min_vip > 0 && !rooms_domain::vip::may_send(g.min_vip, crate::vip::tier_of(db, s.sender, now).await?) {
            let e = refused("vip_required", format!("{} is a VIP gift: it opens at VIP {}.", g.name, g.min_vip));
            decided[i] = Some(Decided::Done(Err(e)));
            continue;
        }
        match rules::gift_cost(g.price, s.quantity) {
            Ok(cost) => costs[i] = (gi, cost),
            Err(e) => {
                let e = match e {
                    rules::CostError::Quantity => {
                        StoreError::Refused { field: "quantity", message: format!("1 to {}", rules::MAX_QUANTITY) }
                    }
                    rules::CostError::Overflow => StoreError::Refused { field: "quantity", message: "That is too many".into() },
                };
                decided[i] = Some(Decided::Done(Err(e)));
            }
        }
    }
    // The batch's escrow shard: its first open request's (one shard per
    // batch, so concurrent batches lock different escrow wallets, and the
    // batch posts one escrow transfer). Read, or opened once. Then the
    // ladders.
    let batch_escrow = open(&decided).first().map(|i| economy::escrow_shard(reqs[*i].key)).unwrap_or_default();
    let mut escrows: BTreeMap<String, WalletId> = BTreeMap::new();
    if !batch_escrow.is_empty() {
        escrows.insert(batch_escrow.clone(), economy::system(db, &batch_escrow).await?);
    }
    // The credit batch that pays the accepted gifts' shares in the same
    // transaction, and its treasury and diamond issuer shards (this node's
    // cache of system wallets).
    let credit = GiftCreditId::new();
    let live = open(&decided);
    let (treasury, issuer) = if live.is_empty() {
        (WalletId::default(), WalletId::default())
    } else {
        (
            economy::system(db, &economy::treasury_shard(&credit.to_string())).await?,
            economy::system(db, &economy::issuer_shard(&credit.to_string())).await?,
        )
    };
    let ladders = crate::levels::ladders_at(db, ladders_version).await?;
    if !live.is_empty() {
        // Held until the transaction has ended (dropped after it).
        let lease = CounterShard::lend();
        let (sends, coins_after) = on_pool!(db, p => async {
            let mut tx = p.begin_write().await?;
            let mut room_ids: Vec<RoomId> = live.iter().map(|i| reqs[*i].room).collect();
            room_ids.sort();
            room_ids.dedup();
            let mut sender_ids: Vec<AccountId> = live.iter().map(|i| reqs[*i].sender).collect();
            sender_ids.sort();
            sender_ids.dedup();
            // What the batch decides on, in one statement: the rooms, which
            // senders are in them, who holds their seats (in seat order),
            // the seat holders' agencies (a membership past its notice no
            // longer counts, 6.5), the names of senders and seat holders
            // (for the events) and the senders' coin wallets (a sender with
            // none has no coins). Each part joins its own `VALUES` rows on
            // every column of the index it probes — (room, sender) pairs,
            // (kind, unit, owner) triples: a bound `IN` list is searched item
            // by item in PostgreSQL's generic plan, a `VALUES` list used by
            // several parts is materialised, and one joined on the owner alone
            // (kind and unit as parameters) was planned as a scan of every
            // account's wallet on a table without statistics yet.
            let mut pairs: Vec<(RoomId, AccountId)> = live.iter().map(|i| (reqs[*i].room, reqs[*i].sender)).collect();
            pairs.sort();
            pairs.dedup();
            let mut next = 2;
            let mut rows_of = |n: usize, width: usize| {
                let rows = platform_db::value_tuples(next, width, n);
                next += n * width;
                rows
            };
            let vr = rows_of(room_ids.len(), 1);
            let vp = rows_of(pairs.len(), 2);
            let vs = rows_of(sender_ids.len(), 1);
            let vw = rows_of(sender_ids.len(), 3);
            // (Each list is its own `WITH` item, used once: PostgreSQL
            // inlines it into its part; one used by several parts would be
            // materialised and scanned apart from the index.)
            let sql = format!(
                "WITH r1 (r) AS (VALUES {vr}), r2 (r) AS (VALUES {vr}), r3 (r) AS (VALUES {vr}), r4 (r) AS (VALUES {vr}),
                      p (r, a) AS (VALUES {vp}), s (a) AS (VALUES {vs}), o (k, u, o) AS (VALUES {vw})
                 SELECT 'r', CAST(x.id AS TEXT), CAST(x.owner_id AS TEXT), x.status, CAST(0 AS BIGINT) FROM r1 JOIN rooms x ON x.id = r1.r
                 UNION ALL SELECT 'p', CAST(x.room_id AS TEXT), CAST(x.account_id AS TEXT), '', 0
                   FROM p JOIN room_participants x ON x.room_id = p.r AND x.account_id = p.a
                 UNION ALL SELECT 's', CAST(x.room_id AS TEXT), CAST(x.occupant_id AS TEXT), '', x.seat_no
                   FROM r2 JOIN seats x ON x.room_id = r2.r WHERE x.occupant_id IS NOT NULL
                 UNION ALL SELECT 'g', CAST(m.account_id AS TEXT), CAST(m.agency_id AS TEXT), '', 0
                   FROM r3 JOIN seats x ON x.room_id = r3.r JOIN agency_members m ON m.account_id = x.occupant_id
                   JOIN agencies a ON a.id = m.agency_id
                   WHERE a.status = 'active' AND (m.ends_at IS NULL OR m.ends_at > $1)
                 UNION ALL SELECT 'n', CAST(c.id AS TEXT), c.display_name, '', 0 FROM s JOIN accounts c ON c.id = s.a
                 UNION ALL SELECT 'n', CAST(c.id AS TEXT), c.display_name, '', 0
                   FROM r4 JOIN seats x ON x.room_id = r4.r JOIN accounts c ON c.id = x.occupant_id
                 UNION ALL SELECT 'w', w.owner_id, CAST(w.id AS TEXT), '', w.balance
                   FROM o JOIN wallets w ON w.owner_kind = o.k AND w.unit = o.u AND w.owner_id = o.o"
            );
            let mut q = sqlx::query_as::<_, (String, String, String, String, i64)>(&sql).bind(now);
            for r in &room_ids {
                q = q.bind(*r);
            }
            for (r, a) in &pairs {
                q = q.bind(*r).bind(*a);
            }
            for a in &sender_ids {
                q = q.bind(*a);
            }
            for a in &sender_ids {
                q = q.bind(economy::ACCOUNT).bind(economy::COINS).bind(a.to_string());
            }
            let read = q.fetch_all(&mut *tx).await?;
            let bad = |what: &str| StoreError::Invalid(format!("a gift batch read an unreadable {what}"));
            let mut rooms: Vec<(RoomId, AccountId, String)> = vec![];
            let mut present: Vec<(RoomId, AccountId)> = vec![];
            let mut seats: Vec<(RoomId, i64, AccountId)> = vec![];
            let mut agencies: Vec<(AccountId, AgencyId)> = vec![];
            let mut names: BTreeMap<AccountId, String> = BTreeMap::new();
            let mut purses: Vec<(AccountId, WalletId, i64)> = vec![];
            for (kind, a, b, c, n) in read {
                match kind.as_str() {
                    "r" => rooms.push((a.parse().map_err(|_| bad("room"))?, b.parse().map_err(|_| bad("owner"))?, c)),
                    "p" => present.push((a.parse().map_err(|_| bad("room"))?, b.parse().map_err(|_| bad("participant"))?)),
                    "s" => seats.push((a.parse().map_err(|_| bad("room"))?, n, b.parse().map_err(|_| bad("seat holder"))?)),
                    "g" => agencies.push((a.parse().map_err(|_| bad("member"))?, b.parse().map_err(|_| bad("agency"))?)),
                    "n" => {
                        names.insert(a.parse().map_err(|_| bad("account"))?, b);
                    }
                    _ => purses.push((a.parse().map_err(|_| bad("wallet owner"))?, b.parse().map_err(|_| bad("wallet"))?, n)),
                }
            }
            seats.sort();
            // Each request's room and recipients, as `accept` decides them.
            let mut picked: Vec<(usize, AccountId, Vec<AccountId>)> = vec![];
            for &i in &live {
                let s = &reqs[i];
                let Some((_, owner, status)) = rooms.iter().find(|r| r.0 == s.room) else {
                    decided[i] = Some(Decided::Done(Err(StoreError::NotFound)));
                    continue;
                };
                if status != "open" {
                    decided[i] = Some(Decided::Done(Err(refused("room_closed", "This room is closed"))));
                    continue;
                }
                if !present.contains(&(s.room, s.sender)) {
                    decided[i] = Some(Decided::Done(Err(refused("not_in_room", "Join the room first"))));
                    continue;
                }
                let seated: Vec<AccountId> = seats.iter().filter(|x| x.0 == s.room).map(|x| x.2).collect();
                match pick_recipients(s.sender, &s.recipients, &seated) {
                    Ok(to) => picked.push((i, *owner, to)),
                    Err(e) => decided[i] = Some(Decided::Done(Err(e))),
                }
            }
            // Decide in arrival order against running balances.
            let mut running: BTreeMap<AccountId, i64> = BTreeMap::new();
            let mut wallet_of: BTreeMap<AccountId, WalletId> = BTreeMap::new();
            for (a, w, b) in &purses {
                running.insert(*a, *b);
                wallet_of.insert(*a, *w);
            }
            for (i, owner, to) in picked {
                let s = &reqs[i];
                let first = (0..i).find(|j| reqs[*j].sender == s.sender && reqs[*j].key == s.key && matches!(decided[*j], Some(Decided::Accepted { .. })));
                if let Some(j) = first {
                    decided[i] = Some(Decided::Copy(j));
                    continue;
                }
                let (gi, cost) = costs[i];
                let total = cost * to.len() as i64;
                let available = running.get(&s.sender).copied().unwrap_or(0);
                if available < total {
                    decided[i] = Some(Decided::Done(Err(StoreError::Insufficient { required: total, available })));
                    continue;
                }
                running.insert(s.sender, available - total);
                let plans = to.iter().map(|r| (*r, agencies.iter().find(|(a, _)| a == r).map(|(_, g)| *g))).collect();
                decided[i] = Some(Decided::Accepted { owner, gift: gi, cost, total, plans });
            }
            let accepted: Vec<usize> = (0..reqs.len()).filter(|i| matches!(decided[*i], Some(Decided::Accepted { .. }))).collect();
            if accepted.is_empty() {
                return Ok::<(BTreeMap<usize, Vec<GiftSend>>, BTreeMap<AccountId, i64>), StoreError>((BTreeMap::new(), BTreeMap::new()));
            }
            // The sends: multi-row inserts. Each names the batch's escrow
            // transfer, keyed by the batch (its first send's id, new) and
            // the shard.
            let mut rows: Vec<NewSend<'_>> = vec![];
            let mut of_req: Vec<usize> = vec![];
            for &i in &accepted {
                let Some(Decided::Accepted { owner, gift, cost, plans, .. }) = &decided[i] else { continue };
                for (r, agency) in plans {
                    rows.push(NewSend::of(&reqs[i], &found[*gift], *owner, *cost, *r, *agency, settings.rates));
                    of_req.push(i);
                }
            }
            let batch = rows.first().map(|x| x.id.to_string()).unwrap_or_default();
            for x in &mut rows {
                x.posting = Some(escrow_posting(&batch, &batch_escrow));
                x.credit = Some(credit);
            }
            let sends = insert_sends!(tx, &rows, now);
            // Counters merged over the batch: one upsert per 200 rows, in
            // key order (the lock order), the whole batch on the shard lent
            // to it: a batch spread over every shard would lock all 16 rows
            // of a room's counters, and concurrent batches would wait on
            // each other to their commits.
            let mut counters: BTreeMap<(CounterKey, i64), (i64, i64)> = BTreeMap::new();
            let shard = i64::from(lease.shard());
            let keys = period_keys(&settings.clock, now);
            for x in &rows {
                x.count(&mut counters, &keys, shard);
            }
            add_counters!(tx, counters.iter().map(|((k, shard), (amount, n))| (k, *shard, *amount, *n)).collect(), now);
            // Levels reached: each track and subject of the batch once, read in one statement.
            levels_reached_many!(tx, &ladders, &level_tracks(&rows), now);
            // The money, last: one transfer into the batch's escrow shard
            // (each sender's debit summed into one leg, the shard's credit),
            // and the credit batch's transfers out of it to the owners,
            // receivers, agencies and the treasury (the shard's two legs
            // cancel, so its row is locked but not written), all in one
            // `transfers_in_new_keys` call that locks every wallet in id
            // order. A gift applies once by its own `gift_sends` row (unique
            // per sender, key and recipient), not by the transfer keys.
            let mut by_shard: BTreeMap<&str, (WalletId, BTreeMap<WalletId, i64>)> = BTreeMap::new();
            for x in &rows {
                let (Some(from), Some(escrow), Some(posting)) =
                    (wallet_of.get(&x.sender), escrows.get(&batch_escrow), x.posting.as_deref())
                else {
                    return Err(StoreError::Invalid("a gift's wallet was not opened".into()));
                };
                *by_shard.entry(posting).or_insert((*escrow, BTreeMap::new())).1.entry(*from).or_default() += x.split.cost;
            }
            let mut transfers: Vec<Transfer> = by_shard
                .iter()
                .map(|(posting, (escrow, debits))| {
                    let mut legs: Vec<Leg> = debits.iter().map(|(w, d)| Leg { wallet: *w, unit: coins(), delta: Amount(-d) }).collect();
                    legs.push(Leg { wallet: *escrow, unit: coins(), delta: Amount(debits.values().sum()) });
                    Transfer { legs, reason: economy::GIFT, reference: Some(&batch), idempotency_key: posting, created_by: None }
                })
                .collect();
            let paid: Vec<Pending> = rows
                .iter()
                .zip(&sends)
                .map(|(x, row)| Pending {
                    seq: row.seq,
                    request_key: x.key.to_string(),
                    escrow_posting: x.posting.clone(),
                    recipient_id: row.recipient_id,
                    owner_id: row.owner_id,
                    cost: row.cost,
                    owner_share: row.owner_share,
                    receiver_share: row.receiver_share,
                    receiver_unit: row.receiver_unit.clone(),
                    agency_id: row.agency_id,
                    agency_share: row.agency_share,
                    platform_share: row.platform_share,
                })
                .collect();
            let (coin_legs, diamond_legs, credited) = credit_plan!(tx, db, &paid, credit, treasury, issuer, now);
            let keys = CreditKeys::of(credit);
            transfers.extend(keys.transfers(&coin_legs, &diamond_legs));
            let done = book().transfers_in_new_keys(&mut *tx, &transfers, now).await?;
            if done.iter().any(|d| matches!(d, Transferred::Duplicate)) {
                return Err(StoreError::Conflict("gift_sends request key".into()));
            }
            // The events, right before the commit: one `gifts` frame per room
            // of the batch, one `gifts_received` per recipient.
            let mut by_req: BTreeMap<usize, Vec<GiftSend>> = BTreeMap::new();
            for (i, row) in of_req.iter().zip(sends) {
                by_req.entry(*i).or_default().push(row);
            }
            let mut told: Vec<Told<'_>> = vec![];
            for &i in &accepted {
                let s = &reqs[i];
                let (Some(Decided::Accepted { gift, total, .. }), Some(sends)) = (&decided[i], by_req.get(&i)) else { continue };
                told.push(Told { sender: s.sender, room: s.room, gift: &found[*gift], quantity: s.quantity, combo: s.combo.clamp(1, 100_000), total: *total, sends });
            }
            let credited: Vec<AccountId> = credited.into_iter().collect();
            let coins_after = gift_events_named!(tx, &told, &names, &credited, now);
            drop(told);
            tx.commit().await?;
            Ok((by_req, coins_after))
        }
        .await)?;
        // The answers' balances: the accepted senders' coins as the batch
        // left them (read for their `balance` events); others' read now.
        let mut answers: Vec<StoreResult<Sent>> = Vec::with_capacity(reqs.len());
        let others: Vec<AccountId> = (0..reqs.len())
            .filter(|i| matches!(decided[*i], Some(Decided::Earlier) | None) && !coins_after.contains_key(&reqs[*i].sender))
            .map(|i| reqs[i].sender)
            .collect();
        let mut coins_now = coins_after;
        if !others.is_empty() {
            coins_now.extend(coin_balances(db, &others).await?);
        }
        let balance = |a: &AccountId| coins_now.get(a).copied().unwrap_or(0);
        for (i, s) in reqs.iter().enumerate() {
            answers.push(match decided[i].take() {
                Some(Decided::Done(r)) => r,
                Some(Decided::Accepted { .. }) => Ok(Sent {
                    sends: sends.get(&i).cloned().unwrap_or_default(),
                    duplicate: false,
                    balance: balance(&s.sender),
                    credited: true,
                }),
                Some(Decided::Copy(j)) => Ok(Sent {
                    sends: sends.get(&j).cloned().unwrap_or_default(),
                    duplicate: true,
                    balance: balance(&s.sender),
                    credited: true,
                }),
                Some(Decided::Earlier) | None => Ok(Sent {
                    sends: sends_for_key(db, s.sender, s.key).await?,
                    duplicate: true,
                    balance: balance(&s.sender),
                    credited: false,
                }),
            });
        }
        return Ok(answers);
    }
    let mut answers = Vec::with_capacity(reqs.len());
    for (i, s) in reqs.iter().enumerate() {
        answers.push(match decided[i].take() {
            Some(Decided::Done(r)) => r,
            _ => Ok(Sent {
                sends: sends_for_key(db, s.sender, s.key).await?,
                duplicate: true,
                balance: economy::balances(db, s.sender).await?.coins,
                credited: false,
            }),
        });
    }
    Ok(answers)
}

/// Accounts' coins (0 without a coin wallet), in one query.
async fn coin_balances(db: &Db, who: &[AccountId]) -> StoreResult<BTreeMap<AccountId, i64>> {
    if who.is_empty() {
        return Ok(BTreeMap::new());
    }
    let sql = format!(
        "WITH v (o) AS (VALUES {}) SELECT owner_id, balance FROM v JOIN wallets ON owner_kind = $1 AND unit = $2 AND owner_id = v.o",
        platform_db::value_rows(3, who.len())
    );
    let rows: Vec<(String, i64)> = on_pool!(db, p => {
        let mut q = sqlx::query_as(&sql).bind(economy::ACCOUNT).bind(economy::COINS);
        for a in who {
            q = q.bind(a.to_string());
        }
        q.fetch_all(p).await?
    });
    Ok(rows.into_iter().filter_map(|(o, b)| o.parse::<AccountId>().ok().map(|a| (a, b))).collect())
}

/// The escrow shard holding a waiting gift's cost: its batch's, named in
/// its posting's key ([`escrow_posting`]), or its own key's when it was
/// accepted on its own.
fn escrow_of(r: &Pending) -> String {
    r.escrow_posting.as_deref().and_then(|p| p.splitn(3, ':').nth(2)).map_or_else(|| economy::escrow_shard(&r.request_key), str::to_string)
}

/// Gifts credited at most per batch.
pub const CREDIT_BATCH: i64 = 2000;

/// A gift waiting for its credit longer than this is reported by `rooms
/// check` (the writer runs after every accepted gift and every minute).
pub const CREDIT_LATE: chrono::Duration = chrono::Duration::minutes(5);

#[derive(sqlx::FromRow)]
struct Pending {
    seq: i64,
    request_key: String,
    escrow_posting: Option<String>,
    recipient_id: AccountId,
    owner_id: AccountId,
    cost: i64,
    owner_share: i64,
    receiver_share: i64,
    receiver_unit: String,
    agency_id: Option<AgencyId>,
    agency_share: i64,
    platform_share: i64,
}

/// Credits every accepted gift not yet credited, in batches of up to
/// [`CREDIT_BATCH`]; returns how many it credited.
pub async fn credit_pending(db: &Db, now: DateTime<Utc>) -> StoreResult<u64> {
    let mut total = 0;
    loop {
        let n = credit_batch(db, now, CREDIT_BATCH).await?;
        total += n;
        if n < CREDIT_BATCH as u64 {
            return Ok(total);
        }
    }
}

/// Credits up to `limit` waiting gifts, oldest first, in one transaction:
/// per wallet, the sum of the batch's shares — escrow shards debited by
/// the costs; owners, coin receivers, agencies and a treasury shard
/// credited in coins (an agency member's share returns to the treasury);
/// receivers' diamonds issued from a diamond issuer shard — as one coin
/// transfer and one diamond transfer keyed by the batch, which is recorded
/// with its totals, and every gift in it is marked with it. The gifts are
/// claimed and marked first, in one statement (on PostgreSQL `FOR UPDATE
/// SKIP LOCKED`, so two writers take different gifts; on SQLite writes are
/// serial), and a gift is marked only in the transaction that posts its
/// shares, so a crash leaves it waiting and the next run credits it:
/// exactly once.
pub async fn credit_batch(db: &Db, now: DateTime<Utc>, limit: i64) -> StoreResult<u64> {
    let batch = GiftCreditId::new();
    let treasury = economy::system(db, &economy::treasury_shard(&batch.to_string())).await?;
    let issuer = economy::system(db, &economy::issuer_shard(&batch.to_string())).await?;
    let claim = match db.backend() {
        crate::Backend::Postgres => "FOR UPDATE SKIP LOCKED",
        crate::Backend::Sqlite => "",
    };
    // Claimed and marked in one statement: the oldest waiting gifts (on
    // PostgreSQL those no other writer holds), marked with the batch.
    let sql = format!(
        "UPDATE gift_sends SET credit_batch = $1, credited_at = $2
         WHERE credited_at IS NULL AND seq IN (SELECT seq FROM gift_sends WHERE credited_at IS NULL ORDER BY seq LIMIT $3 {claim})
         RETURNING seq, request_key, escrow_posting, recipient_id, owner_id, cost, owner_share, receiver_share, receiver_unit, agency_id, agency_share, platform_share"
    );
    on_pool!(db, p => async {
        let mut tx = p.begin_write().await?;
        let mut rows: Vec<Pending> = sqlx::query_as(&sql).bind(batch).bind(now).bind(limit).fetch_all(&mut *tx).await?;
        rows.sort_by_key(|r| r.seq);
        if rows.is_empty() {
            return Ok(0);
        }
        let (coin_legs, diamond_legs, told) = credit_plan!(tx, db, &rows, batch, treasury, issuer, now);
        // Money last, every wallet of both transfers locked in id order.
        let keys = CreditKeys::of(batch);
        let transfers = keys.transfers(&coin_legs, &diamond_legs);
        let done = book().transfers_in_new_keys(&mut *tx, &transfers, now).await?;
        if done.iter().any(|d| matches!(d, Transferred::Duplicate)) {
            return Err(StoreError::Conflict("gift credit batch key".into()));
        }
        let told: Vec<AccountId> = told.into_iter().collect();
        economy::balance_events!(tx, &told, now);
        tx.commit().await?;
        Ok::<u64, StoreError>(rows.len() as u64)
    }
    .await)
}

/// Idempotency-key prefixes of a credit batch's two transfers (their
/// reasons are [`economy::GIFT`] and [`economy::GIFT_DIAMONDS`], their
/// reference the batch).
pub const GIFT_CREDIT: &str = "gift_credit";
pub const GIFT_CREDIT_DIAMONDS: &str = "gift_credit_diamonds";

/// Gifts accepted before `before` and still waiting for their credit.
pub async fn uncredited_before(db: &Db, before: DateTime<Utc>) -> StoreResult<i64> {
    Ok(on_pool!(db, p => sqlx::query_scalar("SELECT COUNT(*) FROM gift_sends WHERE credited_at IS NULL AND created_at < $1")
        .bind(before).fetch_one(p).await?))
}

/// Whose gifts a history lists.
#[derive(Debug, Clone, Copy)]
pub enum HistoryOf {
    Sent(AccountId),
    Received(AccountId),
    Room(RoomId),
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct HistoryLine {
    pub seq: i64,
    pub sender_id: AccountId,
    pub sender_name: String,
    pub recipient_id: AccountId,
    pub recipient_name: String,
    pub room_id: RoomId,
    pub gift_name: String,
    pub animation: String,
    pub quantity: i64,
    pub cost: i64,
    pub receiver_share: i64,
    pub receiver_unit: String,
    pub created_at: DateTime<Utc>,
}

/// Gifts sent or received by a person, or sent in a room, newest first.
pub async fn history(db: &Db, of: HistoryOf, before: Option<i64>, limit: i64) -> StoreResult<Vec<HistoryLine>> {
    let (col, id) = match of {
        HistoryOf::Sent(a) => ("s.sender_id", a.0),
        HistoryOf::Received(a) => ("s.recipient_id", a.0),
        HistoryOf::Room(r) => ("s.room_id", r.0),
    };
    let sql = format!(
        "SELECT s.seq, s.sender_id, sa.display_name AS sender_name, s.recipient_id, ra.display_name AS recipient_name, s.room_id,
                g.name AS gift_name, g.animation, s.quantity, s.cost, s.receiver_share, s.receiver_unit, s.created_at
         FROM gift_sends s JOIN accounts sa ON sa.id = s.sender_id JOIN accounts ra ON ra.id = s.recipient_id JOIN gifts g ON g.id = s.gift_id
         WHERE {col} = $1 AND s.seq < $2 ORDER BY s.seq DESC LIMIT $3"
    );
    Ok(
        on_pool!(db, p => sqlx::query_as::<_, HistoryLine>(&sql).bind(AccountId(id)).bind(before.unwrap_or(i64::MAX)).bind(limit.clamp(1, 100)).fetch_all(p).await?),
    )
}

/// Diamonds a person earned, per day, per room or per gift.
#[derive(Debug, Clone, Copy)]
pub enum EarnedBy {
    Day,
    Room,
    Gift,
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Earned {
    pub key: String,
    pub label: String,
    pub diamonds: i64,
    pub gifts: i64,
}

pub async fn diamonds_earned(db: &Db, who: AccountId, by: EarnedBy, limit: i64) -> StoreResult<Vec<Earned>> {
    let sql = match by {
        EarnedBy::Day => "SELECT substr(period, 3) AS key, substr(period, 3) AS label, CAST(SUM(amount) AS BIGINT) AS diamonds, CAST(SUM(gifts) AS BIGINT) AS gifts
                          FROM gift_counters WHERE board = 'diamonds' AND subject = $1 AND period LIKE 'd:%' GROUP BY period ORDER BY period DESC LIMIT $2",
        EarnedBy::Room => "SELECT CAST(s.room_id AS TEXT) AS key, MAX(r.name) AS label, CAST(SUM(s.receiver_share) AS BIGINT) AS diamonds, COUNT(*) AS gifts
                           FROM gift_sends s JOIN rooms r ON r.id = s.room_id WHERE s.recipient_id = $1 AND s.receiver_unit = 'diamonds'
                           GROUP BY s.room_id ORDER BY diamonds DESC LIMIT $2",
        EarnedBy::Gift => "SELECT CAST(s.gift_id AS TEXT) AS key, MAX(g.name) AS label, CAST(SUM(s.receiver_share) AS BIGINT) AS diamonds, COUNT(*) AS gifts
                           FROM gift_sends s JOIN gifts g ON g.id = s.gift_id WHERE s.recipient_id = $1 AND s.receiver_unit = 'diamonds'
                           GROUP BY s.gift_id ORDER BY diamonds DESC LIMIT $2",
    };
    Ok(match by {
        EarnedBy::Day => on_pool!(db, p => sqlx::query_as::<_, Earned>(sql).bind(who.to_string()).bind(limit).fetch_all(p).await?),
        _ => on_pool!(db, p => sqlx::query_as::<_, Earned>(sql).bind(who).bind(limit).fetch_all(p).await?),
    })
}

#[cfg(test)]
mod tests {
    use super::CounterShard;

    #[test]
    fn batches_at_once_are_lent_different_counter_shards_and_a_returned_shard_is_lent_again() {
        let a = CounterShard::lend();
        let b = CounterShard::lend();
        assert!(a.held && b.held);
        assert_ne!(a.shard(), b.shard(), "two batches at once never share a counter row");
        let first = a.shard();
        drop(a);
        let c = CounterShard::lend();
        assert_eq!(c.shard(), first, "the process's first free shard again, so a subject's counters gather");
        let all: Vec<CounterShard> = (0..rooms_domain::economy::SHARDS).map(|_| CounterShard::lend()).collect();
        let held = all.iter().filter(|l| l.held).count() + 2;
        assert_eq!(held, rooms_domain::economy::SHARDS as usize, "every shard lent once");
        assert!(all.iter().any(|l| !l.held), "with every shard lent, a batch shares one rather than waiting");
    }
}
