//! Coins and diamonds on platform-ledger's standard wallets (requirement
//! 5, BR-1, BR-2): recharge packages and purchases, balances and history,
//! coin transfers between users, diamond exchange and payouts. Every
//! balance change is a ledger posting with a reason, a reference and an
//! idempotency key, inside the transaction that records why.
//!
//! Wallets: each account has `account/<id>` in [`COINS`] and [`DIAMONDS`];
//! agencies `agency/<id>` in coins. The treasury is `system/treasury`
//! (opening stock 1,000,000,000 coins; purchases, transfers' counterpart and
//! exchanges draw on it) plus `system/treasury:0..15`, where gifts'
//! platform shares return — sixteen rows, picked by the gift's key, so
//! concurrent gifts do not queue on one. Diamonds are issued from
//! `system/diamond_issuer:0..15` and return there when exchanged or paid.
//! A gift's cost waits in `system/gift_escrow:0..63` (by its key) from the
//! sender's commit until the batched writer credits its shares.

use crate::{on_pool, refused, BeginWrite, Db, StoreError, StoreResult};
use chrono::{DateTime, Utc};
use platform_ledger::wallets::{self, SYSTEM};
use platform_ledger::{Amount, Book, Conn, Entry, Leg, Movement, Transfer, Unit, WalletId};
use rooms_domain::economy::{self as rules, PurchaseDecision};
use rooms_domain::ids::{AccountId, AgencyId, ExchangeId, PackageId, PayoutId};
use serde::Serialize;
use serde_json::json;

pub use rooms_domain::economy::{COINS, DIAMONDS};

/// Owner kinds of wallets.
pub const ACCOUNT: &str = "account";
pub const AGENCY: &str = "agency";

/// Ledger reasons.
pub const OPENING: &str = "opening_stock";
pub const PURCHASE: &str = "purchase";
pub const GRANT: &str = "grant";
pub const GIFT: &str = "gift";
pub const GIFT_DIAMONDS: &str = "gift_diamonds";
pub const TRANSFER: &str = "coin_transfer";
pub const EXCHANGE: &str = "diamond_exchange";
pub const PAYOUT_HOLD: &str = "payout_hold";
pub const PAYOUT_PAID: &str = "payout_paid";
pub const PAYOUT_RETURNED: &str = "payout_returned";

/// The main treasury and the payout hold (system wallets).
pub const TREASURY: &str = "treasury";
pub const HOLD: &str = "payout_hold";
/// Prefix of the gift escrow wallets (`system/gift_escrow:0..63`).
pub const GIFT_ESCROW: &str = "gift_escrow";

pub fn coins() -> Unit {
    Unit::parse(COINS).expect("a unit name")
}

pub fn diamonds() -> Unit {
    Unit::parse(DIAMONDS).expect("a unit name")
}

pub(crate) fn book() -> &'static Book {
    Book::standard()
}

/// The treasury shard gifts keyed `key` return their platform share to.
pub fn treasury_shard(key: &str) -> String {
    format!("treasury:{}", rules::shard_of(key))
}

/// The escrow wallet a gift keyed `key` holds its cost in until the
/// batched writer credits its shares (`gifts::credit_pending`).
pub fn escrow_shard(key: &str) -> String {
    format!("{GIFT_ESCROW}:{}", rules::escrow_shard_of(key))
}

/// The diamond issuer shard for `key`.
pub fn issuer_shard(key: &str) -> String {
    format!("diamond_issuer:{}", rules::shard_of(key))
}

/// A system wallet, opened with its opening stock the first time (in its
/// own transactions, so racing first uses are safe). `opening` 0: none.
pub async fn system_wallet(db: &Db, name: &str, unit: &Unit, opening: i64) -> StoreResult<WalletId> {
    // Looked up first: opening is an upsert, written even when it finds one.
    let w = match wallets::find(db, SYSTEM, name, unit).await? {
        Some(w) => w,
        None => wallets::open(db, SYSTEM, name, unit).await?,
    };
    if opening > 0 && w.balance.get() == 0 {
        let key = format!("{OPENING}:{name}:{unit}");
        let m = Movement {
            wallet: w.id,
            delta: Amount(opening),
            reason: OPENING,
            reference: None,
            idempotency_key: &key,
            created_by: None,
            spending: false,
        };
        book().post(db, &m).await?;
    }
    Ok(w.id)
}

/// The opening stock of a system wallet by name.
pub fn opening_of(name: &str) -> (Unit, i64) {
    if name == TREASURY {
        (coins(), rules::TREASURY_OPENING)
    } else if name.starts_with("diamond_issuer:") {
        (diamonds(), rules::DIAMOND_OPENING / i64::from(rules::SHARDS))
    } else if name.starts_with("treasury:") || name.starts_with("gift_escrow:") {
        (coins(), 0)
    } else {
        (diamonds(), 0)
    }
}

