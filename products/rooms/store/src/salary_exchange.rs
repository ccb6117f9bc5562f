//! Salary exchanged for coins (requirement 6.4, BR-2: $1 = 100 coins). A
//! member's salary is held in the ledger as US cents in their `USD` wallet
//! (paid from the `agency_salary_fund`, see [`crate::agencies`]); they may
//! exchange any part of what they hold, never more. One exchange is one
//! transaction: the cents return to the salary fund, the coins come from the
//! treasury, and a `salary_exchanges` row records the rate applied — each
//! ledger movement once per idempotency key, so a repeated request finds the
//! first exchange and pays nothing more.

use crate::agencies::{SALARY_FUND, SALARY_FUND_OPENING, SALARY_UNIT};
use crate::economy::{account_wallet_in, balance_event, book, coins, system, system_wallet, TREASURY};
use crate::{on_pool, BeginWrite, Db, StoreError, StoreResult};
use chrono::{DateTime, Utc};
use platform_ledger::{wallets, Amount, Leg, Transfer, Transferred, Unit};
use rooms_domain::agency::{self as rules, SALARY_COINS_PER_DOLLAR};
use rooms_domain::ids::{AccountId, SalaryExchangeId};
use serde::Serialize;
use serde_json::json;

/// The ledger reason of both movements of an exchange.
pub const SALARY_EXCHANGE: &str = "salary_exchange";

fn usd() -> Unit {
    Unit::parse(SALARY_UNIT).expect("a unit name")
}

/// One exchange as its history shows it.
#[derive(Debug, Clone, Serialize, sqlx::FromRow, PartialEq, Eq)]
pub struct SalaryExchange {
    pub id: SalaryExchangeId,
    pub account_id: AccountId,
    /// Salary given, in US cents.
    pub cents: i64,
    /// Coins per dollar applied (BR-2).
    pub rate: i64,
    /// Coins received.
    pub coins: i64,
    pub created_at: DateTime<Utc>,
}

/// The outcome of [`exchange_salary`].
#[derive(Debug, Clone, Serialize)]
pub struct SalaryExchanged {
    pub exchange: SalaryExchange,
    /// The key was used before: this is the first exchange, nothing moved now.
    pub duplicate: bool,
    /// The member's salary (cents) and coins after.
    pub salary_cents: i64,
    pub coins: i64,
}

/// The ledger keys of an exchange by `who` under `key`.
fn ledger_keys(who: AccountId, key: &str) -> (String, String) {
    (format!("{SALARY_EXCHANGE}:{who}:{key}:usd"), format!("{SALARY_EXCHANGE}:{who}:{key}:coins"))
}

/// A member's salary balance in US cents (0 without a salary wallet).
pub async fn salary_balance(db: &Db, who: AccountId) -> StoreResult<i64> {
    Ok(wallets::find(db, crate::economy::ACCOUNT, &who.to_string(), &usd()).await?.map_or(0, |w| w.balance.get()))
}

async fn by_key(db: &Db, who: AccountId, key: &str) -> StoreResult<Option<SalaryExchange>> {
    Ok(on_pool!(db, p => sqlx::query_as(
        "SELECT id, account_id, cents, rate, coins, created_at FROM salary_exchanges WHERE account_id = $1 AND idempotency_key = $2")
        .bind(who).bind(key).fetch_optional(p).await?))
}

async fn outcome(db: &Db, who: AccountId, exchange: SalaryExchange, duplicate: bool) -> StoreResult<SalaryExchanged> {
    let salary_cents = salary_balance(db, who).await?;
    let coins = crate::economy::balances(db, who).await?.coins;
    Ok(SalaryExchanged { exchange, duplicate, salary_cents, coins })
}

