//! Messages and reviews on both stores: inquiries and order threads, the
//! outbox, read positions and unread counts, search, attachments' access;
//! one review per side per order, the edit window, one reply, ratings.

use chrono::{Duration, Utc};
use gigstream_domain::fees::FeePolicy;
use gigstream_domain::gig::{Package, Tier};
use gigstream_domain::ids::AccountId;
use gigstream_domain::messaging::like_pattern;
use gigstream_domain::names::{Tag, Title};
use gigstream_domain::reviews::{self, ReviewInput, Subject};
use gigstream_domain::Currency;
use gigstream_store::accounts::{self, NewAccount};
use gigstream_store::gigs::{self, Gig, GigInput};
use gigstream_store::messages::{self, Attachment, Outgoing};
use gigstream_store::orders::{self, Order};
use gigstream_store::{reviews as stored, Db, StoreError};
use platform_db::testing::{backends, fresh_db};

async fn person(db: &Db, name: &str) -> AccountId {
    let email = format!("{name}@mail.test");
    let new = NewAccount { email: &email, username: name, display_name: &name.to_uppercase(), password_hash: "-", is_admin: false };
    accounts::create(db, &new, Utc::now()).await.unwrap().id
}

async fn gig_of(db: &Db, seller: AccountId, title: &str) -> Gig {
    let basic = Package {
        tier: Tier::Basic,
        name: "Basic".into(),
        description: String::new(),
        price_minor: 5_000,
        delivery_days: 2,
        revisions: 0,
        items: vec![],
    };
    let input = GigInput {
        title: Title::parse(title).unwrap(),
        category: "graphics-design".into(),
        subcategory: None,
        tags: Tag::parse_list("logo").unwrap(),
        description_html: "<p>Logos</p>".into(),
        faq: vec![],
        requirements: vec![],
        currency: Currency::Usd,
        packages: vec![basic],
    };
    gigs::create(db, seller, &input, Utc::now()).await.unwrap()
}

fn text<'a>(sender: AccountId, body: &'a str, client_id: Option<&'a str>) -> Outgoing<'a> {
    Outgoing { sender, sender_name: "someone", body, attachments: vec![], client_id }
}