/// [`system_wallet`] with the stock [`opening_of`] names.
///
/// Kept per node once found (a wallet keeps its id for good), so a gift
/// batch or a credit batch asks the store only the first time.
pub async fn system(db: &Db, name: &str) -> StoreResult<WalletId> {
    if let Some(w) = SYSTEM_WALLETS.with(db, |m| m.get(name).copied()) {
        return Ok(w);
    }
    let (unit, opening) = opening_of(name);
    let w = system_wallet(db, name, &unit, opening).await?;
    SYSTEM_WALLETS.with(db, |m| m.insert(name.to_string(), w));
    Ok(w)
}

/// System wallets' ids by name, per database ([`system`]).
static SYSTEM_WALLETS: crate::node_cache::PerDb<std::collections::HashMap<String, WalletId>> = crate::node_cache::PerDb::new();

/// An account's wallet of `unit`, opened inside the caller's transaction.
pub async fn account_wallet_in<C: Conn>(conn: &mut C, who: AccountId, unit: &Unit, now: DateTime<Utc>) -> StoreResult<WalletId> {
    let owner = who.to_string();
    if let Some(w) = wallets::find_in(conn, ACCOUNT, &owner, unit).await? {
        return Ok(w.id);
    }
    Ok(wallets::open_in(conn, ACCOUNT, &owner, unit, now).await?.id)
}

#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq)]
pub struct Balances {
    pub coins: i64,
    pub diamonds: i64,
}

/// An account's coins and diamonds (0 for wallets not yet opened).
pub async fn balances(db: &Db, who: AccountId) -> StoreResult<Balances> {
    let id = who.to_string();
    let c = wallets::find(db, ACCOUNT, &id, &coins()).await?.map_or(0, |w| w.balance.get());
    let d = wallets::find(db, ACCOUNT, &id, &diamonds()).await?.map_or(0, |w| w.balance.get());
    Ok(Balances { coins: c, diamonds: d })
}

/// An account's history in `unit`, newest first, before the `seq` cursor.
pub async fn history(db: &Db, who: AccountId, unit: &Unit, before: Option<i64>, limit: i64) -> StoreResult<Vec<Entry>> {
    match wallets::find(db, ACCOUNT, &who.to_string(), unit).await? {
        Some(w) => book().entries(db, w.id, before, limit.clamp(1, 100)).await,
        None => Ok(vec![]),
    }
}

/// Tells `who` their balances (live, on their own channel).
macro_rules! balance_event {
    ($tx:expr, $who:expr, $now:expr) => {{
        let b: Vec<(String, i64)> = sqlx::query_as("SELECT unit, balance FROM wallets WHERE owner_kind = 'account' AND owner_id = $1")
            .bind($who.to_string())
            .fetch_all(&mut *$tx)
            .await?;
        let get = |u: &str| b.iter().find(|(unit, _)| unit == u).map_or(0, |(_, v)| *v);
        user_event!($tx, $who, "balance", json!({"coins": get($crate::economy::COINS), "diamonds": get($crate::economy::DIAMONDS)}), $now);
    }};
}
pub(crate) use balance_event;

/// The `balance` event payloads (`{"coins", "diamonds"}`) of many accounts,
/// read in one statement, in the accounts' order: evaluates to
/// `Vec<(AccountId, String)>`.
macro_rules! balance_payloads {
    ($tx:expr, $who:expr) => {{
        $crate::economy::balances_in!($tx, $who)
            .into_iter()
            .map(|(a, b)| (a, json!({"coins": b.coins, "diamonds": b.diamonds}).to_string()))
            .collect::<Vec<(AccountId, String)>>()
    }};
}

/// Accounts' coins and diamonds in the transaction, in one read, in the
/// accounts' order (0 for a wallet not opened).
macro_rules! balances_in {
    ($tx:expr, $who:expr) => {{
        let who: &[AccountId] = $who;
        let owners: Vec<String> = who.iter().map(|a| a.to_string()).collect();
        // Joined on (kind, owner) pairs, the unique index's first columns:
        // with the kind a constant, PostgreSQL's generic plan for a table
        // without statistics yet scanned every account's wallets.
        let pairs = platform_db::value_tuples(1, 2, owners.len());
        let sql = format!(
            "WITH v (k, o) AS (VALUES {pairs}) SELECT w.owner_id, w.unit, w.balance FROM v JOIN wallets w ON w.owner_kind = v.k AND w.owner_id = v.o"
        );
        let mut q = sqlx::query_as::<_, (String, String, i64)>(&sql);
        for o in &owners {
            q = q.bind($crate::economy::ACCOUNT).bind(o.as_str());
        }
        // By owner and unit, so each account's balance is a lookup, not a scan.
        let purses: std::collections::BTreeMap<(String, String), i64> =
            q.fetch_all(&mut *$tx).await?.into_iter().map(|(o, unit, b)| ((o, unit), b)).collect();
        who.iter()
            .zip(&owners)
            .map(|(a, o)| {
                let get = |u: &str| purses.get(&(o.clone(), u.to_string())).copied().unwrap_or(0);
                (*a, $crate::economy::Balances { coins: get($crate::economy::COINS), diamonds: get($crate::economy::DIAMONDS) })
            })
            .collect::<Vec<(AccountId, $crate::economy::Balances)>>()
    }};
}
pub(crate) use balance_payloads;
pub(crate) use balances_in;

