//! Admin accounts, the one-time bootstrap of the first super admin, and the
//! last-super-admin guard (also enforced by a trigger in both schemas).

use crate::{insert_account, on_pool, BeginWrite, Db, StoreError, StoreResult};
use chrono::{DateTime, Utc};
use fantooo_domain::ids::{AccountId, AdminId};
use fantooo_domain::{AccountKind, AdminRole, Permissions};
use platform_db::LockKey;
use serde::Serialize;
use sqlx::types::Json;

/// The lock class of first-admin creation ([`LockKey`]).
const FIRST_ADMIN_LOCK: i32 = 7_270_001;

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Admin {
    pub id: AdminId,
    pub account_id: AccountId,
    pub name: String,
    pub email: String,
    pub role: AdminRole,
    pub permissions: Json<Permissions>,
    pub is_active: bool,
    pub last_login: Option<DateTime<Utc>>,
    pub created_by: Option<AdminId>,
    pub created_at: DateTime<Utc>,
}

impl Admin {
    pub fn effective_permissions(&self) -> Permissions {
        self.permissions.0.effective(self.role)
    }
}

const COLUMNS: &str = "id, account_id, name, email, role, permissions, is_active, last_login, created_by, created_at";

#[derive(Debug, Clone)]
pub struct NewAdmin {
    pub name: String,
    pub email: String,
    pub role: AdminRole,
    pub permissions: Permissions,
}

/// Whether any admin row exists at all; `/setup` is open only while none does.
pub async fn any_exist(db: &Db) -> StoreResult<bool> {
    let n: i64 = on_pool!(db, p => sqlx::query_scalar("SELECT COUNT(*) FROM admins").fetch_one(p).await?);
    Ok(n > 0)
}

/// Creates an admin. With `only_if_none`, the insert happens only while no
/// admin exists, serialised across concurrent requests and nodes (SQLite's
/// write lock; a transaction-scoped advisory lock on PostgreSQL).
pub async fn create(db: &Db, new: &NewAdmin, password_hash: &str, created_by: Option<AdminId>, only_if_none: bool) -> StoreResult<Admin> {
    let now = Utc::now();
    let account = AccountId::new();
    let id = AdminId::new();
    let perms = Json(new.permissions);
    on_pool!(db, p => {
        let mut tx = p.begin_write().await?;
        if only_if_none {
            // Serialises first-admin creation across requests and nodes.
            LockKey::lock_key(&mut *tx, FIRST_ADMIN_LOCK, "first-admin").await?;
            if sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM admins").fetch_one(&mut *tx).await? > 0 {
                return Err(StoreError::Conflict("an admin already exists".into()));
            }
        }
        insert_account!(tx, account, AccountKind::Admin, &new.email, password_hash, now);
        sqlx::query("INSERT INTO admins (id, account_id, name, email, role, permissions, is_active, created_by, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, TRUE, $7, $8, $8)")
            .bind(id).bind(account).bind(&new.name).bind(&new.email).bind(new.role).bind(perms).bind(created_by).bind(now)
            .execute(&mut *tx).await?;
        tx.commit().await?;
    });
    by_id(db, id).await
}

pub async fn by_id(db: &Db, id: AdminId) -> StoreResult<Admin> {
    let sql = format!("SELECT {COLUMNS} FROM admins WHERE id = $1 AND deleted_at IS NULL");
    Ok(on_pool!(db, p => sqlx::query_as::<_, Admin>(&sql).bind(id).fetch_one(p).await?))
}

pub async fn by_account(db: &Db, account: AccountId) -> StoreResult<Admin> {
    let sql = format!("SELECT {COLUMNS} FROM admins WHERE account_id = $1 AND deleted_at IS NULL");
    Ok(on_pool!(db, p => sqlx::query_as::<_, Admin>(&sql).bind(account).fetch_one(p).await?))
}

pub async fn list(db: &Db) -> StoreResult<Vec<Admin>> {
    let sql = format!("SELECT {COLUMNS} FROM admins WHERE deleted_at IS NULL ORDER BY created_at");
    Ok(on_pool!(db, p => sqlx::query_as::<_, Admin>(&sql).fetch_all(p).await?))
}

pub async fn record_login(db: &Db, id: AdminId, at: DateTime<Utc>) -> StoreResult<()> {
    on_pool!(db, p => {
        sqlx::query("UPDATE admins SET last_login = $1, last_activity = $1 WHERE id = $2").bind(at).bind(id).execute(p).await?;
    });
    Ok(())
}

/// Changes role and permissions; the trigger refuses demoting the last super admin.
pub async fn update_role(db: &Db, id: AdminId, role: AdminRole, perms: Permissions) -> StoreResult<()> {
    let n = on_pool!(db, p => {
        let mut tx = p.begin_write().await?;
        let n = sqlx::query("UPDATE admins SET role = $1, permissions = $2, updated_at = $3 WHERE id = $4 AND deleted_at IS NULL")
            .bind(role).bind(Json(perms)).bind(Utc::now()).bind(id).execute(&mut *tx).await?.rows_affected();
        tx.commit().await?;
        n
    });
    if n == 0 {
        Err(StoreError::NotFound)
    } else {
        Ok(())
    }
}

/// Activates or deactivates an admin and their login in one transaction.
pub async fn set_active(db: &Db, id: AdminId, active: bool) -> StoreResult<()> {
    let now = Utc::now();
    let n = on_pool!(db, p => {
        let mut tx = p.begin_write().await?;
        let n = sqlx::query("UPDATE admins SET is_active = $1, updated_at = $2 WHERE id = $3 AND deleted_at IS NULL")
            .bind(active).bind(now).bind(id).execute(&mut *tx).await?.rows_affected();
        sqlx::query("UPDATE accounts SET is_active = $1 WHERE id = (SELECT account_id FROM admins WHERE id = $2)")
            .bind(active).bind(id).execute(&mut *tx).await?;
        if !active {
            sqlx::query("UPDATE sessions SET revoked_at = $1 WHERE account_id = (SELECT account_id FROM admins WHERE id = $2) AND revoked_at IS NULL")
                .bind(now).bind(id).execute(&mut *tx).await?;
        }
        tx.commit().await?;
        n
    });
    if n == 0 {
        Err(StoreError::NotFound)
    } else {
        Ok(())
    }
}

/// Soft-deletes an admin and disables the login.
pub async fn delete(db: &Db, id: AdminId) -> StoreResult<()> {
    let now = Utc::now();
    let n = on_pool!(db, p => {
        let mut tx = p.begin_write().await?;
        let n = sqlx::query("UPDATE admins SET deleted_at = $1, is_active = FALSE, updated_at = $1 WHERE id = $2 AND deleted_at IS NULL")
            .bind(now).bind(id).execute(&mut *tx).await?.rows_affected();
        sqlx::query("UPDATE accounts SET is_active = FALSE WHERE id = (SELECT account_id FROM admins WHERE id = $1)")
            .bind(id).execute(&mut *tx).await?;
        sqlx::query("UPDATE sessions SET revoked_at = $1 WHERE account_id = (SELECT account_id FROM admins WHERE id = $2) AND revoked_at IS NULL")
            .bind(now).bind(id).execute(&mut *tx).await?;
        tx.commit().await?;
        n
    });
    if n == 0 {
        Err(StoreError::NotFound)
    } else {
        Ok(())
    }
}