#[tokio::test]
async fn conversations_count_unread_replay_and_search() {
    for backend in backends() {
        let t = fresh_db(backend, gigstream_store::migrations(), "gigstream_template").await;
        let db = &t.db;
        let (seller, buyer, nosy) = (person(db, "selma").await, person(db, "bart").await, person(db, "nora").await);
        let gig = gig_of(db, seller, "I will design a bold logo for your shop").await;
        let now = Utc::now();

        // One inquiry per buyer and seller, whichever gig it starts from.
        let c = messages::inquiry(db, buyer, seller, gig.id, &gig.title, now).await.unwrap();
        let again = messages::inquiry(db, buyer, seller, gig.id, "other", now).await.unwrap();
        assert_eq!((c.id, again.subject.as_str()), (again.id, gig.title.as_str()), "{backend:?}");
        let e = messages::inquiry(db, seller, seller, gig.id, "self", now).await.unwrap_err();
        assert!(matches!(e, StoreError::Refused { field: "gig", .. }), "{e:?}");

        // Sends; a retry with the same client id is stored once.
        let (m1, fresh) = messages::send(db, c.id, &text(buyer, "Hi! Can you do 50% OFF_logos?", Some("c1")), now).await.unwrap();
        assert!(fresh);
        let (dup, fresh) = messages::send(db, c.id, &text(buyer, "Hi! Can you do 50% OFF_logos?", Some("c1")), now).await.unwrap();
        assert_eq!((dup.id, fresh), (m1.id, false));
        assert_eq!(m1.sender_name, "BART");
        let files = vec![Attachment {
            key: "messages/brief.pdf".into(),
            name: "Brief.pdf".into(),
            content_type: "application/pdf".into(),
            bytes: 9,
        }];
        let out = Outgoing { sender: buyer, sender_name: "BART", body: "", attachments: files, client_id: None };
        let (m2, _) = messages::send(db, c.id, &out, now).await.unwrap();
        // The seller has two unread from the buyer.
        assert_eq!(messages::unread_total(db, seller).await.unwrap(), 2, "{backend:?}");
        let inbox = messages::inbox(db, seller, 10).await.unwrap();
        assert_eq!((inbox.len(), inbox[0].unread, inbox[0].other_name.as_str()), (1, 2, "BART"));
        let (m3, _) = messages::send(db, c.id, &text(seller, "Sure, send the brief", None), now).await.unwrap();
        assert!(m1.seq < m2.seq && m2.seq < m3.seq);
        assert!(matches!(messages::send(db, c.id, &text(nosy, "hello?", None), now).await, Err(StoreError::NotFound)));
        // Replying reads what came before it; the buyer now has one unread.
        assert_eq!(messages::unread_total(db, seller).await.unwrap(), 0);
        assert_eq!(messages::unread_total(db, buyer).await.unwrap(), 1);
        // Sending reads one's own; reading never moves back; only moves
        // forward write a receipt.
        assert_eq!(messages::mark_read(db, c.id, seller, Some(m1.seq), now).await.unwrap(), m3.seq, "sending read the seller's own");
        let buyer_read = messages::mark_read(db, c.id, buyer, Some(m2.seq), now).await.unwrap();
        assert_eq!(buyer_read, m2.seq);
        assert_eq!(messages::unread_total(db, buyer).await.unwrap(), 1);
        assert_eq!(messages::mark_read(db, c.id, buyer, None, now).await.unwrap(), m3.seq);
        assert_eq!(messages::mark_read(db, c.id, buyer, Some(m1.seq), now).await.unwrap(), m3.seq);
        assert_eq!(messages::unread_total(db, buyer).await.unwrap(), 0);
        assert!(matches!(messages::mark_read(db, c.id, nosy, None, now).await, Err(StoreError::NotFound)));

        // The outbox: messages, receipts and a typing signal, in order; a
        // replay leaves typing out.
        messages::typing(db, c.id, seller, "SELMA", now).await.unwrap();
        let all = messages::outbox::after(db, 0, 100).await.unwrap();
        let kinds: Vec<&str> = all.iter().map(|e| e.kind.as_str()).collect();
        assert_eq!(kinds, ["message", "message", "message", "read", "typing"], "{backend:?}");
        assert_eq!(all[3].data()["upto"], m3.seq);
        assert_eq!((all[0].buyer_id, all[0].seller_id), (buyer, seller));
        let replayed: Vec<String> = messages::replay(db, c.id, m1.seq, 100).await.unwrap().into_iter().map(|e| e.kind).collect();
        assert_eq!(replayed, ["message", "message", "read"]);
        assert_eq!(messages::head(db, c.id).await.unwrap(), messages::outbox::head(db).await.unwrap());
        let seqs = [all[1].seq, all[4].seq, 999_999];
        assert_eq!(messages::outbox::by_seqs(db, &seqs).await.unwrap().len(), 2);

        // Search: one's own conversations only, case-insensitive, wildcards literal.
        let hits = messages::search(db, buyer, &like_pattern("50% off_"), 10).await.unwrap();
        assert_eq!(hits.iter().map(|h| h.message.id).collect::<Vec<_>>(), vec![m1.id], "{backend:?}");
        assert!(messages::search(db, buyer, &like_pattern("50%_off"), 10).await.unwrap().is_empty(), "_ and % match only themselves");
        assert_eq!(messages::search(db, seller, &like_pattern("BRIEF"), 10).await.unwrap().len(), 2, "the text and the file name");
        assert!(messages::search(db, nosy, &like_pattern("brief"), 10).await.unwrap().is_empty());

        // An attached file is the parties' only.
        assert!(messages::attachment_visible(db, "messages/brief.pdf", seller).await.unwrap());
        assert!(!messages::attachment_visible(db, "messages/brief.pdf", nosy).await.unwrap());
        assert!(!messages::attachment_visible(db, "messages/other.pdf", buyer).await.unwrap());
    }
}

