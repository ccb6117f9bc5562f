//! Accounts reached through a sign-in provider (OpenID Connect; Google).
//! An external identity is its issuer and subject and belongs to one
//! account. Its first use links it to the active account with the same
//! provider-verified email; with none, the person chooses a username and
//! display name first and [`create`] makes the account and the link in one
//! transaction.

use crate::accounts::{self, Account, NewAccount};
use chrono::{DateTime, Utc};
use gigstream_domain::ids::AccountId;
use platform_db::{on_pool, BeginWrite, Db, StoreError, StoreResult};

/// A verified identity from a provider.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct External {
    pub issuer: String,
    pub subject: String,
    /// Verified by the provider, lower case.
    pub email: String,
}

/// Where a provider sign-in leads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Found {
    /// The identity was linked before.
    Known(AccountId),
    /// First use: linked now to the account with its email.
    Linked(AccountId),
    /// No account yet: the person picks a username first.
    New,
}

/// Finds the account of `ext`, linking it by email on first use.
pub async fn find_or_link(db: &Db, ext: &External, now: DateTime<Utc>) -> StoreResult<Found> {
    on_pool!(db, p => {
        let mut tx = p.begin_write().await?;
        let known: Option<AccountId> = sqlx::query_scalar(
            "UPDATE account_identities SET last_used_at = $3 WHERE issuer = $1 AND subject = $2 RETURNING account_id",
        )
        .bind(&ext.issuer).bind(&ext.subject).bind(now).fetch_optional(&mut *tx).await?;
        if let Some(id) = known {
            tx.commit().await?;
            return Ok(Found::Known(id));
        }
        let by_email: Option<AccountId> = sqlx::query_scalar("SELECT id FROM accounts WHERE email = $1 AND is_active")
            .bind(ext.email.to_lowercase()).fetch_optional(&mut *tx).await?;
        let Some(id) = by_email else { return Ok(Found::New) };
        sqlx::query(
            "INSERT INTO account_identities (issuer, subject, account_id, email, created_at, last_used_at) VALUES ($1, $2, $3, $4, $5, $5)",
        )
        .bind(&ext.issuer).bind(&ext.subject).bind(id).bind(&ext.email).bind(now).execute(&mut *tx).await?;
        tx.commit().await?;
        Ok(Found::Linked(id))
    })
}

/// Makes the account of a new identity and links it, in one transaction.
/// A taken username (or an email meanwhile taken) is a field error; an
/// identity linked meanwhile (a second tab) is a conflict.
pub async fn create(db: &Db, ext: &External, new: &NewAccount<'_>, now: DateTime<Utc>) -> StoreResult<Account> {
    let id = AccountId::new();
    let r = on_pool!(db, p => async {
        let mut tx = p.begin_write().await?;
        let linked: Option<AccountId> = sqlx::query_scalar("SELECT account_id FROM account_identities WHERE issuer = $1 AND subject = $2")
            .bind(&ext.issuer).bind(&ext.subject).fetch_optional(&mut *tx).await?;
        if linked.is_some() {
            return Err(StoreError::Conflict("account_identities".into()));
        }
        sqlx::query(accounts::INSERT).bind(id).bind(new.email).bind(new.username).bind(new.display_name)
            .bind(new.password_hash).bind(new.is_admin).bind(now).execute(&mut *tx).await?;
        sqlx::query(
            "INSERT INTO account_identities (issuer, subject, account_id, email, created_at, last_used_at) VALUES ($1, $2, $3, $4, $5, $5)",
        )
        .bind(&ext.issuer).bind(&ext.subject).bind(id).bind(&ext.email).bind(now).execute(&mut *tx).await?;
        tx.commit().await?;
        Ok::<_, StoreError>(())
    }
    .await);
    match r {
        Ok(()) => accounts::by_id(db, id).await,
        Err(StoreError::Conflict(what)) if what.contains("identities") => {
            Err(StoreError::Rule("This Google account was just linked to an account; sign in with Google again.".into()))
        }
        Err(e) => Err(accounts::taken(e)),
    }
}

/// The providers (issuers) linked to an account.
pub async fn linked(db: &Db, id: AccountId) -> StoreResult<Vec<String>> {
    let sql = "SELECT issuer FROM account_identities WHERE account_id = $1 ORDER BY created_at";
    Ok(on_pool!(db, p => sqlx::query_scalar(sql).bind(id).fetch_all(p).await?))
}
