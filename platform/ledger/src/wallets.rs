//! Wallets of the standard schema ([`crate::MIGRATIONS`]): one per owner and
//! unit, opened on first use. System accounts (escrow, platform fees) are
//! wallets like any other, owned by [`SYSTEM`].

use crate::{Amount, Conn, Unit, WalletId};
use chrono::{DateTime, Utc};
use platform_db::{on_pool, Db, StoreError, StoreResult};
use serde::Serialize;

/// The owner kind of the platform's own accounts: `open(db, SYSTEM,
/// "escrow", &unit)`.
pub const SYSTEM: &str = "system";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct Wallet {
    pub id: WalletId,
    /// What owns it, in the product's words (`user`, `seller`, [`SYSTEM`]).
    pub owner_kind: String,
    pub owner_id: String,
    pub unit: Unit,
    pub balance: Amount,
    pub created_at: DateTime<Utc>,
}

fn check_owner(owner_kind: &str, owner_id: &str) -> StoreResult<()> {
    for (field, value) in [("owner_kind", owner_kind), ("owner_id", owner_id)] {
        if value.trim().is_empty() || value.len() > 200 {
            return Err(StoreError::Refused { field, message: "must be 1 to 200 bytes".into() });
        }
    }
    Ok(())
}

/// The owner's wallet of `unit`, opened empty if it has none yet. Safe to
/// call any number of times, also concurrently.
pub async fn open(db: &Db, owner_kind: &str, owner_id: &str, unit: &Unit) -> StoreResult<Wallet> {
    check_owner(owner_kind, owner_id)?;
    let now = Utc::now();
    on_pool!(db, p => async {
        let mut c = p.acquire().await?;
        c.open_wallet(owner_kind, owner_id, unit, now).await
    }
    .await)
}

/// Like [`open`], inside the caller's transaction.
pub async fn open_in<C: Conn>(conn: &mut C, owner_kind: &str, owner_id: &str, unit: &Unit, now: DateTime<Utc>) -> StoreResult<Wallet> {
    check_owner(owner_kind, owner_id)?;
    conn.open_wallet(owner_kind, owner_id, unit, now).await
}

/// A wallet by id.
pub async fn get(db: &Db, id: WalletId) -> StoreResult<Wallet> {
    on_pool!(db, p => async {
        let mut c = p.acquire().await?;
        c.wallet(id).await
    }
    .await)?
    .ok_or(StoreError::NotFound)
}

/// The owner's wallet of `unit`, if opened.
pub async fn find(db: &Db, owner_kind: &str, owner_id: &str, unit: &Unit) -> StoreResult<Option<Wallet>> {
    on_pool!(db, p => async {
        let mut c = p.acquire().await?;
        c.find_wallet(owner_kind, owner_id, unit).await
    }
    .await)
}

/// Like [`find`], inside the caller's transaction.
pub async fn find_in<C: Conn>(conn: &mut C, owner_kind: &str, owner_id: &str, unit: &Unit) -> StoreResult<Option<Wallet>> {
    conn.find_wallet(owner_kind, owner_id, unit).await
}