/// [`balance_event!`] for many accounts with two statements whatever their
/// number: one read of their wallets ([`balance_payloads!`]) and one
/// multi-row insert of their `balance` events (chunked by the bind limit),
/// in the accounts' order.
macro_rules! balance_events {
    ($tx:expr, $who:expr, $now:expr) => {{
        let who: &[AccountId] = $who;
        if !who.is_empty() {
            let rows = $crate::economy::balance_payloads!($tx, who);
            for chunk in rows.chunks(500) {
                let values = (0..chunk.len())
                    .map(|i| format!("(${}, 'balance', ${}, ${})", i * 2 + 1, i * 2 + 2, chunk.len() * 2 + 1))
                    .collect::<Vec<_>>()
                    .join(", ");
                let sql = format!("INSERT INTO user_events (account_id, kind, payload, created_at) VALUES {values}");
                let mut q = sqlx::query(&sql);
                for (a, data) in chunk {
                    q = q.bind(*a).bind(data.as_str());
                }
                q.bind($now).execute(&mut *$tx).await?;
            }
        }
    }};
}
pub(crate) use balance_events;

// ---------------------------------------------------------------- packages

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Package {
    pub id: PackageId,
    pub name: String,
    pub coins: i64,
    pub bonus_coins: i64,
    pub price_minor: i64,
    pub currency: String,
    pub countries: String,
    pub active: bool,
    pub sort: i64,
}

impl Package {
    /// The price as a decimal string in its currency ("0.99").
    pub fn price(&self) -> String {
        format!("{}.{:02}", self.price_minor / 100, self.price_minor % 100)
    }
}

pub struct NewPackage<'a> {
    pub name: &'a str,
    pub coins: i64,
    pub bonus_coins: i64,
    pub price_minor: i64,
    pub currency: &'a str,
    /// ISO codes; empty: every country.
    pub countries: &'a [&'a str],
    pub sort: i64,
}

pub async fn create_package(db: &Db, p: &NewPackage<'_>, now: DateTime<Utc>) -> StoreResult<PackageId> {
    if p.coins < 1 || p.bonus_coins < 0 || p.price_minor < 1 {
        return Err(StoreError::Refused { field: "coins", message: "coins and price must be positive".into() });
    }
    let id = PackageId::new();
    let countries = p.countries.iter().map(|c| c.to_ascii_uppercase()).collect::<Vec<_>>().join(",");
    on_pool!(db, p2 => sqlx::query(
        "INSERT INTO recharge_packages (id, name, coins, bonus_coins, price_minor, currency, countries, active, sort, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, TRUE, $8, $9)")
        .bind(id).bind(p.name).bind(p.coins).bind(p.bonus_coins).bind(p.price_minor).bind(p.currency.to_ascii_uppercase())
        .bind(countries).bind(p.sort).bind(now).execute(p2).await?.rows_affected());
    Ok(id)
}

/// Switches a package on or off.
pub async fn set_package_active(db: &Db, id: PackageId, active: bool) -> StoreResult<()> {
    let n = on_pool!(db, p => sqlx::query("UPDATE recharge_packages SET active = $2 WHERE id = $1").bind(id).bind(active).execute(p).await?.rows_affected());
    if n == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}