/// A completed (released) order of `gig` by `buyer`.
async fn completed(db: &Db, buyer: AccountId, seller: AccountId, gig: &Gig) -> Order {
    let o = orders::place(db, buyer, gig.id, Tier::Basic, FeePolicy::default(), Utc::now()).await.unwrap();
    orders::confirm_payment(db, "fake", &o.payment_reference, &format!("evt_{}", o.id), o.total_minor, o.currency, Utc::now())
        .await
        .unwrap();
    orders::submit_requirements(db, o.id, buyer, vec![], Utc::now()).await.unwrap();
    orders::deliver(db, o.id, seller, "Done", vec![], Utc::now()).await.unwrap();
    orders::accept(db, o.id, buyer, Utc::now()).await.unwrap()
}

fn stars(overall: i64, communication: i64, as_described: i64, recommend: bool, comment: &str) -> ReviewInput {
    ReviewInput {
        overall,
        communication: Some(communication),
        as_described: Some(as_described),
        recommend: Some(recommend),
        comment: comment.into(),
    }
}

#[tokio::test]
async fn one_review_per_side_per_order_with_an_edit_window_and_one_reply() {
    for backend in backends() {
        let t = fresh_db(backend, gigstream_store::migrations(), "gigstream_template").await;
        let db = &t.db;
        let (seller, buyer, other) = (person(db, "sven").await, person(db, "bea").await, person(db, "olaf").await);
        let gig = gig_of(db, seller, "I will design a bold logo for your shop").await;
        let now = Utc::now();

        // Not before the work is accepted.
        let open = orders::place(db, buyer, gig.id, Tier::Basic, FeePolicy::default(), now).await.unwrap();
        let r = reviews::check(Subject::Seller, &stars(5, 5, 5, true, "")).unwrap();
        let e = stored::write(db, &open, buyer, &r, now).await.unwrap_err();
        assert_eq!(e.to_string(), "Reviews open once the order is completed.");

        let o = completed(db, buyer, seller, &gig).await;
        let first =
            stored::write(db, &o, buyer, &reviews::check(Subject::Seller, &stars(3, 4, 3, false, "Slow")).unwrap(), now).await.unwrap();
        assert_eq!((first.subject, first.reviewee_id, first.overall), (Subject::Seller, seller, 3));
        // Within the window the same review changes (still one per side).
        let edited = stored::write(
            db,
            &o,
            buyer,
            &reviews::check(Subject::Seller, &stars(5, 5, 4, true, "Great in the end")).unwrap(),
            now + Duration::hours(2),
        )
        .await
        .unwrap();
        assert_eq!((edited.id, edited.overall, edited.comment.as_str()), (first.id, 5, "Great in the end"));
        let late = now + reviews::EDIT_WINDOW + Duration::minutes(1);
        let e =
            stored::write(db, &o, buyer, &reviews::check(Subject::Seller, &stars(1, 1, 1, false, "")).unwrap(), late).await.unwrap_err();
        assert!(e.to_string().contains("can no longer be changed"), "{e}");
        // The seller reviews the buyer; a stranger may not review at all.
        let of_buyer =
            stored::write(db, &o, seller, &reviews::check(Subject::Buyer, &ReviewInput { overall: 4, ..Default::default() }).unwrap(), now)
                .await
                .unwrap();
        assert_eq!((of_buyer.subject, of_buyer.reviewee_id, of_buyer.communication), (Subject::Buyer, buyer, None));
        assert!(matches!(stored::write(db, &o, other, &r, now).await, Err(StoreError::NotFound)));
        assert_eq!(stored::for_order(db, o.id).await.unwrap().len(), 2);

        // One reply, by the reviewed seller, to the buyer's review only.
        assert!(matches!(stored::reply(db, first.id, buyer, "me?", now).await, Err(StoreError::NotFound)));
        assert!(matches!(stored::reply(db, of_buyer.id, seller, "no", now).await, Err(StoreError::NotFound)));
        let replied = stored::reply(db, first.id, seller, "Thank you!", now).await.unwrap();
        assert_eq!(replied.reply.as_deref(), Some("Thank you!"));
        let e = stored::reply(db, first.id, seller, "Again", now).await.unwrap_err();
        assert!(e.to_string().contains("one reply"), "{e}");

        // A second order rated 2: the gig's rating is the rounded average of 5 and 2.
        let o2 = completed(db, buyer, seller, &gig).await;
        stored::write(db, &o2, buyer, &reviews::check(Subject::Seller, &stars(2, 3, 2, false, "")).unwrap(), now).await.unwrap();
        let g = gigs::get(db, gig.id).await.unwrap();
        assert_eq!((g.rating_x100, g.rating_count), (Some(350), 2), "{backend:?}");
        let points = stored::points(db, seller, Some(gig.id)).await.unwrap();
        let a = reviews::analyze(&points, now, 1);
        assert_eq!((a.count, a.average_x100, a.communication_x100, a.recommend_percent), (2, Some(350), Some(400), Some(50)));
        assert_eq!(a.by_category[0].category, "Graphics & Design");
        assert_eq!(stored::of_seller(db, seller, None, 10).await.unwrap().len(), 2);
        assert!(stored::of_seller(db, buyer, None, 10).await.unwrap().is_empty(), "the buyer's review is not a seller review");
    }
}

