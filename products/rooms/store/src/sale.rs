//! One purchase path for time-limited items bought with coins (avatar
//! frames, VIP tiers; requirements 5.5 and 9.5): the request key's form,
//! the price the buyer saw ("refresh" when it changed), the treasury and
//! ladders read before the transaction, and inside it the key checked
//! once, the payer's ledger debit to the treasury under the item's reason,
//! the coins counted as the payer's wealth XP and the new balance told.
//! A raced key answers `duplicate_purchase`; too few coins is
//! `Insufficient` with nothing written (the caller's transaction rolls
//! back). Each item keeps its own record and its own stacking rule.

use crate::economy;
use crate::levels::Ladders;
use crate::{refused, Db, StoreError, StoreResult};
use platform_ledger::WalletId;

/// The refusal for a request key used before.
pub fn duplicate() -> StoreError {
    refused("duplicate_purchase", "This purchase was already made")
}

/// A request key: 1 to 100 characters, not blank.
pub fn check_key(key: &str) -> StoreResult<()> {
    if key.trim().is_empty() || key.len() > 100 {
        return Err(StoreError::Refused { field: "idempotency_key", message: "1 to 100 characters".into() });
    }
    Ok(())
}

/// The price now against the price the buyer was shown.
pub fn check_price(price: i64, seen: i64) -> StoreResult<()> {
    if price != seen {
        return Err(refused("price_changed", format!("The price changed to {price} coins: refresh and try again.")));
    }
    Ok(())
}

/// What a sale reads before its transaction.
pub struct Till {
    /// The treasury shard the coins go to (from the request key).
    pub treasury: WalletId,
    pub ladders: Ladders,
}

/// The till for a sale under `key`.
pub async fn till(db: &Db, key: &str) -> StoreResult<Till> {
    Ok(Till { treasury: economy::system(db, &economy::treasury_shard(key)).await?, ladders: crate::levels::ladders(db).await? })
}

/// A sale's outcome: two requests with one key at once, the loser finds
/// it used.
pub fn settled<T>(outcome: StoreResult<T>) -> StoreResult<T> {
    match outcome {
        Err(StoreError::Conflict(_)) => Err(duplicate()),
        other => other,
    }
}

/// Refuses with `duplicate_purchase` when `$sql` (a `COUNT(*)` with the
/// payer as `$1` and the key as `$2`) finds the key used.
macro_rules! sale_key_unused {
    ($tx:expr, $sql:expr, $payer:expr, $key:expr) => {{
        let used: i64 = sqlx::query_scalar($sql).bind($payer).bind($key).fetch_one(&mut *$tx).await?;
        if used > 0 {
            return Err(crate::sale::duplicate());
        }
    }};
}

/// Inside the sale's transaction: debits `$price` coins from `$payer` to
/// the till's treasury (reason `$reason`, reference `$reference`, ledger
/// key `$ledger_key`; a used ledger key refuses with `duplicate_purchase`),
/// adds them to the payer's wealth XP and tells the payer their balance.
macro_rules! sale_charge {
    ($tx:expr, $till:expr, $payer:expr, $price:expr, $reason:expr, $reference:expr, $ledger_key:expr, $key:expr, $now:expr) => {{
        let till: &crate::sale::Till = $till;
        let payer: rooms_domain::ids::AccountId = $payer;
        let price: i64 = $price;
        let w = crate::economy::account_wallet_in(&mut *$tx, payer, &crate::economy::coins(), $now).await?;
        let reference: String = $reference;
        let transfer = platform_ledger::Transfer {
            legs: vec![
                platform_ledger::Leg { wallet: w, unit: crate::economy::coins(), delta: platform_ledger::Amount(-price) },
                platform_ledger::Leg { wallet: till.treasury, unit: crate::economy::coins(), delta: platform_ledger::Amount(price) },
            ],
            reason: $reason,
            reference: Some(&reference),
            idempotency_key: $ledger_key,
            created_by: None,
        };
        if let platform_ledger::Transferred::Duplicate = crate::economy::book().transfer_in(&mut *$tx, &transfer, $now).await? {
            return Err(crate::sale::duplicate());
        }
        // Coins spent count as the payer's wealth XP (9.1).
        spend_xp!($tx, &till.ladders, payer, price, $key, $now);
        crate::economy::balance_event!($tx, payer, $now);
    }};
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_and_prices() {
        for (key, ok) in [("k", true), (" ", false), ("", false), (&"x".repeat(100), true), (&"x".repeat(101), false)] {
            assert_eq!(check_key(key).is_ok(), ok, "{key:?}");
        }
        assert!(check_price(10, 10).is_ok());
        assert!(
            matches!(check_price(10, 9), Err(StoreError::Guard { code, message }) if code == "price_changed" && message.contains("10 coins"))
        );
        assert!(
            matches!(settled::<()>(Err(StoreError::Conflict("x".into()))), Err(StoreError::Guard { code, .. }) if code == "duplicate_purchase")
        );
    }
}
