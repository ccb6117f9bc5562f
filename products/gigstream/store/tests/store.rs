//! GigStream's store on both stores: gigs and search, the order flow and
//! its escrow, concurrency of payment confirmations, refund caps, dispute
//! splits, auto-completion and the invariants.

use chrono::{Duration, Utc};
use gigstream_domain::fees::FeePolicy;
use gigstream_domain::gig::{Faq, GigStatus, Package, Requirement, SellerLevel, Tier};
use gigstream_domain::ids::AccountId;
use gigstream_domain::names::{Tag, Title};
use gigstream_domain::order::{Actor, OrderStatus};
use gigstream_domain::Currency;
use gigstream_store::accounts::{self, NewAccount};
use gigstream_store::gigs::{self, GigInput};
use gigstream_store::orders::{self, Confirmed, Resolution};
use gigstream_store::search::{self, Filters, PriceBand, Query, Sort};
use gigstream_store::{escrow, invariants, Db, StoreError};
use platform_db::testing::{backends, fresh_db};

const TEMPLATE: &str = "gigstream_template";

async fn account(db: &Db, name: &str) -> AccountId {
    let email = format!("{name}@example.test");
    let new = NewAccount { email: &email, username: name, display_name: name, password_hash: "x", is_admin: false };
    accounts::create(db, &new, Utc::now()).await.unwrap().id
}

fn package(tier: Tier, price: i64, days: i32, revisions: i32) -> Package {
    Package {
        tier,
        name: format!("{} plan", tier.label()),
        description: String::new(),
        price_minor: price,
        delivery_days: days,
        revisions,
        items: vec!["Source files".into()],
    }
}

fn input(title: &str, category: &str, tags: &str, description: &str, basic_price: i64, days: i32) -> GigInput {
    GigInput {
        title: Title::parse(title).unwrap(),
        category: category.into(),
        subcategory: None,
        tags: Tag::parse_list(tags).unwrap(),
        description_html: gigstream_domain::richtext::sanitize(description),
        faq: vec![Faq { question: "Do you do revisions?".into(), answer: "Yes".into() }],
        requirements: vec![Requirement { question: "Your brand name?".into(), required: true }],
        currency: Currency::Usd,
        packages: vec![package(Tier::Basic, basic_price, days, 1), package(Tier::Standard, basic_price * 2, days + 2, 3)],
    }
}

fn query(q: &str) -> Query {
    Query { filters: Filters { q: q.into(), ..Filters::default() }, sort: Sort::Relevance, cursor: None, limit: 20 }
}

async fn assert_clean(db: &Db) {
    let report = invariants::check(db).await.unwrap();
    assert!(report.is_clean(), "{:?}", report.violations);
}

#[tokio::test]
async fn gigs_are_found_by_prefix_with_facets_sorts_and_pages() {
    for backend in backends() {
        let t = fresh_db(backend, gigstream_store::migrations(), TEMPLATE).await;
        let db = &t.db;
        let seller = account(db, "sel").await;
        let now = Utc::now();
        let logo = gigs::create(
            db,
            seller,
            &input(
                "I will design a minimalist logo for your brand",
                "graphics-design",
                "logo, branding",
                "<p>Clean vector logos</p><script>x()</script>",
                3000,
                2,
            ),
            now,
        )
        .await
        .unwrap();
        let wp = gigs::create(
            db,
            seller,
            &input(
                "I will build your WordPress website fast",
                "programming-tech",
                "wordpress, website",
                "<p>Themes and plugins</p>",
                12000,
                5,
            ),
            now,
        )
        .await
        .unwrap();
        let mascot = gigs::create(
            db,
            seller,
            &input("I will draw a cute mascot logo illustration", "graphics-design", "mascot, illustration", "<p>Hand drawn</p>", 2000, 1),
            now,
        )
        .await
        .unwrap();
        assert!(!logo.description_html.contains("script"));
        assert_eq!(logo.slug, "i-will-design-a-minimalist-logo-for-your-brand");
        let again = gigs::create(
            db,
            seller,
            &input("I will design a minimalist logo for your brand", "graphics-design", "logo", "<p>x</p>", 3000, 2),
            now,
        )
        .await
        .unwrap();
        assert_eq!(again.slug, "i-will-design-a-minimalist-logo-for-your-brand-2", "{backend:?}");
        gigs::set_status(db, again.id, seller, GigStatus::Deleted, now).await.unwrap();

        // Prefix matching: "log" finds both logo gigs, not the WordPress one.
        let r = search::search(db, &query("log")).await.unwrap();
        let ids: Vec<_> = r.hits.iter().map(|h| h.id).collect();
        assert_eq!(r.total, 2, "{backend:?}");
        assert!(ids.contains(&logo.id) && ids.contains(&mascot.id) && !ids.contains(&wp.id));
        // Facets count with each facet's own filter left out.
        assert_eq!(r.facets.category.iter().map(|c| (c.value.as_str(), c.count)).collect::<Vec<_>>(), vec![("graphics-design", 2)]);
        let band = |b: PriceBand| r.facets.price.iter().find(|c| c.value == b).unwrap().count;
        assert_eq!((band(PriceBand::Under25), band(PriceBand::From25To100)), (1, 1));
        assert_eq!(r.facets.delivery_days.iter().map(|c| c.count).collect::<Vec<_>>(), vec![1, 2, 2]);
        assert_eq!(r.facets.level, vec![search::Count { value: SellerLevel::New, label: "New seller".into(), count: 2 }]);
        assert!(r.facets.rating.iter().all(|c| c.count == 0), "no reviews, no ratings");

        // A filter narrows hits but not its own facet.
        let mut q = query("log");
        q.filters.price = Some(PriceBand::Under25);
        let r = search::search(db, &q).await.unwrap();
        assert_eq!(r.hits.iter().map(|h| h.id).collect::<Vec<_>>(), vec![mascot.id]);
        assert_eq!(r.facets.price.iter().map(|c| c.count).sum::<i64>(), 2);

        // Title matches outrank description matches; tag and description words are searched.
        let r = search::search(db, &query("wordpress")).await.unwrap();
        assert_eq!(r.hits[0].id, wp.id);
        assert_eq!(search::search(db, &query("vector")).await.unwrap().hits[0].id, logo.id);

        // Sorts and keyset pages: price ascending, one per page.
        let mut q = Query { filters: Filters::default(), sort: Sort::Price, cursor: None, limit: 1 };
        let mut seen = vec![];
        loop {
            let r = search::search(db, &q).await.unwrap();
            seen.extend(r.hits.iter().map(|h| h.min_price_minor));
            match r.next_cursor {
                Some(c) => q.cursor = Some(c),
                None => break,
            }
        }
        assert_eq!(seen, vec![2000, 3000, 12000], "{backend:?}");
        let newest = search::search(db, &Query { sort: Sort::Newest, ..query("") }).await.unwrap();
        assert_eq!(newest.hits.first().map(|h| h.id), Some(mascot.id));
        let mut q = query("i will");
        q.limit = 2;
        let p1 = search::search(db, &q).await.unwrap();
        q.cursor = p1.next_cursor.clone();
        let p2 = search::search(db, &q).await.unwrap();
        assert_eq!(p1.hits.len() + p2.hits.len(), 3, "relevance pages cover every hit once ({backend:?})");
        assert!(p2.next_cursor.is_none());
        assert!(p1.hits.iter().all(|h| p2.hits.iter().all(|h2| h2.id != h.id)));

        // Typos: nothing matches, the suggestion's hits are shown instead.
        let r = search::search(db, &query("wordpres webiste")).await.unwrap();
        assert_eq!(r.suggestion.as_deref(), Some("wordpress website"), "{backend:?}");
        assert!(r.corrected);
        assert_eq!(r.hits[0].id, wp.id);
        let r = search::search(db, &query("qqqzzz")).await.unwrap();
        assert_eq!((r.total, r.suggestion, r.corrected), (0, None, false));

        // Autocomplete: terms by prefix, then matching gigs.
        let c = search::autocomplete(db, "illus").await.unwrap();
        assert_eq!(c[0].text, "illustration");
        assert!(c.iter().any(|c| c.slug.as_deref() == Some(mascot.slug.as_str())));

        // Paused gigs leave search and their page, except for the seller.
        gigs::set_status(db, mascot.id, seller, GigStatus::Paused, now).await.unwrap();
        assert_eq!(search::search(db, &query("mascot")).await.unwrap().total, 0);
        assert!(matches!(gigs::page(db, &mascot.slug, None).await, Err(StoreError::NotFound)));
        assert!(gigs::page(db, &mascot.slug, Some(seller)).await.is_ok());
        // Edits reach the index.
        let mut changed = input("I will build your Shopify store quickly", "programming-tech", "shopify", "<p>Stores</p>", 12000, 5);
        changed.subcategory = Some("website-development".into());
        gigs::update(db, wp.id, seller, &changed, now).await.unwrap();
        assert_eq!(search::search(db, &query("wordpress")).await.unwrap().total, 0);
        assert_eq!(search::search(db, &query("shopify")).await.unwrap().hits[0].id, wp.id);
        let mut bad = changed.clone();
        bad.subcategory = Some("logo-design".into());
        assert!(matches!(gigs::update(db, wp.id, seller, &bad, now).await, Err(StoreError::Refused { field: "subcategory", .. })));
        let other = account(db, "other").await;
        assert!(matches!(gigs::update(db, wp.id, other, &changed, now).await, Err(StoreError::NotFound)), "only the seller edits");
    }
}