/// The active packages offered in `country` (those for every country and
/// those naming it), cheapest first.
pub async fn packages_for(db: &Db, country: Option<&str>) -> StoreResult<Vec<Package>> {
    let c = country.unwrap_or("").to_ascii_uppercase();
    Ok(on_pool!(db, p => sqlx::query_as::<_, Package>(
        "SELECT id, name, coins, bonus_coins, price_minor, currency, countries, active, sort FROM recharge_packages
         WHERE active AND (countries = '' OR ',' || countries || ',' LIKE '%,' || $1 || ',%')
         ORDER BY sort, price_minor")
        .bind(c).fetch_all(p).await?))
}

// ---------------------------------------------------------------- purchases

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Purchase {
    pub reference: String,
    pub account_id: AccountId,
    pub package_id: PackageId,
    pub coins: i64,
    pub bonus_coins: i64,
    pub price_minor: i64,
    pub currency: String,
    pub provider: String,
    pub status: String,
    pub gateway_response: Option<String>,
    pub reports: i64,
    pub created_at: DateTime<Utc>,
    pub settled_at: Option<DateTime<Utc>>,
}

const PURCHASE_COLUMNS: &str =
    "reference, account_id, package_id, coins, bonus_coins, price_minor, currency, provider, status, gateway_response, \
                                reports, created_at, settled_at";

/// Records a pending purchase of an active package offered in `country`,
/// with its price locked (snapshotted from the package).
pub async fn record_checkout(
    db: &Db,
    who: AccountId,
    package: PackageId,
    country: Option<&str>,
    reference: &str,
    provider: &str,
    now: DateTime<Utc>,
) -> StoreResult<Purchase> {
    let offered = packages_for(db, country).await?;
    let Some(p) = offered.into_iter().find(|p| p.id == package) else {
        return Err(StoreError::Refused { field: "package_id", message: "This package is not on sale.".into() });
    };
    let sql = format!(
        "INSERT INTO coin_purchases ({PURCHASE_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'pending', NULL, 0, $9, NULL) RETURNING {PURCHASE_COLUMNS}"
    );
    Ok(on_pool!(db, p2 => sqlx::query_as::<_, Purchase>(&sql)
        .bind(reference).bind(who).bind(p.id).bind(p.coins).bind(p.bonus_coins).bind(p.price_minor).bind(&p.currency).bind(provider).bind(now)
        .fetch_one(p2).await?))
}

pub async fn purchase(db: &Db, reference: &str) -> StoreResult<Purchase> {
    let sql = format!("SELECT {PURCHASE_COLUMNS} FROM coin_purchases WHERE reference = $1");
    on_pool!(db, p => sqlx::query_as::<_, Purchase>(&sql).bind(reference).fetch_optional(p).await?).ok_or(StoreError::NotFound)
}

pub async fn purchases_of(db: &Db, who: AccountId, limit: i64) -> StoreResult<Vec<Purchase>> {
    let sql = format!("SELECT {PURCHASE_COLUMNS} FROM coin_purchases WHERE account_id = $1 ORDER BY created_at DESC LIMIT $2");
    Ok(on_pool!(db, p => sqlx::query_as::<_, Purchase>(&sql).bind(who).bind(limit).fetch_all(p).await?))
}

/// What the provider said about a charge.
pub struct Report<'a> {
    pub status: platform_kernel::payment::ChargeStatus,
    pub amount_minor: i64,
    pub currency: &'a str,
    pub gateway_response: Option<&'a str>,
}

/// Applies a provider's report to a purchase, once: the row is locked
/// first (a conditional update counting the report), then the domain
/// decides; a credit moves coins + bonus from the treasury to the buyer
/// under the key `purchase:<reference>` in the same transaction. Any number
/// of copies of the same notice, at once, credit once.
pub async fn settle(db: &Db, reference: &str, report: &Report<'_>, now: DateTime<Utc>) -> StoreResult<(PurchaseDecision, Purchase)> {
    let treasury = system(db, TREASURY).await?;
    let sql = format!("UPDATE coin_purchases SET reports = reports + 1 WHERE reference = $1 RETURNING {PURCHASE_COLUMNS}");
    let decision = on_pool!(db, p => {
        let mut tx = p.begin_write().await?;
        let Some(row) = sqlx::query_as::<_, Purchase>(&sql).bind(reference).fetch_optional(&mut *tx).await? else {
            return Err(StoreError::NotFound);
        };
        let d = rules::decide_purchase(&row.status, row.price_minor, &row.currency, report.status, report.amount_minor, report.currency);
        match d {
            PurchaseDecision::Credit => {
                let to = account_wallet_in(&mut *tx, row.account_id, &coins(), now).await?;
                let amount = row.coins + row.bonus_coins;
                let key = format!("{PURCHASE}:{reference}");
                let t = Transfer {
                    legs: vec![Leg { wallet: treasury, unit: coins(), delta: Amount(-amount) }, Leg { wallet: to, unit: coins(), delta: Amount(amount) }],
                    reason: PURCHASE,
                    reference: Some(reference),
                    idempotency_key: &key,
                    created_by: None,
                };
                book().transfer_in(&mut *tx, &t, now).await?;
                sqlx::query("UPDATE coin_purchases SET status = 'credited', settled_at = $2, gateway_response = $3 WHERE reference = $1")
                    .bind(reference).bind(now).bind(report.gateway_response).execute(&mut *tx).await?;
                balance_event!(tx, row.account_id, now);
            }
            PurchaseDecision::Review => {
                sqlx::query("UPDATE coin_purchases SET status = 'review', gateway_response = $2 WHERE reference = $1 AND status <> 'credited'")
                    .bind(reference).bind(report.gateway_response).execute(&mut *tx).await?;
            }
            PurchaseDecision::Fail => {
                sqlx::query("UPDATE coin_purchases SET status = 'failed', settled_at = $2, gateway_response = $3 WHERE reference = $1 AND status = 'pending'")
                    .bind(reference).bind(now).bind(report.gateway_response).execute(&mut *tx).await?;
            }
            PurchaseDecision::AlreadyCredited | PurchaseDecision::Wait => {}
        }
        tx.commit().await?;
        d
    });
    Ok((decision, purchase(db, reference).await?))
}

