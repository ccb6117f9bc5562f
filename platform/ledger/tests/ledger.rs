//! The standard ledger on both stores: wallets, movements, transfers,
//! idempotency and overdraft under concurrency, history pages.

use platform_db::testing::{backends, fresh_db};
use platform_db::{on_pool, BeginWrite, Db, StoreError};
use platform_ledger::invariants::run;
use platform_ledger::wallets::{self, SYSTEM};
use platform_ledger::{Amount, Book, Leg, Movement, Posted, Transfer, Transferred, Unit, WalletId, MIGRATIONS};
use std::collections::HashSet;

const TEMPLATE: &str = "platform_ledger_template";

fn unit(s: &str) -> Unit {
    Unit::parse(s).unwrap()
}

fn movement(wallet: WalletId, delta: i64, key: &str) -> Movement<'_> {
    Movement {
        wallet,
        delta: Amount(delta),
        reason: "test",
        reference: Some("ref-1"),
        idempotency_key: key,
        created_by: None,
        spending: false,
    }
}

fn leg(wallet: WalletId, u: &str, delta: i64) -> Leg {
    Leg { wallet, unit: unit(u), delta: Amount(delta) }
}

fn transfer<'a>(legs: Vec<Leg>, key: &'a str) -> Transfer<'a> {
    Transfer { legs, reason: "order", reference: Some("order-1"), idempotency_key: key, created_by: None }
}

/// A user's wallet of `u` holding `balance`.
async fn funded(db: &Db, owner: &str, u: &str, balance: i64) -> WalletId {
    let w = wallets::open(db, "user", owner, &unit(u)).await.unwrap();
    if balance > 0 {
        let key = format!("fund:{owner}:{u}");
        assert!(matches!(Book::standard().post(db, &movement(w.id, balance, &key)).await.unwrap(), Posted::Applied { .. }));
    }
    w.id
}

async fn balance(db: &Db, w: WalletId) -> i64 {
    Book::standard().balance(db, w).await.unwrap().get()
}

async fn entry_count(db: &Db) -> i64 {
    on_pool!(db, p => sqlx::query_scalar("SELECT COUNT(*) FROM ledger_entries").fetch_one(p).await.unwrap())
}

async fn assert_clean(db: &Db) {
    let report = run(db, &Book::standard().checks()).await.unwrap();
    assert!(report.is_clean(), "{:?}", report.violations);
    assert_eq!(report.checked.len(), 5);
}

#[tokio::test]
async fn wallets_open_once_per_owner_and_unit() {
    for backend in backends() {
        let t = fresh_db(backend, &MIGRATIONS, TEMPLATE).await;
        let db = &t.db;
        let kes = unit("KES");
        let mut tasks = Vec::new();
        for _ in 0..10 {
            let db = db.clone();
            let kes = kes.clone();
            tasks.push(tokio::spawn(async move { wallets::open(&db, "user", "amina", &kes).await.unwrap().id }));
        }
        let mut ids = HashSet::new();
        for task in tasks {
            ids.insert(task.await.unwrap());
        }
        assert_eq!(ids.len(), 1, "{backend:?}");
        let id = *ids.iter().next().unwrap();

        let w = wallets::get(db, id).await.unwrap();
        assert_eq!((w.owner_kind.as_str(), w.owner_id.as_str(), w.unit.as_str(), w.balance), ("user", "amina", "KES", Amount(0)));
        assert_eq!(wallets::find(db, "user", "amina", &kes).await.unwrap().map(|w| w.id), Some(id));
        assert_eq!(wallets::find(db, "user", "amina", &unit("USD")).await.unwrap(), None);
        let usd = wallets::open(db, "user", "amina", &unit("USD")).await.unwrap();
        assert_ne!(usd.id, id);
        let escrow = wallets::open(db, SYSTEM, "escrow", &kes).await.unwrap();
        assert_eq!(escrow.owner_kind, "system");
        assert!(matches!(wallets::get(db, WalletId::new()).await, Err(StoreError::NotFound)));
        assert!(matches!(wallets::open(db, "", "x", &kes).await, Err(StoreError::Refused { field: "owner_kind", .. })));
    }
}