/// One gig of $100 (basic, 1 revision) and a buyer with a placed order.
async fn order_setup(db: &Db) -> (AccountId, AccountId, orders::Order) {
    let seller = account(db, "seller").await;
    let buyer = account(db, "buyer").await;
    let gig = gigs::create(
        db,
        seller,
        &input("I will design a minimalist logo for your brand", "graphics-design", "logo", "<p>x</p>", 10_000, 3),
        Utc::now(),
    )
    .await
    .unwrap();
    let o = orders::place(db, buyer, gig.id, Tier::Basic, FeePolicy::default(), Utc::now()).await.unwrap();
    (seller, buyer, o)
}

async fn pay(db: &Db, o: &orders::Order) {
    let r = orders::confirm_payment(db, "fake", &o.payment_reference, &format!("evt_{}", o.id), o.total_minor, o.currency, Utc::now())
        .await
        .unwrap();
    assert_eq!(r, Confirmed::Credited);
}

#[tokio::test]
async fn an_order_runs_from_payment_to_release_through_escrow() {
    for backend in backends() {
        let t = fresh_db(backend, gigstream_store::migrations(), TEMPLATE).await;
        let db = &t.db;
        let (seller, buyer, o) = order_setup(db).await;
        assert_eq!((o.price_minor, o.buyer_fee_minor, o.total_minor, o.status), (10_000, 500, 10_500, OrderStatus::Placed));
        let now = Utc::now();
        let e = orders::submit_requirements(db, o.id, buyer, vec!["Acme".into()], now).await.unwrap_err();
        assert_eq!(e.to_string(), "Pay for the order first; requirements come after payment.");
        pay(db, &o).await;
        assert_eq!(escrow::system_balance(db, escrow::ESCROW, Currency::Usd).await.unwrap(), 10_500);
        let e = orders::submit_requirements(db, o.id, buyer, vec!["".into()], now).await.unwrap_err();
        assert!(matches!(e, StoreError::Refused { field: "answers", .. }), "{e:?}");
        let o2 = orders::submit_requirements(db, o.id, buyer, vec!["Acme".into()], now).await.unwrap();
        assert_eq!(o2.due_at, Some(now + Duration::days(3)));
        let file = |key: &str, name: &str| orders::DeliveredFile {
            key: key.into(),
            name: name.into(),
            content_type: "image/png".into(),
            bytes: 10,
        };
        let first = vec![file("deliveries/aa/logo-v1.png", "logo.png"), file("deliveries/aa/logo-v1-dark.png", "logo-dark.png")];
        orders::deliver(db, o.id, seller, "First draft", first, now).await.unwrap();
        let e = orders::deliver(db, o.id, seller, "again", vec![], now).await.unwrap_err();
        assert!(e.to_string().starts_with("This order is already delivered"), "{e}");
        orders::request_revision(db, o.id, buyer, "Bigger letters please", now).await.unwrap();
        orders::deliver(db, o.id, seller, "Second draft", vec![file("deliveries/bb/logo-v2.png", "logo.png")], now).await.unwrap();
        let e = orders::request_revision(db, o.id, buyer, "More", now).await.unwrap_err();
        assert!(e.to_string().contains("includes 1 revision and all have been used"), "{e}");
        let done = orders::accept(db, o.id, buyer, now).await.unwrap();
        assert_eq!(done.status, OrderStatus::Released);
        // Seller: 10,000 - 20% = 8,000; platform: 2,000 + the 500 service fee.
        assert_eq!((done.seller_earned_minor, done.platform_earned_minor, done.released_minor), (8_000, 2_500, 10_500));
        assert_eq!(escrow::pending_earnings(db, seller, Currency::Usd).await.unwrap(), 8_000);
        assert_eq!(escrow::system_balance(db, escrow::FEES, Currency::Usd).await.unwrap(), 2_500);
        assert_eq!(escrow::system_balance(db, escrow::ESCROW, Currency::Usd).await.unwrap(), 0);
        let kinds: Vec<String> = orders::timeline(db, o.id).await.unwrap().into_iter().map(|e| e.action).collect();
        assert_eq!(kinds, ["place", "pay", "submit_requirements", "deliver", "request_revision", "deliver", "accept", "release"]);
        // Every version is kept, numbered in order, with its own files.
        let kept = orders::deliveries(db, o.id).await.unwrap();
        let versions: Vec<(i64, &str, Vec<&str>)> =
            kept.iter().map(|d| (d.version, d.message.as_str(), d.files.0.iter().map(|f| f.key.as_str()).collect())).collect();
        assert_eq!(
            versions,
            [
                (1, "First draft", vec!["deliveries/aa/logo-v1.png", "deliveries/aa/logo-v1-dark.png"]),
                (2, "Second draft", vec!["deliveries/bb/logo-v2.png"])
            ]
        );
        // The files of every version are the buyer's and the seller's only.
        let stranger = account(db, "stranger").await;
        for key in ["deliveries/aa/logo-v1.png", "deliveries/aa/logo-v1-dark.png", "deliveries/bb/logo-v2.png"] {
            for (who, visible) in [(buyer, true), (seller, true), (stranger, false)] {
                assert_eq!(orders::delivered_file_visible(db, key, who).await.unwrap(), visible, "{key} {backend:?}");
            }
        }
        assert!(!orders::delivered_file_visible(db, "deliveries/aa/logo", buyer).await.unwrap(), "a key's prefix is not a file");
        let e = orders::dispute(db, o.id, Actor::Buyer, buyer, "changed my mind", now).await.unwrap_err();
        assert!(e.to_string().contains("completed"), "{e}");
        assert_clean(db).await;
    }
}