// ---------------------------------------------------------------- transfers

/// Coins `from` sent to other users today (UTC).
pub async fn transferred_today(db: &Db, from: AccountId, now: DateTime<Utc>) -> StoreResult<i64> {
    let start = now.date_naive().and_hms_opt(0, 0, 0).map(|d| d.and_utc()).unwrap_or(now);
    let v: Option<i64> = on_pool!(db, p => sqlx::query_scalar(
        "SELECT CAST(SUM(-e.delta) AS BIGINT) FROM ledger_entries e JOIN wallets w ON w.id = e.wallet_id
         WHERE w.owner_kind = 'account' AND w.owner_id = $1 AND w.unit = 'coins' AND e.reason = $2 AND e.delta < 0 AND e.created_at >= $3")
        .bind(from.to_string()).bind(TRANSFER).bind(start).fetch_one(p).await?);
    Ok(v.unwrap_or(0))
}

#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq)]
pub struct Transferred {
    pub amount: i64,
    /// The sender's coins after.
    pub balance: i64,
    /// A repeated key: nothing moved this time.
    pub duplicate: bool,
}

/// Moves `amount` coins from `from` to `to` once per `key`, within the
/// per-transfer and daily limits; too few coins → `Insufficient`, nothing
/// written.
pub async fn transfer(db: &Db, from: AccountId, to: AccountId, amount: i64, key: &str, now: DateTime<Utc>) -> StoreResult<Transferred> {
    let sent = transferred_today(db, from, now).await?;
    if let Err(r) = rules::check_transfer(amount, sent, from == to) {
        return Err(StoreError::Refused { field: "amount", message: r.message() });
    }
    let ledger_key = format!("{TRANSFER}:{from}:{key}");
    let reference = to.to_string();
    let outcome = on_pool!(db, p => async {
        let mut tx = p.begin_write().await?;
        let active: Option<String> = sqlx::query_scalar("SELECT status FROM accounts WHERE id = $1").bind(to).fetch_optional(&mut *tx).await?;
        if active.as_deref() != Some("active") {
            return Err(refused("recipient_unavailable", "That person cannot receive coins"));
        }
        let a = account_wallet_in(&mut *tx, from, &coins(), now).await?;
        let b = account_wallet_in(&mut *tx, to, &coins(), now).await?;
        let t = Transfer {
            legs: vec![Leg { wallet: a, unit: coins(), delta: Amount(-amount) }, Leg { wallet: b, unit: coins(), delta: Amount(amount) }],
            reason: TRANSFER,
            reference: Some(&reference),
            idempotency_key: &ledger_key,
            created_by: None,
        };
        let done = book().transfer_in(&mut *tx, &t, now).await;
        let duplicate = match done {
            Ok(platform_ledger::Transferred::Applied { .. }) => false,
            Ok(platform_ledger::Transferred::Duplicate) => true,
            Err(e) => return Err(e),
        };
        if !duplicate {
            balance_event!(tx, from, now);
            balance_event!(tx, to, now);
            user_event!(tx, to, "coins_received", json!({"from": from, "amount": amount}), now);
        }
        tx.commit().await?;
        Ok::<bool, StoreError>(duplicate)
    }
    .await);
    let duplicate = match outcome {
        Ok(d) => d,
        Err(e @ (StoreError::Conflict(_) | StoreError::Insufficient { .. })) => {
            if key_used(db, &ledger_key).await? {
                true
            } else {
                return Err(e);
            }
        }
        Err(e) => return Err(e),
    };
    Ok(Transferred { amount, balance: balances(db, from).await?.coins, duplicate })
}

/// Whether a ledger idempotency key was used.
pub async fn key_used(db: &Db, key: &str) -> StoreResult<bool> {
    let n: i64 = on_pool!(db, p => sqlx::query_scalar("SELECT COUNT(*) FROM ledger_entries WHERE idempotency_key = $1").bind(key).fetch_one(p).await?);
    Ok(n > 0)
}

/// Staff give `amount` coins from the treasury to `who` (an adjustment,
/// audit-logged), once per `key`.
pub async fn grant(db: &Db, who: AccountId, amount: i64, key: &str, staff: Option<AccountId>, now: DateTime<Utc>) -> StoreResult<bool> {
    if amount < 1 {
        return Err(StoreError::Refused { field: "amount", message: "Enter a whole number of coins, at least 1.".into() });
    }
    let treasury = system(db, TREASURY).await?;
    let key = format!("{GRANT}:{key}");
    let reference = who.to_string();
    let outcome = on_pool!(db, p => async {
        let mut tx = p.begin_write().await?;
        let to = account_wallet_in(&mut *tx, who, &coins(), now).await?;
        let t = Transfer {
            legs: vec![Leg { wallet: treasury, unit: coins(), delta: Amount(-amount) }, Leg { wallet: to, unit: coins(), delta: Amount(amount) }],
            reason: GRANT,
            reference: Some(&reference),
            idempotency_key: &key,
            created_by: staff.map(|s| platform_ledger::ActorId(s.0)),
        };
        let done = book().transfer_in(&mut *tx, &t, now).await?;
        if let platform_ledger::Transferred::Duplicate = done {
            return Ok(false);
        }
        audit!(tx, staff, "coins_granted", "account", who.to_string(), format!("{amount} coins"), now);
        balance_event!(tx, who, now);
        tx.commit().await?;
        Ok::<bool, StoreError>(true)
    }
    .await);
    match outcome {
        Err(StoreError::Conflict(_)) if key_used(db, &key).await? => Ok(false),
        other => other,
    }
}

// ---------------------------------------------------------------- diamonds

#[derive(Debug, Clone, Copy, Serialize)]
pub struct Exchanged {
    pub diamonds: i64,
    pub rate: i64,
    pub coins: i64,
    pub balances: Balances,
}

/// BR-2: exchanges `diamonds` for coins at `rate` (stored on the record),
/// atomically: coins from the treasury, diamonds back to the issuer.
pub async fn exchange(db: &Db, who: AccountId, diamonds_in: i64, rate: i64, now: DateTime<Utc>) -> StoreResult<Exchanged> {
    let Some(coins_out) = rules::diamonds_to_coins(diamonds_in, rate) else {
        return Err(StoreError::Refused { field: "diamonds", message: "Enter a whole number of diamonds, at least 1.".into() });
    };
    let id = ExchangeId::new();
    let treasury = system(db, TREASURY).await?;
    let issuer = system(db, &issuer_shard(&id.to_string())).await?;
    on_pool!(db, p => {
        let mut tx = p.begin_write().await?;
        let cw = account_wallet_in(&mut *tx, who, &coins(), now).await?;
        let dw = account_wallet_in(&mut *tx, who, &diamonds(), now).await?;
        let reference = format!("exchange:{id}");
        // Both in one call: their wallets are locked in id order, the order
        // every transaction of the ledger takes them in.
        let (key_c, key_d) = (format!("{EXCHANGE}:{id}:coins"), format!("{EXCHANGE}:{id}:diamonds"));
        let transfers = [
            Transfer {
                legs: vec![Leg { wallet: treasury, unit: coins(), delta: Amount(-coins_out) }, Leg { wallet: cw, unit: coins(), delta: Amount(coins_out) }],
                reason: EXCHANGE, reference: Some(&reference), idempotency_key: &key_c, created_by: None,
            },
            Transfer {
                legs: vec![Leg { wallet: dw, unit: diamonds(), delta: Amount(-diamonds_in) }, Leg { wallet: issuer, unit: diamonds(), delta: Amount(diamonds_in) }],
                reason: EXCHANGE, reference: Some(&reference), idempotency_key: &key_d, created_by: None,
            },
        ];
        book().transfers_in(&mut *tx, &transfers, now).await?;
        sqlx::query("INSERT INTO diamond_exchanges (id, account_id, diamonds, rate, coins, created_at) VALUES ($1, $2, $3, $4, $5, $6)")
            .bind(id).bind(who).bind(diamonds_in).bind(rate).bind(coins_out).bind(now).execute(&mut *tx).await?;
        balance_event!(tx, who, now);
        tx.commit().await?;
    });
    Ok(Exchanged { diamonds: diamonds_in, rate, coins: coins_out, balances: balances(db, who).await? })
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Payout {
    pub id: PayoutId,
    pub account_id: AccountId,
    pub diamonds: i64,
    pub status: String,
    pub requested_at: DateTime<Utc>,
    pub decided_by: Option<AccountId>,
    pub decided_at: Option<DateTime<Utc>>,
    pub paid_at: Option<DateTime<Utc>>,
    /// The member's agency, whose owner confirms first (`None`: paid directly).
    pub agency_id: Option<AgencyId>,
    pub agency_confirmed_at: Option<DateTime<Utc>>,
}

impl Payout {
    /// Waiting for the agency's owner to confirm it.
    pub fn awaits_agency(&self) -> bool {
        self.status == "requested" && self.agency_id.is_some() && self.agency_confirmed_at.is_none()
    }
}

const PAYOUT_COLUMNS: &str =
    "id, account_id, diamonds, status, requested_at, decided_by, decided_at, paid_at, agency_id, agency_confirmed_at";

/// Asks for `amount` diamonds to be paid out: they move to the payout hold
/// at once (so they cannot be spent twice) until staff decide. A member of
/// an active agency's request goes to the agency's owner first (they are
/// told), then to staff.
pub async fn request_payout(db: &Db, who: AccountId, amount: i64, now: DateTime<Utc>) -> StoreResult<Payout> {
    if amount < 1 {
        return Err(StoreError::Refused { field: "diamonds", message: "Enter a whole number of diamonds, at least 1.".into() });
    }
    let id = PayoutId::new();
    let hold = system(db, HOLD).await?;
    let sql = format!(
        "INSERT INTO diamond_payouts ({PAYOUT_COLUMNS}) VALUES ($1, $2, $3, 'requested', $4, NULL, NULL, NULL, $5, NULL) RETURNING {PAYOUT_COLUMNS}"
    );
    Ok(on_pool!(db, p => {
        let mut tx = p.begin_write().await?;
        let dw = account_wallet_in(&mut *tx, who, &diamonds(), now).await?;
        let key = format!("{PAYOUT_HOLD}:{id}");
        let reference = id.to_string();
        book().transfer_in(&mut *tx, &Transfer {
            legs: vec![Leg { wallet: dw, unit: diamonds(), delta: Amount(-amount) }, Leg { wallet: hold, unit: diamonds(), delta: Amount(amount) }],
            reason: PAYOUT_HOLD, reference: Some(&reference), idempotency_key: &key, created_by: None,
        }, now).await?;
        let agency: Option<(AgencyId, AccountId)> = sqlx::query_as(
            "SELECT a.id, a.owner_id FROM agency_members m JOIN agencies a ON a.id = m.agency_id WHERE m.account_id = $1 AND a.status = 'active'")
            .bind(who).fetch_optional(&mut *tx).await?;
        let row = sqlx::query_as::<_, Payout>(&sql).bind(id).bind(who).bind(amount).bind(now).bind(agency.map(|a| a.0))
            .fetch_one(&mut *tx).await?;
        if let Some((agency, owner)) = agency {
            user_event!(tx, owner, "agency_payout", json!({"id": id, "agency_id": agency, "from": who, "diamonds": amount, "status": "requested"}), now);
        }
        balance_event!(tx, who, now);
        tx.commit().await?;
        row
    }))
}

/// Decisions on a payout: the agency owner's first step for a member's
/// payout, then staff's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PayoutAction {
    /// The member's agency owner agrees; staff may approve it next.
    AgencyConfirm,
    /// The member's agency owner refuses; the diamonds return.
    AgencyReject,
    /// Staff approve a requested payout (a member's once their agency confirmed).
    Approve,
    /// Staff refuse a requested or approved payout; the diamonds return.
    Reject,
    /// Staff mark an approved payout paid.
    MarkPaid,
}

impl PayoutAction {
    /// The conditional update of this step: `$1` the payout, `$2` now, `$3`
    /// who acts (the agency owner for the agency's steps).
    fn update(self) -> &'static str {
        match self {
            PayoutAction::AgencyConfirm => {
                "agency_confirmed_at = $2, agency_confirmed_by = $3 WHERE id = $1 AND status = 'requested' AND agency_confirmed_at IS NULL
                 AND agency_id IN (SELECT id FROM agencies WHERE owner_id = $3)"
            }
            PayoutAction::AgencyReject => {
                "status = 'rejected', decided_at = $2, decided_by = $3 WHERE id = $1 AND status = 'requested' AND agency_confirmed_at IS NULL
                 AND agency_id IN (SELECT id FROM agencies WHERE owner_id = $3)"
            }
            PayoutAction::Approve => {
                "status = 'approved', decided_at = $2, decided_by = $3 WHERE id = $1 AND status = 'requested'
                 AND (agency_id IS NULL OR agency_confirmed_at IS NOT NULL)"
            }
            PayoutAction::Reject => "status = 'rejected', decided_at = $2, decided_by = $3 WHERE id = $1 AND status IN ('requested', 'approved')",
            PayoutAction::MarkPaid => "status = 'paid', paid_at = $2, paid_by = $3 WHERE id = $1 AND status = 'approved'",
        }
    }

    fn audit_name(self) -> &'static str {
        match self {
            PayoutAction::AgencyConfirm => "payout_agency_confirmed",
            PayoutAction::AgencyReject => "payout_agency_rejected",
            PayoutAction::Approve => "payout_approved",
            PayoutAction::Reject => "payout_rejected",
            PayoutAction::MarkPaid => "payout_paid",
        }
    }
}