#[tokio::test]
async fn movements_are_entries_and_keys_apply_once() {
    for backend in backends() {
        let t = fresh_db(backend, &MIGRATIONS, TEMPLATE).await;
        let db = &t.db;
        let book = Book::standard();
        let w = funded(db, "amina", "coins", 0).await;

        assert_eq!(book.post(db, &movement(w, 10, "k1")).await.unwrap(), Posted::Applied { balance: Amount(10) });
        assert_eq!(book.post(db, &movement(w, 10, "k1")).await.unwrap(), Posted::Duplicate);
        assert_eq!(book.post(db, &movement(w, -4, "k2")).await.unwrap(), Posted::Applied { balance: Amount(6) });
        // A key is spent even if the repeat would not have fitted.
        assert_eq!(book.post(db, &movement(w, -400, "k2")).await.unwrap(), Posted::Duplicate);

        let err = book.post(db, &movement(w, -7, "k3")).await.unwrap_err();
        assert!(matches!(err, StoreError::Insufficient { required: 7, available: 6 }), "{backend:?}: {err:?}");
        // A failed key was never used, so a retry that fits applies.
        assert_eq!(book.post(db, &movement(w, -6, "k3")).await.unwrap(), Posted::Applied { balance: Amount(0) });

        let err = book.post(db, &movement(WalletId::new(), 5, "k4")).await.unwrap_err();
        assert!(matches!(err, StoreError::NotFound), "{backend:?}: {err:?}");
        let err = book.post(db, &movement(w, 0, "k5")).await.unwrap_err();
        assert!(matches!(err, StoreError::Refused { field: "amount", .. }), "{backend:?}: {err:?}");

        let entries = book.entries(db, w, None, 10).await.unwrap();
        let summary: Vec<_> = entries.iter().map(|e| (e.delta.get(), e.balance_after.get(), e.idempotency_key.as_str())).collect();
        assert_eq!(summary, vec![(-6, 0, "k3"), (-4, 6, "k2"), (10, 10, "k1")], "{backend:?}");
        let e = &entries[0];
        assert_eq!(
            (e.wallet, e.unit.as_ref().map(Unit::as_str), e.reason.as_str(), e.reference.as_deref()),
            (w, Some("coins"), "test", Some("ref-1"))
        );
        assert_eq!(e.transfer_id, None);
        assert_clean(db).await;
    }
}

#[tokio::test]
async fn concurrent_debits_never_overdraw() {
    for backend in backends() {
        let t = fresh_db(backend, &MIGRATIONS, TEMPLATE).await;
        let w = funded(&t.db, "amina", "coins", 5).await;
        let mut tasks = Vec::new();
        for i in 0..20 {
            let db = t.db.clone();
            tasks.push(tokio::spawn(async move {
                let key = format!("debit:{i}");
                Book::standard().post(&db, &movement(w, -1, &key)).await
            }));
        }
        let (mut applied, mut insufficient) = (0, 0);
        for task in tasks {
            match task.await.unwrap() {
                Ok(Posted::Applied { .. }) => applied += 1,
                Err(StoreError::Insufficient { required: 1, available: 0 }) => insufficient += 1,
                other => panic!("{backend:?}: {other:?}"),
            }
        }
        assert_eq!((applied, insufficient), (5, 15), "{backend:?}");
        assert_eq!(balance(&t.db, w).await, 0);
        assert_eq!(entry_count(&t.db).await, 6);
        assert_clean(&t.db).await;
    }
}

