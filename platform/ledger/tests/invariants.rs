//! Each of the ledger's checks fires on data corrupted behind its back, on
//! both stores; a product's own checks run alongside.

use platform_db::testing::{backends, fresh_db};
use platform_db::{on_pool, Backend, Db};
use platform_ledger::invariants::{run, Check, Report};
use platform_ledger::wallets::{self, SYSTEM};
use platform_ledger::{Amount, Book, Leg, Movement, Transfer, TransferId, Transferred, Unit, WalletId, MIGRATIONS};

const TEMPLATE: &str = "platform_ledger_template";

/// A small, consistent ledger: two wallets with a history and a transfer.
struct Fixture {
    buyer: WalletId,
    escrow: WalletId,
    transfer: TransferId,
}

async fn fixture(db: &Db) -> Fixture {
    let book = Book::standard();
    let kes = Unit::parse("KES").unwrap();
    let buyer = wallets::open(db, "user", "buyer", &kes).await.unwrap().id;
    let escrow = wallets::open(db, SYSTEM, "escrow", &kes).await.unwrap().id;
    for (i, delta) in [100, -30, 50].into_iter().enumerate() {
        let key = format!("m{i}");
        let m = Movement {
            wallet: buyer,
            delta: Amount(delta),
            reason: "test",
            reference: None,
            idempotency_key: &key,
            created_by: None,
            spending: false,
        };
        book.post(db, &m).await.unwrap();
    }
    let legs = vec![Leg { wallet: buyer, unit: kes.clone(), delta: Amount(-60) }, Leg { wallet: escrow, unit: kes, delta: Amount(60) }];
    let t = Transfer { legs, reason: "order", reference: Some("o1"), idempotency_key: "o1", created_by: None };
    let Transferred::Applied { id, .. } = book.transfer(db, &t).await.unwrap() else { panic!("duplicate") };
    Fixture { buyer, escrow, transfer: id }
}

async fn exec(db: &Db, sql: &str) {
    on_pool!(db, p => { sqlx::query(sql).execute(p).await.unwrap(); });
}

async fn report(db: &Db) -> Report {
    run(db, &Book::standard().checks()).await.unwrap()
}

/// Corrupts a fresh fixture with `corrupt` and asserts `rule` fires.
async fn fires(backend: Backend, rule: &str, corrupt: impl AsyncFnOnce(&Db, &Fixture)) {
    let t = fresh_db(backend, &MIGRATIONS, TEMPLATE).await;
    let f = fixture(&t.db).await;
    assert!(report(&t.db).await.is_clean(), "{backend:?}: clean before");
    corrupt(&t.db, &f).await;
    let r = report(&t.db).await;
    assert!(r.violated(rule), "{backend:?}: {rule} did not fire: {:?}", r.violations);
    let v = r.violations.iter().find(|v| v.rule == rule).unwrap();
    assert!(v.count >= 1 && !v.examples.is_empty() && !v.examples[0].is_empty(), "{v:?}");
}

#[tokio::test]
async fn a_balance_changed_behind_the_ledger_is_caught() {
    for backend in backends() {
        fires(backend, Book::BALANCE_IS_SUM_OF_ENTRIES, async |db, f| {
            let sql = format!("UPDATE wallets SET balance = balance + 7 WHERE id = '{}'", f.buyer);
            exec(db, &sql).await;
        })
        .await;
    }
}

#[tokio::test]
async fn a_negative_balance_is_caught() {
    for backend in backends() {
        fires(backend, Book::NO_NEGATIVE_BALANCE, async |db, f| {
            // The column's CHECK refuses it; only a damaged store gets here.
            let sql = format!("UPDATE wallets SET balance = -5 WHERE id = '{}'", f.escrow);
            match db {
                Db::Sqlite(p) => {
                    let mut c = p.acquire().await.unwrap();
                    sqlx::query("PRAGMA ignore_check_constraints = ON").execute(&mut *c).await.unwrap();
                    sqlx::query(&sql).execute(&mut *c).await.unwrap();
                    sqlx::query("PRAGMA ignore_check_constraints = OFF").execute(&mut *c).await.unwrap();
                }
                Db::Postgres(_) => {
                    exec(db, "ALTER TABLE wallets DROP CONSTRAINT wallets_balance_check").await;
                    exec(db, &sql).await;
                }
            }
        })
        .await;
    }
}

#[tokio::test]
async fn an_entry_that_does_not_follow_on_is_caught() {
    for backend in backends() {
        fires(backend, Book::ENTRIES_FOLLOW_ON, async |db, f| {
            let sql = format!(
                "UPDATE ledger_entries SET balance_after = balance_after + 1
                 WHERE seq = (SELECT MIN(seq) FROM ledger_entries WHERE wallet_id = '{}')",
                f.buyer
            );
            exec(db, &sql).await;
        })
        .await;
    }
}

#[tokio::test]
async fn a_transfer_that_makes_money_is_caught() {
    for backend in backends() {
        fires(backend, Book::TRANSFERS_BALANCE, async |db, f| {
            // The escrow leg and its wallet grow together, so only the
            // transfer itself is out of balance.
            exec(db, &format!("UPDATE ledger_entries SET delta = delta + 5, balance_after = balance_after + 5 WHERE transfer_id = '{}' AND wallet_id = '{}'", f.transfer, f.escrow)).await;
            exec(db, &format!("UPDATE wallets SET balance = balance + 5 WHERE id = '{}'", f.escrow)).await;
        })
        .await;
    }
}

#[tokio::test]
async fn an_entry_in_another_unit_is_caught() {
    for backend in backends() {
        fires(backend, Book::ENTRY_UNIT_IS_WALLET_UNIT, async |db, f| {
            exec(
                db,
                &format!("UPDATE ledger_entries SET unit = 'USD' WHERE transfer_id = '{}' AND wallet_id = '{}'", f.transfer, f.escrow),
            )
            .await;
        })
        .await;
    }
}

#[tokio::test]
async fn a_products_own_checks_run_with_the_ledgers() {
    for backend in backends() {
        let t = fresh_db(backend, &MIGRATIONS, TEMPLATE).await;
        fixture(&t.db).await;
        const ESCROW_HOLDS_LITTLE: Check =
            Check::new("escrow holds under 50", "SELECT owner_id FROM wallets WHERE owner_kind = 'system' AND balance >= 50");
        let mut checks = Book::standard().checks();
        checks.push(ESCROW_HOLDS_LITTLE);
        let r = run(&t.db, &checks).await.unwrap();
        assert_eq!(r.checked.len(), 6);
        assert_eq!(r.violations.len(), 1, "{backend:?}: {:?}", r.violations);
        assert_eq!((r.violations[0].rule, r.violations[0].examples.clone()), ("escrow holds under 50", vec!["escrow".to_string()]));
    }
}
