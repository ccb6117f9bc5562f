//! A Book over a product's own tables: a `credits` balance column (with a
//! lifetime-spend column beside it) on `members`, and `member_ledger`
//! entries with no unit, no transfers and one unique idempotency key each.

use platform_db::testing::{backends, fresh_db};
use platform_db::{on_pool, Db, Migrations, StoreError};
use platform_ledger::invariants::run;
use platform_ledger::{wallets, ActorId, Amount, Book, Leg, Movement, Posted, Tables, Transfer, Unit, WalletId};
use std::sync::LazyLock;

static SQLITE: sqlx::migrate::Migrator = sqlx::migrate!("tests/migrations/own_tables/sqlite");
static POSTGRES: sqlx::migrate::Migrator = sqlx::migrate!("tests/migrations/own_tables/postgres");
const MIGRATIONS: Migrations = Migrations { sqlite: &SQLITE, postgres: &POSTGRES };
const TEMPLATE: &str = "platform_ledger_own_tables_template";

/// How such a product describes its ledger.
static CREDITS: LazyLock<Book> = LazyLock::new(|| {
    Book::new(Tables {
        wallets: "members",
        wallet_id: "id",
        balance: "credits",
        wallet_unit: None,
        spent: Some("lifetime_spent"),
        entries: "member_ledger",
        entry_wallet: "member_id",
        entry_unit: false,
        transfers: false,
    })
});

async fn user(db: &Db, name: &str) -> WalletId {
    let id = WalletId::new();
    on_pool!(db, p => {
        sqlx::query("INSERT INTO members (id, username) VALUES ($1, $2)").bind(id).bind(name).execute(p).await.unwrap();
    });
    id
}

async fn spent(db: &Db, id: WalletId) -> i64 {
    on_pool!(db, p => sqlx::query_scalar("SELECT lifetime_spent FROM members WHERE id = $1").bind(id).fetch_one(p).await.unwrap())
}

fn movement<'a>(user: WalletId, delta: i64, reason: &'a str, key: &'a str) -> Movement<'a> {
    Movement { wallet: user, delta: Amount(delta), reason, reference: None, idempotency_key: key, created_by: None, spending: false }
}

#[tokio::test]
async fn a_products_own_tables_fit_a_book() {
    for backend in backends() {
        let t = fresh_db(backend, &MIGRATIONS, TEMPLATE).await;
        let db = &t.db;
        let book = &*CREDITS;
        let amina = user(db, "amina").await;

        let buy = Movement { reference: Some("payment-1"), ..movement(amina, 10, "purchase", "purchase:payment-1") };
        assert_eq!(book.post(db, &buy).await.unwrap(), Posted::Applied { balance: Amount(10) });
        assert_eq!(book.post(db, &buy).await.unwrap(), Posted::Duplicate);

        let charge = Movement { reference: Some("message-1"), spending: true, ..movement(amina, -3, "message_charge", "charge:message-1") };
        assert_eq!(book.post(db, &charge).await.unwrap(), Posted::Applied { balance: Amount(7) });
        let admin = ActorId::new();
        let bonus = Movement { created_by: Some(admin), ..movement(amina, 2, "admin_adjustment", "adjust:1") };
        assert_eq!(book.post(db, &bonus).await.unwrap(), Posted::Applied { balance: Amount(9) });
        assert_eq!(spent(db, amina).await, 3, "{backend:?}: only spending debits count");

        let err = book.post(db, &movement(amina, -10, "message_charge", "charge:message-2")).await.unwrap_err();
        assert!(matches!(err, StoreError::Insufficient { required: 10, available: 9 }), "{backend:?}: {err:?}");
        // The product's own CHECK on reasons still holds, and nothing is written.
        assert!(book.post(db, &movement(amina, 1, "tip", "tip:1")).await.is_err());
        assert_eq!(book.balance(db, amina).await.unwrap(), Amount(9));

        let entries = book.entries(db, amina, None, 2).await.unwrap();
        let page: Vec<_> = entries.iter().map(|e| (e.reason.as_str(), e.delta.get(), e.balance_after.get(), e.created_by)).collect();
        assert_eq!(page, vec![("admin_adjustment", 2, 9, Some(admin)), ("message_charge", -3, 7, None)], "{backend:?}");
        assert!(entries.iter().all(|e| e.unit.is_none() && e.transfer_id.is_none() && e.wallet == amina));
        let older = book.entries(db, amina, Some(entries[1].seq), 10).await.unwrap();
        assert_eq!(older.iter().map(|e| e.reference.as_deref()).collect::<Vec<_>>(), vec![Some("payment-1")]);

        let credits = Unit::parse("credits").unwrap();
        let bo = user(db, "bo").await;
        let gift = Transfer {
            legs: vec![
                Leg { wallet: amina, unit: credits.clone(), delta: Amount(-1) },
                Leg { wallet: bo, unit: credits, delta: Amount(1) },
            ],
            reason: "bonus",
            reference: None,
            idempotency_key: "gift:1",
            created_by: None,
        };
        assert!(matches!(book.transfer(db, &gift).await, Err(StoreError::Rule(_))), "{backend:?}");

        let checks = book.checks();
        assert_eq!(checks.len(), 3);
        let r = run(db, &checks).await.unwrap();
        assert!(r.is_clean(), "{backend:?}: {:?}", r.violations);
        on_pool!(db, p => {
            sqlx::query("UPDATE members SET credits = credits + 1 WHERE id = $1").bind(amina).execute(p).await.unwrap();
        });
        let r = run(db, &checks).await.unwrap();
        assert!(r.violated(Book::BALANCE_IS_SUM_OF_ENTRIES), "{backend:?}: {:?}", r.violations);
    }
}