#[tokio::test]
async fn a_status_change_announced_at_once_from_many_places_is_written_once() {
    use gigstream_domain::presence::SocketId;
    use gigstream_store::presence;
    for backend in backends() {
        let t = fresh_db(backend, gigstream_store::migrations(), "gigstream_template").await;
        let db = &t.db;
        let (seller, buyer) = (person(db, "sally").await, person(db, "bob").await);
        let gig = gig_of(db, seller, "I will paint a portrait of your dog").await;
        let c = messages::inquiry(db, buyer, seller, gig.id, &gig.title, Utc::now()).await.unwrap();
        // Announces from eight tasks at once; the rows they wrote.
        let at_once = |online: bool, now: chrono::DateTime<Utc>| {
            let db = db.clone();
            async move {
                let mut tasks = tokio::task::JoinSet::new();
                for _ in 0..8 {
                    let db = db.clone();
                    tasks.spawn(async move { presence::announce(&db, seller, online, now).await.unwrap() });
                }
                tasks.join_all().await.into_iter().sum::<u64>()
            }
        };

        // Round after round, many sockets of the seller's open at once and
        // each announces "online"; then all are gone and each one's grace
        // timer announces "offline" at once. Each change is written once.
        let rounds = 20;
        for round in 0..rounds {
            for _ in 0..8 {
                presence::opened(db, SocketId::new(), seller, Utc::now()).await.unwrap();
            }
            assert_eq!(at_once(true, Utc::now()).await, 1, "{backend:?} round {round}");
            let gone = Utc::now() + Duration::seconds(gigstream_domain::presence::STALE_AFTER_SECS + 1);
            presence::purge_stale(db, gone).await.unwrap();
            assert_eq!(at_once(false, gone).await, 1, "{backend:?} round {round}");
        }

        let changes = presence::outbox::after(db, 0, 100).await.unwrap();
        let seen: Vec<(bool, AccountId)> = changes.iter().map(|ch| (ch.online, ch.viewer_id)).collect();
        let alternating: Vec<(bool, AccountId)> = (0..rounds).flat_map(|_| [(true, buyer), (false, buyer)]).collect();
        assert_eq!(seen, alternating, "{backend:?}");
        assert!(changes.iter().all(|ch| ch.conversation_id == c.id));
    }
}