#[tokio::test]
async fn one_key_posted_at_once_applies_once() {
    for backend in backends() {
        let t = fresh_db(backend, &MIGRATIONS, TEMPLATE).await;
        let w = funded(&t.db, "amina", "coins", 0).await;
        let poor = funded(&t.db, "bo", "coins", 1).await;
        let mut tasks = Vec::new();
        for i in 0..40 {
            let db = t.db.clone();
            tasks.push(tokio::spawn(async move {
                // Half credit one wallet under one key; half debit a wallet
                // that can pay only once, under another: the losers of that
                // race must see a duplicate, not a shortfall.
                if i % 2 == 0 {
                    Book::standard().post(&db, &movement(w, 1, "same-credit")).await
                } else {
                    Book::standard().post(&db, &movement(poor, -1, "same-debit")).await
                }
            }));
        }
        let mut outcomes = Vec::new();
        for task in tasks {
            outcomes.push(task.await.unwrap().unwrap());
        }
        let applied = outcomes.iter().filter(|o| matches!(o, Posted::Applied { .. })).count();
        assert_eq!(applied, 2, "{backend:?}: {outcomes:?}");
        assert_eq!(outcomes.iter().filter(|o| **o == Posted::Duplicate).count(), 38);
        assert_eq!((balance(&t.db, w).await, balance(&t.db, poor).await), (1, 0));
        assert_eq!(entry_count(&t.db).await, 3);
        assert_clean(&t.db).await;
    }
}

#[tokio::test]
async fn an_escrow_order_moves_money_and_makes_none() {
    for backend in backends() {
        let t = fresh_db(backend, &MIGRATIONS, TEMPLATE).await;
        let db = &t.db;
        let book = Book::standard();
        let buyer = funded(db, "buyer", "KES", 1_000).await;
        let seller = funded(db, "seller", "KES", 0).await;
        let escrow = wallets::open(db, SYSTEM, "escrow", &unit("KES")).await.unwrap().id;
        let fees = wallets::open(db, SYSTEM, "fees", &unit("KES")).await.unwrap().id;

        let hold = transfer(vec![leg(buyer, "KES", -1_000), leg(escrow, "KES", 1_000)], "order-1:hold");
        let Transferred::Applied { id, balances } = book.transfer(db, &hold).await.unwrap() else { panic!("duplicate") };
        assert_eq!(balances, vec![(buyer, Amount(0)), (escrow, Amount(1_000))]);
        assert_eq!(book.transfer(db, &hold).await.unwrap(), Transferred::Duplicate);

        let release = transfer(vec![leg(escrow, "KES", -1_000), leg(seller, "KES", 900), leg(fees, "KES", 100)], "order-1:release");
        assert!(matches!(book.transfer(db, &release).await.unwrap(), Transferred::Applied { .. }));
        assert_eq!(book.transfer(db, &release).await.unwrap(), Transferred::Duplicate);
        // A single movement under a transfer's key is a repeat too.
        assert_eq!(book.post(db, &movement(seller, 5, "order-1:release")).await.unwrap(), Posted::Duplicate);

        assert_eq!(
            (balance(db, buyer).await, balance(db, escrow).await, balance(db, seller).await, balance(db, fees).await),
            (0, 0, 900, 100),
            "{backend:?}"
        );
        let held = book.entries(db, buyer, None, 1).await.unwrap();
        assert_eq!(held[0].transfer_id, Some(id));
        assert_eq!(held[0].idempotency_key, "order-1:hold");
        assert_clean(db).await;
    }
}

