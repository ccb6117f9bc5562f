//! A product's side of the tests: its account id and kind types, and a
//! minimal accounts table beside the migrated ones.

use platform_db::testing::{fresh_db, TestDb};
use platform_db::{on_pool, Backend, Db};

platform_kernel::id_type! {
    /// An account id as a product defines it.
    AccountId
}

platform_kernel::text_enum! {
    /// Kinds of account as a product defines them.
    pub enum Kind { User => "user", Admin => "admin" }
}

/// A fresh database with the crate's migrations and an `accounts` table.
pub async fn db(backend: Backend) -> TestDb {
    let t = fresh_db(backend, &platform_accounts::MIGRATIONS, "platform_accounts_template").await;
    let id = match backend {
        Backend::Sqlite => "TEXT",
        Backend::Postgres => "UUID",
    };
    let sql = format!("CREATE TABLE accounts (id {id} PRIMARY KEY, is_active BOOLEAN NOT NULL DEFAULT TRUE)");
    on_pool!(&t.db, p => { sqlx::query(&sql).execute(p).await.unwrap(); });
    t
}

/// A new active account.
pub async fn account(db: &Db) -> AccountId {
    let id = AccountId::new();
    on_pool!(db, p => { sqlx::query("INSERT INTO accounts (id) VALUES ($1)").bind(id).execute(p).await.unwrap(); });
    id
}

pub async fn set_active(db: &Db, id: AccountId, active: bool) {
    on_pool!(db, p => {
        sqlx::query("UPDATE accounts SET is_active = $2 WHERE id = $1").bind(id).bind(active).execute(p).await.unwrap();
    });
}

/// A fixed clock: tests move it by hand instead of sleeping.
pub fn t0() -> chrono::DateTime<chrono::Utc> {
    "2030-01-01T12:00:00Z".parse().unwrap()
}
