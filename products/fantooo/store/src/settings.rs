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

/// One setting kept in memory per node, checked against the row's
/// `updated_at` that a hot statement already reads: the send path's first
/// statement returns the version in force ([`VERSION_OF_PRICING`]), and the
/// value is read again only when it differs, inside the same transaction.
/// So every node charges the price an admin saved from the moment it was
/// committed, with no extra round trip while it stays the same.
pub struct Cached<T> {
    key: &'static str,
    slot: std::sync::RwLock<Option<Version<T>>>,
}

/// A setting's value as of its `updated_at` (none: no row, the default).
type Version<T> = (Option<chrono::DateTime<Utc>>, std::sync::Arc<T>);

/// The pricing setting's version, as a sub-select for a hot statement.
pub const VERSION_OF_PRICING: &str = "(SELECT s.updated_at FROM app_settings s WHERE s.key = 'pricing')";

impl<T: DeserializeOwned + Default> Cached<T> {
    pub const fn new(key: &'static str) -> Self {
        Cached { key, slot: std::sync::RwLock::new(None) }
    }

    /// The cached value when it is of `version`.
    pub fn at(&self, version: Option<chrono::DateTime<Utc>>) -> Option<std::sync::Arc<T>> {
        let slot = self.slot.read().unwrap_or_else(|e| e.into_inner());
        slot.as_ref().filter(|(v, _)| *v == version).map(|(_, t)| t.clone())
    }

    /// Remembers `value` as the setting of `version` (`None`: no row, the default).
    pub fn keep(&self, version: Option<chrono::DateTime<Utc>>, value: T) -> std::sync::Arc<T> {
        let value = std::sync::Arc::new(value);
        *self.slot.write().unwrap_or_else(|e| e.into_inner()) = Some((version, value.clone()));
        value
    }

    pub fn key(&self) -> &'static str {
        self.key
    }

    /// Parses a stored value (the default when there is no row).
    pub fn parse(&self, v: Option<Json<serde_json::Value>>) -> crate::StoreResult<T> {
        match v {
            None => Ok(T::default()),
            Some(Json(v)) => serde_json::from_value(v).map_err(|e| crate::StoreError::Invalid(format!("setting {}: {e}", self.key))),
        }
    }
}