/// Why a step found nothing to move: no such payout, not the caller's
/// agency, the agency has not confirmed yet, or already processed.
async fn payout_refusal(db: &Db, id: PayoutId, actor: AccountId, action: PayoutAction) -> StoreError {
    let sql = format!("SELECT {PAYOUT_COLUMNS} FROM diamond_payouts WHERE id = $1");
    let row = on_pool!(db, p => sqlx::query_as::<_, Payout>(&sql).bind(id).fetch_optional(p).await);
    let Ok(Some(row)) = row else { return StoreError::NotFound };
    let agency_step = matches!(action, PayoutAction::AgencyConfirm | PayoutAction::AgencyReject);
    if agency_step {
        let owner: Option<AccountId> = match row.agency_id {
            Some(a) => on_pool!(db, p => sqlx::query_scalar("SELECT owner_id FROM agencies WHERE id = $1").bind(a).fetch_optional(p).await)
                .ok()
                .flatten(),
            None => None,
        };
        if owner != Some(actor) {
            return if row.account_id == actor || owner.is_some() {
                refused("not_agency_owner", "Only the member's agency owner confirms this payout")
            } else {
                StoreError::NotFound
            };
        }
    }
    if action == PayoutAction::Approve && row.awaits_agency() {
        return refused("agency_confirmation_pending", "The member's agency has not confirmed this payout yet");
    }
    refused("already_processed", format!("This payout was already processed ({})", row.status))
}

