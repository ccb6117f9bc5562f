//! Escrow on platform-ledger's standard wallets. A payment credits the
//! escrow wallet of its currency; a release moves what is left of an order
//! from escrow to the seller's pending earnings and the platform's fees in
//! one transfer; a refund debits escrow (the money goes back to the buyer
//! through the payment provider). Every posting carries the order as its
//! reference and a key that makes it happen once.

use chrono::{DateTime, Utc};
use gigstream_domain::ids::{AccountId, OrderId};
use gigstream_domain::Currency;
use platform_db::{Db, StoreError, StoreResult};
use platform_ledger::wallets::{self, SYSTEM};
use platform_ledger::{Amount, Book, Conn, Leg, Movement, Transfer, Unit, WalletId};

/// The system wallet holding buyers' money until release or refund.
pub const ESCROW: &str = "escrow";
/// The system wallet of the platform's fees.
pub const FEES: &str = "platform_fees";
/// The owner kind of sellers' pending earnings.
pub const SELLER_PENDING: &str = "seller_pending";

/// Ledger reasons.
pub const PAYMENT: &str = "payment";
pub const RELEASE: &str = "release";
pub const REFUND: &str = "refund";

pub fn unit(currency: Currency) -> Unit {
    Unit::parse(currency.as_str()).expect("ISO codes are units")
}

fn book() -> &'static Book {
    Book::standard()
}

async fn system_wallet<C: Conn>(conn: &mut C, name: &str, currency: Currency, now: DateTime<Utc>) -> StoreResult<WalletId> {
    Ok(wallets::open_in(conn, SYSTEM, name, &unit(currency), now).await?.id)
}

/// Credits escrow with an order's payment, once per order.
pub async fn credit_payment_in<C: Conn>(
    conn: &mut C,
    order: OrderId,
    currency: Currency,
    amount: i64,
    now: DateTime<Utc>,
) -> StoreResult<()> {
    let escrow = system_wallet(conn, ESCROW, currency, now).await?;
    let reference = order.to_string();
    let key = format!("payment:{order}");
    let m = Movement {
        wallet: escrow,
        delta: Amount(amount),
        reason: PAYMENT,
        reference: Some(&reference),
        idempotency_key: &key,
        created_by: None,
        spending: false,
    };
    book().post_in(conn, &m, now).await?;
    Ok(())
}

/// Moves `seller + platform` of an order from escrow to the seller's
/// pending earnings and the platform's fees, once per order.
pub async fn release_in<C: Conn>(
    conn: &mut C,
    order: OrderId,
    seller: AccountId,
    currency: Currency,
    to_seller: i64,
    to_platform: i64,
    now: DateTime<Utc>,
) -> StoreResult<()> {
    let u = unit(currency);
    let escrow = system_wallet(conn, ESCROW, currency, now).await?;
    let mut legs = vec![Leg { wallet: escrow, unit: u.clone(), delta: Amount(-(to_seller + to_platform)) }];
    if to_seller > 0 {
        let w = wallets::open_in(conn, SELLER_PENDING, &seller.to_string(), &u, now).await?.id;
        legs.push(Leg { wallet: w, unit: u.clone(), delta: Amount(to_seller) });
    }
    if to_platform > 0 {
        let w = system_wallet(conn, FEES, currency, now).await?;
        legs.push(Leg { wallet: w, unit: u.clone(), delta: Amount(to_platform) });
    }
    if legs.len() < 2 {
        return Ok(());
    }
    let reference = order.to_string();
    let key = format!("release:{order}");
    let t = Transfer { legs, reason: RELEASE, reference: Some(&reference), idempotency_key: &key, created_by: None };
    book().transfer_in(conn, &t, now).await?;
    Ok(())
}

/// Takes a refund out of escrow, once per request key.
pub async fn refund_in<C: Conn>(
    conn: &mut C,
    order: OrderId,
    currency: Currency,
    amount: i64,
    request_key: &str,
    now: DateTime<Utc>,
) -> StoreResult<()> {
    let escrow = system_wallet(conn, ESCROW, currency, now).await?;
    let reference = order.to_string();
    let key = format!("refund:{order}:{request_key}");
    let m = Movement {
        wallet: escrow,
        delta: Amount(-amount),
        reason: REFUND,
        reference: Some(&reference),
        idempotency_key: &key,
        created_by: None,
        spending: false,
    };
    book().post_in(conn, &m, now).await?;
    Ok(())
}

/// What a seller has earned and not yet been paid, per currency.
pub async fn pending_earnings(db: &Db, seller: AccountId, currency: Currency) -> StoreResult<i64> {
    match wallets::find(db, SELLER_PENDING, &seller.to_string(), &unit(currency)).await? {
        Some(w) => Ok(w.balance.get()),
        None => Ok(0),
    }
}

/// A system wallet's balance (escrow, fees), zero if never opened.
pub async fn system_balance(db: &Db, name: &str, currency: Currency) -> StoreResult<i64> {
    match wallets::find(db, SYSTEM, name, &unit(currency)).await? {
        Some(w) => Ok(w.balance.get()),
        None => Ok(0),
    }
}

/// A refund the caps refuse, as a field error on `amount`.
pub fn refused(r: gigstream_domain::order::RefundRefusal) -> StoreError {
    StoreError::Refused { field: "amount", message: r.to_string() }
}
