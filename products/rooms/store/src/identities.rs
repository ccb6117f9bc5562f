//! Accounts reached through a sign-in provider (OpenID Connect, Google
//! first; 1.2). An external identity is its issuer and subject; it belongs
//! to one account. The first sign-in links it to the account with the same
//! (provider-verified) email, or makes a new account from that email, whose
//! handle, birth date and country the person gives before anything else.

use crate::{conflict_on, on_pool, BeginWrite, Db, StoreError, StoreResult};
use chrono::{DateTime, Utc};
use rooms_domain::account::{AdultBirthDate, Country, Email, FullName, Handle, PlatformRole};
use rooms_domain::ids::AccountId;

/// A verified identity from a provider.
#[derive(Debug, Clone)]
pub struct External {
    pub issuer: String,
    pub subject: String,
    /// Verified by the provider (the relying party refuses unverified ones).
    pub email: Email,
    /// The provider's name for the person, already checked as a full name.
    pub name: FullName,
}

/// How a provider sign-in found its account.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// The identity was linked before.
    Known(AccountId),
    /// First use of the identity: linked to the account with its email.
    Linked(AccountId),
    /// First use, and no account had the email: a new one, needing a profile.
    Created(AccountId),
}

impl Outcome {
    pub fn account(self) -> AccountId {
        match self {
            Outcome::Known(a) | Outcome::Linked(a) | Outcome::Created(a) => a,
        }
    }
}

/// Finds, links or creates the account of `ext`. `unusable_hash` is the
/// password hash a new account gets (of a random secret nobody knows: it
/// signs in through the provider until a reset sets a password). Of two
/// simultaneous first sign-ins with one identity, both end on the same
/// account (the loser's transaction conflicts and is retried).
pub async fn sign_in(db: &Db, ext: &External, unusable_hash: &str, now: DateTime<Utc>) -> StoreResult<Outcome> {
    let mut last = None;
    for _ in 0..6 {
        match attempt(db, ext, unusable_hash, now).await {
            Err(e @ StoreError::Conflict(_)) => last = Some(e),
            other => return other,
        }
    }
    Err(last.unwrap_or_else(|| StoreError::Rule("could not link the identity".into())))
}

async fn attempt(db: &Db, ext: &External, unusable_hash: &str, now: DateTime<Utc>) -> StoreResult<Outcome> {
    on_pool!(db, p => {
        let mut tx = p.begin_write().await?;
        let known: Option<AccountId> = sqlx::query_scalar("SELECT account_id FROM account_identities WHERE issuer = $1 AND subject = $2")
            .bind(&ext.issuer).bind(&ext.subject).fetch_optional(&mut *tx).await?;
        if let Some(id) = known {
            sqlx::query("UPDATE account_identities SET last_used_at = $3 WHERE issuer = $1 AND subject = $2")
                .bind(&ext.issuer).bind(&ext.subject).bind(now).execute(&mut *tx).await?;
            tx.commit().await?;
            return Ok(Outcome::Known(id));
        }
        let by_email: Option<AccountId> =
            sqlx::query_scalar("SELECT id FROM accounts WHERE email = $1").bind(ext.email.as_str()).fetch_optional(&mut *tx).await?;
        let outcome = match by_email {
            Some(id) => {
                audit!(tx, Some(id), "identity_linked", "account", id.to_string(), ext.issuer.as_str(), now);
                Outcome::Linked(id)
            }
            None => {
                let id = AccountId::new();
                let number = rooms_domain::number::generate(&mut rand::thread_rng());
                sqlx::query(
                    "INSERT INTO accounts (id, public_number, handle, full_name, display_name, email, password_hash, role, created_at, needs_profile)
                     VALUES ($1, $2, $3, $4, $4, $5, $6, $7, $8, TRUE)",
                )
                .bind(id).bind(number).bind(format!("u{number}")).bind(ext.name.as_str()).bind(ext.email.as_str())
                .bind(unusable_hash).bind(PlatformRole::User).bind(now)
                .execute(&mut *tx).await?;
                audit!(tx, Some(id), "account_created_by_provider", "account", id.to_string(), ext.issuer.as_str(), now);
                Outcome::Created(id)
            }
        };
        sqlx::query("INSERT INTO account_identities (issuer, subject, account_id, email, created_at, last_used_at) VALUES ($1, $2, $3, $4, $5, $5)")
            .bind(&ext.issuer).bind(&ext.subject).bind(outcome.account()).bind(ext.email.as_str()).bind(now)
            .execute(&mut *tx).await?;
        tx.commit().await?;
        Ok(outcome)
    })
}

/// The providers (issuers) linked to an account.
pub async fn linked(db: &Db, id: AccountId) -> StoreResult<Vec<String>> {
    Ok(on_pool!(db, p => sqlx::query_scalar("SELECT issuer FROM account_identities WHERE account_id = $1 ORDER BY created_at")
        .bind(id).fetch_all(p).await?))
}

/// What an account made through a provider still lacks (1.2).
#[derive(Debug, Clone)]
pub struct Completion {
    pub handle: Handle,
    pub full_name: FullName,
    pub birth_date: AdultBirthDate,
    pub country: Country,
}

/// Gives an account made through a provider its handle, name, birth date
/// and country, which opens the rest of the product. A taken handle is
/// refused on its field; an account that never needed it is refused.
pub async fn complete_profile(db: &Db, id: AccountId, c: &Completion) -> StoreResult<()> {
    let r: StoreResult<u64> = async {
        Ok(on_pool!(db, p => sqlx::query(
            "UPDATE accounts SET handle = $2, full_name = $3, display_name = $3, birth_date = $4, country = $5, needs_profile = FALSE
             WHERE id = $1 AND needs_profile")
            .bind(id).bind(c.handle.as_str()).bind(c.full_name.as_str()).bind(c.birth_date.date().format("%Y-%m-%d").to_string())
            .bind(c.country.as_str()).execute(p).await?.rows_affected()))
    }
    .await;
    match r {
        Ok(0) => Err(crate::refused("profile_complete", "This account's profile is already complete")),
        Ok(_) => Ok(()),
        Err(e) if conflict_on(&e, "handle") => Err(StoreError::Refused { field: "handle", message: "That handle is taken".into() }),
        Err(e) => Err(e),
    }
}