/// Moves a payout on, once: the agency owner confirms or rejects a
/// member's request, staff approve a requested one (a member's once
/// confirmed), reject a requested or approved one, mark an approved one
/// paid. A repeated or simultaneous step finds the payout already moved
/// and is refused with `already_processed`, and the ledger's key
/// (`payout_paid:<id>`, `payout_returned:<id>`) pays or returns once
/// whatever happens; a paid payout's diamonds go to the issuer, a rejected
/// one's back to the requester. Every step is audit-logged and the
/// requester told.
pub async fn decide_payout(db: &Db, id: PayoutId, actor: AccountId, action: PayoutAction, now: DateTime<Utc>) -> StoreResult<Payout> {
    let hold = system(db, HOLD).await?;
    let issuer = system(db, &issuer_shard(&id.to_string())).await?;
    let sql = format!("UPDATE diamond_payouts SET {} RETURNING {PAYOUT_COLUMNS}", action.update());
    Ok(on_pool!(db, p => {
        let mut tx = p.begin_write().await?;
        let Some(row) = sqlx::query_as::<_, Payout>(&sql).bind(id).bind(now).bind(actor).fetch_optional(&mut *tx).await? else {
            drop(tx);
            return Err(payout_refusal(db, id, actor, action).await);
        };
        let back = match action {
            PayoutAction::MarkPaid => Some((issuer, PAYOUT_PAID)),
            PayoutAction::Reject | PayoutAction::AgencyReject => {
                Some((account_wallet_in(&mut *tx, row.account_id, &diamonds(), now).await?, PAYOUT_RETURNED))
            }
            PayoutAction::Approve | PayoutAction::AgencyConfirm => None,
        };
        if let Some((dest, reason)) = back {
            let key = format!("{reason}:{id}");
            let reference = id.to_string();
            book().transfer_in(&mut *tx, &Transfer {
                legs: vec![Leg { wallet: hold, unit: diamonds(), delta: Amount(-row.diamonds) }, Leg { wallet: dest, unit: diamonds(), delta: Amount(row.diamonds) }],
                reason, reference: Some(&reference), idempotency_key: &key, created_by: Some(platform_ledger::ActorId(actor.0)),
            }, now).await?;
        }
        audit!(tx, actor, action.audit_name(), "payout", id.to_string(), format!("{} diamonds", row.diamonds), now);
        let step = if action == PayoutAction::AgencyConfirm { "agency_confirmed" } else { row.status.as_str() };
        user_event!(tx, row.account_id, "payout", json!({"id": id, "status": step}), now);
        if matches!(action, PayoutAction::Reject | PayoutAction::AgencyReject) {
            balance_event!(tx, row.account_id, now);
        }
        tx.commit().await?;
        row
    }))
}

/// A member's payouts waiting for their agency's owner, oldest first.
pub async fn agency_payouts(db: &Db, agency: AgencyId, limit: i64) -> StoreResult<Vec<Payout>> {
    let sql = format!(
        "SELECT {PAYOUT_COLUMNS} FROM diamond_payouts WHERE agency_id = $1 AND status = 'requested' AND agency_confirmed_at IS NULL
         ORDER BY requested_at LIMIT $2"
    );
    Ok(on_pool!(db, p => sqlx::query_as::<_, Payout>(&sql).bind(agency).bind(limit).fetch_all(p).await?))
}

pub async fn payouts(db: &Db, who: Option<AccountId>, limit: i64) -> StoreResult<Vec<Payout>> {
    let sql =
        format!("SELECT {PAYOUT_COLUMNS} FROM diamond_payouts WHERE ($1 IS NULL OR account_id = $1) ORDER BY requested_at DESC LIMIT $2");
    Ok(on_pool!(db, p => sqlx::query_as::<_, Payout>(&sql).bind(who).bind(limit).fetch_all(p).await?))
}
