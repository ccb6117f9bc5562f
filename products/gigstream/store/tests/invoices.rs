//! Invoice and credit-note numbering on both stores: 50 orders paid at the
//! same moment get 50 consecutive numbers, refunds get their own series,
//! and `gigstream check` sees a gap.

use chrono::{Datelike, Utc};
use gigstream_domain::fees::FeePolicy;
use gigstream_domain::gig::{Package, Tier};
use gigstream_domain::ids::AccountId;
use gigstream_domain::names::{Tag, Title};
use gigstream_domain::Currency;
use gigstream_store::accounts::{self, NewAccount};
use gigstream_store::gigs::{self, GigInput};
use gigstream_store::invoices::{self, Kind};
use gigstream_store::orders::{self, Confirmed};
use gigstream_store::{invariants, on_pool, Db};
use platform_db::testing::{backends, fresh_db};

const TEMPLATE: &str = "gigstream_template";

async fn account(db: &Db, name: &str, display: &str) -> AccountId {
    let email = format!("{name}@example.test");
    let new = NewAccount { email: &email, username: name, display_name: display, password_hash: "x", is_admin: false };
    accounts::create(db, &new, Utc::now()).await.unwrap().id
}

async fn gig(db: &Db, seller: AccountId) -> gigstream_domain::ids::GigId {
    let input = GigInput {
        title: Title::parse("I will translate your website into Polish").unwrap(),
        category: "writing-translation".into(),
        subcategory: None,
        tags: Tag::parse_list("translation").unwrap(),
        description_html: gigstream_domain::richtext::sanitize("<p>Native speaker</p>"),
        faq: vec![],
        requirements: vec![],
        currency: Currency::Usd,
        packages: vec![Package {
            tier: Tier::Basic,
            name: "Page".into(),
            description: String::new(),
            price_minor: 4_000,
            delivery_days: 2,
            revisions: 1,
            items: vec![],
        }],
    };
    gigs::create(db, seller, &input, Utc::now()).await.unwrap().id
}

#[tokio::test]
async fn fifty_orders_paid_at_once_get_fifty_consecutive_numbers() {
    for backend in backends() {
        let t = fresh_db(backend, gigstream_store::migrations(), TEMPLATE).await;
        let db = &t.db;
        let seller = account(db, "zofia", "Zofia Nowak").await;
        let buyer = account(db, "buyer", "Bea Buyer").await;
        let g = gig(db, seller).await;
        let mut placed = vec![];
        for _ in 0..50 {
            placed.push(orders::place(db, buyer, g, Tier::Basic, FeePolicy::default(), Utc::now()).await.unwrap());
        }
        let mut tasks = vec![];
        for o in &placed {
            let (db, reference, total) = (db.clone(), o.payment_reference.clone(), o.total_minor);
            tasks.push(tokio::spawn(async move {
                orders::confirm_payment(&db, "stripe", &reference, &format!("evt_{reference}"), total, Currency::Usd, Utc::now()).await
            }));
        }
        for task in tasks {
            assert_eq!(task.await.unwrap().unwrap(), Confirmed::Credited, "{backend:?}");
        }
        let year = Utc::now().year();
        let mut seqs = vec![];
        for o in &placed {
            let docs = invoices::for_order(db, o.id).await.unwrap();
            assert_eq!(docs.len(), 1, "{backend:?}: one invoice per paid order");
            let inv = &docs[0];
            assert_eq!(
                (inv.kind, inv.year, inv.total_minor, inv.price_minor, inv.buyer_fee_minor),
                (Kind::Invoice, year, 4_200, 4_000, 200)
            );
            assert_eq!(inv.number, format!("GS-{year}-{:06}", inv.seq));
            assert_eq!(
                (inv.buyer_name.as_str(), inv.seller_name.as_str(), inv.seller_username.as_str()),
                ("Bea Buyer", "Zofia Nowak", "zofia")
            );
            assert_eq!(inv.buyer_email, "buyer@example.test");
            seqs.push(inv.seq);
        }
        seqs.sort();
        assert_eq!(seqs, (1..=50).collect::<Vec<i64>>(), "{backend:?}: consecutive, no gap, no duplicate");

        // A second confirmation of a paid order issues nothing.
        let first = &placed[0];
        let again =
            orders::confirm_payment(db, "stripe", &first.payment_reference, "evt_other", first.total_minor, Currency::Usd, Utc::now())
                .await
                .unwrap();
        assert_eq!(again, Confirmed::AlreadyPaid);
        assert_eq!(invoices::for_order(db, first.id).await.unwrap().len(), 1);

        // Ten refunds at once: credit notes count 1..10 in their own series,
        // each naming the invoice it corrects.
        let admin = account(db, "admin", "Admin").await;
        let mut tasks = vec![];
        for (i, o) in placed.iter().take(10).enumerate() {
            let (db, id) = (db.clone(), o.id);
            let amount = 1_000 + i as i64;
            tasks.push(tokio::spawn(async move {
                orders::refund_part(&db, id, admin, amount, &format!("r{i}"), "Late start", Utc::now()).await.map(|_| (id, amount))
            }));
        }
        let mut credit_seqs = vec![];
        for task in tasks {
            let (id, amount) = task.await.unwrap().unwrap();
            let docs = invoices::for_order(db, id).await.unwrap();
            let note = docs.iter().find(|d| d.kind == Kind::CreditNote).expect("a credit note");
            let inv = docs.iter().find(|d| d.kind == Kind::Invoice).unwrap();
            assert_eq!((note.total_minor, note.invoice_number.as_deref()), (amount, Some(inv.number.as_str())));
            assert!(note.number.starts_with(&format!("GSC-{year}-")) && note.description.contains("Late start"), "{}", note.description);
            credit_seqs.push(note.seq);
        }
        credit_seqs.sort();
        assert_eq!(credit_seqs, (1..=10).collect::<Vec<i64>>(), "{backend:?}");
        let mine = invoices::for_account(db, seller, 100).await.unwrap();
        assert_eq!(mine.len(), 60);
        assert!(invoices::for_account(db, admin, 100).await.unwrap().is_empty());
        let report = invariants::check(db).await.unwrap();
        assert!(report.is_clean(), "{:?}", report.violations);

        // A number taken out of the middle is a violation `check` reports.
        // Not the first one issued: invoicing counts as begun at the
        // earliest invoice left, and with payments at once the lowest
        // number need not be the earliest.
        let gone = on_pool!(db, p => sqlx::query(
            "DELETE FROM invoices WHERE id = (SELECT id FROM invoices WHERE kind = 'invoice' AND seq > 1 AND seq < 50
                AND issued_at > (SELECT MIN(issued_at) FROM invoices) ORDER BY seq LIMIT 1)")
            .execute(p).await.unwrap().rows_affected());
        assert_eq!(gone, 1, "{backend:?}");
        let report = invariants::check(db).await.unwrap();
        let rules: Vec<&str> = report.violations.iter().map(|v| v.rule).collect();
        assert!(
            rules.contains(&invoices::NUMBERS_HAVE_NO_GAPS) && rules.contains(&invoices::PAYMENTS_ARE_INVOICED),
            "{backend:?}: {rules:?}"
        );
    }
}