#[tokio::test]
async fn a_hundred_concurrent_confirmations_credit_escrow_once() {
    for backend in backends() {
        let t = fresh_db(backend, gigstream_store::migrations(), TEMPLATE).await;
        let db = &t.db;
        let (_, _, o) = order_setup(db).await;
        let mut tasks = vec![];
        for i in 0..100 {
            let db = db.clone();
            let reference = o.payment_reference.clone();
            // Half repeat one event id, half are distinct events for the same payment.
            let event = if i % 2 == 0 { "evt_same".to_string() } else { format!("evt_{i}") };
            tasks.push(tokio::spawn(async move {
                orders::confirm_payment(&db, "fake", &reference, &event, 10_500, Currency::Usd, Utc::now()).await.unwrap()
            }));
        }
        let mut outcomes = vec![];
        for t in tasks {
            outcomes.push(t.await.unwrap());
        }
        assert_eq!(outcomes.iter().filter(|c| **c == Confirmed::Credited).count(), 1, "{backend:?}: {outcomes:?}");
        assert_eq!(escrow::system_balance(db, escrow::ESCROW, Currency::Usd).await.unwrap(), 10_500);
        let o = orders::get(db, o.id).await.unwrap();
        assert_eq!((o.status, o.paid_minor), (OrderStatus::Paid, 10_500));
        assert_eq!(orders::timeline(db, o.id).await.unwrap().iter().filter(|e| e.action == "pay").count(), 1);
        // A wrong amount is refused and changes nothing.
        let (_, _, o2) = order_setup_second(db).await;
        let e = orders::confirm_payment(db, "fake", &o2.payment_reference, "evt_x", 1, Currency::Usd, Utc::now()).await.unwrap_err();
        assert!(matches!(e, StoreError::Refused { field: "amount", .. }));
        assert!(matches!(
            orders::confirm_payment(db, "fake", "gs_unknown", "evt_y", 1, Currency::Usd, Utc::now()).await,
            Err(StoreError::NotFound)
        ));
        assert_clean(db).await;
    }
}

async fn order_setup_second(db: &Db) -> (AccountId, AccountId, orders::Order) {
    let seller = account(db, "seller2").await;
    let buyer = account(db, "buyer2").await;
    let gig = gigs::create(
        db,
        seller,
        &input("I will write a product description", "writing-translation", "copy", "<p>x</p>", 5_000, 2),
        Utc::now(),
    )
    .await
    .unwrap();
    let o = orders::place(db, buyer, gig.id, Tier::Basic, FeePolicy::default(), Utc::now()).await.unwrap();
    (seller, buyer, o)
}

#[tokio::test]
async fn refunds_never_exceed_the_payment_and_splits_are_exact() {
    for backend in backends() {
        let t = fresh_db(backend, gigstream_store::migrations(), TEMPLATE).await;
        let db = &t.db;
        let admin = account(db, "admin").await;
        let (seller, buyer, o) = order_setup(db).await;
        pay(db, &o).await;
        let now = Utc::now();
        // Partial refund, then the same request again: refunded once.
        orders::refund_part(db, o.id, admin, 3_000, "k1", "late start", now).await.unwrap();
        let e = orders::refund_part(db, o.id, admin, 3_000, "k1", "late start", now).await.unwrap_err();
        assert!(e.to_string().contains("already made"), "{e}");
        let e = orders::refund_part(db, o.id, admin, 9_000, "k2", "too much", now).await.unwrap_err();
        assert_eq!(e.to_string(), "amount: At most 7500 (minor units) is left to refund for this order.");
        // Cancelling without the other side's agreement is refused.
        let e = orders::cancel(db, o.id, (Actor::Buyer, buyer), None, "c1", "", now).await.unwrap_err();
        assert!(e.to_string().contains("both sides agree"), "{e}");
        orders::request_cancel(db, o.id, Actor::Seller, seller, "Cannot take it on", now).await.unwrap();
        let done = orders::cancel(db, o.id, (Actor::Buyer, buyer), None, "c1", "agreed", now).await.unwrap();
        assert_eq!(done.status, OrderStatus::Refunded);
        assert_eq!((done.refunded_minor, done.released_minor), (10_500, 0), "the full refund is what was left");
        let e = orders::refund_part(db, o.id, admin, 1, "k3", "more", now).await.unwrap_err();
        assert!(e.to_string().contains("refunded"), "{e}");
        assert_eq!(escrow::system_balance(db, escrow::ESCROW, Currency::Usd).await.unwrap(), 0);

        // A dispute split: 4,000 back to the buyer, the rest released with fees.
        let (seller2, buyer2, o2) = order_setup_second(db).await; // $50 + $2.50 fee
        pay(db, &o2).await;
        orders::submit_requirements(db, o2.id, buyer2, vec!["Acme".into()], now).await.unwrap();
        orders::dispute(db, o2.id, Actor::Buyer, buyer2, "No reply for a week", now).await.unwrap();
        let e = orders::accept(db, o2.id, buyer2, now).await.unwrap_err();
        assert_eq!(e.to_string(), "You cannot accept an order that is in dispute.");
        let r = orders::resolve(db, o2.id, admin, Resolution::Split { refund_minor: 4_000 }, "r1", "half done", now).await.unwrap();
        assert_eq!(r.status, OrderStatus::Resolved);
        // Left: price 1,000 (fee 200 → seller 800) and the 250 service fee.
        assert_eq!((r.refunded_minor, r.seller_earned_minor, r.platform_earned_minor), (4_000, 800, 450));
        assert_eq!(escrow::pending_earnings(db, seller2, Currency::Usd).await.unwrap(), 800);
        assert_clean(db).await;
    }
}

