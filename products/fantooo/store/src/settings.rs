//! Platform settings as JSON values under string keys; every change is
//! audited with before and after.

use crate::audit::Actor;
use crate::{on_pool, BeginWrite, Db, StoreResult};
use chrono::Utc;
use fantooo_domain::ids::AdminId;
use serde::{de::DeserializeOwned, Serialize};
use sqlx::types::Json;

pub async fn get<T: DeserializeOwned>(db: &Db, key: &str) -> StoreResult<Option<T>> {
    let v: Option<Json<serde_json::Value>> =
        on_pool!(db, p => sqlx::query_scalar("SELECT value FROM app_settings WHERE key = $1").bind(key).fetch_optional(p).await?);
    match v {
        None => Ok(None),
        Some(Json(v)) => serde_json::from_value(v).map(Some).map_err(|e| crate::StoreError::Invalid(format!("setting {key}: {e}"))),
    }
}

/// Writes a setting and its audit row in one transaction.
pub async fn set<T: Serialize>(db: &Db, key: &str, value: &T, by: Option<AdminId>) -> StoreResult<()> {
    let new = serde_json::to_value(value).map_err(|e| crate::StoreError::Invalid(e.to_string()))?;
    let now = Utc::now();
    on_pool!(db, p => {
        let mut tx = p.begin_write().await?;
        let before: Option<Json<serde_json::Value>> = sqlx::query_scalar("SELECT value FROM app_settings WHERE key = $1").bind(key).fetch_optional(&mut *tx).await?;
        sqlx::query("INSERT INTO app_settings (key, value, updated_by, updated_at) VALUES ($1, $2, $3, $4)
                     ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_by = excluded.updated_by, updated_at = excluded.updated_at")
            .bind(key).bind(Json(&new)).bind(by).bind(now).execute(&mut *tx).await?;
        platform_audit::record_in(&mut *tx, &Actor::of(by).record("setting_changed").subject("setting", key).change(before.as_ref().map(|b| &b.0), Some(&new)), now).await?;
        tx.commit().await?;
    });
    Ok(())
}
