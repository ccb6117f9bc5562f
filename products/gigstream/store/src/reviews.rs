//! Reviews of completed orders: one per side per order, changed only
//! within the edit window, one reply by the seller. A review of a seller
//! updates its gig's `rating_x100` and `rating_count` in the same
//! transaction, so search and gig pages agree with the reviews.

use crate::orders::Order;
use crate::rule;
use chrono::{DateTime, Utc};
use gigstream_domain::ids::{AccountId, GigId, OrderId};
use gigstream_domain::reviews::{self, Point, Ratings, ReviewId, Subject};
use platform_db::{on_pool, BeginWrite, Db, StoreError, StoreResult};
use serde::Serialize;

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Review {
    pub id: ReviewId,
    pub order_id: OrderId,
    pub subject: Subject,
    pub reviewer_id: AccountId,
    pub reviewer_name: String,
    pub reviewee_id: AccountId,
    pub gig_id: GigId,
    pub gig_title: String,
    pub overall: i32,
    pub communication: Option<i32>,
    pub as_described: Option<i32>,
    pub recommend: Option<bool>,
    pub comment: String,
    pub reply: Option<String>,
    pub replied_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl Review {
    pub fn editable(&self, now: DateTime<Utc>) -> bool {
        reviews::editable(self.created_at, now)
    }
}

const SELECT: &str = "SELECT r.id, r.order_id, r.subject, r.reviewer_id, a.display_name AS reviewer_name, r.reviewee_id, r.gig_id,
    g.title AS gig_title, r.overall, r.communication, r.as_described, r.recommend, r.comment, r.reply, r.replied_at, r.created_at, r.updated_at
    FROM reviews r JOIN accounts a ON a.id = r.reviewer_id JOIN gigs g ON g.id = r.gig_id";

/// Writes `reviewer`'s review of the other side of `order`, or changes it
/// within the edit window. The buyer reviews the seller, the seller the buyer.
pub async fn write(db: &Db, order: &Order, reviewer: AccountId, ratings: &Ratings, now: DateTime<Utc>) -> StoreResult<Review> {
    reviews::reviewable(order.status).map_err(rule)?;
    let (subject, reviewee) = if reviewer == order.buyer_id {
        (Subject::Seller, order.seller_id)
    } else if reviewer == order.seller_id {
        (Subject::Buyer, order.buyer_id)
    } else {
        return Err(StoreError::NotFound);
    };
    let id = on_pool!(db, p => async {
        let mut tx = p.begin_write().await?;
        let existing: Option<(ReviewId, DateTime<Utc>)> = sqlx::query_as("SELECT id, created_at FROM reviews WHERE order_id = $1 AND subject = $2")
            .bind(order.id).bind(subject).fetch_optional(&mut *tx).await?;
        let id = match existing {
            Some((id, created)) => {
                if !reviews::editable(created, now) {
                    return Err(rule("This review can no longer be changed: reviews are open to edits for 24 hours."));
                }
                sqlx::query(
                    "UPDATE reviews SET overall = $2, communication = $3, as_described = $4, recommend = $5, comment = $6, updated_at = $7
                     WHERE id = $1")
                    .bind(id).bind(ratings.overall).bind(ratings.communication).bind(ratings.as_described).bind(ratings.recommend)
                    .bind(&ratings.comment).bind(now).execute(&mut *tx).await?;
                id
            }
            None => {
                let id = ReviewId::new();
                sqlx::query(
                    "INSERT INTO reviews (id, order_id, subject, reviewer_id, reviewee_id, gig_id, overall, communication, as_described,
                                          recommend, comment, created_at, updated_at)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $12)")
                    .bind(id).bind(order.id).bind(subject).bind(reviewer).bind(reviewee).bind(order.gig_id).bind(ratings.overall)
                    .bind(ratings.communication).bind(ratings.as_described).bind(ratings.recommend).bind(&ratings.comment).bind(now)
                    .execute(&mut *tx).await?;
                id
            }
        };
        if subject == Subject::Seller {
            sqlx::query(
                "UPDATE gigs SET
                   rating_count = (SELECT COUNT(*) FROM reviews WHERE gig_id = $1 AND subject = 'seller'),
                   rating_x100 = (SELECT CASE WHEN COUNT(*) = 0 THEN NULL ELSE (SUM(overall) * 200 + COUNT(*)) / (2 * COUNT(*)) END
                                  FROM reviews WHERE gig_id = $1 AND subject = 'seller')
                 WHERE id = $1")
                .bind(order.gig_id).execute(&mut *tx).await?;
        }
        tx.commit().await?;
        Ok::<_, StoreError>(id)
    }
    .await)?;
    get(db, id).await
}

pub async fn get(db: &Db, id: ReviewId) -> StoreResult<Review> {
    let sql = format!("{SELECT} WHERE r.id = $1");
    on_pool!(db, p => sqlx::query_as(&sql).bind(id).fetch_optional(p).await?).ok_or(StoreError::NotFound)
}

/// The seller's one reply to the buyer's review of them.
pub async fn reply(db: &Db, id: ReviewId, seller: AccountId, text: &str, now: DateTime<Utc>) -> StoreResult<Review> {
    let review = get(db, id).await?;
    if review.subject != Subject::Seller || review.reviewee_id != seller {
        return Err(StoreError::NotFound);
    }
    let sql = "UPDATE reviews SET reply = $2, replied_at = $3 WHERE id = $1 AND reply IS NULL";
    let n = on_pool!(db, p => sqlx::query(sql).bind(id).bind(text).bind(now).execute(p).await?.rows_affected());
    if n == 0 {
        return Err(rule("You have replied to this review already; a review takes one reply."));
    }
    get(db, id).await
}

/// Both reviews of an order, if written.
pub async fn for_order(db: &Db, order: OrderId) -> StoreResult<Vec<Review>> {
    let sql = format!("{SELECT} WHERE r.order_id = $1 ORDER BY r.subject DESC");
    Ok(on_pool!(db, p => sqlx::query_as(&sql).bind(order).fetch_all(p).await?))
}

/// Reviews of a seller (newest first), optionally of one gig.
pub async fn of_seller(db: &Db, seller: AccountId, gig: Option<GigId>, limit: i64) -> StoreResult<Vec<Review>> {
    let sql = format!(
        "{SELECT} WHERE r.reviewee_id = $1 AND r.subject = 'seller' AND ($2 IS NULL OR CAST(r.gig_id AS TEXT) = $2)
         ORDER BY r.created_at DESC LIMIT $3"
    );
    Ok(on_pool!(db, p => sqlx::query_as(&sql).bind(seller).bind(gig.map(|g| g.to_string())).bind(limit).fetch_all(p).await?))
}

/// What analytics read of a seller's reviews (optionally of one gig).
pub async fn points(db: &Db, seller: AccountId, gig: Option<GigId>) -> StoreResult<Vec<Point>> {
    #[derive(sqlx::FromRow)]
    struct Row {
        overall: i32,
        communication: Option<i32>,
        as_described: Option<i32>,
        recommend: Option<bool>,
        category: String,
        created_at: DateTime<Utc>,
    }
    let sql = "SELECT r.overall, r.communication, r.as_described, r.recommend, c.name AS category, r.created_at
               FROM reviews r JOIN gigs g ON g.id = r.gig_id JOIN categories c ON c.slug = g.category
               WHERE r.reviewee_id = $1 AND r.subject = 'seller' AND ($2 IS NULL OR CAST(r.gig_id AS TEXT) = $2)
               ORDER BY r.created_at";
    let rows: Vec<Row> = on_pool!(db, p => sqlx::query_as(sql).bind(seller).bind(gig.map(|g| g.to_string())).fetch_all(p).await?);
    Ok(rows
        .into_iter()
        .map(|r| Point {
            overall: r.overall,
            communication: r.communication.unwrap_or(r.overall),
            as_described: r.as_described.unwrap_or(r.overall),
            recommend: r.recommend.unwrap_or(false),
            category: r.category,
            at: r.created_at,
        })
        .collect())
}