#[tokio::test]
async fn delivered_orders_complete_by_themselves_after_three_days() {
    for backend in backends() {
        let t = fresh_db(backend, gigstream_store::migrations(), TEMPLATE).await;
        let db = &t.db;
        let (seller, buyer, o) = order_setup(db).await;
        pay(db, &o).await;
        let start = Utc::now() - Duration::days(10);
        orders::submit_requirements(db, o.id, buyer, vec!["Acme".into()], start).await.unwrap();
        let delivered_at = start + Duration::days(4); // one day late
        let d = orders::deliver(db, o.id, seller, "Here it is", vec![], delivered_at).await.unwrap();
        assert!(d.late);
        assert_eq!(orders::auto_complete(db, delivered_at + Duration::days(2)).await.unwrap(), 0);
        assert_eq!(orders::auto_complete(db, delivered_at + Duration::days(3)).await.unwrap(), 1, "{backend:?}");
        let o = orders::get(db, o.id).await.unwrap();
        assert_eq!(o.status, OrderStatus::Released);
        assert_eq!(escrow::pending_earnings(db, seller, Currency::Usd).await.unwrap(), 8_000);
        let kinds: Vec<String> = orders::timeline(db, o.id).await.unwrap().into_iter().map(|e| e.action).collect();
        assert!(kinds.ends_with(&["auto_complete".to_string(), "release".to_string()]));
        assert_clean(db).await;
    }
}

#[tokio::test]
async fn sellers_rise_a_level_after_five_completed_orders() {
    for backend in backends() {
        let t = fresh_db(backend, gigstream_store::migrations(), TEMPLATE).await;
        let db = &t.db;
        let (seller, buyer, first) = order_setup(db).await;
        let now = Utc::now();
        let mut order = first;
        for i in 0..5 {
            if i > 0 {
                order = orders::place(db, buyer, order.gig_id, Tier::Basic, FeePolicy::default(), now).await.unwrap();
            }
            pay(db, &order).await;
            orders::submit_requirements(db, order.id, buyer, vec!["Acme".into()], now).await.unwrap();
            orders::deliver(db, order.id, seller, "Done", vec![], now).await.unwrap();
            let level = gigs::get(db, order.gig_id).await.unwrap().seller_level;
            assert_eq!(level, SellerLevel::New, "before order {i} completes");
            orders::accept(db, order.id, buyer, now).await.unwrap();
        }
        let gig = gigs::get(db, order.gig_id).await.unwrap();
        assert_eq!((gig.seller_level, gig.orders_completed), (SellerLevel::LevelOne, 5), "{backend:?}");
        let mut q = query("");
        q.filters.level = Some(SellerLevel::LevelOne);
        assert_eq!(search::search(db, &q).await.unwrap().total, 1);
        assert_eq!(escrow::pending_earnings(db, seller, Currency::Usd).await.unwrap(), 5 * 8_000);
        assert_clean(db).await;
    }
}

#[tokio::test]
async fn accounts_are_unique_and_ordering_own_gigs_is_refused() {
    for backend in backends() {
        let t = fresh_db(backend, gigstream_store::migrations(), TEMPLATE).await;
        let db = &t.db;
        let a = account(db, "amina").await;
        let dup = NewAccount { email: "amina@example.test", username: "other", display_name: "x", password_hash: "x", is_admin: false };
        assert!(matches!(accounts::create(db, &dup, Utc::now()).await, Err(StoreError::Refused { field: "email", .. })));
        let dup = NewAccount { email: "new@example.test", username: "amina", display_name: "x", password_hash: "x", is_admin: false };
        assert!(matches!(accounts::create(db, &dup, Utc::now()).await, Err(StoreError::Refused { field: "username", .. })));
        let gig = gigs::create(
            db,
            a,
            &input("I will design a minimalist logo for your brand", "graphics-design", "logo", "<p>x</p>", 3000, 2),
            Utc::now(),
        )
        .await
        .unwrap();
        let e = orders::place(db, a, gig.id, Tier::Basic, FeePolicy::default(), Utc::now()).await.unwrap_err();
        assert!(matches!(e, StoreError::Refused { field: "gig", .. }));
        let b = account(db, "bob").await;
        let e = orders::place(db, b, gig.id, Tier::Premium, FeePolicy::default(), Utc::now()).await.unwrap_err();
        assert!(matches!(e, StoreError::Refused { field: "tier", .. }));
        assert_eq!(accounts::for_login(db, "AMINA@example.test").await.unwrap().map(|(a, _)| a.username), Some("amina".into()));
    }
}