#[tokio::test]
async fn a_transfer_that_cannot_complete_writes_nothing() {
    for backend in backends() {
        let t = fresh_db(backend, &MIGRATIONS, TEMPLATE).await;
        let db = &t.db;
        let book = Book::standard();
        let escrow = wallets::open(db, SYSTEM, "escrow", &unit("KES")).await.unwrap().id;
        book.post(db, &movement(escrow, 100, "fund-escrow")).await.unwrap();
        let seller = funded(db, "seller", "KES", 0).await;
        let fees = funded(db, "fees", "KES", 0).await;
        let coins = funded(db, "seller", "coins", 0).await;
        let before = entry_count(db).await;

        // Some credit legs are applied before the failing debit (wallets go
        // in id order); all of them roll back.
        let over = transfer(vec![leg(escrow, "KES", -150), leg(seller, "KES", 140), leg(fees, "KES", 10)], "over");
        let err = book.transfer(db, &over).await.unwrap_err();
        assert!(matches!(err, StoreError::Insufficient { required: 150, available: 100 }), "{backend:?}: {err:?}");

        let wrong_unit = transfer(vec![leg(escrow, "KES", -10), leg(coins, "KES", 10)], "wrong-unit");
        let err = book.transfer(db, &wrong_unit).await.unwrap_err();
        assert!(matches!(err, StoreError::Refused { field: "unit", .. }), "{backend:?}: {err:?}");

        let missing = transfer(vec![leg(escrow, "KES", -10), leg(WalletId::new(), "KES", 10)], "missing");
        assert!(matches!(book.transfer(db, &missing).await, Err(StoreError::NotFound)));

        assert_eq!(
            (balance(db, escrow).await, balance(db, seller).await, balance(db, fees).await, balance(db, coins).await),
            (100, 0, 0, 0)
        );
        assert_eq!(entry_count(db).await, before, "{backend:?}");
        // The keys of failed transfers are free for a retry that fits.
        let fits = transfer(vec![leg(escrow, "KES", -100), leg(seller, "KES", 90), leg(fees, "KES", 10)], "over");
        assert!(matches!(book.transfer(db, &fits).await.unwrap(), Transferred::Applied { .. }));
        assert_clean(db).await;
    }
}

#[tokio::test]
async fn bad_transfers_are_refused_before_the_database() {
    for backend in backends() {
        let t = fresh_db(backend, &MIGRATIONS, TEMPLATE).await;
        let db = &t.db;
        let (a, b) = (funded(db, "a", "coins", 5).await, funded(db, "b", "coins", 0).await);
        // A closed pool fails any statement: these never reach one.
        db.close().await;
        let cases = [
            ("empty", vec![]),
            ("unbalanced", vec![leg(a, "coins", -5), leg(b, "coins", 4)]),
            ("mixed units", vec![leg(a, "coins", -5), leg(b, "diamonds", 5)]),
            ("one wallet twice", vec![leg(a, "coins", -5), leg(a, "coins", 5)]),
        ];
        for (name, legs) in cases {
            let err = Book::standard().transfer(db, &transfer(legs, "k")).await.unwrap_err();
            assert!(matches!(err, StoreError::Refused { field: "legs", .. }), "{backend:?} {name}: {err:?}");
        }
    }
}

#[tokio::test]
async fn opposite_transfers_at_once_neither_deadlock_nor_lose_money() {
    for backend in backends() {
        let t = fresh_db(backend, &MIGRATIONS, TEMPLATE).await;
        let a = funded(&t.db, "a", "diamonds", 100).await;
        let b = funded(&t.db, "b", "diamonds", 100).await;
        let c = funded(&t.db, "c", "diamonds", 100).await;
        let mut tasks = Vec::new();
        for i in 0..30 {
            let db = t.db.clone();
            // Each transfer lists its wallets in a different order.
            let legs = match i % 3 {
                0 => vec![leg(a, "diamonds", -2), leg(b, "diamonds", 1), leg(c, "diamonds", 1)],
                1 => vec![leg(c, "diamonds", -2), leg(b, "diamonds", 1), leg(a, "diamonds", 1)],
                _ => vec![leg(b, "diamonds", -2), leg(c, "diamonds", 1), leg(a, "diamonds", 1)],
            };
            tasks.push(tokio::spawn(async move {
                let key = format!("swap:{i}");
                Book::standard().transfer(&db, &transfer(legs, &key)).await
            }));
        }
        for task in tasks {
            assert!(matches!(task.await.unwrap(), Ok(Transferred::Applied { .. })), "{backend:?}");
        }
        assert_eq!((balance(&t.db, a).await, balance(&t.db, b).await, balance(&t.db, c).await), (100, 100, 100));
        assert_eq!(entry_count(&t.db).await, 3 + 90);
        assert_clean(&t.db).await;
    }
}

