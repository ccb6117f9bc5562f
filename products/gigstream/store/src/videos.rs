//! Gig videos and message videos and their transcoding state (the same
//! columns in `gig_videos` and `message_videos`, one pipeline for both,
//! chosen by [`VideoKind`]). The original upload stays until the MP4 and
//! its poster are stored (ready); a failed transcode keeps it and records
//! why.

use chrono::{DateTime, Utc};
use gigstream_domain::ids::{AccountId, GigId};
use platform_db::{on_pool, Db, StoreError, StoreResult};
use serde::Serialize;

platform_kernel::id_type!(
    /// One uploaded gig video.
    VideoId,
);

platform_kernel::text_enum! {
    pub enum VideoStatus { Pending => "pending", Processing => "processing", Ready => "ready", Failed => "failed" }
}

/// Which table a video's state is kept in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VideoKind {
    Gig,
    /// A video sent in a message (its original is the attachment's key).
    Message,
}

impl VideoKind {
    fn table(self) -> &'static str {
        match self {
            VideoKind::Gig => "gig_videos",
            VideoKind::Message => "message_videos",
        }
    }

    /// Where its MP4 and poster are stored (message videos under
    /// `messages/`, served to the conversation's parties only).
    pub fn prefix(self) -> &'static str {
        match self {
            VideoKind::Gig => "videos",
            VideoKind::Message => "messages/videos",
        }
    }
}

/// A video to convert: which table, which row, its original.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Job {
    #[sqlx(skip)]
    pub kind: Option<VideoKind>,
    pub id: VideoId,
    pub original_key: Option<String>,
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Video {
    pub id: VideoId,
    pub gig_id: GigId,
    pub status: VideoStatus,
    pub progress: i32,
    pub original_key: Option<String>,
    pub original_type: String,
    pub mp4_key: Option<String>,
    pub poster_key: Option<String>,
    pub error: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

const COLUMNS: &str = "id, gig_id, status, progress, original_key, original_type, mp4_key, poster_key, error, created_at, updated_at";

/// Records an uploaded original for `gig` (the seller's), waiting to be transcoded.
pub async fn add(
    db: &Db,
    gig: GigId,
    seller: AccountId,
    original_key: &str,
    original_type: &str,
    now: DateTime<Utc>,
) -> StoreResult<Video> {
    let owner: Option<AccountId> = on_pool!(db, p => sqlx::query_scalar("SELECT seller_id FROM gigs WHERE id = $1 AND status <> 'deleted'")
        .bind(gig).fetch_optional(p).await?);
    if owner != Some(seller) {
        return Err(StoreError::NotFound);
    }
    let id = VideoId::new();
    let sql = "INSERT INTO gig_videos (id, gig_id, status, progress, original_key, original_type, created_at, updated_at)
               VALUES ($1, $2, 'pending', 0, $3, $4, $5, $5)";
    on_pool!(db, p => { sqlx::query(sql).bind(id).bind(gig).bind(original_key).bind(original_type).bind(now).execute(p).await?; });
    get(db, id).await
}

pub async fn get(db: &Db, id: VideoId) -> StoreResult<Video> {
    let sql = format!("SELECT {COLUMNS} FROM gig_videos WHERE id = $1");
    on_pool!(db, p => sqlx::query_as(&sql).bind(id).fetch_optional(p).await?).ok_or(StoreError::NotFound)
}

/// The gig's videos, newest first.
pub async fn of_gig(db: &Db, gig: GigId) -> StoreResult<Vec<Video>> {
    let sql = format!("SELECT {COLUMNS} FROM gig_videos WHERE gig_id = $1 ORDER BY created_at DESC");
    Ok(on_pool!(db, p => sqlx::query_as(&sql).bind(gig).fetch_all(p).await?))
}

/// Videos of both kinds waiting for a transcode (after a restart, too).
pub async fn pending(db: &Db) -> StoreResult<Vec<Job>> {
    let mut all = vec![];
    for kind in [VideoKind::Gig, VideoKind::Message] {
        let sql = format!("SELECT id, original_key FROM {} WHERE status IN ('pending', 'processing') ORDER BY created_at", kind.table());
        let rows: Vec<Job> = on_pool!(db, p => sqlx::query_as(&sql).fetch_all(p).await?);
        all.extend(rows.into_iter().map(|j| Job { kind: Some(kind), ..j }));
    }
    Ok(all)
}

pub async fn started(db: &Db, kind: VideoKind, id: VideoId, now: DateTime<Utc>) -> StoreResult<()> {
    let sql = format!("UPDATE {} SET status = 'processing', progress = 0, error = NULL, updated_at = $2 WHERE id = $1", kind.table());
    on_pool!(db, p => { sqlx::query(&sql).bind(id).bind(now).execute(p).await?; });
    Ok(())
}

/// A poster made from the original, shown until the MP4 is ready.
pub async fn postered(db: &Db, kind: VideoKind, id: VideoId, poster_key: &str, now: DateTime<Utc>) -> StoreResult<()> {
    let sql = format!("UPDATE {} SET poster_key = $2, updated_at = $3 WHERE id = $1", kind.table());
    on_pool!(db, p => { sqlx::query(&sql).bind(id).bind(poster_key).bind(now).execute(p).await?; });
    Ok(())
}

pub async fn progressed(db: &Db, kind: VideoKind, id: VideoId, percent: i32, now: DateTime<Utc>) -> StoreResult<()> {
    let sql =
        format!("UPDATE {} SET progress = $2, updated_at = $3 WHERE id = $1 AND status = 'processing' AND progress < $2", kind.table());
    on_pool!(db, p => { sqlx::query(&sql).bind(id).bind(percent.clamp(0, 100)).bind(now).execute(p).await?; });
    Ok(())
}

/// The MP4 and poster are stored: ready, and the original is no longer
/// needed (a message video keeps its original's key: it names the attachment).
pub async fn finished(db: &Db, kind: VideoKind, id: VideoId, mp4_key: &str, poster_key: &str, now: DateTime<Utc>) -> StoreResult<()> {
    let original = match kind {
        VideoKind::Gig => "original_key = NULL,",
        VideoKind::Message => "",
    };
    let sql = format!(
        "UPDATE {} SET status = 'ready', progress = 100, mp4_key = $2, poster_key = $3, {original} error = NULL,
         updated_at = $4 WHERE id = $1",
        kind.table()
    );
    on_pool!(db, p => { sqlx::query(&sql).bind(id).bind(mp4_key).bind(poster_key).bind(now).execute(p).await?; });
    Ok(())
}

/// The transcode failed: the original stays, with the reason for the uploader.
pub async fn failed(db: &Db, kind: VideoKind, id: VideoId, error: &str, now: DateTime<Utc>) -> StoreResult<()> {
    let sql = format!("UPDATE {} SET status = 'failed', error = $2, updated_at = $3 WHERE id = $1", kind.table());
    on_pool!(db, p => { sqlx::query(&sql).bind(id).bind(error).bind(now).execute(p).await?; });
    Ok(())
}

/// A video sent in a message, as the thread shows it.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct MessageVideo {
    pub id: VideoId,
    pub message_id: gigstream_domain::messaging::MessageId,
    pub original_key: String,
    pub status: VideoStatus,
    pub progress: i32,
    pub mp4_key: Option<String>,
    pub poster_key: Option<String>,
    pub error: Option<String>,
}