#[tokio::test]
async fn the_dashboards_read_earnings_statuses_messages_activity_and_favourites() {
    use gigstream_store::dashboard as data;
    use gigstream_store::messages::{self, Outgoing};
    for backend in backends() {
        let t = fresh_db(backend, gigstream_store::migrations(), TEMPLATE).await;
        let db = &t.db;
        let (seller, buyer, done) = order_setup(db).await;
        let now = Utc::now();
        pay(db, &done).await;
        orders::submit_requirements(db, done.id, buyer, vec!["Acme".into()], now).await.unwrap();
        orders::deliver(db, done.id, seller, "Here", vec![], now).await.unwrap();
        orders::accept(db, done.id, buyer, now).await.unwrap();
        let second = orders::place(db, buyer, done.gig_id, Tier::Basic, FeePolicy::default(), now).await.unwrap();
        pay(db, &second).await;
        orders::submit_requirements(db, second.id, buyer, vec!["Beta".into()], now).await.unwrap();

        let earned = data::earned_since(db, seller, now - Duration::days(1)).await.unwrap();
        assert_eq!(earned.iter().map(|e| e.amount_minor).collect::<Vec<_>>(), [8_000]);
        assert!(data::earned_since(db, seller, now + Duration::days(1)).await.unwrap().is_empty());
        let mut counts = data::status_counts(db, seller, true).await.unwrap();
        counts.sort_by_key(|(s, _)| s.as_str());
        assert_eq!(counts, [(OrderStatus::InProgress, 1), (OrderStatus::Released, 1)]);
        assert!(data::status_counts(db, seller, false).await.unwrap().is_empty(), "the seller bought nothing");
        assert_eq!(data::late_count(db, seller, now).await.unwrap(), 0);
        assert_eq!(data::late_count(db, seller, now + Duration::days(4)).await.unwrap(), 1, "due in three days");

        let c = messages::inquiry(db, buyer, seller, done.gig_id, "Logo", now).await.unwrap();
        let say = |sender, body| Outgoing { sender, sender_name: "x", body, attachments: vec![], client_id: None };
        messages::send(db, c.id, &say(buyer, "Hello?"), now).await.unwrap();
        messages::send(db, c.id, &say(seller, "Hi!"), now + Duration::minutes(5)).await.unwrap();
        let said = data::seller_messages(db, seller, now - Duration::days(1)).await.unwrap();
        let mut flags: Vec<(bool, String)> = said.iter().map(|s| (s.from_buyer, s.conversation.clone())).collect();
        flags.sort();
        assert_eq!(flags, [(false, c.id.to_string()), (true, c.id.to_string())]);
        assert!(data::seller_messages(db, buyer, now - Duration::days(1)).await.unwrap().is_empty(), "the buyer sells nothing");

        let selling = data::activity(db, seller, 3).await.unwrap();
        let got: Vec<(String, bool)> = selling.iter().map(|a| (a.action.clone(), a.selling)).collect();
        assert_eq!(got, [("submit_requirements".into(), true), ("pay".into(), true), ("place".into(), true)]);
        assert_eq!(selling[0].order_id, second.id);
        let buying = data::activity(db, buyer, 100).await.unwrap();
        assert_eq!(buying.len(), 9, "every step of both orders");
        assert!(buying.iter().all(|a| !a.selling));

        data::add_favourite(db, buyer, done.gig_id, now).await.unwrap();
        data::add_favourite(db, buyer, done.gig_id, now).await.unwrap();
        let favs = data::favourites(db, buyer, 10).await.unwrap();
        assert_eq!(favs.iter().map(|h| h.id).collect::<Vec<_>>(), [done.gig_id]);
        assert!(data::is_favourite(db, buyer, done.gig_id).await.unwrap());
        assert!(!data::is_favourite(db, seller, done.gig_id).await.unwrap());
        gigs::set_status(db, done.gig_id, seller, GigStatus::Paused, now).await.unwrap();
        assert!(data::favourites(db, buyer, 10).await.unwrap().is_empty(), "a paused gig is not shown");
        let e = data::add_favourite(db, seller, done.gig_id, now).await.unwrap_err();
        assert!(matches!(e, StoreError::NotFound), "only a live gig can be saved: {e:?}");
        gigs::set_status(db, done.gig_id, seller, GigStatus::Active, now).await.unwrap();
        data::remove_favourite(db, buyer, done.gig_id).await.unwrap();
        assert!(data::favourites(db, buyer, 10).await.unwrap().is_empty());
    }
}

#[tokio::test]
async fn gigs_changing_facet_cells_at_once_never_deadlock_and_counts_stay_exact() {
    for backend in backends() {
        let t = fresh_db(backend, gigstream_store::migrations(), TEMPLATE).await;
        let db = &t.db;
        let seller = account(db, "sel").await;
        let now = Utc::now();
        let mut ids = Vec::new();
        for i in 0..8 {
            let title = format!("I will design logo number {i} for you");
            let days = if i % 2 == 0 { 2 } else { 6 };
            ids.push(gigs::create(db, seller, &input(&title, "graphics-design", "logo", "<p>x</p>", 3000, days), now).await.unwrap().id);
        }
        // Even gigs move from the 2-day cell to the 6-day cell and back, odd
        // ones the other way, all at once: with one cell row locked per
        // change, a move P → Q and a move Q → P took the two rows in
        // opposite orders.
        let mut tasks = Vec::new();
        for (i, id) in ids.iter().enumerate() {
            let (db, id) = (db.clone(), *id);
            tasks.push(tokio::spawn(async move {
                for round in 0..15 {
                    let days = if (i + round) % 2 == 0 { 6 } else { 2 };
                    platform_db::on_pool!(&db, p => {
                        sqlx::query("UPDATE gigs SET min_delivery_days = $1 WHERE id = $2").bind(days).bind(id).execute(p).await?;
                    });
                }
                Ok::<(), StoreError>(())
            }));
        }
        for task in tasks {
            task.await.unwrap().unwrap_or_else(|e| panic!("{backend:?}: {e}"));
        }
        // 15 moves each: every gig ends in the cell it did not start in, four
        // within 3 days, all eight within 7 (the facet's buckets).
        let browse = |db: Db| async move { search::search(&db, &query("")).await.unwrap().facets.delivery_days };
        let count = |f: &[search::Count<i32>], d: i32| f.iter().find(|c| c.value == d).map_or(0, |c| c.count);
        let before_fold = browse(db.clone()).await;
        assert_eq!((count(&before_fold, 1), count(&before_fold, 3), count(&before_fold, 7)), (0, 4, 8), "{backend:?}: {before_fold:?}");
        assert_clean(db).await;
        let folded = search::fold_facets(db).await.unwrap();
        assert_eq!(folded > 0, backend == platform_db::Backend::Postgres, "{backend:?}: deltas only on PostgreSQL");
        assert_eq!(search::fold_facets(db).await.unwrap(), 0, "a delta is folded once");
        let after_fold = browse(db.clone()).await;
        assert_eq!(after_fold, before_fold, "{backend:?}");
        assert_clean(db).await;
        // A change that keeps a gig in its cell appends nothing.
        platform_db::on_pool!(db, p => {
            sqlx::query("UPDATE gigs SET rating_x100 = rating_x100 WHERE id = $1").bind(ids[0]).execute(p).await.unwrap();
        });
        assert_eq!(search::fold_facets(db).await.unwrap(), 0, "{backend:?}");
    }
}

/// The total and the category facet of a search, on whichever path it takes.
async fn counts(db: &Db, q: &str) -> (i64, Vec<(String, i64)>, bool) {
    let r = search::search(db, &query(q)).await.unwrap();
    (r.total, r.facets.category.iter().map(|c| (c.value.clone(), c.count)).collect(), r.approximate)
}

