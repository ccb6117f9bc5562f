//! Gigs: create, edit, pause, resume, delete, their packages and gallery,
//! and the taxonomy they are filed under. Every write keeps the search
//! index (triggers on SQLite, a generated column on PostgreSQL) and the
//! search terms in step, in the same transaction.

use chrono::{DateTime, Utc};
use gigstream_domain::gig::{Faq, GigStatus, Package, Requirement, SellerLevel, Tier};
use gigstream_domain::ids::{AccountId, GigId};
use gigstream_domain::names::{Slug, Tag, Title};
use gigstream_domain::Currency;
use platform_db::{on_pool, BeginWrite, Db, StoreError, StoreResult};
use serde::Serialize;
use sqlx::types::Json;

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Category {
    pub slug: String,
    pub name: String,
    pub parent: Option<String>,
}

/// The taxonomy, parents first in their order, each followed by its children.
pub async fn categories(db: &Db) -> StoreResult<Vec<Category>> {
    let sql = "SELECT c.slug, c.name, c.parent FROM categories c LEFT JOIN categories p ON p.slug = c.parent
               ORDER BY COALESCE(p.position, c.position), CASE WHEN c.parent IS NULL THEN 0 ELSE 1 END, c.position";
    Ok(on_pool!(db, p => sqlx::query_as(sql).fetch_all(p).await?))
}

