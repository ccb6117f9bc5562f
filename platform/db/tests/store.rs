//! The data layer on both stores: one SQL text, the same classification of
//! errors, write transactions that serialise read-then-write.

use platform_db::testing::{backends, fresh_db};
use platform_db::{on_pool, BeginWrite, Db, Migrations, StoreError};

static SQLITE: sqlx::migrate::Migrator = sqlx::migrate!("tests/migrations/sqlite");
static POSTGRES: sqlx::migrate::Migrator = sqlx::migrate!("tests/migrations/postgres");
const MIGRATIONS: Migrations = Migrations { sqlite: &SQLITE, postgres: &POSTGRES };

async fn insert(db: &Db, owner: &str, balance: i64) -> Result<(), StoreError> {
    on_pool!(db, p => {
        sqlx::query("INSERT INTO wallets (owner, balance) VALUES ($1, $2)").bind(owner).bind(balance).execute(p).await?;
    });
    Ok(())
}

#[tokio::test]
async fn errors_are_classified_the_same_on_both_stores() {
    for backend in backends() {
        let t = fresh_db(backend, &MIGRATIONS, "platform_db_test_template").await;
        let db = &t.db;
        db.ping().await.unwrap();
        insert(db, "amina", 5).await.unwrap();

        let dup = insert(db, "amina", 1).await.unwrap_err();
        assert!(matches!(&dup, StoreError::Conflict(c) if c.contains("owner")), "{backend:?}: {dup:?}");

        let missing: Result<i64, StoreError> = on_pool!(db, p => sqlx::query_scalar("SELECT balance FROM wallets WHERE owner = $1").bind("nobody").fetch_one(p).await.map_err(Into::into));
        assert!(matches!(missing, Err(StoreError::NotFound)), "{backend:?}");

        on_pool!(db, p => { sqlx::query("UPDATE wallets SET locked = 1 WHERE owner = 'amina'").execute(p).await.unwrap(); });
        let guarded: Result<(), StoreError> = on_pool!(db, p => sqlx::query("UPDATE wallets SET balance = 0 WHERE owner = 'amina'").execute(p).await.map(|_| ()).map_err(Into::into));
        let err = guarded.unwrap_err();
        assert!(err.is_guard("wallet_locked"), "{backend:?}: {err:?}");
        assert_eq!(err.to_string(), "wallet_locked: this wallet is locked");
        assert!(!err.is_unavailable());
    }
}

#[tokio::test]
async fn write_transactions_never_lose_an_update() {
    for backend in backends() {
        let t = fresh_db(backend, &MIGRATIONS, "platform_db_test_template").await;
        insert(&t.db, "k", 0).await.unwrap();
        let mut tasks = Vec::new();
        for _ in 0..20 {
            let db = t.db.clone();
            tasks.push(tokio::spawn(async move {
                // SQLite's BEGIN IMMEDIATE serialises the whole transaction;
                // PostgreSQL needs the row lock.
                let read = match db {
                    Db::Sqlite(_) => "SELECT balance FROM wallets WHERE owner = 'k'",
                    Db::Postgres(_) => "SELECT balance FROM wallets WHERE owner = 'k' FOR UPDATE",
                };
                on_pool!(&db, p => {
                    let mut tx = p.begin_write().await.unwrap();
                    let b: i64 = sqlx::query_scalar(read).fetch_one(&mut *tx).await.unwrap();
                    sqlx::query("UPDATE wallets SET balance = $1 WHERE owner = 'k'").bind(b + 1).execute(&mut *tx).await.unwrap();
                    tx.commit().await.unwrap();
                })
            }));
        }
        for task in tasks {
            task.await.unwrap();
        }
        let b: i64 = on_pool!(&t.db, p => sqlx::query_scalar("SELECT balance FROM wallets WHERE owner = 'k'").fetch_one(p).await.unwrap());
        assert_eq!(b, 20, "{backend:?}");
    }
}