#[tokio::test]
async fn per_term_facets_and_words_stay_exact_through_changes_and_check_reports_drift() {
    for backend in backends() {
        let t = fresh_db(backend, gigstream_store::migrations(), TEMPLATE).await;
        let db = &t.db;
        let seller = account(db, "sel").await;
        let now = Utc::now();
        // "mascot" in a title, in tags only, in a description only.
        let a = gigs::create(
            db,
            seller,
            &input("I will draw a mascot for your team", "graphics-design", "drawing", "<p>Bold lines</p>", 3000, 2),
            now,
        )
        .await
        .unwrap()
        .id;
        let b = gigs::create(db, seller, &input("I will paint a portrait", "graphics-design", "mascot, art", "<p>Oil</p>", 9000, 5), now)
            .await
            .unwrap()
            .id;
        let c = gigs::create(
            db,
            seller,
            &input("I will edit your video", "video-animation", "editing", "<p>Also a mascot intro</p>", 2000, 1),
            now,
        )
        .await
        .unwrap()
        .id;
        let cats = |v: &[(&str, i64)]| v.iter().map(|(c, n)| (c.to_string(), *n)).collect::<Vec<_>>();
        assert_eq!(counts(db, "mascot").await, (3, cats(&[("graphics-design", 2), ("video-animation", 1)]), false), "{backend:?}");
        // Best first: the title, then the tags, then the description; one per page.
        let mut order = vec![];
        let mut q = Query { limit: 1, ..query("mascot") };
        loop {
            let r = search::search(db, &q).await.unwrap();
            order.extend(r.hits.iter().map(|h| h.id));
            match r.next_cursor {
                Some(next) => q.cursor = Some(next),
                None => break,
            }
        }
        assert_eq!(order, [a, b, c], "{backend:?}");
        assert_clean(db).await;

        // The word leaves a title, a gig pauses, another changes category and price.
        gigs::update(
            db,
            a,
            seller,
            &input("I will draw a logo for your team", "graphics-design", "drawing", "<p>Bold lines</p>", 3000, 2),
            now,
        )
        .await
        .unwrap();
        gigs::set_status(db, b, seller, GigStatus::Paused, now).await.unwrap();
        gigs::update(
            db,
            c,
            seller,
            &input("I will edit your video", "graphics-design", "editing", "<p>Also a mascot intro</p>", 40_000, 1),
            now,
        )
        .await
        .unwrap();
        assert_eq!(counts(db, "mascot").await, (1, cats(&[("graphics-design", 1)]), false), "{backend:?}");
        assert_eq!(counts(db, "team").await.0, 1, "{backend:?}");
        let by_price = search::search(
            db,
            &Query { filters: Filters { q: "mascot".into(), price: Some(PriceBand::Over250), ..Filters::default() }, ..query("") },
        )
        .await
        .unwrap();
        assert_eq!(by_price.hits.iter().map(|h| h.id).collect::<Vec<_>>(), [c], "{backend:?}");
        assert_clean(db).await;
        gigs::set_status(db, b, seller, GigStatus::Active, now).await.unwrap();
        gigs::set_status(db, c, seller, GigStatus::Deleted, now).await.unwrap();
        assert_eq!(counts(db, "mascot").await, (1, cats(&[("graphics-design", 1)]), false), "{backend:?}");
        assert_eq!(search::search(db, &query("mascot")).await.unwrap().hits[0].id, b, "{backend:?}");
        assert_clean(db).await;
        search::fold_facets(db).await.unwrap();
        assert_eq!(counts(db, "mascot").await, (1, cats(&[("graphics-design", 1)]), false), "{backend:?}");
        assert_eq!(counts(db, "portrait").await.0, 1, "{backend:?}");
        assert_clean(db).await;

        // Drift in the kept cells, or in PostgreSQL's kept words, is reported.
        platform_db::on_pool!(db, p => {
            sqlx::query("UPDATE gig_term_facets SET n = n + 1 WHERE term = 'portrait'").execute(p).await.unwrap();
        });
        let report = invariants::check(db).await.unwrap();
        assert!(report.violations.iter().any(|v| v.rule == invariants::TERM_FACETS_MATCH_WORDS), "{backend:?}: {:?}", report.violations);
        platform_db::on_pool!(db, p => {
            sqlx::query("UPDATE gig_term_facets SET n = n - 1 WHERE term = 'portrait'").execute(p).await.unwrap();
        });
        assert_clean(db).await;
        if backend == platform_db::Backend::Postgres {
            platform_db::on_pool!(db, p => {
                sqlx::query("UPDATE gig_words SET weight = 1 WHERE term = 'portrait'").execute(p).await.unwrap();
            });
            let report = invariants::check(db).await.unwrap();
            assert!(report.violations.iter().any(|v| v.rule == invariants::WORDS_MATCH_VECTORS), "{:?}", report.violations);
        }
    }
}

#[tokio::test]
async fn a_prefix_of_several_terms_and_several_words_count_their_matches() {
    for backend in backends() {
        let t = fresh_db(backend, gigstream_store::migrations(), TEMPLATE).await;
        let db = &t.db;
        let seller = account(db, "sel").await;
        let now = Utc::now();
        for (title, tags) in
            [("I will design a logo", "logo"), ("I will design logos", "logos"), ("I will write a logotype guide", "writing")]
        {
            gigs::create(db, seller, &input(title, "graphics-design", tags, "<p>x</p>", 3000, 2), now).await.unwrap();
        }
        // "logo" is a prefix of three terms: counted one by one, a gig once.
        assert_eq!(counts(db, "logo").await, (3, vec![("graphics-design".into(), 3)], false), "{backend:?}");
        assert_eq!(counts(db, "design logo").await.0, 2, "{backend:?}");
        assert_eq!(counts(db, "logos").await.0, 1, "{backend:?}");
        assert_eq!(counts(db, "zebra").await.0, 0, "{backend:?}");
    }
}