/// Exchanges `cents` of `who`'s salary for coins at the BR-2 rate, once per
/// `key`: the cents go back to the salary fund and the coins come from the
/// treasury in one transaction with the history row. More than the salary
/// held → `Insufficient` (required/available in cents), nothing written; an
/// amount that is not a whole number of coins or too large → `Refused` on
/// `cents`. The same key again answers the first exchange (`duplicate`).
pub async fn exchange_salary(db: &Db, who: AccountId, cents: i64, key: &str, now: DateTime<Utc>) -> StoreResult<SalaryExchanged> {
    let key = key.trim();
    if key.is_empty() || key.len() > 100 {
        return Err(StoreError::Refused { field: "idempotency_key", message: "Send an idempotency key of 1 to 100 characters.".into() });
    }
    if let Some(first) = by_key(db, who, key).await? {
        return outcome(db, who, first, true).await;
    }
    let fund = system_wallet(db, SALARY_FUND, &usd(), SALARY_FUND_OPENING).await?;
    let treasury = system(db, TREASURY).await?;
    let (key_usd, key_coins) = ledger_keys(who, key);
    let id = SalaryExchangeId::new();
    let done = on_pool!(db, p => async {
        let mut tx = p.begin_write().await?;
        // The rate is the one in force when the transaction runs; the row keeps it.
        let rate = SALARY_COINS_PER_DOLLAR;
        let coins_out = rules::salary_to_coins(cents, rate).map_err(|r| StoreError::Refused { field: "cents", message: r.message() })?;
        let sw = account_wallet_in(&mut *tx, who, &usd(), now).await?;
        let cw = account_wallet_in(&mut *tx, who, &coins(), now).await?;
        let reference = format!("salary_exchange:{id}");
        // Both in one call: their wallets are locked in id order.
        let transfers = [
            Transfer {
                legs: vec![Leg { wallet: sw, unit: usd(), delta: Amount(-cents) }, Leg { wallet: fund, unit: usd(), delta: Amount(cents) }],
                reason: SALARY_EXCHANGE, reference: Some(&reference), idempotency_key: &key_usd, created_by: None,
            },
            Transfer {
                legs: vec![Leg { wallet: treasury, unit: coins(), delta: Amount(-coins_out) }, Leg { wallet: cw, unit: coins(), delta: Amount(coins_out) }],
                reason: SALARY_EXCHANGE, reference: Some(&reference), idempotency_key: &key_coins, created_by: None,
            },
        ];
        let moved = book().transfers_in(&mut *tx, &transfers, now).await?;
        if moved.iter().any(|t| matches!(t, Transferred::Duplicate)) {
            // Another request with this key got there first; ours writes nothing.
            return Ok::<Option<SalaryExchange>, StoreError>(None);
        }
        let row = SalaryExchange { id, account_id: who, cents, rate, coins: coins_out, created_at: now };
        sqlx::query("INSERT INTO salary_exchanges (id, account_id, cents, rate, coins, idempotency_key, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)")
            .bind(id).bind(who).bind(cents).bind(rate).bind(coins_out).bind(key).bind(now).execute(&mut *tx).await?;
        balance_event!(tx, who, now);
        user_event!(tx, who, "salary_exchanged", json!({"id": id, "cents": cents, "rate": rate, "coins": coins_out}), now);
        tx.commit().await?;
        Ok(Some(row))
    }
    .await);
    match done {
        Ok(Some(row)) => outcome(db, who, row, false).await,
        Ok(None) => match by_key(db, who, key).await? {
            Some(first) => outcome(db, who, first, true).await,
            None => Err(StoreError::Conflict("salary exchange in progress under this key".into())),
        },
        Err(e @ (StoreError::Conflict(_) | StoreError::Insufficient { .. })) => match by_key(db, who, key).await? {
            Some(first) => outcome(db, who, first, true).await,
            None => Err(e),
        },
        Err(e) => Err(e),
    }
}

/// `who`'s exchanges, newest first.
pub async fn salary_exchanges(db: &Db, who: AccountId, limit: i64) -> StoreResult<Vec<SalaryExchange>> {
    Ok(on_pool!(db, p => sqlx::query_as(
        "SELECT id, account_id, cents, rate, coins, created_at FROM salary_exchanges WHERE account_id = $1
         ORDER BY created_at DESC, id DESC LIMIT $2")
        .bind(who).bind(limit.clamp(1, 200)).fetch_all(p).await?))
}

/// `rooms check`: every exchange has exactly its two ledger movements, of
/// its own amounts (the cents out of the member's salary, the coins in).
pub const CHECKS: &[(&str, &str)] = &[
    (
        "salary exchange without exactly its two ledger movements",
        "SELECT COUNT(*) FROM salary_exchanges x WHERE
           (SELECT COUNT(*) FROM ledger_entries e JOIN wallets w ON w.id = e.wallet_id
             WHERE e.reason = 'salary_exchange' AND e.reference = 'salary_exchange:' || CAST(x.id AS TEXT)
               AND w.owner_kind = 'account' AND w.owner_id = CAST(x.account_id AS TEXT)
               AND ((w.unit = 'USD' AND e.delta = -x.cents) OR (w.unit = 'coins' AND e.delta = x.coins))) <> 2",
    ),
    (
        "salary exchange movement without its exchange",
        "SELECT COUNT(*) FROM ledger_entries e WHERE e.reason = 'salary_exchange'
           AND NOT EXISTS (SELECT 1 FROM salary_exchanges x WHERE e.reference = 'salary_exchange:' || CAST(x.id AS TEXT))",
    ),
];