#[tokio::test]
async fn history_pages_by_seq() {
    for backend in backends() {
        let t = fresh_db(backend, &MIGRATIONS, TEMPLATE).await;
        let db = &t.db;
        let book = Book::standard();
        let w = funded(db, "amina", "credits", 0).await;
        let other = funded(db, "bo", "credits", 0).await;
        for i in 1..=25 {
            book.post(db, &movement(w, i, &format!("w{i}"))).await.unwrap();
            book.post(db, &movement(other, i, &format!("o{i}"))).await.unwrap();
        }
        let mut seen = Vec::new();
        let mut before = None;
        let mut sizes = Vec::new();
        loop {
            let page = book.entries(db, w, before, 10).await.unwrap();
            sizes.push(page.len());
            let Some(last) = page.last() else { break };
            before = Some(last.seq);
            seen.extend(page.iter().map(|e| (e.seq, e.delta.get())));
        }
        assert_eq!(sizes, vec![10, 10, 5, 0], "{backend:?}");
        assert!(seen.windows(2).all(|p| p[0].0 > p[1].0), "newest first, no repeats");
        assert_eq!(seen.iter().map(|(_, d)| *d).collect::<Vec<_>>(), (1..=25).rev().collect::<Vec<_>>());
        assert_eq!(book.entries(db, w, Some(seen[0].0), 3).await.unwrap().len(), 3);
        assert!(book.entries(db, WalletId::new(), None, 10).await.unwrap().is_empty());
    }
}

#[tokio::test]
async fn postings_join_the_callers_transaction() {
    for backend in backends() {
        let t = fresh_db(backend, &MIGRATIONS, TEMPLATE).await;
        let db = &t.db;
        let book = Book::standard();
        let coins = unit("coins");
        let now = chrono::Utc::now();
        for commit in [false, true] {
            let buyer = on_pool!(db, p => {
                let mut tx = p.begin_write().await.unwrap();
                let buyer = wallets::open_in(&mut *tx, "user", "amina", &coins, now).await.unwrap().id;
                let shop = wallets::open_in(&mut *tx, SYSTEM, "shop", &coins, now).await.unwrap().id;
                book.post_in(&mut *tx, &movement(buyer, 50, "buy-coins"), now).await.unwrap();
                let gift = transfer(vec![leg(buyer, "coins", -20), leg(shop, "coins", 20)], "gift-1");
                assert!(matches!(book.transfer_in(&mut *tx, &gift, now).await.unwrap(), Transferred::Applied { .. }));
                assert_eq!(book.balance_in(&mut *tx, buyer).await.unwrap(), Amount(30));
                if commit { tx.commit().await.unwrap() } else { tx.rollback().await.unwrap() }
                buyer
            });
            let found = wallets::find(db, "user", "amina", &coins).await.unwrap();
            if commit {
                assert_eq!(found.map(|w| (w.id, w.balance)), Some((buyer, Amount(30))), "{backend:?}");
                assert_eq!(entry_count(db).await, 3);
            } else {
                assert_eq!(found, None, "{backend:?}");
                assert_eq!(entry_count(db).await, 0);
            }
        }
        assert_clean(db).await;
    }
}