/// Adds 8,000 active gigs of `seller` in one set-based statement (as the
/// benchmark's seeder does), in three categories by `(i / 6) % 3`:
/// gigs 1–7,200 hold "quartz" in their title, and of those the ones with
/// `i % 6 != 0` (6,000) also "zephyr", the others (1,200) "plain"; gigs
/// 7,201–8,000 hold "zephyr" without "quartz". Returns the categories.
async fn seed_word_gigs(db: &Db, seller: AccountId) -> [String; 3] {
    let cats: Vec<String> = platform_db::on_pool!(db, p => sqlx::query_scalar("SELECT slug FROM categories WHERE parent IS NULL ORDER BY position LIMIT 3")
            .fetch_all(p).await.unwrap());
    let cats: [String; 3] = cats.try_into().expect("three top-level categories");
    let sqlite = db.backend() == platform_db::Backend::Sqlite;
    let (id, at) = if sqlite {
        (
            "'2be0c400-0000-4000-8000-' || printf('%012d', i)".to_string(),
            "strftime('%Y-%m-%dT%H:%M:%f+00:00', '2026-11-01 12:00:00', '-' || i || ' minutes')".to_string(),
        )
    } else {
        (
            "CAST('2be0c400-0000-4000-8000-' || lpad(CAST(i AS TEXT), 12, '0') AS UUID)".to_string(),
            "CAST('2026-11-01 12:00:00+00' AS TIMESTAMPTZ) - i * INTERVAL '1 minute'".to_string(),
        )
    };
    let words = "CASE WHEN i > 7200 THEN 'zephyr' WHEN i % 6 = 0 THEN 'quartz plain' ELSE 'quartz zephyr' END";
    let sql = format!(
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 8000)
         INSERT INTO gigs (id, seller_id, slug, title, category, subcategory, tags_text, description_html, description_text,
                           currency, status, min_price_minor, min_delivery_days, rating_x100, rating_count, seller_level,
                           orders_completed, created_at, updated_at)
         SELECT {id}, $1, 'word-gig-' || i, 'I will make a ' || {words} || ' sign',
                CASE (i / 6) % 3 WHEN 0 THEN $2 WHEN 1 THEN $3 ELSE $4 END, NULL, 'sign', '<p>Signs</p>', 'Signs',
                'USD', 'active', 500 + (i * 7919) % 50000, 1 + (i * 31) % 10, 300 + (i * 17) % 201, 1 + i % 90,
                'new', 0, {at}, {at}
         FROM n"
    );
    platform_db::on_pool!(db, p => {
        sqlx::query(&sql).bind(seller).bind(&cats[0]).bind(&cats[1]).bind(&cats[2]).execute(p).await.unwrap();
    });
    if sqlite {
        // PostgreSQL's trigger keeps the weighted words; on SQLite the store
        // writes them with a gig's text, here from FTS5's own index at once.
        let words = "INSERT INTO gig_words (term, gig_id, weight)
                     SELECT v.term, g.id, MAX(CASE WHEN v.col = 'title' THEN 10 ELSE 0 END) + MAX(CASE WHEN v.col = 'tags' THEN 5 ELSE 0 END)
                                          + MAX(CASE WHEN v.col = 'body' THEN 1 ELSE 0 END)
                     FROM gig_fts_terms v JOIN gigs g ON g.rowid = v.doc GROUP BY v.term, g.id";
        platform_db::on_pool!(db, p => { sqlx::query(words).execute(p).await.unwrap(); });
    }
    search::fold_facets(db).await.unwrap();
    cats
}

/// Every page of a search, by its cursors: the hits' ids in the order shown.
async fn every_page(db: &Db, mut q: Query) -> Vec<search::Hit> {
    let mut hits = vec![];
    loop {
        let r = search::search(db, &q).await.unwrap();
        hits.extend(r.hits);
        match r.next_cursor {
            Some(next) => q.cursor = Some(next),
            None => return hits,
        }
    }
}

#[tokio::test]
async fn several_words_over_the_count_cap_answer_bounded_estimates_and_pages_without_repeats() {
    for backend in backends() {
        let t = fresh_db(backend, gigstream_store::migrations(), TEMPLATE).await;
        let db = &t.db;
        let seller = account(db, "sel").await;
        let cats = seed_word_gigs(db, seller).await;
        // One word of one term: exact, from its kept cells.
        assert_eq!(counts(db, "quartz").await.0, 7_200, "{backend:?}");
        assert!(!counts(db, "quartz").await.2, "{backend:?}");

        // Both words: 6,000 gigs, above the 5,000 counted one by one. The
        // estimate is never under the true count and never over the fewest
        // gigs holding one of the words ("zephyr": 6,800); each category
        // (2,000 true) is scaled by the same factor, give or take the sample.
        let r = search::search(db, &query("quartz zephyr")).await.unwrap();
        assert!(r.total > search::COUNT_CAP, "{backend:?}");
        assert!(r.approximate, "{backend:?}");
        assert!((6_000..=6_800).contains(&r.total), "{backend:?}: total {}", r.total);
        assert_eq!(r.facets.category.len(), 3, "{backend:?}");
        for c in &r.facets.category {
            assert!(cats.contains(&c.value), "{backend:?}: {}", c.value);
            assert!((1_950..=2_320).contains(&c.count), "{backend:?}: {} estimated {}", c.value, c.count);
        }
        assert_eq!(r.facets.price.iter().map(|c| c.count).sum::<i64>(), r.total, "{backend:?}: every gig in one price band");
        assert_eq!(r.facets.level.iter().map(|c| c.count).sum::<i64>(), r.total, "{backend:?}");

        // The first page in order (best first, then by id), every hit
        // holding both words; the next page by its cursor repeats none.
        assert_eq!(r.hits.len(), 20, "{backend:?}");
        assert!(r.hits.iter().all(|h| h.title.contains("quartz zephyr")), "{backend:?}");
        assert!(r.hits.windows(2).all(|w| (w[0].rank, w[0].id) < (w[1].rank, w[1].id)), "{backend:?}");
        let next = search::search(db, &Query { cursor: r.next_cursor.clone(), ..query("quartz zephyr") }).await.unwrap();
        assert_eq!(next.hits.len(), 20, "{backend:?}");
        assert!(next.hits.iter().all(|h| h.title.contains("quartz zephyr")), "{backend:?}");
        assert!(next.hits.iter().all(|h| r.hits.iter().all(|h1| h1.id != h.id)), "{backend:?}: a gig on both pages");
        assert!((r.hits[19].rank, r.hits[19].id) < (next.hits[0].rank, next.hits[0].id), "{backend:?}");
        assert!(next.approximate && next.total == r.total, "{backend:?}");

        // Cheapest first: the pages, walked to the end, hold every match once, by price.
        let by_price = every_page(db, Query { sort: Sort::Price, limit: 60, ..query("quartz zephyr") }).await;
        assert_eq!(by_price.len(), 6_000, "{backend:?}");
        assert!(by_price.windows(2).all(|w| (w[0].min_price_minor, w[0].id) < (w[1].min_price_minor, w[1].id)), "{backend:?}");
        let distinct: std::collections::HashSet<_> = by_price.iter().map(|h| h.id).collect();
        assert_eq!(distinct.len(), 6_000, "{backend:?}");
    }
}

#[tokio::test]
async fn several_words_under_the_count_cap_answer_exact_counts() {
    for backend in backends() {
        let t = fresh_db(backend, gigstream_store::migrations(), TEMPLATE).await;
        let db = &t.db;
        let seller = account(db, "sel").await;
        let cats = seed_word_gigs(db, seller).await;
        // "quartz plain": the 1,200 gigs with i % 6 = 0, 400 a category.
        let (total, by_category, approximate) = counts(db, "quartz plain").await;
        assert_eq!((total, approximate), (1_200, false), "{backend:?}");
        let mut expected: Vec<(String, i64)> = cats.iter().map(|c| (c.clone(), 400)).collect();
        expected.sort();
        let mut by_category = by_category;
        by_category.sort();
        assert_eq!(by_category, expected, "{backend:?}");
        // A filter narrows the total exactly, not its own facet.
        let mut q = query("quartz plain");
        q.filters.category = Some(cats[1].clone());
        let r = search::search(db, &q).await.unwrap();
        assert_eq!((r.total, r.approximate), (400, false), "{backend:?}");
        assert_eq!(r.facets.category.iter().map(|c| c.count).sum::<i64>(), 1_200, "{backend:?}");
        let all = every_page(db, Query { limit: 60, ..q }).await;
        assert_eq!(all.len(), 400, "{backend:?}");
        assert!(all.iter().all(|h| h.title.contains("quartz plain")), "{backend:?}");
    }
}