/// The videos sent in a conversation.
pub async fn of_conversation(db: &Db, conversation: gigstream_domain::messaging::ConversationId) -> StoreResult<Vec<MessageVideo>> {
    let sql = "SELECT id, message_id, original_key, status, progress, mp4_key, poster_key, error FROM message_videos
               WHERE conversation_id = $1 ORDER BY created_at";
    Ok(on_pool!(db, p => sqlx::query_as(sql).bind(conversation).fetch_all(p).await?))
}

/// The video rows of a message just sent (to start their conversion).
pub async fn of_message(db: &Db, message: gigstream_domain::messaging::MessageId) -> StoreResult<Vec<Job>> {
    let sql = "SELECT id, original_key FROM message_videos WHERE message_id = $1 ORDER BY created_at";
    let rows: Vec<Job> = on_pool!(db, p => sqlx::query_as(sql).bind(message).fetch_all(p).await?);
    Ok(rows.into_iter().map(|j| Job { kind: Some(VideoKind::Message), ..j }).collect())
}

/// Whether a stored key is a ready video's MP4 or poster of a live gig (public).
pub async fn is_public(db: &Db, key: &str) -> StoreResult<bool> {
    let sql = "SELECT COUNT(*) FROM gig_videos v JOIN gigs g ON g.id = v.gig_id
               WHERE v.status = 'ready' AND g.status = 'active' AND (v.mp4_key = $1 OR v.poster_key = $1)";
    let n: i64 = on_pool!(db, p => sqlx::query_scalar(sql).bind(key).fetch_one(p).await?);
    Ok(n > 0)
}