/// A gig as a seller submits it, every field already checked by the domain.
#[derive(Debug, Clone)]
pub struct GigInput {
    pub title: Title,
    pub category: String,
    pub subcategory: Option<String>,
    pub tags: Vec<Tag>,
    /// Sanitised HTML (`gigstream_domain::richtext::sanitize`).
    pub description_html: String,
    pub faq: Vec<Faq>,
    pub requirements: Vec<Requirement>,
    pub currency: Currency,
    /// In tier order, starting with Basic (`gigstream_domain::gig::check_packages`).
    pub packages: Vec<Package>,
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Gig {
    pub id: GigId,
    pub seller_id: AccountId,
    pub slug: String,
    pub title: String,
    pub category: String,
    pub subcategory: Option<String>,
    pub tags: Json<Vec<String>>,
    pub description_html: String,
    pub faq: Json<Vec<Faq>>,
    pub requirements: Json<Vec<Requirement>>,
    pub currency: Currency,
    pub status: GigStatus,
    pub min_price_minor: i64,
    pub min_delivery_days: i32,
    pub rating_x100: Option<i32>,
    pub rating_count: i32,
    pub seller_level: SellerLevel,
    pub orders_completed: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

const GIG_COLUMNS: &str =
    "g.id, g.seller_id, g.slug, g.title, g.category, g.subcategory, g.tags, g.description_html, g.faq, g.requirements,
    g.currency, g.status, g.min_price_minor, g.min_delivery_days, g.rating_x100, g.rating_count, g.seller_level, g.orders_completed,
    g.created_at, g.updated_at";

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct StoredPackage {
    pub tier: Tier,
    pub name: String,
    pub description: String,
    pub price_minor: i64,
    pub delivery_days: i32,
    pub revisions: i32,
    pub items: Json<Vec<String>>,
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Image {
    pub media_key: String,
    pub content_type: String,
    pub position: i32,
}

/// A gig with everything its page shows.
#[derive(Debug, Clone, Serialize)]
pub struct GigPage {
    pub gig: Gig,
    pub packages: Vec<StoredPackage>,
    pub images: Vec<Image>,
    pub seller_username: String,
    pub seller_name: String,
    pub category_name: String,
    pub subcategory_name: Option<String>,
}

/// The most pictures a gallery holds.
pub const MAX_IMAGES: i64 = 6;

/// A gig's index terms with their weights (10 in the title, + 5 in the
/// tags, + 1 in the description), as `gig_words` keeps them.
fn words_of(title: &str, tags: &str, description: &str) -> Vec<(String, i32)> {
    let mut weights: std::collections::BTreeMap<String, i32> = Default::default();
    for (text, weight) in [(title, 10), (tags, 5), (description, 1)] {
        let terms: std::collections::BTreeSet<String> = gigstream_domain::suggest::index_terms(text).into_iter().collect();
        for t in terms {
            *weights.entry(t).or_default() += weight;
        }
    }
    weights.into_iter().collect()
}

fn terms_of(input: &GigInput) -> Vec<String> {
    let mut text = input.title.as_str().to_string();
    for t in &input.tags {
        text.push(' ');
        text.push_str(t.as_str());
    }
    let mut terms: Vec<String> = text.split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty()).map(str::to_lowercase).collect();
    terms.retain(|w| w.chars().count() >= 3 && w.chars().count() <= 40);
    terms.sort();
    terms.dedup();
    terms
}

fn tags_text(tags: &[Tag]) -> String {
    tags.iter().map(Tag::as_str).collect::<Vec<_>>().join(" ")
}

/// Writes one gig's packages, terms and derived columns inside `tx`.
/// On SQLite also the gig's `gig_words` (PostgreSQL's trigger keeps them
/// from the gig's `search_vector`; SQLite cannot tokenize in a trigger).
macro_rules! write_children {
    ($tx:expr, $id:expr, $input:expr, $sqlite:expr) => {{
        sqlx::query("DELETE FROM gig_packages WHERE gig_id = $1").bind($id).execute(&mut *$tx).await?;
        for p in &$input.packages {
            sqlx::query(
                "INSERT INTO gig_packages (gig_id, tier, name, description, price_minor, delivery_days, revisions, items)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            )
            .bind($id)
            .bind(p.tier)
            .bind(&p.name)
            .bind(&p.description)
            .bind(p.price_minor)
            .bind(p.delivery_days)
            .bind(p.revisions)
            .bind(Json(&p.items))
            .execute(&mut *$tx)
            .await?;
        }
        sqlx::query("DELETE FROM gig_terms WHERE gig_id = $1").bind($id).execute(&mut *$tx).await?;
        for t in terms_of($input) {
            sqlx::query("INSERT INTO gig_terms (gig_id, term) VALUES ($1, $2)").bind($id).bind(t).execute(&mut *$tx).await?;
        }
        if $sqlite {
            sqlx::query("DELETE FROM gig_words WHERE gig_id = $1").bind($id).execute(&mut *$tx).await?;
            let description = gigstream_domain::richtext::plain_text(&$input.description_html);
            for (term, weight) in words_of($input.title.as_str(), &tags_text(&$input.tags), &description) {
                sqlx::query("INSERT INTO gig_words (term, gig_id, weight) VALUES ($1, $2, $3)")
                    .bind(term)
                    .bind($id)
                    .bind(weight)
                    .execute(&mut *$tx)
                    .await?;
            }
        }
    }};
}

/// Checks that the category exists and the subcategory belongs to it.
async fn check_category(db: &Db, input: &GigInput) -> StoreResult<()> {
    let cats = categories(db).await?;
    if !cats.iter().any(|c| c.slug == input.category && c.parent.is_none()) {
        return Err(StoreError::Refused { field: "category", message: "Choose a category from the list".into() });
    }
    if let Some(sub) = &input.subcategory {
        if !cats.iter().any(|c| &c.slug == sub && c.parent.as_deref() == Some(input.category.as_str())) {
            return Err(StoreError::Refused { field: "subcategory", message: "Choose a subcategory of the chosen category".into() });
        }
    }
    Ok(())
}

fn min_price(input: &GigInput) -> (i64, i32) {
    let price = input.packages.iter().map(|p| p.price_minor).min().unwrap_or(0);
    let days = input.packages.iter().map(|p| p.delivery_days).min().unwrap_or(0);
    (price, days)
}

/// Publishes a new gig; its slug comes from the title, made unique.
pub async fn create(db: &Db, seller: AccountId, input: &GigInput, now: DateTime<Utc>) -> StoreResult<Gig> {
    check_category(db, input).await?;
    let sqlite = db.backend() == platform_db::Backend::Sqlite;
    let id = GigId::new();
    let base = Slug::from_text(input.title.as_str());
    let (price, days) = min_price(input);
    for attempt in 1..=20u32 {
        let slug = if attempt == 1 { base.clone() } else { base.with_suffix(attempt) };
        let r = on_pool!(db, p => async {
            let mut tx = p.begin_write().await?;
            let level: Option<SellerLevel> = sqlx::query_scalar("SELECT seller_level FROM gigs WHERE seller_id = $1 LIMIT 1")
                .bind(seller).fetch_optional(&mut *tx).await?;
            sqlx::query(
                "INSERT INTO gigs (id, seller_id, slug, title, category, subcategory, tags, tags_text, description_html, description_text,
                                   faq, requirements, currency, status, min_price_minor, min_delivery_days, seller_level, created_at, updated_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, 'active', $14, $15, $16, $17, $17)",
            )
            .bind(id).bind(seller).bind(slug.as_str()).bind(input.title.as_str()).bind(&input.category).bind(&input.subcategory)
            .bind(Json(input.tags.iter().map(Tag::as_str).collect::<Vec<_>>())).bind(tags_text(&input.tags))
            .bind(&input.description_html).bind(gigstream_domain::richtext::plain_text(&input.description_html))
            .bind(Json(&input.faq)).bind(Json(&input.requirements)).bind(input.currency).bind(price).bind(days)
            .bind(level.unwrap_or(SellerLevel::New)).bind(now)
            .execute(&mut *tx).await?;
            write_children!(tx, id, input, sqlite);
            tx.commit().await?;
            Ok::<_, StoreError>(())
        }
        .await);
        match r {
            Ok(()) => return get(db, id).await,
            Err(StoreError::Conflict(what)) if what.contains("slug") => continue,
            Err(e) => return Err(e),
        }
    }
    Err(StoreError::Refused { field: "title", message: "Too many gigs share this title; choose another".into() })
}

/// Replaces a gig's fields (its slug stays, so links keep working).
pub async fn update(db: &Db, id: GigId, seller: AccountId, input: &GigInput, now: DateTime<Utc>) -> StoreResult<Gig> {
    check_category(db, input).await?;
    let sqlite = db.backend() == platform_db::Backend::Sqlite;
    let (price, days) = min_price(input);
    on_pool!(db, p => async {
        let mut tx = p.begin_write().await?;
        let n = sqlx::query(
            "UPDATE gigs SET title = $3, category = $4, subcategory = $5, tags = $6, tags_text = $7, description_html = $8,
                 description_text = $9, faq = $10, requirements = $11, currency = $12, min_price_minor = $13, min_delivery_days = $14,
                 updated_at = $15
             WHERE id = $1 AND seller_id = $2 AND status <> 'deleted'",
        )
        .bind(id).bind(seller).bind(input.title.as_str()).bind(&input.category).bind(&input.subcategory)
        .bind(Json(input.tags.iter().map(Tag::as_str).collect::<Vec<_>>())).bind(tags_text(&input.tags))
        .bind(&input.description_html).bind(gigstream_domain::richtext::plain_text(&input.description_html))
        .bind(Json(&input.faq)).bind(Json(&input.requirements)).bind(input.currency).bind(price).bind(days).bind(now)
        .execute(&mut *tx).await?.rows_affected();
        if n == 0 {
            return Err(StoreError::NotFound);
        }
        write_children!(tx, id, input, sqlite);
        tx.commit().await?;
        Ok::<_, StoreError>(())
    }
    .await)?;
    get(db, id).await
}

/// Pauses, resumes or deletes a seller's gig. A deleted gig stays for its
/// orders but is gone from search and pages, and cannot come back.
pub async fn set_status(db: &Db, id: GigId, seller: AccountId, status: GigStatus, now: DateTime<Utc>) -> StoreResult<()> {
    let sql = "UPDATE gigs SET status = $3, updated_at = $4 WHERE id = $1 AND seller_id = $2 AND status <> 'deleted'";
    let n = on_pool!(db, p => sqlx::query(sql).bind(id).bind(seller).bind(status).bind(now).execute(p).await?.rows_affected());
    if n == 0 {
        return Err(StoreError::NotFound);
    }
    if status == GigStatus::Deleted {
        on_pool!(db, p => { sqlx::query("DELETE FROM gig_terms WHERE gig_id = $1").bind(id).execute(p).await?; });
    }
    Ok(())
}

pub async fn get(db: &Db, id: GigId) -> StoreResult<Gig> {
    let sql = format!("SELECT {GIG_COLUMNS} FROM gigs g WHERE g.id = $1");
    on_pool!(db, p => sqlx::query_as(&sql).bind(id).fetch_optional(p).await?).ok_or(StoreError::NotFound)
}

pub async fn packages(db: &Db, id: GigId) -> StoreResult<Vec<StoredPackage>> {
    let sql = "SELECT tier, name, description, price_minor, delivery_days, revisions, items FROM gig_packages WHERE gig_id = $1
               ORDER BY price_minor";
    Ok(on_pool!(db, p => sqlx::query_as(sql).bind(id).fetch_all(p).await?))
}

pub async fn images(db: &Db, id: GigId) -> StoreResult<Vec<Image>> {
    let sql = "SELECT media_key, content_type, position FROM gig_images WHERE gig_id = $1 ORDER BY position, created_at";
    Ok(on_pool!(db, p => sqlx::query_as(sql).bind(id).fetch_all(p).await?))
}

/// A gig's page by slug: active gigs for everyone, paused ones for their seller.
pub async fn page(db: &Db, slug: &str, viewer: Option<AccountId>) -> StoreResult<GigPage> {
    let sql = format!(
        "SELECT {GIG_COLUMNS}, a.username, a.display_name, c.name AS category_name, s.name AS subcategory_name
         FROM gigs g JOIN accounts a ON a.id = g.seller_id JOIN categories c ON c.slug = g.category
         LEFT JOIN categories s ON s.slug = g.subcategory
         WHERE g.slug = $1 AND g.status <> 'deleted'"
    );
    #[derive(sqlx::FromRow)]
    struct Row {
        #[sqlx(flatten)]
        gig: Gig,
        username: String,
        display_name: String,
        category_name: String,
        subcategory_name: Option<String>,
    }
    let row: Row = on_pool!(db, p => sqlx::query_as(&sql).bind(slug).fetch_optional(p).await?).ok_or(StoreError::NotFound)?;
    if row.gig.status != GigStatus::Active && viewer != Some(row.gig.seller_id) {
        return Err(StoreError::NotFound);
    }
    let packages = packages(db, row.gig.id).await?;
    let images = images(db, row.gig.id).await?;
    Ok(GigPage {
        gig: row.gig,
        packages,
        images,
        seller_username: row.username,
        seller_name: row.display_name,
        category_name: row.category_name,
        subcategory_name: row.subcategory_name,
    })
}

/// A seller's gigs, newest first; paused ones only for the seller.
pub async fn by_seller(db: &Db, seller: AccountId, include_paused: bool) -> StoreResult<Vec<Gig>> {
    let sql = format!(
        "SELECT {GIG_COLUMNS} FROM gigs g WHERE g.seller_id = $1 AND (g.status = 'active' OR ($2 AND g.status = 'paused'))
         ORDER BY g.created_at DESC"
    );
    Ok(on_pool!(db, p => sqlx::query_as(&sql).bind(seller).bind(include_paused).fetch_all(p).await?))
}

/// The first picture of each gig, for cards.
pub async fn cover(db: &Db, id: GigId) -> StoreResult<Option<String>> {
    let sql = "SELECT media_key FROM gig_images WHERE gig_id = $1 ORDER BY position, created_at LIMIT 1";
    Ok(on_pool!(db, p => sqlx::query_scalar(sql).bind(id).fetch_optional(p).await?))
}

/// Adds a stored picture to a seller's gig (at most [`MAX_IMAGES`]).
pub async fn add_image(db: &Db, id: GigId, seller: AccountId, key: &str, content_type: &str, now: DateTime<Utc>) -> StoreResult<()> {
    on_pool!(db, p => async {
        let mut tx = p.begin_write().await?;
        let owner: Option<AccountId> = sqlx::query_scalar("SELECT seller_id FROM gigs WHERE id = $1 AND status <> 'deleted'")
            .bind(id).fetch_optional(&mut *tx).await?;
        if owner != Some(seller) {
            return Err(StoreError::NotFound);
        }
        let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM gig_images WHERE gig_id = $1").bind(id).fetch_one(&mut *tx).await?;
        if n >= MAX_IMAGES {
            return Err(StoreError::Refused { field: "image", message: format!("A gallery holds at most {MAX_IMAGES} pictures") });
        }
        sqlx::query("INSERT INTO gig_images (gig_id, media_key, content_type, position, created_at) VALUES ($1, $2, $3, $4, $5)")
            .bind(id).bind(key).bind(content_type).bind(n as i32).bind(now).execute(&mut *tx).await?;
        tx.commit().await?;
        Ok::<_, StoreError>(())
    }
    .await)
}

/// Removes a picture from a seller's gig; returns whether one was removed.
pub async fn remove_image(db: &Db, id: GigId, seller: AccountId, key: &str) -> StoreResult<bool> {
    let sql = "DELETE FROM gig_images WHERE gig_id = $1 AND media_key = $2 AND gig_id IN (SELECT id FROM gigs WHERE seller_id = $3)";
    let n = on_pool!(db, p => sqlx::query(sql).bind(id).bind(key).bind(seller).execute(p).await?.rows_affected());
    Ok(n > 0)
}

/// Whether a media key belongs to an active gig's gallery (public pictures).
pub async fn image_is_public(db: &Db, key: &str) -> StoreResult<bool> {
    let sql = "SELECT COUNT(*) FROM gig_images i JOIN gigs g ON g.id = i.gig_id WHERE i.media_key = $1 AND g.status <> 'deleted'";
    let n: i64 = on_pool!(db, p => sqlx::query_scalar(sql).bind(key).fetch_one(p).await?);
    Ok(n > 0)
}
