//! A person's own data: the export (everything GigStream holds about an
//! account, with the files it uploaded) and account deletion. Deletion
//! keeps what money records need (orders, their deliveries, refunds,
//! invoices, ledger entries) and anonymises the account they point to;
//! everything else about the person is removed.

use chrono::{DateTime, Utc};
use gigstream_domain::ids::AccountId;
use platform_audit::Record;
use platform_db::{on_pool, BeginWrite, Db, StoreError, StoreResult};
use serde::Serialize;
use serde_json::{json, Value};
use sqlx::types::Json;

/// A stored file in an export: its media key and the name it is saved under.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ExportFile {
    pub key: String,
    pub path: String,
}

/// The export: `data` as JSON, and the files to put beside it.
#[derive(Debug, Clone, Serialize)]
pub struct Export {
    pub data: Value,
    pub files: Vec<ExportFile>,
}

fn file_name(key: &str) -> String {
    key.rsplit('/').next().unwrap_or(key).chars().map(|c| if c.is_ascii_alphanumeric() || ".-_".contains(c) { c } else { '_' }).collect()
}

/// headline, bio, skills, languages, portfolio, response hours.
type ProfileRow = (String, String, Json<Value>, Json<Value>, Json<Value>, i32);
/// id, gig title, as seller, status, currency, total, refunded, placed at.
type OrderRow = (String, String, bool, String, String, i64, i64, DateTime<Utc>);