#[tokio::test]
async fn several_transfers_in_one_transaction_lock_in_one_order() {
    for backend in backends() {
        let t = fresh_db(backend, &MIGRATIONS, TEMPLATE).await;
        let a = funded(&t.db, "a", "coins", 1_000).await;
        let b = funded(&t.db, "b", "coins", 1_000).await;
        let c = funded(&t.db, "c", "coins", 1_000).await;
        let mut tasks = Vec::new();
        for i in 0..40 {
            let db = t.db.clone();
            tasks.push(tokio::spawn(async move {
                // Two transfers a transaction, their wallets met in opposite
                // orders by alternate tasks: one at a time they would lock
                // c then a against a then c.
                let (first, second) = if i % 2 == 0 {
                    (vec![leg(c, "coins", -3), leg(b, "coins", 3)], vec![leg(a, "coins", -2), leg(b, "coins", 2)])
                } else {
                    (vec![leg(a, "coins", -3), leg(b, "coins", 3)], vec![leg(c, "coins", -2), leg(b, "coins", 2)])
                };
                let (k1, k2) = (format!("pair:{i}:1"), format!("pair:{i}:2"));
                let ts = [transfer(first, &k1), transfer(second, &k2)];
                on_pool!(&db, p => {
                    let mut tx = p.begin_write().await?;
                    let done = Book::standard().transfers_in(&mut *tx, &ts, chrono::Utc::now()).await?;
                    tx.commit().await?;
                    Ok::<_, StoreError>(done)
                })
            }));
        }
        for task in tasks {
            let done = task.await.unwrap().unwrap_or_else(|e| panic!("{backend:?}: {e}"));
            assert_eq!(done.len(), 2);
            assert!(done.iter().all(|d| matches!(d, Transferred::Applied { .. })), "{backend:?}");
        }
        assert_eq!((balance(&t.db, a).await, balance(&t.db, b).await, balance(&t.db, c).await), (900, 1_200, 900), "{backend:?}");
        assert_clean(&t.db).await;

        // A used key among them changes nothing for that one; the others apply.
        let (k1, k2) = ("pair:0:1".to_string(), "fresh".to_string());
        let ts =
            [transfer(vec![leg(a, "coins", -1), leg(b, "coins", 1)], &k1), transfer(vec![leg(a, "coins", -1), leg(c, "coins", 1)], &k2)];
        let done = on_pool!(&t.db, p => {
            let mut tx = p.begin_write().await.unwrap();
            let done = Book::standard().transfers_in(&mut *tx, &ts, chrono::Utc::now()).await.unwrap();
            tx.commit().await.unwrap();
            done
        });
        assert_eq!(done[0], Transferred::Duplicate);
        assert!(matches!(done[1], Transferred::Applied { .. }));
        assert_eq!((balance(&t.db, a).await, balance(&t.db, c).await), (899, 901), "{backend:?}");

        // One that cannot complete fails them all, before anything is written
        // by the caller's commit.
        let entries = entry_count(&t.db).await;
        let (k1, k2) = ("ok-part".to_string(), "too-much".to_string());
        let ts = [
            transfer(vec![leg(a, "coins", -1), leg(b, "coins", 1)], &k1),
            transfer(vec![leg(c, "coins", -5_000), leg(b, "coins", 5_000)], &k2),
        ];
        let failed = on_pool!(&t.db, p => {
            let mut tx = p.begin_write().await.unwrap();
            let r = Book::standard().transfers_in(&mut *tx, &ts, chrono::Utc::now()).await;
            tx.rollback().await.unwrap();
            r
        });
        assert!(matches!(failed, Err(StoreError::Insufficient { required: 5_000, available: 901 })), "{failed:?}");
        assert_eq!(entry_count(&t.db).await, entries);

        // New keys, not looked up: they apply (one key twice in the call:
        // the second is a duplicate); a key in use all the same fails the
        // call on the unique index, and nothing is written.
        let (k1, k2) = ("new-1".to_string(), "pair:0:1".to_string());
        let ts =
            [transfer(vec![leg(a, "coins", -1), leg(b, "coins", 1)], &k1), transfer(vec![leg(a, "coins", -1), leg(c, "coins", 1)], &k1)];
        let done = on_pool!(&t.db, p => {
            let mut tx = p.begin_write().await.unwrap();
            let done = Book::standard().transfers_in_new_keys(&mut *tx, &ts, chrono::Utc::now()).await.unwrap();
            tx.commit().await.unwrap();
            done
        });
        assert!(matches!(done[0], Transferred::Applied { .. }), "{backend:?}");
        assert_eq!(done[1], Transferred::Duplicate, "{backend:?}");
        assert_eq!((balance(&t.db, a).await, balance(&t.db, b).await), (898, 1_201), "{backend:?}");
        let entries = entry_count(&t.db).await;
        let ts = [transfer(vec![leg(a, "coins", -1), leg(b, "coins", 1)], &k2)];
        let failed = on_pool!(&t.db, p => {
            let mut tx = p.begin_write().await.unwrap();
            let r = Book::standard().transfers_in_new_keys(&mut *tx, &ts, chrono::Utc::now()).await;
            tx.rollback().await.unwrap();
            r
        });
        assert!(failed.is_err(), "{backend:?}: a used key fails the call: {failed:?}");
        assert_eq!(entry_count(&t.db).await, entries);
        assert_eq!(balance(&t.db, a).await, 898, "{backend:?}");
    }
}