#[tokio::test]
async fn own_tablesd_charges_at_once_never_overdraw_nor_repeat() {
    for backend in backends() {
        let t = fresh_db(backend, &MIGRATIONS, TEMPLATE).await;
        let amina = user(&t.db, "amina").await;
        CREDITS.post(&t.db, &movement(amina, 5, "purchase", "purchase:1")).await.unwrap();
        let mut tasks = Vec::new();
        for i in 0..20 {
            let db = t.db.clone();
            tasks.push(tokio::spawn(async move {
                // Ten distinct charges, each sent twice.
                let key = format!("charge:{}", i % 10);
                let m = Movement { spending: true, ..movement(amina, -1, "message_charge", &key) };
                CREDITS.post(&db, &m).await
            }));
        }
        let (mut applied, mut duplicate, mut insufficient) = (0, 0, 0);
        for task in tasks {
            match task.await.unwrap() {
                Ok(Posted::Applied { .. }) => applied += 1,
                Ok(Posted::Duplicate) => duplicate += 1,
                Err(StoreError::Insufficient { .. }) => insufficient += 1,
                other => panic!("{backend:?}: {other:?}"),
            }
        }
        assert_eq!(applied, 5, "{backend:?}");
        assert_eq!(duplicate + insufficient, 15, "{backend:?}");
        assert!(duplicate >= 5, "{backend:?}: each applied key's repeat is a duplicate");
        assert_eq!(CREDITS.balance(&t.db, amina).await.unwrap(), Amount(0));
        assert_eq!(spent(&t.db, amina).await, 5);
        assert!(run(&t.db, &CREDITS.checks()).await.unwrap().is_clean());
    }
}

#[tokio::test]
async fn the_standard_schema_installs_beside_a_products_own() {
    for backend in backends() {
        let t = fresh_db(backend, &MIGRATIONS, TEMPLATE).await;
        let db = &t.db;
        // The product's migrations are applied; the ledger's go on top, in
        // the same migrations table, and again as a no-op.
        db.migrate(&platform_ledger::MIGRATIONS).await.unwrap();
        db.migrate(&platform_ledger::MIGRATIONS).await.unwrap();
        let coins = Unit::parse("coins").unwrap();
        let w = wallets::open(db, "user", "amina", &coins).await.unwrap();
        let m = movement(w.id, 3, "gift", "gift:1");
        assert_eq!(Book::standard().post(db, &m).await.unwrap(), Posted::Applied { balance: Amount(3) });
        let amina = user(db, "amina").await;
        assert_eq!(CREDITS.post(db, &movement(amina, 4, "bonus", "gift:1")).await.unwrap(), Posted::Applied { balance: Amount(4) });
        let versions: Vec<i64> =
            on_pool!(db, p => sqlx::query_scalar("SELECT version FROM _sqlx_migrations ORDER BY version").fetch_all(p).await.unwrap());
        assert_eq!(versions, vec![1, 120], "{backend:?}");
    }
}
