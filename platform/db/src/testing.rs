//! A fresh, migrated database for each test, on each store under test.
//!
//! SQLite gets a new file in a temporary folder. PostgreSQL (when
//! `TEST_DATABASE_URL` names a server) gets a database cloned from a
//! migrated template, which is made once per cluster and product; the clone
//! is a file copy, far faster than migrating anew. `REQUIRE_PG=1` turns a
//! missing `TEST_DATABASE_URL` into a failure, so CI can never skip
//! PostgreSQL silently.

use crate::{Backend, Db, Migrations};

/// The stores to run store-backed tests on.
pub fn backends() -> Vec<Backend> {
    let mut v = vec![Backend::Sqlite];
    if std::env::var("TEST_DATABASE_URL").is_ok() {
        v.push(Backend::Postgres);
    } else if std::env::var("REQUIRE_PG").as_deref() == Ok("1") {
        panic!("REQUIRE_PG=1 but TEST_DATABASE_URL is not set");
    }
    v
}

/// A test's database; the SQLite file lives as long as this value.
pub struct TestDb {
    pub db: Db,
    pub dir: Option<tempfile::TempDir>,
}

/// A fresh database migrated with `migrations`. `template` names the
/// product's PostgreSQL template (one per product, since schemas differ).
pub async fn fresh_db(backend: Backend, migrations: &Migrations, template: &str) -> TestDb {
    match backend {
        Backend::Sqlite => {
            let dir = tempfile::tempdir().expect("tempdir");
            let url = format!("sqlite://{}", dir.path().join("t.db").display());
            let db = Db::connect(&url, 8).await.expect("sqlite");
            db.migrate(migrations).await.expect("migrate");
            TestDb { db, dir: Some(dir) }
        }
        Backend::Postgres => TestDb { db: pg_clone(migrations, template).await, dir: None },
    }
}

/// Clones a database from a migrated template (created once per cluster,
/// serialised across test processes with an advisory lock).
async fn pg_clone(migrations: &Migrations, template: &str) -> Db {
    assert!(template.chars().all(|c| c.is_ascii_lowercase() || c == '_'), "template names are plain identifiers");
    let base = std::env::var("TEST_DATABASE_URL").expect("TEST_DATABASE_URL");
    let admin = sqlx::postgres::PgPoolOptions::new().max_connections(1).connect(&base).await.expect("pg admin connect");
    let mut conn = admin.acquire().await.expect("conn");
    sqlx::query("SELECT pg_advisory_lock(4242)").execute(&mut *conn).await.expect("lock");
    let exists: bool = sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)")
        .bind(template)
        .fetch_one(&mut *conn)
        .await
        .expect("exists");
    if !exists {
        sqlx::query(&format!("CREATE DATABASE {template}")).execute(&mut *conn).await.expect("create template");
        let tpl = Db::connect(&with_db(&base, template), 2).await.expect("tpl connect");
        tpl.migrate(migrations).await.expect("migrate template");
        tpl.close().await;
    }
    drop_orphans(&mut conn).await;
    let name = format!("t_{}_{}", std::process::id(), uuid::Uuid::new_v4().simple());
    sqlx::query(&format!("CREATE DATABASE {name} TEMPLATE {template}")).execute(&mut *conn).await.expect("clone");
    sqlx::query("SELECT pg_advisory_unlock(4242)").execute(&mut *conn).await.expect("unlock");
    drop(conn);
    admin.close().await;
    let db = Db::connect(&with_db(&base, &name), 20).await.expect("connect clone");
    // A template made by an older build may lack the newest migrations.
    db.migrate(migrations).await.expect("migrate clone");
    db
}

/// Drops the clones of test processes that have ended, so a suite of
/// hundreds of tests holds only the databases of the tests still running
/// (each clone is several megabytes; thousands of them fill a disk). A
/// clone's name carries its process id; a process that is gone no longer
/// needs it. Where processes cannot be seen (no `/proc`), nothing is
/// dropped and the throwaway cluster's removal cleans up instead.
async fn drop_orphans(conn: &mut sqlx::PgConnection) {
    if !std::path::Path::new("/proc/self").exists() {
        return;
    }
    let names: Vec<String> =
        sqlx::query_scalar("SELECT datname FROM pg_database WHERE datname LIKE 't\\_%'").fetch_all(&mut *conn).await.expect("list clones");
    for name in names.iter().filter(|n| orphaned(n)) {
        // FORCE ends connections a crashed test may have left behind.
        if let Err(e) = sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")).execute(&mut *conn).await {
            eprintln!("dropping test database {name}: {e}");
        }
    }
}

/// Whether a clone named `t_<pid>_<uuid>` belongs to a process that ended.
fn orphaned(name: &str) -> bool {
    let mut parts = name.splitn(3, '_');
    let (Some("t"), Some(pid), Some(_)) = (parts.next(), parts.next(), parts.next()) else { return false };
    match pid.parse::<u32>() {
        Ok(pid) => pid != std::process::id() && !std::path::Path::new(&format!("/proc/{pid}")).exists(),
        Err(_) => false,
    }
}

/// `url` with its database name replaced by `db`.
pub fn with_db(url: &str, db: &str) -> String {
    let (head, _) = url.rsplit_once('/').expect("url has a path");
    format!("{head}/{db}")
}

/// The URL of the PostgreSQL database `db` is connected to, for a second
/// pool (another node) on the same database.
pub fn url_of(db: &Db) -> Option<String> {
    match db {
        Db::Postgres(p) => {
            let name = p.connect_options().get_database()?.to_string();
            Some(with_db(&std::env::var("TEST_DATABASE_URL").ok()?, &name))
        }
        Db::Sqlite(_) => None,
    }
}