#[tokio::test]
async fn an_unreachable_server_is_an_outage_not_a_fault() {
    let err = Db::connect("postgres://nobody@127.0.0.1:1/none", 1).await.unwrap_err();
    assert!(err.is_unavailable(), "{err:?}");
}

#[tokio::test]
async fn combined_schemas_run_in_version_order() {
    static EXTRA_SQLITE: sqlx::migrate::Migrator = sqlx::migrate!("tests/migrations_extra/sqlite");
    static EXTRA_POSTGRES: sqlx::migrate::Migrator = sqlx::migrate!("tests/migrations_extra/postgres");
    const EXTRA: Migrations = Migrations { sqlite: &EXTRA_SQLITE, postgres: &EXTRA_POSTGRES };
    // The product's part (1000) names a table of the platform part (1).
    let both = Migrations::combine(&[&EXTRA, &MIGRATIONS]);
    let versions: Vec<i64> = both.sqlite.iter().map(|m| m.version).collect();
    assert_eq!(versions, vec![1, 1000]);
    for backend in backends() {
        let t = fresh_db(backend, &both, "platform_db_combined_template").await;
        insert(&t.db, "amina", 1).await.unwrap();
        on_pool!(&t.db, p => { sqlx::query("INSERT INTO notes (wallet_owner, body) VALUES ('amina', 'hi')").execute(p).await.unwrap(); });
        // Migrating again is a no-op.
        t.db.migrate(&both).await.unwrap();
    }
}

#[test]
#[should_panic(expected = "share version")]
fn combining_a_schema_with_itself_is_refused() {
    let _ = Migrations::combine(&[&MIGRATIONS, &MIGRATIONS]);
}

/// An `IN (…)` list of `placeholders` after another parameter selects the
/// same rows on both stores.
#[tokio::test]
async fn placeholder_lists_bind_after_the_other_parameters() {
    for backend in backends() {
        let t = fresh_db(backend, &MIGRATIONS, "platform_db_test_template").await;
        for (owner, balance) in [("a", 1), ("b", 5), ("c", 9), ("d", 7)] {
            insert(&t.db, owner, balance).await.unwrap();
        }
        let owners = ["b", "c", "a"];
        let sql = format!(
            "SELECT owner FROM wallets WHERE balance >= $1 AND owner IN ({}) ORDER BY owner",
            platform_db::placeholders(2, owners.len())
        );
        let found: Vec<String> = on_pool!(&t.db, p => {
            let mut q = sqlx::query_scalar(&sql).bind(5_i64);
            for o in owners {
                q = q.bind(o);
            }
            q.fetch_all(p).await.unwrap()
        });
        assert_eq!(found, ["b", "c"], "{backend:?}");
    }
}

#[tokio::test]
async fn clones_left_by_ended_test_processes_are_dropped_by_the_next_clone() {
    let Ok(base) = std::env::var("TEST_DATABASE_URL") else { return };
    let admin = sqlx::PgPool::connect(&base).await.unwrap();
    // No process has this id (it is above any pid_max); ours is alive.
    let ended = format!("t_{}_leftover", u32::MAX);
    let alive = format!("t_{}_inuse", std::process::id());
    for name in [&ended, &alive] {
        sqlx::query(&format!("DROP DATABASE IF EXISTS {name}")).execute(&admin).await.unwrap();
        sqlx::query(&format!("CREATE DATABASE {name}")).execute(&admin).await.unwrap();
    }
    let _t = fresh_db(platform_db::Backend::Postgres, &MIGRATIONS, "platform_db_test_template").await;
    let exists = |name: String| {
        let admin = admin.clone();
        async move {
            sqlx::query_scalar::<_, bool>("SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)")
                .bind(name)
                .fetch_one(&admin)
                .await
                .unwrap()
        }
    };
    assert!(!exists(ended.clone()).await, "the ended process's clone is gone");
    assert!(exists(alive.clone()).await, "a running process keeps its clone");
    sqlx::query(&format!("DROP DATABASE {alive}")).execute(&admin).await.unwrap();
}
