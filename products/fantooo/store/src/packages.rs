//! Credit packages offered for purchase, with validity windows, badges and
//! A/B variants. A checkout snapshots the package (see `payments`), so
//! editing one never changes the price of a checkout already started.

use crate::audit::Actor;
use crate::{on_pool, BeginWrite, Db, StoreResult};
use chrono::{DateTime, Utc};
use fantooo_domain::ids::{AdminId, PackageId, UserId};
use fantooo_domain::offer::{variant_for, Offer};
use fantooo_domain::Kes;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Package {
    pub id: PackageId,
    pub name: String,
    pub credits: i64,
    pub price_cents: i64,
    pub currency: String,
    pub bonus_credits: i64,
    pub badge: Option<String>,
    pub is_featured: bool,
    pub sort_order: i64,
    pub is_active: bool,
    pub valid_from: Option<DateTime<Utc>>,
    pub valid_until: Option<DateTime<Utc>>,
    /// An A/B test arm; packages without one are shown to everybody.
    pub variant: Option<String>,
}

impl Package {
    pub fn offer(&self) -> Offer {
        Offer { credits: self.credits, bonus_credits: self.bonus_credits, price: Kes(self.price_cents) }
    }
}

const PACKAGE_COLUMNS: &str =
    "id, name, credits, price_cents, currency, bonus_credits, badge, is_featured, sort_order, is_active, valid_from, valid_until, variant";

pub struct NewPackage<'a> {
    pub name: &'a str,
    pub credits: i64,
    pub price_cents: i64,
    pub bonus_credits: i64,
    pub badge: Option<&'a str>,
    pub is_featured: bool,
    pub sort_order: i64,
    pub valid_from: Option<DateTime<Utc>>,
    pub valid_until: Option<DateTime<Utc>>,
    pub variant: Option<&'a str>,
}

/// The package as it was when a checkout began (the price lock).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Snapshot {
    pub package_id: PackageId,
    pub name: String,
    pub credits: i64,
    pub bonus_credits: i64,
    pub price_cents: i64,
    pub currency: String,
    pub variant: Option<String>,
}

impl From<&Package> for Snapshot {
    fn from(p: &Package) -> Self {
        Snapshot {
            package_id: p.id,
            name: p.name.clone(),
            credits: p.credits,
            bonus_credits: p.bonus_credits,
            price_cents: p.price_cents,
            currency: p.currency.clone(),
            variant: p.variant.clone(),
        }
    }
}

pub async fn create(db: &Db, p_: &NewPackage<'_>) -> StoreResult<PackageId> {
    create_by(db, p_, None).await
}

/// Creates a package; with an admin, audited in the same transaction.
pub async fn create_by(db: &Db, p_: &NewPackage<'_>, by: Option<AdminId>) -> StoreResult<PackageId> {
    let id = PackageId::new();
    let now = Utc::now();
    let sql = "INSERT INTO credit_packages (id, name, credits, price_cents, currency, bonus_credits, badge, is_featured, sort_order, is_active, valid_from, valid_until, variant, created_at, updated_at)
               VALUES ($1, $2, $3, $4, 'KES', $5, $6, $7, $8, TRUE, $9, $10, $11, $12, $12)";
    let after = serde_json::json!({ "name": p_.name, "credits": p_.credits, "price_cents": p_.price_cents, "bonus_credits": p_.bonus_credits,
                                     "badge": p_.badge, "variant": p_.variant, "valid_from": p_.valid_from, "valid_until": p_.valid_until });
    on_pool!(db, p => {
        let mut tx = p.begin_write().await?;
        sqlx::query(sql).bind(id).bind(p_.name).bind(p_.credits).bind(p_.price_cents).bind(p_.bonus_credits)
            .bind(p_.badge).bind(p_.is_featured).bind(p_.sort_order).bind(p_.valid_from.unwrap_or(now)).bind(p_.valid_until).bind(p_.variant).bind(now)
            .execute(&mut *tx).await?;
        if by.is_some() {
            platform_audit::record_in(&mut *tx, &Actor::of(by).record("package_created").subject("credit_package", &id.to_string()).change(None, Some(&after)), now).await?;
        }
        tx.commit().await?;
    });
    Ok(id)
}

/// Packages on sale now: active and inside their validity window.
pub async fn list_active(db: &Db) -> StoreResult<Vec<Package>> {
    let sql = format!(
        "SELECT {PACKAGE_COLUMNS} FROM credit_packages
                       WHERE is_active AND (valid_from IS NULL OR valid_from <= $1) AND (valid_until IS NULL OR valid_until > $1)
                       ORDER BY sort_order, price_cents"
    );
    Ok(on_pool!(db, p => sqlx::query_as::<_, Package>(&sql).bind(Utc::now()).fetch_all(p).await?))
}

/// What one user is offered: everything on sale outside A/B tests, plus the
/// packages of the variant this user falls into.
pub async fn offered_to(db: &Db, user: UserId) -> StoreResult<Vec<Package>> {
    let all = list_active(db).await?;
    let variants: Vec<&str> = all.iter().filter_map(|p| p.variant.as_deref()).collect();
    let mine = variant_for(user.as_uuid(), &variants).map(str::to_string);
    Ok(all.into_iter().filter(|p| p.variant.is_none() || p.variant == mine).collect())
}

/// Every package, retired and future ones included (the admin list).
pub async fn list_all(db: &Db) -> StoreResult<Vec<Package>> {
    let sql = format!("SELECT {PACKAGE_COLUMNS} FROM credit_packages ORDER BY is_active DESC, sort_order, price_cents");
    Ok(on_pool!(db, p => sqlx::query_as::<_, Package>(&sql).fetch_all(p).await?))
}

pub async fn by_id(db: &Db, id: PackageId) -> StoreResult<Package> {
    let sql = format!("SELECT {PACKAGE_COLUMNS} FROM credit_packages WHERE id = $1");
    Ok(on_pool!(db, p => sqlx::query_as::<_, Package>(&sql).bind(id).fetch_one(p).await?))
}

/// Takes a package off sale (checkouts already started keep their snapshot).
pub async fn set_active(db: &Db, id: PackageId, active: bool, by: AdminId) -> StoreResult<()> {
    let now = Utc::now();
    on_pool!(db, p => {
        let mut tx = p.begin_write().await?;
        let n = sqlx::query("UPDATE credit_packages SET is_active = $2, updated_at = $3 WHERE id = $1").bind(id).bind(active).bind(now).execute(&mut *tx).await?.rows_affected();
        if n == 0 {
            return Err(crate::StoreError::NotFound);
        }
        let action = if active { "package_activated" } else { "package_deactivated" };
        platform_audit::record_in(&mut *tx, &Actor::admin(by).record(action).subject("credit_package", &id.to_string()), now).await?;
        tx.commit().await?;
    });
    Ok(())
}