/// Posts `ts` on `db` in one transaction, set-based (`transfers_in`) or one
/// by one (`transfer_in` each), and returns the outcomes, with the batch's
/// transfer ids; the transaction commits only when everything applied.
async fn post_batch(
    db: &Db,
    ts: &[Transfer<'_>],
    now: chrono::DateTime<chrono::Utc>,
    set_based: bool,
) -> Result<Vec<Transferred>, StoreError> {
    let book = Book::standard();
    on_pool!(db, p => {
        let mut tx = p.begin_write().await.unwrap();
        let r = if set_based {
            book.transfers_in(&mut *tx, ts, now).await
        } else {
            let mut done = Vec::new();
            let mut failed = None;
            for t in ts {
                match book.transfer_in(&mut *tx, t, now).await {
                    Ok(d) => done.push(d),
                    Err(e) => {
                        failed = Some(e);
                        break;
                    }
                }
            }
            failed.map_or(Ok(done), Err)
        };
        if r.is_ok() { tx.commit().await.unwrap() } else { tx.rollback().await.unwrap() }
        r
    })
}

/// Every entry in `seq` order, in terms that do not depend on the random
/// ids: wallet owner, unit, delta, balance after, reason, reference, key,
/// creator, the batch's time, and the transfer as its place among `done`.
async fn entry_rows(db: &Db, done: &[Transferred]) -> Vec<String> {
    let ids: Vec<String> =
        done.iter().map(|d| if let Transferred::Applied { id, .. } = d { id.to_string() } else { String::new() }).collect();
    let mut rows = Vec::new();
    for owner in ["a", "b", "c", "d"] {
        let w = wallets::find(db, "user", owner, &unit("coins")).await.unwrap().unwrap();
        for e in Book::standard().entries(db, w.id, None, 1_000).await.unwrap() {
            let transfer =
                e.transfer_id.map(|t| ids.iter().position(|i| *i == t.to_string()).map_or("earlier".to_string(), |p| p.to_string()));
            // Postings before the batch were made at their own times.
            let at = if transfer.as_ref().is_some_and(|t| t != "earlier") { e.created_at.timestamp_micros() } else { 0 };
            rows.push((
                e.seq,
                format!(
                    "{owner} {:?} {} {} {} {:?} {} {:?} {:?} {}",
                    e.unit, e.delta, e.balance_after, e.reason, e.reference, e.idempotency_key, transfer, e.created_by, at
                ),
            ));
        }
    }
    rows.sort();
    // Only the order of seq matters, not the numbers two databases gave.
    rows.into_iter().map(|(_, r)| r).collect()
}

#[tokio::test]
async fn a_batch_posts_set_based_what_it_would_post_one_by_one() {
    for backend in backends() {
        let one = fresh_db(backend, &MIGRATIONS, TEMPLATE).await;
        let set = fresh_db(backend, &MIGRATIONS, TEMPLATE).await;
        let now = chrono::Utc::now();
        let actor = platform_ledger::ActorId::new();
        let mut outcomes = Vec::new();
        let mut rows = Vec::new();
        for (db, set_based) in [(&one.db, false), (&set.db, true)] {
            let a = funded(db, "a", "coins", 100).await;
            let b = funded(db, "b", "coins", 0).await;
            let c = funded(db, "c", "coins", 50).await;
            let d = funded(db, "d", "coins", 10).await;
            let earlier = transfer(vec![leg(a, "coins", -1), leg(d, "coins", 1)], "earlier");
            assert!(matches!(Book::standard().transfer(db, &earlier).await.unwrap(), Transferred::Applied { .. }));
            let mut with_actor = transfer(vec![leg(c, "coins", -50), leg(b, "coins", 20), leg(a, "coins", 30)], "t3");
            with_actor.created_by = Some(actor);
            with_actor.reference = None;
            // b receives, then pays on: at 0 in between; a repeated key and
            // an already used one change nothing; d ends where it began.
            let ts = [
                transfer(vec![leg(b, "coins", 40), leg(a, "coins", -40)], "t1"),
                transfer(vec![leg(d, "coins", -11), leg(b, "coins", 11)], "t2"),
                transfer(vec![leg(b, "coins", -51), leg(c, "coins", 51)], "t2b"),
                with_actor,
                transfer(vec![leg(a, "coins", -5), leg(b, "coins", 5)], "t1"),
                transfer(vec![leg(a, "coins", -5), leg(b, "coins", 5)], "earlier"),
                transfer(vec![leg(c, "coins", -11), leg(d, "coins", 11)], "t4"),
            ];
            let done = post_batch(db, &ts, now, set_based).await.unwrap_or_else(|e| panic!("{backend:?}: {e}"));
            rows.push(entry_rows(db, &done).await);
            let without_ids: Vec<Option<Vec<i64>>> = done
                .iter()
                .map(|d| match d {
                    Transferred::Applied { balances, .. } => Some(balances.iter().map(|(_, b)| b.get()).collect()),
                    Transferred::Duplicate => None,
                })
                .collect();
            outcomes.push(without_ids);
            assert_clean(db).await;

            // A batch whose net change fits but one leg on the way would
            // overdraw fails as that leg fails, and writes nothing.
            let entries = entry_count(db).await;
            let ts = [
                transfer(vec![leg(a, "coins", -200), leg(b, "coins", 200)], "over"),
                transfer(vec![leg(b, "coins", -200), leg(a, "coins", 200)], "back"),
            ];
            let failed = post_batch(db, &ts, now, set_based).await;
            assert!(
                matches!(failed, Err(StoreError::Insufficient { required: 200, available: 89 })),
                "{backend:?} {set_based}: {failed:?}"
            );
            assert_eq!(entry_count(db).await, entries);

            // One transfer alone goes the same way.
            let ts = [transfer(vec![leg(d, "coins", -11), leg(a, "coins", 1), leg(c, "coins", 10)], "alone")];
            let done = post_batch(db, &ts, now, set_based).await.unwrap_or_else(|e| panic!("{backend:?}: {e}"));
            let Transferred::Applied { balances, .. } = &done[0] else { panic!("{backend:?}: {done:?}") };
            assert_eq!(balances.iter().map(|(_, b)| b.get()).collect::<Vec<_>>(), vec![0, 90, 50], "{backend:?}");
            rows.push(entry_rows(db, &done).await);
        }
        assert_eq!(rows[1], rows[3], "{backend:?}");
        rows.remove(3);
        rows.remove(1);
        assert_eq!(outcomes[0], outcomes[1], "{backend:?}");
        assert_eq!(
            outcomes[0],
            vec![Some(vec![40, 59]), Some(vec![0, 51]), Some(vec![0, 101]), Some(vec![51, 20, 89]), None, None, Some(vec![40, 11])]
        );
        assert_eq!(rows[0].len(), 4 * 2 + 3 + 3 + 2, "{backend:?}");
        assert_eq!(rows[0], rows[1], "{backend:?}");
    }
}
