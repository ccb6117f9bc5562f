//! Credit packages offered for purchase.

use crate::{on_pool, Db, StoreResult};
use chrono::Utc;
use fantooo_domain::ids::PackageId;
use serde::Serialize;

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
}

pub struct NewPackage<'a> {
    pub name: &'a str,
    pub credits: i64,
    pub price_cents: i64,
    pub bonus_credits: i64,
    pub badge: Option<&'a str>,
    pub is_featured: bool,
    pub sort_order: i64,
}

pub async fn create(db: &Db, p_: &NewPackage<'_>) -> StoreResult<PackageId> {
    let id = PackageId::new();
    let now = Utc::now();
    let sql = "INSERT INTO credit_packages (id, name, credits, price_cents, currency, bonus_credits, badge, is_featured, sort_order, is_active, valid_from, created_at, updated_at)
               VALUES ($1, $2, $3, $4, 'KES', $5, $6, $7, $8, TRUE, $9, $9, $9)";
    on_pool!(db, p => {
        sqlx::query(sql).bind(id).bind(p_.name).bind(p_.credits).bind(p_.price_cents).bind(p_.bonus_credits)
            .bind(p_.badge).bind(p_.is_featured).bind(p_.sort_order).bind(now).execute(p).await?;
    });
    Ok(id)
}

pub async fn list_active(db: &Db) -> StoreResult<Vec<Package>> {
    let sql = "SELECT id, name, credits, price_cents, currency, bonus_credits, badge, is_featured, sort_order, is_active
               FROM credit_packages WHERE is_active AND (valid_until IS NULL OR valid_until > $1) ORDER BY sort_order";
    Ok(on_pool!(db, p => sqlx::query_as::<_, Package>(sql).bind(Utc::now()).fetch_all(p).await?))
}