#[tokio::test]
async fn several_words_matched_once_page_every_sort_and_filter_as_the_gigs_order_them() {
    for backend in backends() {
        let t = fresh_db(backend, gigstream_store::migrations(), TEMPLATE).await;
        let db = &t.db;
        let seller = account(db, "sel").await;
        let cats = seed_word_gigs(db, seller).await;
        let with = |f: Filters| Filters { q: "quartz plain".into(), ..f };
        let filter_sets = [
            (with(Filters::default()), "1 = 1".to_string()),
            (with(Filters { category: Some(cats[2].clone()), ..Filters::default() }), format!("category = '{}'", cats[2])),
            (
                with(Filters { price: Some(PriceBand::From100To250), rating_x100: Some(450), ..Filters::default() }),
                "min_price_minor >= 10000 AND min_price_minor < 25000 AND rating_x100 >= 450".to_string(),
            ),
            (
                with(Filters { delivery_days: Some(3), level: Some(SellerLevel::New), ..Filters::default() }),
                "min_delivery_days <= 3".into(),
            ),
        ];
        for (filters, condition) in &filter_sets {
            for (sort, order) in [
                (Sort::Price, "min_price_minor ASC, id ASC"),
                (Sort::Rating, "COALESCE(rating_x100, -1) DESC, id DESC"),
                (Sort::Newest, "created_at DESC, id DESC"),
            ] {
                let sql = format!("SELECT id FROM gigs WHERE title LIKE '%quartz plain%' AND {condition} ORDER BY {order}");
                let expected: Vec<gigstream_domain::ids::GigId> =
                    platform_db::on_pool!(db, p => sqlx::query_scalar(&sql).fetch_all(p).await.unwrap());
                assert!(!expected.is_empty(), "{backend:?} {condition}");
                let q = Query { filters: filters.clone(), sort, cursor: None, limit: 60 };
                let first = search::search(db, &q).await.unwrap();
                assert_eq!((first.total, first.approximate), (expected.len() as i64, false), "{backend:?} {sort} {condition}");
                let shown: Vec<_> = every_page(db, q).await.iter().map(|h| h.id).collect();
                assert_eq!(shown, expected, "{backend:?} {sort} {condition}");
            }
            // Best first: every match once, by rank then id.
            let q = Query { filters: filters.clone(), sort: Sort::Relevance, cursor: None, limit: 60 };
            let hits = every_page(db, q).await;
            let n: i64 = platform_db::on_pool!(db, p => sqlx::query_scalar(&format!(
                "SELECT COUNT(*) FROM gigs WHERE title LIKE '%quartz plain%' AND {condition}")).fetch_one(p).await.unwrap());
            assert_eq!(hits.len() as i64, n, "{backend:?} {condition}");
            assert!(hits.windows(2).all(|w| (w[0].rank, w[0].id) < (w[1].rank, w[1].id)), "{backend:?} {condition}");
        }
    }
}

#[tokio::test]
async fn several_words_match_every_term_they_are_a_prefix_of_through_pauses_edits_and_folds() {
    for backend in backends() {
        let t = fresh_db(backend, gigstream_store::migrations(), TEMPLATE).await;
        let db = &t.db;
        let seller = account(db, "sel").await;
        let now = Utc::now();
        let sign = gigs::create(db, seller, &input("I will paint a neon sign", "graphics-design", "neon", "<p>x</p>", 3000, 2), now)
            .await
            .unwrap();
        let signage = gigs::create(db, seller, &input("I will plan neon signage", "graphics-design", "neon", "<p>x</p>", 4000, 2), now)
            .await
            .unwrap();
        let ids = |r: &search::Results| {
            let mut ids: Vec<_> = r.hits.iter().map(|h| h.id).collect();
            ids.sort();
            ids
        };
        let mut both = vec![sign.id, signage.id];
        both.sort();
        // A word no gig holds a term of: nothing, every facet empty.
        let r = search::search(db, &query("neon qqqzzz")).await.unwrap();
        assert!(r.hits.is_empty() && r.total == 0 && r.next_cursor.is_none() && !r.approximate, "{backend:?}");
        assert!(r.facets.category.is_empty() && r.facets.level.is_empty(), "{backend:?}");
        assert!(r.facets.price.iter().all(|c| c.count == 0), "{backend:?}");
        assert!(r.facets.rating.iter().chain(&r.facets.delivery_days).all(|c| c.count == 0), "{backend:?}");
        // "sign" is a prefix of "sign" and "signage": both match.
        let r = search::search(db, &query("neon sign")).await.unwrap();
        assert_eq!((r.total, ids(&r)), (2, both.clone()), "{backend:?}");
        // Paused, "signage" is held by no active gig: "sign" matches itself alone.
        gigs::set_status(db, signage.id, seller, GigStatus::Paused, now).await.unwrap();
        let r = search::search(db, &query("neon sign")).await.unwrap();
        assert_eq!((r.total, ids(&r)), (1, vec![sign.id]), "{backend:?}");
        search::fold_facets(db).await.unwrap();
        assert_eq!(search::search(db, &query("neon sign")).await.unwrap().total, 1, "{backend:?}");
        // Active again (its words among the deltas not folded yet): both match again.
        gigs::set_status(db, signage.id, seller, GigStatus::Active, now).await.unwrap();
        let r = search::search(db, &query("neon sign")).await.unwrap();
        assert_eq!((r.total, ids(&r)), (2, both.clone()), "{backend:?}");
        search::fold_facets(db).await.unwrap();
        assert_eq!(ids(&search::search(db, &query("neon sign")).await.unwrap()), both, "{backend:?}");
        // A title edited to hold another term of the prefix is matched at once.
        let edited = input("I will paint a neon signpost", "graphics-design", "neon", "<p>x</p>", 3000, 2);
        gigs::update(db, sign.id, seller, &edited, now).await.unwrap();
        let r = search::search(db, &query("neon signp")).await.unwrap();
        assert_eq!((r.total, ids(&r)), (1, vec![sign.id]), "{backend:?}");
        let r = search::search(db, &query("neon sign")).await.unwrap();
        assert_eq!((r.total, ids(&r)), (2, both.clone()), "{backend:?}");
        // Best first, ranked as before: the rank order is by rank, then id.
        assert!(r.hits.windows(2).all(|w| (w[0].rank, w[0].id) < (w[1].rank, w[1].id)), "{backend:?}");
    }
}
