//! Security events: what the back office lists under "security":
//! infected uploads (refused before anything was stored) and failed sign-ins.

use chrono::{DateTime, Utc};
use gigstream_domain::ids::AccountId;
use platform_db::{on_pool, Db, StoreResult};
use serde::{Deserialize, Serialize};
use sqlx::types::Json;

platform_kernel::text_enum! {
    /// What happened.
    pub enum Kind {
        /// The virus scanner found a signature in an upload; it was refused.
        InfectedUpload => "infected_upload",
        /// A sign-in with a wrong login or password.
        FailedLogin => "failed_login",
    }
}

impl Kind {
    pub fn label(self) -> &'static str {
        match self {
            Kind::InfectedUpload => "Infected upload refused",
            Kind::FailedLogin => "Failed sign-in",
        }
    }
}

/// What is known about the event.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Detail {
    /// The scanner's name for what it found.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub signature: String,
    /// Where the file was sent (`image`, `files`, `attachment`).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub field: String,
    /// The name the client gave the file.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub file_name: String,
    #[serde(default)]
    pub bytes: i64,
    /// The login a failed sign-in gave.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub login: String,
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Event {
    pub seq: i64,
    pub kind: Kind,
    pub account_id: Option<AccountId>,
    pub ip: Option<String>,
    pub detail: Json<Detail>,
    pub created_at: DateTime<Utc>,
}

pub async fn record(
    db: &Db,
    kind: Kind,
    account: Option<AccountId>,
    ip: Option<&str>,
    detail: &Detail,
    now: DateTime<Utc>,
) -> StoreResult<()> {
    let sql = "INSERT INTO security_events (kind, account_id, ip, detail, created_at) VALUES ($1, $2, $3, $4, $5)";
    on_pool!(db, p => { sqlx::query(sql).bind(kind).bind(account).bind(ip).bind(Json(detail)).bind(now).execute(p).await?; });
    Ok(())
}

/// The newest events first, optionally of one kind.
pub async fn recent(db: &Db, kind: Option<Kind>, limit: i64) -> StoreResult<Vec<Event>> {
    let sql = "SELECT seq, kind, account_id, ip, detail, created_at FROM security_events
               WHERE ($1 IS NULL OR kind = $1) ORDER BY seq DESC LIMIT $2";
    Ok(on_pool!(db, p => sqlx::query_as(sql).bind(kind.map(|k| k.to_string())).bind(limit).fetch_all(p).await?))
}