/// Everything held about `id`.
pub async fn export(db: &Db, id: AccountId) -> StoreResult<Export> {
    let account = crate::backoffice::user(db, id).await?;
    let profile: Option<ProfileRow> = on_pool!(db, p => sqlx::query_as(
        "SELECT headline, bio, skills, languages, portfolio, response_hours FROM seller_profiles WHERE account_id = $1")
        .bind(id).fetch_optional(p).await?);
    let gigs: Vec<(String, String, String, String, DateTime<Utc>)> = on_pool!(db, p => sqlx::query_as(
        "SELECT slug, title, status, description_html, created_at FROM gigs WHERE seller_id = $1 ORDER BY created_at")
        .bind(id).fetch_all(p).await?);
    let orders: Vec<OrderRow> = on_pool!(db, p => sqlx::query_as(
        "SELECT CAST(id AS TEXT), gig_title, seller_id = $1, status, currency, total_minor, refunded_minor, created_at FROM orders
         WHERE buyer_id = $1 OR seller_id = $1 ORDER BY created_at")
        .bind(id).fetch_all(p).await?);
    let messages: Vec<(String, String, DateTime<Utc>)> = on_pool!(db, p => sqlx::query_as(
        "SELECT CAST(conversation_id AS TEXT), body, created_at FROM messages WHERE sender_id = $1 ORDER BY seq")
        .bind(id).fetch_all(p).await?);
    let reviews: Vec<(String, String, i32, String, DateTime<Utc>)> = on_pool!(db, p => sqlx::query_as(
        "SELECT CAST(order_id AS TEXT), subject, overall, comment, created_at FROM reviews WHERE reviewer_id = $1 ORDER BY created_at")
        .bind(id).fetch_all(p).await?);
    let mut keys: Vec<(String, &str)> = vec![];
    let images: Vec<String> = on_pool!(db, p => sqlx::query_scalar(
        "SELECT i.media_key FROM gig_images i JOIN gigs g ON g.id = i.gig_id WHERE g.seller_id = $1 ORDER BY i.created_at")
        .bind(id).fetch_all(p).await?);
    keys.extend(images.into_iter().map(|k| (k, "gig-images")));
    let videos: Vec<(Option<String>, Option<String>, Option<String>)> = on_pool!(db, p => sqlx::query_as(
        "SELECT v.original_key, v.mp4_key, v.poster_key FROM gig_videos v JOIN gigs g ON g.id = v.gig_id WHERE g.seller_id = $1
         ORDER BY v.created_at, v.id")
        .bind(id).fetch_all(p).await?);
    keys.extend(videos.into_iter().flat_map(|(o, m, p)| [o, m, p]).flatten().map(|k| (k, "gig-videos")));
    let attachments: Vec<String> = on_pool!(db, p => sqlx::query_scalar(
        "SELECT a.media_key FROM message_attachments a JOIN messages m ON m.id = a.message_id WHERE m.sender_id = $1 ORDER BY m.seq")
        .bind(id).fetch_all(p).await?);
    keys.extend(attachments.into_iter().map(|k| (k, "message-attachments")));
    let delivered: Vec<Json<Vec<crate::orders::DeliveredFile>>> = on_pool!(db, p => sqlx::query_scalar(
        "SELECT d.files FROM deliveries d JOIN orders o ON o.id = d.order_id WHERE o.seller_id = $1 ORDER BY d.created_at")
        .bind(id).fetch_all(p).await?);
    keys.extend(delivered.into_iter().flat_map(|f| f.0).map(|f| (f.key, "deliveries")));
    let files: Vec<ExportFile> =
        keys.into_iter().map(|(key, dir)| ExportFile { path: format!("files/{dir}/{}", file_name(&key)), key }).collect();
    let data = json!({
        "format": "gigstream-export-1",
        "account": account,
        "seller_profile": profile.map(|(headline, bio, skills, languages, portfolio, response_hours)|
            json!({ "headline": headline, "bio": bio, "skills": skills.0, "languages": languages.0, "portfolio": portfolio.0,
                    "response_hours": response_hours })),
        "gigs": gigs.iter().map(|(slug, title, status, html, at)| json!({ "slug": slug, "title": title, "status": status,
            "description_html": html, "created_at": at })).collect::<Vec<_>>(),
        "orders": orders.iter().map(|(oid, title, as_seller, status, cur, total, refunded, at)| json!({ "id": oid, "gig_title": title,
            "role": if *as_seller { "seller" } else { "buyer" }, "status": status, "currency": cur, "total_minor": total,
            "refunded_minor": refunded, "created_at": at })).collect::<Vec<_>>(),
        "messages_sent": messages.iter().map(|(c, body, at)| json!({ "conversation_id": c, "body": body, "sent_at": at }))
            .collect::<Vec<_>>(),
        "reviews_written": reviews.iter().map(|(o, subject, overall, comment, at)| json!({ "order_id": o, "about": subject,
            "overall": overall, "comment": comment, "created_at": at })).collect::<Vec<_>>(),
        "files": files.iter().map(|f| &f.path).collect::<Vec<_>>(),
    });
    Ok(Export { data, files })
}

/// What deletion kept and what the caller must still remove.
#[derive(Debug, Clone, Serialize)]
pub struct Deleted {
    /// Orders kept (anonymised) for the money records.
    pub orders_kept: i64,
    /// Stored files to delete from the media store (gig pictures and
    /// videos, message attachments); delivered files stay with their orders.
    pub media_keys: Vec<String>,
}

/// Statuses in which an order still moves money.
const OPEN: &str = "('placed', 'paid', 'in_progress', 'delivered', 'revision_requested', 'disputed')";

/// Deletes `id`'s account: refused while orders or withdrawals are open or
/// earnings wait in its wallets; otherwise one transaction anonymises the
/// account, removes its profile, gigs, message texts and review comments,
/// ends its sessions and records the deletion.
pub async fn delete_account(db: &Db, id: AccountId, ip: Option<&str>, now: DateTime<Utc>) -> StoreResult<Deleted> {
    let subject = id.to_string();
    let short: String = subject.chars().filter(|c| *c != '-').take(12).collect();
    on_pool!(db, p => async {
        let mut tx = p.begin_write().await?;
        let standing: String = sqlx::query_scalar("SELECT standing FROM accounts WHERE id = $1").bind(id)
            .fetch_optional(&mut *tx).await?.ok_or(StoreError::NotFound)?;
        if standing == "deleted" {
            return Err(StoreError::NotFound);
        }
        let open: i64 = sqlx::query_scalar(&format!("SELECT COUNT(*) FROM orders WHERE (buyer_id = $1 OR seller_id = $1) AND status IN {OPEN}"))
            .bind(id).fetch_one(&mut *tx).await?;
        if open > 0 {
            return Err(StoreError::Rule(format!(
                "You have {open} order(s) under way. Finish, cancel or settle them first: the money in escrow belongs to someone.")));
        }
        let withdrawing: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM withdrawals WHERE seller_id = $1 AND status IN ('requested', 'approved')")
            .bind(id).fetch_one(&mut *tx).await?;
        if withdrawing > 0 {
            return Err(StoreError::Rule("A withdrawal of yours is still being paid out. Delete the account once it is paid.".into()));
        }
        let held: i64 = sqlx::query_scalar(
            "SELECT CAST(COALESCE(SUM(balance), 0) AS BIGINT) FROM wallets WHERE owner_id = $1 AND owner_kind IN ('seller_pending', 'seller_available', 'seller_withdrawing')")
            .bind(subject.as_str()).fetch_one(&mut *tx).await?;
        if held > 0 {
            return Err(StoreError::Rule(
                "Your wallet still holds earnings. Withdraw them first (pending earnings become available after the clearance period).".into()));
        }
        let mut media_keys: Vec<String> = sqlx::query_scalar(
            "SELECT i.media_key FROM gig_images i JOIN gigs g ON g.id = i.gig_id WHERE g.seller_id = $1").bind(id).fetch_all(&mut *tx).await?;
        let videos: Vec<(Option<String>, Option<String>, Option<String>)> = sqlx::query_as(
            "SELECT v.original_key, v.mp4_key, v.poster_key FROM gig_videos v JOIN gigs g ON g.id = v.gig_id WHERE g.seller_id = $1")
            .bind(id).fetch_all(&mut *tx).await?;
        media_keys.extend(videos.into_iter().flat_map(|(o, m, p)| [o, m, p]).flatten());
        let attached: Vec<String> = sqlx::query_scalar(
            "SELECT a.media_key FROM message_attachments a JOIN messages m ON m.id = a.message_id WHERE m.sender_id = $1")
            .bind(id).fetch_all(&mut *tx).await?;
        media_keys.extend(attached);
        let converted: Vec<(Option<String>, Option<String>)> = sqlx::query_as(
            "SELECT v.mp4_key, v.poster_key FROM message_videos v JOIN messages m ON m.id = v.message_id WHERE m.sender_id = $1")
            .bind(id).fetch_all(&mut *tx).await?;
        media_keys.extend(converted.into_iter().flat_map(|(a, b)| [a, b]).flatten());
        sqlx::query("DELETE FROM message_videos WHERE message_id IN (SELECT id FROM messages WHERE sender_id = $1)")
            .bind(id).execute(&mut *tx).await?;
        sqlx::query("DELETE FROM message_attachments WHERE message_id IN (SELECT id FROM messages WHERE sender_id = $1)")
            .bind(id).execute(&mut *tx).await?;
        sqlx::query("UPDATE messages SET body = $2, attachments = '[]' WHERE sender_id = $1")
            .bind(id).bind("(removed: its author deleted their account)").execute(&mut *tx).await?;
        sqlx::query("UPDATE reviews SET comment = '', reply = NULL WHERE reviewer_id = $1").bind(id).execute(&mut *tx).await?;
        sqlx::query("DELETE FROM gig_images WHERE gig_id IN (SELECT id FROM gigs WHERE seller_id = $1)").bind(id).execute(&mut *tx).await?;
        sqlx::query("DELETE FROM gig_videos WHERE gig_id IN (SELECT id FROM gigs WHERE seller_id = $1)").bind(id).execute(&mut *tx).await?;
        sqlx::query("DELETE FROM gig_terms WHERE gig_id IN (SELECT id FROM gigs WHERE seller_id = $1)").bind(id).execute(&mut *tx).await?;
        sqlx::query("UPDATE gigs SET status = 'deleted', description_html = '', description_text = '', updated_at = $2 WHERE seller_id = $1")
            .bind(id).bind(now).execute(&mut *tx).await?;
        sqlx::query("DELETE FROM seller_profiles WHERE account_id = $1").bind(id).execute(&mut *tx).await?;
        sqlx::query(
            "UPDATE accounts SET email = $2, username = $3, display_name = 'Deleted user', password_hash = '!', is_active = FALSE,
                    is_admin = FALSE, admin_role = NULL, standing = 'deleted', standing_reason = '', verified_at = NULL WHERE id = $1")
            .bind(id).bind(format!("deleted-{subject}@deleted.invalid")).bind(format!("deleted-{short}")).execute(&mut *tx).await?;
        sqlx::query("UPDATE sessions SET revoked_at = $2 WHERE account_id = $1 AND revoked_at IS NULL")
            .bind(id).bind(now).execute(&mut *tx).await?;
        let orders_kept: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM orders WHERE buyer_id = $1 OR seller_id = $1")
            .bind(id).fetch_one(&mut *tx).await?;
        let after = json!({ "standing": "deleted", "orders_kept": orders_kept, "files_removed": media_keys.len() });
        let entry = Record::new("user", Some(&subject), "account.delete").subject("user", &subject).change(None, Some(&after)).ip(ip);
        platform_audit::record_in(&mut *tx, &entry, now).await?;
        tx.commit().await?;
        Ok::<_, StoreError>(Deleted { orders_kept, media_keys })
    }.await)
}
