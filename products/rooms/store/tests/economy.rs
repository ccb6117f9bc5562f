//! The coin economy on every backend under test: purchases credited once,
//! transfers within limits, the BR-1 split through the ledger, 1,000
//! concurrent gifts into one room, retried requests applied once, diamond
//! exchange and payouts, rankings from the counters, and `rooms check`.

mod support;
use support::{dbs, gifts_at_once, user};

use chrono::{DateTime, Duration, Utc};
use futures_util::future::join_all;
use platform_db::{Db, StoreError};
use platform_kernel::payment::ChargeStatus;
use rooms_domain::economy::PurchaseDecision;
use rooms_domain::ids::{AccountId, GiftId, RoomId};
use rooms_domain::progress::{Period, RankingClock, Track};
use rooms_domain::room::{RoomKind, RoomName, SeatCount, VisitorPermissions};
use rooms_store::economy::{self, NewPackage, PayoutAction, Report};
use rooms_store::gifts::{self, NewGift, Recipients, SendGift, Settings};
use rooms_store::leaderboards::{self, Board};
use rooms_store::{check, presence, rooms, seats};

async fn room_of(db: &Db, owner: AccountId, name: &str) -> RoomId {
    let new = rooms::NewRoom {
        name: RoomName::parse(name).unwrap(),
        kind: RoomKind::Public,
        password_hash: None,
        seat_count: SeatCount::default(),
        visitors: VisitorPermissions { speak: true, text: true, pictures: false },
        apply_mode: false,
        logo_url: None,
    };
    let r = rooms::create(db, owner, &new, Utc::now()).await.unwrap();
    presence::join(db, r.id, owner, Utc::now()).await.unwrap();
    r.id
}

async fn seated(db: &Db, room: RoomId, who: AccountId) {
    presence::join(db, room, who, Utc::now()).await.unwrap();
    seats::take(db, room, who, None, Utc::now()).await.unwrap();
}

async fn rose(db: &Db, price: i64) -> GiftId {
    gifts::create_gift(db, &NewGift { charm_pct: 150, ..NewGift::plain("rose", "Rose", price) }).await.unwrap()
}

fn code(e: StoreError) -> String {
    match e {
        StoreError::Guard { code, .. } => code,
        StoreError::Refused { field, .. } => format!("field:{field}"),
        StoreError::Insufficient { required, available } => format!("insufficient:{required}:{available}"),
        other => format!("{other:?}"),
    }
}

async fn assert_clean(db: &Db, what: &str) {
    let v = check::run(db).await.unwrap();
    assert!(v.is_empty(), "{what}: rooms check found {v:?}");
}

#[tokio::test]
async fn a_purchase_is_credited_once_however_often_it_is_reported() {
    for (b, t) in dbs().await {
        let db = &t.db;
        let now = Utc::now();
        let a = user(db, "buyer").await;
        let everywhere =
            NewPackage { name: "Starter", coins: 1_700, bonus_coins: 0, price_minor: 99, currency: "USD", countries: &[], sort: 0 };
        let p1 = economy::create_package(db, &everywhere, now).await.unwrap();
        let ke = NewPackage {
            name: "Kenya",
            coins: 5_000,
            bonus_coins: 500,
            price_minor: 50_000,
            currency: "KES",
            countries: &["KE", "UG"],
            sort: 1,
        };
        let p2 = economy::create_package(db, &ke, now).await.unwrap();
        let ng = NewPackage {
            name: "Nigeria",
            coins: 5_000,
            bonus_coins: 0,
            price_minor: 100_000,
            currency: "NGN",
            countries: &["NG"],
            sort: 2,
        };
        let p3 = economy::create_package(db, &ng, now).await.unwrap();
        let ids = |v: Vec<economy::Package>| v.into_iter().map(|p| p.id).collect::<Vec<_>>();
        assert_eq!(ids(economy::packages_for(db, Some("ke")).await.unwrap()), vec![p1, p2], "{b:?}");
        assert_eq!(ids(economy::packages_for(db, Some("NG")).await.unwrap()), vec![p1, p3], "{b:?}");
        assert_eq!(ids(economy::packages_for(db, None).await.unwrap()), vec![p1], "{b:?}");
        // Not offered in this country, or switched off: refused.
        let e = economy::record_checkout(db, a, p3, Some("KE"), "ref-x", "paystack", now).await.unwrap_err();
        assert_eq!(code(e), "field:package_id");
        economy::set_package_active(db, p1, false).await.unwrap();
        assert_eq!(code(economy::record_checkout(db, a, p1, Some("KE"), "ref-y", "paystack", now).await.unwrap_err()), "field:package_id");
        economy::set_package_active(db, p1, true).await.unwrap();

        economy::record_checkout(db, a, p2, Some("KE"), "ref-1", "paystack", now).await.unwrap();
        let paid = Report { status: ChargeStatus::Success, amount_minor: 50_000, currency: "KES", gateway_response: Some("Approved") };
        let results = join_all((0..40).map(|_| economy::settle(db, "ref-1", &paid, now))).await;
        let credited = results.iter().filter(|r| matches!(r, Ok((PurchaseDecision::Credit, _)))).count();
        let errors: Vec<_> = results.iter().filter_map(|r| r.as_ref().err()).collect();
        assert!(errors.is_empty(), "{b:?}: {errors:?}");
        assert_eq!(credited, 1, "{b:?}: one report credits");
        let row = economy::purchase(db, "ref-1").await.unwrap();
        assert_eq!((row.status.as_str(), row.reports), ("credited", 40), "{b:?}");
        assert_eq!(economy::balances(db, a).await.unwrap().coins, 5_500, "{b:?}: coins + bonus once");

        // Paid the wrong amount: held for review, nothing credited.
        economy::record_checkout(db, a, p1, Some("KE"), "ref-2", "paystack", now).await.unwrap();
        let short = Report { status: ChargeStatus::Success, amount_minor: 98, currency: "USD", gateway_response: None };
        let (d, row) = economy::settle(db, "ref-2", &short, now).await.unwrap();
        assert_eq!((d, row.status.as_str()), (PurchaseDecision::Review, "review"));
        // Declined: failed, nothing credited.
        economy::record_checkout(db, a, p1, Some("KE"), "ref-3", "paystack", now).await.unwrap();
        let declined = Report { status: ChargeStatus::Failed, amount_minor: 99, currency: "USD", gateway_response: Some("Declined") };
        assert_eq!(economy::settle(db, "ref-3", &declined, now).await.unwrap().1.status, "failed");
        assert!(matches!(economy::settle(db, "nope", &paid, now).await, Err(StoreError::NotFound)));
        assert_eq!(economy::balances(db, a).await.unwrap().coins, 5_500, "{b:?}");
        let hist = economy::history(db, a, &economy::coins(), None, 10).await.unwrap();
        assert_eq!(hist.len(), 1);
        assert_eq!((hist[0].reason.as_str(), hist[0].delta.get()), ("purchase", 5_500));
        assert_clean(db, "after purchases").await;
    }
}

#[tokio::test]
async fn coin_transfers_respect_balance_limits_and_keys() {
    for (b, t) in dbs().await {
        let db = &t.db;
        let now = Utc::now();
        let a = user(db, "giver").await;
        let c = user(db, "taker").await;
        economy::grant(db, a, 1_000, "g1", None, now).await.unwrap();
        assert!(!economy::grant(db, a, 1_000, "g1", None, now).await.unwrap(), "a repeated grant key grants nothing");
        let done = economy::transfer(db, a, c, 300, "t1", now).await.unwrap();
        assert_eq!((done.balance, done.duplicate), (700, false), "{b:?}");
        let again = economy::transfer(db, a, c, 300, "t1", now).await.unwrap();
        assert!(again.duplicate, "{b:?}");
        assert_eq!(economy::balances(db, c).await.unwrap().coins, 300);
        assert_eq!(code(economy::transfer(db, a, c, 701, "t2", now).await.unwrap_err()), "insufficient:701:700", "{b:?}");
        assert_eq!(code(economy::transfer(db, a, a, 1, "t3", now).await.unwrap_err()), "field:amount");
        assert_eq!(code(economy::transfer(db, a, c, 0, "t4", now).await.unwrap_err()), "field:amount");
        // Ten concurrent transfers of 100 from 700: seven succeed, none overdraws.
        let r = join_all((0..10).map(|i| economy::transfer(db, a, c, 100, Box::leak(format!("c{i}").into_boxed_str()), now))).await;
        assert_eq!(r.iter().filter(|x| x.is_ok()).count(), 7, "{b:?}: {r:?}");
        assert_eq!(economy::balances(db, a).await.unwrap().coins, 0);
        assert_eq!(economy::transferred_today(db, a, now).await.unwrap(), 1_000);
        assert_clean(db, "after transfers").await;
    }
}

struct Scene {
    owner: AccountId,
    plain: AccountId,
    member: AccountId,
    agency: rooms_domain::ids::AgencyId,
    room: RoomId,
    gift: GiftId,
}

async fn scene(db: &Db, price: i64) -> Scene {
    let now = Utc::now();
    let owner = user(db, "owner").await;
    let plain = user(db, "plain").await;
    let member = user(db, "member").await;
    let boss = user(db, "boss").await;
    let room = room_of(db, owner, "Gift Hall").await;
    seated(db, room, plain).await;
    seated(db, room, member).await;
    let agency = gifts::create_agency(db, "Stars", boss, now).await.unwrap();
    gifts::join_agency(db, agency, member, now).await.unwrap();
    Scene { owner, plain, member, agency, room, gift: rose(db, price).await }
}

/// A viewer of the scene's room holding 1,000 coins.
async fn fan_of(db: &Db, s: &Scene, handle: &str, at: DateTime<Utc>) -> AccountId {
    let fan = user(db, handle).await;
    presence::join(db, s.room, fan, at).await.unwrap();
    economy::grant(db, fan, 1_000, "f", None, at).await.unwrap();
    fan
}

/// One 1-quantity gift from `fan` to the scene's plain seat holder, sent and credited.
async fn gift_from(db: &Db, s: &Scene, fan: AccountId, key: &str, at: DateTime<Utc>) -> gifts::Sent {
    let send =
        SendGift { sender: fan, room: s.room, gift: s.gift, recipients: Recipients::Seated(vec![s.plain]), quantity: 1, combo: 1, key };
    gifts::send(db, &send, &Settings::default(), at).await.unwrap()
}

#[tokio::test]
async fn a_gift_splits_by_br1_and_moves_counters_and_levels() {
    for (b, t) in dbs().await {
        let db = &t.db;
        let now = Utc::now();
        let s = scene(db, 100).await;
        let sender = user(db, "sender").await;
        presence::join(db, s.room, sender, now).await.unwrap();
        economy::grant(db, sender, 20_000, "fund", None, now).await.unwrap();
        let settings = Settings::default();
        // 5 roses (C = 500) to both seat holders at once.
        let send = SendGift { sender, room: s.room, gift: s.gift, recipients: Recipients::AllSeated, quantity: 5, combo: 1, key: "k1" };
        let sent = gifts::send(db, &send, &settings, now).await.unwrap();
        assert_eq!(sent.sends.len(), 2, "{b:?}");
        assert_eq!(sent.balance, 19_000, "{b:?}: debited once per recipient");
        let to_plain = sent.sends.iter().find(|x| x.recipient_id == s.plain).unwrap();
        let to_member = sent.sends.iter().find(|x| x.recipient_id == s.member).unwrap();
        assert_eq!((to_plain.owner_share, to_plain.receiver_share, to_plain.agency_share, to_plain.platform_share), (25, 350, 0, 125));
        assert_eq!(to_plain.receiver_unit, "coins");
        assert_eq!((to_member.owner_share, to_member.receiver_share, to_member.agency_share, to_member.platform_share), (25, 350, 7, 118));
        assert_eq!(to_member.receiver_unit, "diamonds");
        assert_eq!(economy::balances(db, s.plain).await.unwrap(), economy::Balances { coins: 350, diamonds: 0 });
        assert_eq!(economy::balances(db, s.member).await.unwrap(), economy::Balances { coins: 0, diamonds: 350 });
        assert_eq!(economy::balances(db, s.owner).await.unwrap().coins, 50);
        let agency_w =
            platform_ledger::wallets::find(db, economy::AGENCY, &s.agency.to_string(), &economy::coins()).await.unwrap().unwrap();
        assert_eq!(agency_w.balance.get(), 7);
        // XP with the charm multiplier (150 %), and the boards.
        let charm = leaderboards::level(db, Track::Charm, &s.member.to_string()).await.unwrap();
        assert_eq!(charm.xp, 750);
        assert_eq!(leaderboards::level(db, Track::Wealth, &sender.to_string()).await.unwrap().xp, 1_000);
        assert_eq!(leaderboards::level(db, Track::Room, &s.room.to_string()).await.unwrap().xp, 1_000);
        let clock = RankingClock::default();
        // Boards show what the last fold copied from the counters.
        assert!(leaderboards::board(db, Board::Rooms, Period::Daily, &clock, now, 0).await.unwrap().is_empty(), "{b:?}");
        assert!(leaderboards::fold(db, &clock, now).await.unwrap() > 0);
        let rooms_board = leaderboards::board(db, Board::Rooms, Period::Daily, &clock, now, 0).await.unwrap();
        assert_eq!((rooms_board[0].amount, rooms_board[0].name.as_deref()), (1_000, Some("Gift Hall")), "{b:?}");
        let agencies = leaderboards::board(db, Board::Agencies, Period::Monthly, &clock, now, 0).await.unwrap();
        assert_eq!((agencies[0].amount, agencies[0].name.as_deref()), (7, Some("Stars")));
        // Tomorrow's daily board is empty; the weekly or all-time ones are not.
        let tomorrow = now + Duration::days(1);
        assert!(leaderboards::board(db, Board::Rooms, Period::Daily, &clock, tomorrow, 0).await.unwrap().is_empty());
        assert_eq!(leaderboards::board(db, Board::Rooms, Period::AllTime, &clock, tomorrow, 0).await.unwrap().len(), 1);

        // 11 more sends of 1,000 to the member: charm XP passes level 2 (10,856), announced once.
        for i in 0..11 {
            let k = format!("m{i}");
            let one = SendGift {
                sender,
                room: s.room,
                gift: s.gift,
                recipients: Recipients::Seated(vec![s.member]),
                quantity: 10,
                combo: i + 1,
                key: &k,
            };
            gifts::send(db, &one, &settings, now).await.unwrap();
        }
        let charm = leaderboards::level(db, Track::Charm, &s.member.to_string()).await.unwrap();
        assert_eq!((charm.xp, charm.level), (750 + 11 * 1_500, 2), "{b:?}");
        let level_ups: i64 = rooms_store::on_pool!(db, p => sqlx::query_scalar(
            "SELECT COUNT(*) FROM user_events WHERE kind = 'level_up' AND account_id = $1").bind(s.member).fetch_one(p).await.unwrap());
        assert_eq!(level_ups, 1, "{b:?}");
        let gift_events: i64 = rooms_store::on_pool!(db, p => sqlx::query_scalar(
            "SELECT COUNT(*) FROM room_events WHERE kind = 'gifts' AND room_id = $1").bind(s.room).fetch_one(p).await.unwrap());
        assert_eq!(gift_events, 12, "{b:?}: one frame per single send");

        // Refusals write nothing.
        let before = economy::balances(db, sender).await.unwrap();
        let to_self =
            SendGift { sender, room: s.room, gift: s.gift, recipients: Recipients::Seated(vec![sender]), quantity: 1, combo: 1, key: "x1" };
        assert_eq!(code(gifts::send(db, &to_self, &settings, now).await.unwrap_err()), "not_to_self");
        let off_seat = SendGift {
            sender,
            room: s.room,
            gift: s.gift,
            recipients: Recipients::Seated(vec![s.owner]),
            quantity: 1,
            combo: 1,
            key: "x2",
        };
        assert_eq!(code(gifts::send(db, &off_seat, &settings, now).await.unwrap_err()), "not_on_seat");
        let too_much =
            SendGift { sender, room: s.room, gift: s.gift, recipients: Recipients::AllSeated, quantity: 9_999, combo: 1, key: "x3" };
        let avail = before.coins;
        assert_eq!(
            code(gifts::send(db, &too_much, &settings, now).await.unwrap_err()),
            format!("insufficient:{}:{avail}", 2 * 999_900),
            "{b:?}"
        );
        let outsider = user(db, "outsider").await;
        let away =
            SendGift { sender: outsider, room: s.room, gift: s.gift, recipients: Recipients::AllSeated, quantity: 1, combo: 1, key: "x4" };
        assert_eq!(code(gifts::send(db, &away, &settings, now).await.unwrap_err()), "not_in_room");
        assert_eq!(economy::balances(db, sender).await.unwrap(), before);
        let n: i64 = rooms_store::on_pool!(db, p => sqlx::query_scalar("SELECT COUNT(*) FROM gift_sends WHERE request_key LIKE 'x%'").fetch_one(p).await.unwrap());
        assert_eq!(n, 0);

        // History per user and per room.
        let received = gifts::history(db, gifts::HistoryOf::Received(s.member), None, 50).await.unwrap();
        assert_eq!(received.len(), 12);
        assert_eq!(gifts::history(db, gifts::HistoryOf::Room(s.room), None, 5).await.unwrap().len(), 5);
        let by_day = gifts::diamonds_earned(db, s.member, gifts::EarnedBy::Day, 10).await.unwrap();
        assert_eq!(by_day[0].diamonds, 350 + 11 * 700, "{b:?}");
        let by_room = gifts::diamonds_earned(db, s.member, gifts::EarnedBy::Room, 10).await.unwrap();
        assert_eq!((by_room[0].label.as_str(), by_room[0].diamonds), ("Gift Hall", 350 + 11 * 700));
        assert_clean(db, "after gifts").await;
    }
}

/// Fifty viewers of the scene's room (gifts priced 99), each holding enough
/// for 15 of the 20 gifts it will send, with 50 coins over.
async fn fifty_fans(db: &Db, s: &Scene, now: DateTime<Utc>) -> Vec<AccountId> {
    let mut fans = vec![];
    for i in 0..50 {
        let a = user(db, &format!("fan{i:02}")).await;
        presence::join(db, s.room, a, now).await.unwrap();
        economy::grant(db, a, 15 * 99 + 50, &format!("fund{i}"), None, now).await.unwrap();
        fans.push(a);
    }
    fans
}

#[tokio::test]
async fn a_thousand_concurrent_gifts_from_fifty_senders_into_one_room() {
    for (b, t) in dbs().await {
        let db = &t.db;
        let now = Utc::now();
        let s = scene(db, 99).await;
        let senders = fifty_fans(db, &s, now).await;
        let settings = Settings::default();
        let keys: Vec<(AccountId, AccountId, String)> = senders
            .iter()
            .flat_map(|a| (0..20).map(move |j| (*a, if j % 2 == 0 { s.plain } else { s.member }, format!("{a}-{j}"))))
            .collect();
        let settings = &settings;
        let (results, retries) = gifts_at_once(&keys, s.room, s.gift, |g| async move { gifts::send(db, &g, settings, now).await }).await;
        eprintln!("{b:?}: 1,000 gifts, {retries} retried after a database wait");
        let mut accepted = 0;
        for r in &results {
            match r {
                Ok(_) => accepted += 1,
                Err(StoreError::Insufficient { required: 99, available }) => assert!(*available < 99, "{b:?}: refused with {available}"),
                Err(e) => panic!("{b:?}: {e:?}"),
            }
        }
        assert_eq!(accepted, 750, "{b:?}: 15 gifts per sender");
        for a in &senders {
            assert_eq!(economy::balances(db, *a).await.unwrap().coins, 50, "{b:?}: no sender below zero");
        }
        let rows: i64 = rooms_store::on_pool!(db, p => sqlx::query_scalar("SELECT COUNT(*) FROM gift_sends WHERE room_id = $1").bind(s.room).fetch_one(p).await.unwrap());
        assert_eq!(rows, 750, "{b:?}: every accepted gift recorded once");
        let room_total = leaderboards::level(db, Track::Room, &s.room.to_string()).await.unwrap().xp;
        assert_eq!(room_total, 750 * 99, "{b:?}");
        let shards: i64 = rooms_store::on_pool!(db, p => sqlx::query_scalar(
            "SELECT COUNT(*) FROM gift_counters WHERE board = 'room' AND period = 'all'").fetch_one(p).await.unwrap());
        assert!(shards > 8, "{b:?}: the room's counter is spread over shards ({shards})");
        assert_clean(db, "after 1,000 concurrent gifts").await;
    }
}

#[tokio::test]
async fn a_retried_gift_request_is_applied_once() {
    for (b, t) in dbs().await {
        let db = &t.db;
        let now = Utc::now();
        let s = scene(db, 10).await;
        let sender = user(db, "retrier").await;
        presence::join(db, s.room, sender, now).await.unwrap();
        economy::grant(db, sender, 1_000, "fund", None, now).await.unwrap();
        let settings = Settings::default();
        let send =
            SendGift { sender, room: s.room, gift: s.gift, recipients: Recipients::AllSeated, quantity: 3, combo: 1, key: "same-key" };
        let results = join_all((0..12).map(|_| gifts::send(db, &send, &settings, now))).await;
        let firsts = results.iter().filter(|r| matches!(r, Ok(x) if !x.duplicate)).count();
        assert!(results.iter().all(|r| r.is_ok()), "{b:?}: {results:?}");
        assert_eq!(firsts, 1, "{b:?}");
        let ids: std::collections::HashSet<_> = results.iter().flat_map(|r| r.as_ref().unwrap().sends.iter().map(|x| x.id)).collect();
        assert_eq!(ids.len(), 2, "{b:?}: every answer names the same two sends");
        assert_eq!(economy::balances(db, sender).await.unwrap().coins, 1_000 - 60, "{b:?}");
        assert_clean(db, "after retries").await;
    }
}

#[tokio::test]
async fn diamonds_exchange_and_payouts_move_once() {
    for (b, t) in dbs().await {
        let db = &t.db;
        let now = Utc::now();
        let s = scene(db, 1_000).await;
        let sender = user(db, "patron").await;
        let staff = user(db, "staff").await;
        presence::join(db, s.room, sender, now).await.unwrap();
        economy::grant(db, sender, 10_000, "fund", None, now).await.unwrap();
        let one = SendGift {
            sender,
            room: s.room,
            gift: s.gift,
            recipients: Recipients::Seated(vec![s.member]),
            quantity: 2,
            combo: 1,
            key: "d1",
        };
        gifts::send(db, &one, &Settings::default(), now).await.unwrap();
        assert_eq!(economy::balances(db, s.member).await.unwrap().diamonds, 1_400);
        let x = economy::exchange(db, s.member, 400, 2, now).await.unwrap();
        assert_eq!((x.coins, x.balances.coins, x.balances.diamonds), (800, 800, 1_000), "{b:?}");
        assert_eq!(code(economy::exchange(db, s.member, 1_001, 1, now).await.unwrap_err()), "insufficient:1001:1000");
        let p = economy::request_payout(db, s.member, 600, now).await.unwrap();
        assert_eq!(economy::balances(db, s.member).await.unwrap().diamonds, 400, "held at once");
        assert_eq!(code(economy::decide_payout(db, p.id, staff, PayoutAction::MarkPaid, now).await.unwrap_err()), "already_processed");
        // An agency member's payout: the agency's owner confirms first.
        let boss = rooms_store::agencies::get(db, s.agency).await.unwrap().owner_id;
        economy::decide_payout(db, p.id, boss, PayoutAction::AgencyConfirm, now).await.unwrap();
        economy::decide_payout(db, p.id, staff, PayoutAction::Approve, now).await.unwrap();
        let paid = join_all((0..8).map(|_| economy::decide_payout(db, p.id, staff, PayoutAction::MarkPaid, now))).await;
        assert_eq!(paid.iter().filter(|r| r.is_ok()).count(), 1, "{b:?}: marked paid once");
        assert!(paid.into_iter().filter_map(Result::err).all(|e| code(e) == "already_processed"));
        let q = economy::request_payout(db, s.member, 100, now).await.unwrap();
        economy::decide_payout(db, q.id, staff, PayoutAction::Reject, now).await.unwrap();
        assert_eq!(economy::balances(db, s.member).await.unwrap().diamonds, 400, "{b:?}: a rejected payout returns");
        assert_clean(db, "after payouts").await;
        // A rejected payout put back to requested: its diamonds are no
        // longer held, and the check says so.
        platform_db::on_pool!(db, p => sqlx::query("UPDATE diamond_payouts SET status = 'requested' WHERE id = $1").bind(q.id).execute(p).await.unwrap().rows_affected());
        let v = check::run(db).await.unwrap();
        assert!(v.iter().any(|(n, _)| n.starts_with("payout hold differs")), "{b:?}: {v:?}");
    }
}

#[tokio::test]
async fn boards_rank_by_amount_then_earlier_and_check_sees_tampering() {
    for (b, t) in dbs().await {
        let db = &t.db;
        let s = scene(db, 10).await;
        let settings = Settings::default();
        let t0: DateTime<Utc> = Utc::now();
        let mut fans = vec![];
        for (i, qty) in [3, 5, 3].into_iter().enumerate() {
            let a = user(db, &format!("rank{i}")).await;
            presence::join(db, s.room, a, t0).await.unwrap();
            economy::grant(db, a, 1_000, &format!("f{i}"), None, t0).await.unwrap();
            let k = format!("r{i}");
            let at = t0 + Duration::seconds(i as i64);
            let send = SendGift {
                sender: a,
                room: s.room,
                gift: s.gift,
                recipients: Recipients::Seated(vec![s.plain]),
                quantity: qty,
                combo: 1,
                key: &k,
            };
            gifts::send(db, &send, &settings, at).await.unwrap();
            fans.push(a);
        }
        let clock = RankingClock::default();
        let later = t0 + Duration::seconds(10);
        leaderboards::fold(db, &clock, later).await.unwrap();
        let board = leaderboards::board(db, Board::Wealth, Period::Weekly, &clock, later, 0).await.unwrap();
        let order: Vec<String> = board.iter().map(|r| r.subject.clone()).collect();
        // fan1 (50) first; fan0 and fan2 tie at 30: fan0 reached it earlier.
        let want: Vec<String> = [fans[1], fans[0], fans[2]].iter().map(|a| a.to_string()).collect();
        assert_eq!(order, want[..order.len().min(3)].to_vec(), "{b:?}");
        assert_eq!(board.iter().map(|r| r.rank).collect::<Vec<_>>(), vec![1, 2, 3]);
        assert_eq!(
            leaderboards::rank_of(db, Board::Wealth, Period::Weekly, &clock, later, &fans[2].to_string()).await.unwrap(),
            Some((3, 30))
        );
        assert_eq!(leaderboards::rank_of(db, Board::Wealth, Period::Weekly, &clock, later, "nobody").await.unwrap(), None);
        assert_clean(db, "before tampering").await;
        // A counter that no longer matches the gifts, and a split that does not add up, are found.
        rooms_store::on_pool!(db, p => sqlx::query("UPDATE gift_counters SET amount = amount + 1 WHERE board = 'charm' AND period = 'all'").execute(p).await.unwrap().rows_affected());
        let v = check::run(db).await.unwrap();
        assert!(v.iter().any(|(rule, _)| rule.contains("counters")), "{b:?}: {v:?}");
        // A gift naming a room that does not exist is found (PostgreSQL
        // checks no foreign key on the gift rows; SQLite still refuses it).
        if matches!(db.backend(), rooms_store::Backend::Postgres) {
            rooms_store::on_pool!(db, p => sqlx::query("UPDATE gift_sends SET room_id = $1 WHERE seq = (SELECT MIN(seq) FROM gift_sends)")
                .bind(rooms_domain::ids::RoomId::new()).execute(p).await.unwrap().rows_affected());
            let v = check::run(db).await.unwrap();
            assert!(v.iter().any(|(rule, n)| rule.starts_with("gift naming an account, room or gift") && *n == 1), "{b:?}: {v:?}");
        }
    }
}

#[tokio::test]
async fn boards_fold_from_the_counters_catch_late_gifts_and_only_rise() {
    for (b, t) in dbs().await {
        let db = &t.db;
        let s = scene(db, 10).await;
        let clock = RankingClock::default();
        let t0: DateTime<Utc> = Utc::now();
        let fan = fan_of(db, &s, "foldingfan", t0).await;
        let gift = |key: &'static str, at: DateTime<Utc>| gift_from(db, &s, fan, key, at);
        let wealth = |at| async move {
            leaderboards::board(db, Board::Wealth, Period::AllTime, &clock, at, 0).await.unwrap().first().map(|r| r.amount)
        };
        gift("a", t0).await;
        leaderboards::fold(db, &clock, t0 + Duration::seconds(1)).await.unwrap();
        assert_eq!(wealth(t0).await, Some(10), "{b:?}");
        // Two folds later, a gift created long before them commits: the
        // folds no longer read back that far, the job's refresh does.
        leaderboards::fold(db, &clock, t0 + Duration::seconds(30)).await.unwrap();
        gift("late", t0 + Duration::seconds(2)).await;
        leaderboards::fold(db, &clock, t0 + Duration::seconds(31)).await.unwrap();
        assert_eq!(wealth(t0).await, Some(10), "{b:?}: outside the fold's overlap");
        leaderboards::refresh_since(db, &clock, t0 + Duration::seconds(31) - leaderboards::REFRESH_WINDOW).await.unwrap();
        assert_eq!(wealth(t0).await, Some(20), "{b:?}: the refresh found it");
        // Folds at once on two nodes agree; a total never goes down.
        gift("c", t0 + Duration::seconds(32)).await;
        let (x, y) = tokio::join!(
            leaderboards::fold(db, &clock, t0 + Duration::seconds(33)),
            leaderboards::fold(db, &clock, t0 + Duration::seconds(33))
        );
        x.unwrap();
        y.unwrap();
        assert_eq!(wealth(t0).await, Some(30), "{b:?}");
        assert_eq!(
            leaderboards::rank_of(db, Board::Charm, Period::AllTime, &clock, t0, &s.plain.to_string()).await.unwrap(),
            Some((1, 30))
        );
        // A rebuild from the counters gives the same boards.
        let before = leaderboards::board(db, Board::Rooms, Period::AllTime, &clock, t0, 0).await.unwrap();
        assert!(leaderboards::rebuild(db, t0 + Duration::seconds(40)).await.unwrap() > 0);
        let after = leaderboards::board(db, Board::Rooms, Period::AllTime, &clock, t0, 0).await.unwrap();
        assert_eq!(
            before.iter().map(|r| (&r.subject, r.amount)).collect::<Vec<_>>(),
            after.iter().map(|r| (&r.subject, r.amount)).collect::<Vec<_>>(),
            "{b:?}"
        );
        assert_eq!(after[0].amount, 30);
        assert_clean(db, "after folding").await;
        // A total ahead of its counters is found.
        rooms_store::on_pool!(db, p => sqlx::query("UPDATE board_totals SET amount = amount + 1 WHERE board = 'room'").execute(p).await.unwrap().rows_affected());
        let v = check::run(db).await.unwrap();
        assert!(v.iter().any(|(rule, _)| rule.contains("board total")), "{b:?}: {v:?}");
    }
}

#[tokio::test]
async fn boards_cache_serves_one_read_until_a_fold_signals_a_change() {
    for (b, t) in dbs().await {
        let db = &t.db;
        let s = scene(db, 10).await;
        let clock = RankingClock::default();
        let t0: DateTime<Utc> = Utc::now();
        let fan = fan_of(db, &s, "cachedfan", t0).await;
        let gift = |key: &'static str, at: DateTime<Utc>| gift_from(db, &s, fan, key, at);
        let top = |rows: &[leaderboards::Row]| rows.first().map(|r| (r.subject.clone(), r.amount));
        let me = fan.to_string();
        // Only the signal makes this cache read again within the test.
        let cache = leaderboards::Cache::new(std::time::Duration::from_secs(3600));
        let page = |period, at| cache.page(db, Board::Wealth, period, &clock, at, 0);

        gift("a", t0).await;
        leaderboards::fold(db, &clock, t0 + Duration::seconds(1)).await.unwrap();
        cache.changed();
        let first = page(Period::AllTime, t0).await.unwrap();
        assert_eq!(top(&first), Some((me.clone(), 10)), "{b:?}: the fold shows");
        assert!(first[0].name.is_some(), "{b:?}: with the names");
        assert_eq!(cache.rank(db, Board::Wealth, Period::AllTime, &clock, t0, &me).await.unwrap(), Some((1, 10)), "{b:?}");
        // Two readers of the board get the same page, read once.
        let (x, y) = tokio::join!(page(Period::AllTime, t0), page(Period::AllTime, t0));
        assert!(std::sync::Arc::ptr_eq(&x.unwrap(), &first) && std::sync::Arc::ptr_eq(&y.unwrap(), &first), "{b:?}");

        // A second gift is folded into the totals; until the signal the
        // page and the ranks are the ones read before.
        gift("b", t0 + Duration::seconds(2)).await;
        leaderboards::fold(db, &clock, t0 + Duration::seconds(3)).await.unwrap();
        assert_eq!(top(&page(Period::AllTime, t0).await.unwrap()).map(|t| t.1), Some(10), "{b:?}");
        assert_eq!(cache.rank(db, Board::Wealth, Period::AllTime, &clock, t0, &me).await.unwrap(), Some((1, 10)), "{b:?}");
        assert_eq!(leaderboards::rank_of(db, Board::Wealth, Period::AllTime, &clock, t0, &me).await.unwrap(), Some((1, 20)), "{b:?}");
        // The signal: the next read has it.
        cache.changed();
        let after = page(Period::AllTime, t0).await.unwrap();
        assert_eq!(top(&after).map(|t| t.1), Some(20), "{b:?}: the folded gift appears after the signal");
        assert!(!std::sync::Arc::ptr_eq(&after, &first));
        assert_eq!(cache.rank(db, Board::Wealth, Period::AllTime, &clock, t0, &me).await.unwrap(), Some((1, 20)), "{b:?}");
        // Not on the board, or on another board.
        assert_eq!(cache.rank(db, Board::Wealth, Period::AllTime, &clock, t0, "nobody").await.unwrap(), None);
        assert_eq!(cache.rank(db, Board::Charm, Period::AllTime, &clock, t0, &s.plain.to_string()).await.unwrap(), Some((1, 20)), "{b:?}");
        // Period boundaries are the clock's: today's daily board is cached,
        // tomorrow's is a new (empty) board.
        assert_eq!(top(&page(Period::Daily, t0).await.unwrap()).map(|t| t.1), Some(20), "{b:?}");
        assert!(page(Period::Daily, t0 + Duration::days(1)).await.unwrap().is_empty(), "{b:?}");

        // Without a signal, a page is read again once it is older than the cache's time.
        let short = leaderboards::Cache::new(std::time::Duration::from_millis(50));
        let before = short.page(db, Board::Wealth, Period::AllTime, &clock, t0, 0).await.unwrap();
        gift("c", t0 + Duration::seconds(4)).await;
        leaderboards::fold(db, &clock, t0 + Duration::seconds(5)).await.unwrap();
        tokio::time::sleep(std::time::Duration::from_millis(60)).await;
        let later = short.page(db, Board::Wealth, Period::AllTime, &clock, t0, 0).await.unwrap();
        assert_eq!((top(&before).map(|t| t.1), top(&later).map(|t| t.1)), (Some(20), Some(30)), "{b:?}");
    }
}

#[tokio::test]
async fn levels_are_data_with_badges_and_privileges() {
    use rooms_domain::status::{Privilege, Step};
    use rooms_store::levels;
    for (b, t) in dbs().await {
        let db = &t.db;
        let now = Utc::now();
        let s = scene(db, 100).await;
        let sender = user(db, "climber").await;
        presence::join(db, s.room, sender, now).await.unwrap();
        economy::grant(db, sender, 50_000, "fund", None, now).await.unwrap();
        let fresh = levels::badge(db, sender).await.unwrap();
        assert_eq!((fresh.wealth, fresh.wealth_badge.as_str(), fresh.charm, fresh.coloured), (1, "Copper", 1, false), "{b:?}");
        assert!(fresh.privileges.is_empty());
        // A step that breaks the ladder is refused on its field; nothing changes.
        let bad = Step { level: 2, xp: 0, badge: "Bronze".into(), privileges: vec![] };
        let e = levels::set_step(db, Track::Wealth, &bad, None, now).await.unwrap_err();
        assert_eq!(code(e), "field:xp", "{b:?}");
        let e = levels::set_step(db, Track::Wealth, &Step { level: 12, xp: 9_000_000, badge: "Far".into(), privileges: vec![] }, None, now)
            .await
            .unwrap_err();
        assert_eq!(code(e), "field:xp", "{b:?}: a gap");
        assert_eq!(levels::ladders(db).await.unwrap().wealth.steps[1].xp, 10_856);
        // Staff lower level 2 to 1,000 XP and make it announce entries.
        let step = Step { level: 2, xp: 1_000, badge: "Bronze".into(), privileges: vec![Privilege::EntryNotice] };
        let ladder = levels::set_step(db, Track::Wealth, &step, None, now).await.unwrap();
        assert_eq!(ladder.steps[1], step);
        let e = levels::require(db, sender, Privilege::EntryNotice, "Needs wealth level 2").await.unwrap_err();
        assert_eq!(code(e), "level_required");
        assert!(!levels::announce_entry(db, s.room, sender, now).await.unwrap(), "{b:?}: level 1 enters quietly");
        // 999 coins: still level 1; one more coin: level 2, announced once.
        let settings = Settings::default();
        let gift_999 = gifts::create_gift(db, &NewGift::plain("g999", "G", 999)).await.unwrap();
        let one =
            |gift, key| SendGift { sender, room: s.room, gift, recipients: Recipients::Seated(vec![s.plain]), quantity: 1, combo: 1, key };
        gifts::send(db, &one(gift_999, "a"), &settings, now).await.unwrap();
        assert_eq!(levels::badge(db, sender).await.unwrap().wealth, 1, "{b:?}: 999 XP");
        let gift_1 = gifts::create_gift(db, &NewGift::plain("g1", "G1", 1)).await.unwrap();
        gifts::send(db, &one(gift_1, "b"), &settings, now).await.unwrap();
        gifts::send(db, &one(gift_1, "c"), &settings, now).await.unwrap();
        let up = levels::badge(db, sender).await.unwrap();
        assert_eq!((up.wealth, up.wealth_badge.as_str()), (2, "Bronze"), "{b:?}: 1,000 XP");
        assert!(up.has(Privilege::EntryNotice) && !up.coloured);
        let events = rooms_store::events::user_since(db, sender, 0, 100).await.unwrap();
        let ups: Vec<_> = events.iter().filter(|e| e.kind == "level_up").map(|e| e.data()).collect();
        assert_eq!(ups.len(), 1, "{b:?}: {ups:?}");
        assert_eq!(
            (ups[0]["track"].as_str(), ups[0]["level"].as_i64(), ups[0]["badge"].as_str()),
            (Some("wealth"), Some(2), Some("Bronze"))
        );
        assert_eq!(ups[0]["unlocks"], serde_json::json!(["entry_notice"]));
        assert!(levels::announce_entry(db, s.room, sender, now).await.unwrap());
        let notice =
            rooms_store::events::room_since(db, s.room, 0, 1000).await.unwrap().into_iter().rfind(|e| e.kind == "entry_notice").unwrap();
        assert_eq!(notice.data()["badge"], "Bronze");
        // Badges for several at once, each once, in order.
        let many = levels::badges(db, &[s.plain, sender, s.plain]).await.unwrap();
        assert_eq!(many.iter().map(|x| x.account_id).collect::<Vec<_>>(), vec![s.plain, sender]);
        assert_eq!(many[0].charm, 1);
        assert_eq!(levels::room_level(db, s.room).await.unwrap().xp, 1_001);
        assert_clean(db, "levels").await;
    }
}

#[tokio::test]
async fn frames_are_bought_for_a_period_stack_and_expire() {
    use rooms_store::frames;
    for (b, t) in dbs().await {
        let db = &t.db;
        // Whole seconds: PostgreSQL keeps microseconds.
        let now = DateTime::from_timestamp(Utc::now().timestamp(), 0).unwrap();
        let who = user(db, "framed").await;
        let list = frames::catalogue(db).await.unwrap();
        let gold = list.iter().find(|f| f.code == "gold").unwrap().clone();
        let royal = list.iter().find(|f| f.code == "royal").unwrap().clone();
        assert_eq!((gold.price, gold.days, royal.premium), (500, 30, true), "{b:?}");
        // No coins: 402 with the numbers, nothing written.
        let e = frames::buy(db, who, gold.id, 500, "k1", now).await.unwrap_err();
        assert_eq!(code(e), "insufficient:500:0", "{b:?}");
        assert!(frames::owned(db, who, now).await.unwrap().is_empty());
        economy::grant(db, who, 1_200, "fund", None, now).await.unwrap();
        // A stale price is refused; so is a premium frame below its level.
        assert_eq!(code(frames::buy(db, who, gold.id, 400, "k1", now).await.unwrap_err()), "price_changed");
        assert_eq!(code(frames::buy(db, who, royal.id, royal.price, "k1", now).await.unwrap_err()), "level_required");
        let first = frames::buy(db, who, gold.id, 500, "k1", now).await.unwrap();
        assert_eq!((first.balance, first.expires_at), (700, now + Duration::days(30)), "{b:?}");
        // The same key again: refused, charged once.
        assert_eq!(code(frames::buy(db, who, gold.id, 500, "k1", now).await.unwrap_err()), "duplicate_purchase");
        assert_eq!(economy::balances(db, who).await.unwrap().coins, 700);
        // Rebought ten days later: the time stacks on what was left.
        let later = now + Duration::days(10);
        let second = frames::buy(db, who, gold.id, 500, "k2", later).await.unwrap();
        assert_eq!(second.expires_at, now + Duration::days(60), "{b:?}");
        assert_eq!(code(frames::buy(db, who, gold.id, 500, "k3", later).await.unwrap_err()), "insufficient:500:200");
        // Wearing: only owned, running frames; one at a time.
        let neon = list.iter().find(|f| f.code == "neon").unwrap();
        assert_eq!(code(frames::wear(db, who, Some(neon.id), later).await.unwrap_err()), "not_owned");
        frames::wear(db, who, Some(gold.id), later).await.unwrap();
        assert_eq!(rooms_store::levels::badge(db, who).await.unwrap().frame.as_deref(), Some("gold"), "{b:?}");
        let owned = frames::owned(db, who, later).await.unwrap();
        assert_eq!((owned.len(), owned[0].worn), (1, true));
        // The job leaves running frames and removes lapsed ones, once.
        assert_eq!(frames::expire(db, now + Duration::days(59)).await.unwrap(), 0, "{b:?}");
        let end = now + Duration::days(60);
        assert_eq!(code(frames::wear(db, who, Some(gold.id), end).await.unwrap_err()), "frame_expired");
        assert_eq!(frames::expire(db, end).await.unwrap(), 1, "{b:?}");
        assert_eq!(frames::expire(db, end).await.unwrap(), 0);
        assert!(frames::owned(db, who, end).await.unwrap().is_empty());
        assert_eq!(rooms_store::levels::badge(db, who).await.unwrap().frame, None);
        let told = rooms_store::events::user_since(db, who, 0, 100).await.unwrap();
        assert_eq!(told.iter().filter(|e| e.kind == "frame_expired").count(), 1);
        // Bought again after lapsing: a fresh period from then.
        economy::grant(db, who, 500, "fund2", None, end).await.unwrap();
        assert_eq!(frames::buy(db, who, gold.id, 500, "k4", end).await.unwrap().expires_at, end + Duration::days(30));
        assert_clean(db, "frames").await;
    }
}

/// Sums a wallet-owner's balance in `unit` (0 when not opened).
async fn wallet_balance(db: &Db, kind: &str, owner: &str, unit: &str) -> i64 {
    rooms_store::on_pool!(db, p => sqlx::query_scalar::<_, i64>(
        "SELECT CAST(COALESCE(SUM(balance), 0) AS BIGINT) FROM wallets WHERE owner_kind = $1 AND owner_id LIKE $2 AND unit = $3")
        .bind(kind).bind(owner).bind(unit).fetch_one(p).await.unwrap())
}

#[tokio::test]
async fn concurrent_gifts_into_one_room_are_credited_in_batches_with_exact_sums() {
    for (b, t) in dbs().await {
        let db = &t.db;
        let now = Utc::now();
        let s = scene(db, 100).await;
        let mut senders = vec![];
        for i in 0..40 {
            let a = user(db, &format!("hot{i:02}")).await;
            presence::join(db, s.room, a, now).await.unwrap();
            economy::grant(db, a, 10 * 100, &format!("hotfund{i}"), None, now).await.unwrap();
            senders.push(a);
        }
        let settings = Settings::default();
        let keys: Vec<(AccountId, AccountId, String)> = senders
            .iter()
            .flat_map(|a| (0..10).map(move |j| (*a, if j % 2 == 0 { s.plain } else { s.member }, format!("{a}-hot-{j}"))))
            .collect();
        // Senders only accept; a writer credits concurrently, as on a node.
        let stop = std::sync::atomic::AtomicBool::new(false);
        let stop = &stop;
        let writer = async {
            let mut runs = 0u64;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                gifts::credit_pending(db, Utc::now()).await.unwrap();
                runs += 1;
                tokio::time::sleep(std::time::Duration::from_millis(5)).await;
            }
            runs
        };
        let settings = &settings;
        let senders_done = async {
            let (results, _) = gifts_at_once(&keys, s.room, s.gift, |g| async move { gifts::accept(db, &g, settings, now).await }).await;
            stop.store(true, std::sync::atomic::Ordering::Relaxed);
            results
        };
        let (results, _runs) = tokio::join!(senders_done, writer);
        assert!(results.iter().all(|r| r.is_ok()), "{b:?}: every gift accepted");
        gifts::credit_pending(db, Utc::now()).await.unwrap();
        // 400 gifts of 100, half to a plain seat holder, half to an agency member (paid in diamonds).
        let sends: Vec<(i64, i64, i64, i64, i64)> = rooms_store::on_pool!(db, p => sqlx::query_as(
            "SELECT cost, owner_share, receiver_share, agency_share, platform_share FROM gift_sends WHERE room_id = $1").bind(s.room).fetch_all(p).await.unwrap());
        assert_eq!(sends.len(), 400, "{b:?}");
        let owner_sum: i64 = sends.iter().map(|x| x.1).sum();
        assert_eq!(economy::balances(db, s.owner).await.unwrap().coins, owner_sum, "{b:?}: the owner's share of every gift, once");
        let plain: i64 = rooms_store::on_pool!(db, p => sqlx::query_scalar(
            "SELECT CAST(SUM(receiver_share) AS BIGINT) FROM gift_sends WHERE recipient_id = $1").bind(s.plain).fetch_one(p).await.unwrap());
        assert_eq!(economy::balances(db, s.plain).await.unwrap().coins, plain, "{b:?}");
        let member: i64 = rooms_store::on_pool!(db, p => sqlx::query_scalar(
            "SELECT CAST(SUM(receiver_share) AS BIGINT) FROM gift_sends WHERE recipient_id = $1").bind(s.member).fetch_one(p).await.unwrap());
        assert_eq!(economy::balances(db, s.member).await.unwrap().diamonds, member, "{b:?}");
        let agency_sum: i64 = sends.iter().map(|x| x.3).sum();
        assert_eq!(wallet_balance(db, "agency", &s.agency.to_string(), "coins").await, agency_sum, "{b:?}");
        assert_eq!(wallet_balance(db, "system", "gift_escrow:%", "coins").await, 0, "{b:?}: nothing left in escrow");
        for a in &senders {
            assert_eq!(economy::balances(db, *a).await.unwrap().coins, 0, "{b:?}: each sender paid exactly its ten gifts");
        }
        let (batches, credited): (i64, i64) = rooms_store::on_pool!(db, p => sqlx::query_as(
            "SELECT (SELECT COUNT(*) FROM gift_credit_batches), (SELECT COUNT(*) FROM gift_sends WHERE credit_batch IS NOT NULL)").fetch_one(p).await.unwrap());
        assert_eq!(credited, 400, "{b:?}: every gift credited");
        assert!(batches < 400, "{b:?}: credited in batches ({batches} for 400 gifts)");
        // The owner's wallet has one entry per batch, not one per gift.
        let owner_entries: i64 = rooms_store::on_pool!(db, p => sqlx::query_scalar(
            "SELECT COUNT(*) FROM ledger_entries e JOIN wallets w ON w.id = e.wallet_id WHERE w.owner_kind = 'account' AND w.owner_id = $1")
            .bind(s.owner.to_string()).fetch_one(p).await.unwrap());
        assert_eq!(owner_entries, batches, "{b:?}");
        let room_total = leaderboards::level(db, Track::Room, &s.room.to_string()).await.unwrap().xp;
        assert_eq!(room_total, 400 * 100, "{b:?}");
        assert_clean(db, "after batched credits").await;
    }
}

#[tokio::test]
async fn a_gift_accepted_before_a_crash_is_credited_exactly_once() {
    for (b, t) in dbs().await {
        let db = &t.db;
        let now = Utc::now();
        let s = scene(db, 100).await;
        let sender = user(db, "early").await;
        presence::join(db, s.room, sender, now).await.unwrap();
        economy::grant(db, sender, 1_000, "fund", None, now).await.unwrap();
        let settings = Settings::default();
        // Accepted, and the node stops before its writer runs.
        for k in ["c1", "c2"] {
            let send = SendGift { sender, room: s.room, gift: s.gift, recipients: Recipients::AllSeated, quantity: 1, combo: 1, key: k };
            assert_eq!(gifts::accept(db, &send, &settings, now).await.unwrap().sends.len(), 2);
        }
        assert_eq!(economy::balances(db, sender).await.unwrap().coins, 600, "{b:?}: the sender is debited at once");
        assert_eq!(economy::balances(db, s.owner).await.unwrap().coins, 0, "{b:?}: nothing credited yet");
        assert_eq!(economy::balances(db, s.member).await.unwrap().diamonds, 0, "{b:?}");
        assert_eq!(wallet_balance(db, "system", "gift_escrow:%", "coins").await, 400, "{b:?}: the costs wait in escrow");
        assert_clean(db, "with recent gifts waiting").await;

        // The writer runs twice at once, then again: the gifts are credited once.
        let (x, y) = tokio::join!(gifts::credit_pending(db, now), gifts::credit_pending(db, now));
        let credited = x.as_ref().map_or(0, |n| *n) + y.as_ref().map_or(0, |n| *n);
        assert_eq!(credited, 4, "{b:?}: {x:?} {y:?}");
        assert_eq!(gifts::credit_pending(db, now).await.unwrap(), 0, "{b:?}");
        assert_eq!(economy::balances(db, s.owner).await.unwrap().coins, 4 * 5, "{b:?}");
        assert_eq!(economy::balances(db, s.plain).await.unwrap().coins, 2 * 70, "{b:?}");
        assert_eq!(economy::balances(db, s.member).await.unwrap().diamonds, 2 * 70, "{b:?}");
        assert_eq!(wallet_balance(db, "system", "gift_escrow:%", "coins").await, 0, "{b:?}");
        assert_clean(db, "after the credit").await;

        // A gift left waiting for long is reported until it is credited.
        let old = now - Duration::minutes(10);
        let send = SendGift { sender, room: s.room, gift: s.gift, recipients: Recipients::AllSeated, quantity: 1, combo: 1, key: "c3" };
        gifts::accept(db, &send, &settings, old).await.unwrap();
        let v = check::run(db).await.unwrap();
        assert_eq!(v, vec![("gift not credited 5 minutes after it was accepted".to_string(), 2)], "{b:?}");
        // A batch's posting that differs from its gifts is reported.
        assert_eq!(gifts::credit_pending(db, now).await.unwrap(), 2);
        assert_clean(db, "after the late credit").await;
        rooms_store::on_pool!(db, p => sqlx::query("UPDATE gift_credit_batches SET coins = coins + 1 WHERE gifts = 2").execute(p).await.unwrap().rows_affected());
        let v = check::run(db).await.unwrap();
        assert!(v.iter().any(|(n, _)| n.starts_with("gift credit batch")), "{b:?}: {v:?}");
    }
}

fn request(sender: AccountId, room: RoomId, gift: GiftId, to: Recipients, key: &str) -> gifts::GiftRequest {
    gifts::GiftRequest { sender, room, gift, recipients: to, quantity: 1, combo: 1, key: key.into() }
}

#[tokio::test]
async fn a_batch_of_gift_requests_answers_each_on_its_own_with_exact_sums() {
    for (b, t) in dbs().await {
        let db = &t.db;
        let now = Utc::now();
        let s = scene(db, 100).await;
        let rich = user(db, "rich").await;
        let poor = user(db, "poor").await;
        let outsider = user(db, "outsider").await;
        let other = user(db, "other").await;
        for (a, coins) in [(rich, 250), (poor, 50), (outsider, 1_000), (other, 1_000)] {
            if a != outsider {
                presence::join(db, s.room, a, now).await.unwrap();
            }
            economy::grant(db, a, coins, &format!("fund-{a}"), None, now).await.unwrap();
        }
        let one = |a, to, k: &str| request(a, s.room, s.gift, Recipients::Seated(vec![to]), k);
        let reqs = [
            one(rich, s.plain, "r1"),
            one(poor, s.plain, "p1"),
            one(outsider, s.plain, "o1"),
            one(rich, s.member, "r2"),
            request(other, s.room, s.gift, Recipients::AllSeated, "q1"),
            one(other, other, "q2"),
            one(rich, s.plain, "r3"),
        ];
        let sends: Vec<SendGift> = reqs.iter().map(|r| r.as_send()).collect();
        let answers = gifts::accept_many(db, &sends, &Settings::default(), now).await.unwrap();
        assert_eq!(answers.len(), 7, "{b:?}");
        // Each answer carries the sender's coins after the batch.
        let outcome: Vec<String> = answers
            .into_iter()
            .map(|a| match a {
                Ok(x) => format!("ok:{}:{}", x.sends.len(), x.balance),
                Err(e) => code(e),
            })
            .collect();
        assert_eq!(
            outcome,
            vec![
                "ok:1:50",
                "insufficient:100:50",
                "not_in_room",
                "ok:1:50",
                "ok:2:800",
                "not_to_self",
                // The sender's running balance: 250 - 100 - 100.
                "insufficient:100:50",
            ],
            "{b:?}"
        );
        for (a, coins) in [(rich, 50), (poor, 50), (outsider, 1_000), (other, 800)] {
            assert_eq!(economy::balances(db, a).await.unwrap().coins, coins, "{b:?}");
        }
        let rows: i64 = rooms_store::on_pool!(db, p => sqlx::query_scalar("SELECT COUNT(*) FROM gift_sends WHERE room_id = $1").bind(s.room).fetch_one(p).await.unwrap());
        assert_eq!(rows, 4, "{b:?}: one row per accepted gift and recipient");
        // One room frame for the batch, listing its three accepted gifts in order.
        let frames: Vec<(String, String)> = rooms_store::on_pool!(db, p => sqlx::query_as(
            "SELECT kind, payload FROM room_events WHERE room_id = $1 AND kind IN ('gift', 'gifts') ORDER BY seq").bind(s.room).fetch_all(p).await.unwrap());
        assert_eq!(frames.len(), 1, "{b:?}: {frames:?}");
        assert_eq!(frames[0].0, "gifts", "{b:?}");
        let list: serde_json::Value = serde_json::from_str(&frames[0].1).unwrap();
        let senders: Vec<&str> = list["gifts"].as_array().unwrap().iter().map(|g| g["sender"].as_str().unwrap()).collect();
        assert_eq!(senders, [rich.to_string(), rich.to_string(), other.to_string()], "{b:?}");
        assert_eq!(list["gifts"][2]["to"].as_array().unwrap().len(), 2, "{b:?}: q1 went to both seat holders");
        assert_eq!(list["gifts"][2]["cost"], 200, "{b:?}");
        // One `gifts_received` per recipient for the batch, one `balance` per sender.
        for (who, n) in [(s.plain, 2), (s.member, 2)] {
            let told: Vec<String> = rooms_store::on_pool!(db, p => sqlx::query_scalar(
                "SELECT payload FROM user_events WHERE account_id = $1 AND kind = 'gifts_received'").bind(who).fetch_all(p).await.unwrap());
            assert_eq!(told.len(), 1, "{b:?}");
            let v: serde_json::Value = serde_json::from_str(&told[0]).unwrap();
            assert_eq!(v["gifts"].as_array().unwrap().len(), n, "{b:?}: {v}");
        }
        for (who, coins) in [(rich, 50), (other, 800)] {
            let told: Vec<String> = rooms_store::on_pool!(db, p => sqlx::query_scalar(
                "SELECT payload FROM user_events WHERE account_id = $1 AND kind = 'balance' ORDER BY seq").bind(who).fetch_all(p).await.unwrap());
            let last: serde_json::Value = serde_json::from_str(told.last().unwrap()).unwrap();
            assert_eq!(last["coins"], coins, "{b:?}: {told:?}");
        }
        let room_total = leaderboards::level(db, Track::Room, &s.room.to_string()).await.unwrap().xp;
        assert_eq!(room_total, 400, "{b:?}: the counters merged over the batch");
        // The money: one transfer into the batch's escrow shard (its first
        // request's), one leg per sender and the shard's credit; each gift
        // names the transfer.
        let postings: Vec<(String, String)> = rooms_store::on_pool!(db, p => sqlx::query_as(
            "SELECT request_key, escrow_posting FROM gift_sends WHERE room_id = $1 ORDER BY seq").bind(s.room).fetch_all(p).await.unwrap());
        let shard = rooms_domain::economy::escrow_shard_of(&postings[0].0);
        let mut senders: std::collections::BTreeSet<&str> = Default::default();
        for (k, posting) in &postings {
            assert!(posting.ends_with(&format!(":gift_escrow:{shard}")), "{b:?}: {posting}");
            senders.insert(if k.starts_with('r') { "rich" } else { "other" });
        }
        let distinct: std::collections::BTreeSet<&String> = postings.iter().map(|(_, p)| p).collect();
        assert_eq!(distinct.len(), 1, "{b:?}: one transfer for the batch");
        let legs: i64 = rooms_store::on_pool!(db, p => sqlx::query_scalar(
            "SELECT COUNT(*) FROM ledger_entries WHERE idempotency_key IN (SELECT escrow_posting FROM gift_sends WHERE room_id = $1)")
            .bind(s.room).fetch_one(p).await.unwrap());
        assert_eq!(legs as usize, senders.len() + 1, "{b:?}: a leg per sender and the shard's");
        // A posting that moved other than its gifts' costs is found.
        let tamper = |by: i64| {
            let key = postings[0].1.clone();
            async move {
                rooms_store::on_pool!(db, p => { sqlx::query("UPDATE ledger_entries SET delta = delta + $1 WHERE idempotency_key = $2 AND delta > 0")
                    .bind(by).bind(key).execute(p).await.unwrap(); });
            }
        };
        tamper(1).await;
        let found = rooms_store::check::run(db).await.unwrap();
        assert!(found.iter().any(|(m, n)| m.starts_with("a batch's escrow transfer moved other") && *n == 1), "{b:?}: {found:?}");
        tamper(-1).await;
        // The shares were credited in the batch's own transaction: nothing
        // waits for the credit writer, every gift names one credit batch,
        // and that batch's transfer takes the costs out of the same escrow
        // shard (its two legs there cancel).
        assert_eq!(gifts::credit_pending(db, now).await.unwrap(), 0, "{b:?}: nothing left to credit");
        let batches: Vec<String> = rooms_store::on_pool!(db, p => sqlx::query_scalar(
            "SELECT DISTINCT CAST(credit_batch AS TEXT) FROM gift_sends WHERE room_id = $1 AND credited_at IS NOT NULL").bind(s.room).fetch_all(p).await.unwrap());
        assert_eq!(batches.len(), 1, "{b:?}: {batches:?}");
        let escrow_out: i64 = rooms_store::on_pool!(db, p => sqlx::query_scalar(
            "SELECT CAST(COALESCE(SUM(e.delta), 0) AS BIGINT) FROM ledger_entries e JOIN wallets w ON w.id = e.wallet_id
             WHERE e.idempotency_key = 'gift_credit:' || $1 AND w.owner_id LIKE 'gift_escrow:%'").bind(&batches[0]).fetch_one(p).await.unwrap());
        assert_eq!(escrow_out, -400, "{b:?}: the batch's costs out of escrow");
        let held: i64 = rooms_store::on_pool!(db, p => sqlx::query_scalar(
            "SELECT CAST(COALESCE(SUM(balance), 0) AS BIGINT) FROM wallets WHERE owner_id LIKE 'gift_escrow:%'").fetch_one(p).await.unwrap());
        assert_eq!(held, 0, "{b:?}: escrow holds nothing after the batch");
        assert!(rooms_store::check::run(db).await.unwrap().is_empty(), "{b:?}");
        // BR-1: the plain receiver 70 coins a gift (two), the member 70 diamonds each (two).
        assert_eq!(economy::balances(db, s.plain).await.unwrap().coins, 140, "{b:?}");
        assert_eq!(economy::balances(db, s.member).await.unwrap().diamonds, 140, "{b:?}");
        assert_eq!(economy::balances(db, s.owner).await.unwrap().coins, 20, "{b:?}");
        // The credit batch told each credited person their balance after it
        // (one read and one insert for all of them).
        for (who, unit, amount) in [(s.plain, "coins", 140), (s.member, "diamonds", 140), (s.owner, "coins", 20)] {
            let told: Vec<String> = rooms_store::on_pool!(db, p => sqlx::query_scalar(
                "SELECT payload FROM user_events WHERE account_id = $1 AND kind = 'balance' ORDER BY seq").bind(who).fetch_all(p).await.unwrap());
            let last: serde_json::Value = serde_json::from_str(told.last().unwrap()).unwrap();
            assert_eq!(last[unit], amount, "{b:?}: {told:?}");
        }
        assert_clean(db, "after a mixed batch").await;
    }
}

#[tokio::test]
async fn a_key_twice_in_one_batch_or_used_before_is_applied_once() {
    for (b, t) in dbs().await {
        let db = &t.db;
        let now = Utc::now();
        let s = scene(db, 10).await;
        let sender = user(db, "twice").await;
        presence::join(db, s.room, sender, now).await.unwrap();
        economy::grant(db, sender, 1_000, "fund", None, now).await.unwrap();
        let settings = Settings::default();
        let before = request(sender, s.room, s.gift, Recipients::AllSeated, "before");
        let first = gifts::accept(db, &before.as_send(), &settings, now).await.unwrap();
        let same = request(sender, s.room, s.gift, Recipients::AllSeated, "same");
        let reqs = [same.clone(), before.clone(), same.clone()];
        let sends: Vec<SendGift> = reqs.iter().map(|r| r.as_send()).collect();
        let answers: Vec<gifts::Sent> =
            gifts::accept_many(db, &sends, &settings, now).await.unwrap().into_iter().map(|a| a.unwrap()).collect();
        assert_eq!(answers.iter().map(|a| a.duplicate).collect::<Vec<_>>(), vec![false, true, true], "{b:?}");
        let ids = |x: &gifts::Sent| x.sends.iter().map(|r| r.id).collect::<Vec<_>>();
        assert_eq!(ids(&answers[1]), ids(&first), "{b:?}: the earlier request's sends");
        assert_eq!(ids(&answers[2]), ids(&answers[0]), "{b:?}: the copy names the first copy's sends");
        assert_eq!(answers[0].sends.len(), 2, "{b:?}");
        assert_eq!(economy::balances(db, sender).await.unwrap().coins, 1_000 - 20 - 20, "{b:?}: each key charged once");
        assert!(answers.iter().all(|a| a.balance == 960), "{b:?}");
        let again = gifts::accept_many(db, &sends, &settings, now).await.unwrap();
        assert!(again.iter().all(|a| matches!(a, Ok(x) if x.duplicate)), "{b:?}: a retried batch moves nothing");
        assert_eq!(economy::balances(db, sender).await.unwrap().coins, 960, "{b:?}");
        gifts::credit_pending(db, now).await.unwrap();
        assert_clean(db, "after duplicate keys in a batch").await;
    }
}

#[tokio::test]
async fn a_senders_batches_one_after_another_count_on_one_counter_shard() {
    for (b, t) in dbs().await {
        let db = &t.db;
        let now = Utc::now();
        let s = scene(db, 10).await;
        let sender = user(db, "steady").await;
        presence::join(db, s.room, sender, now).await.unwrap();
        economy::grant(db, sender, 1_000, "fund", None, now).await.unwrap();
        let settings = Settings::default();
        for i in 0..12 {
            let r = request(sender, s.room, s.gift, Recipients::Seated(vec![s.plain]), &format!("steady-{i}"));
            let answer = gifts::accept_many(db, &[r.as_send()], &settings, now).await.unwrap().pop().unwrap().unwrap();
            assert!(answer.credited, "{b:?}");
        }
        // Keys alone would have spread twelve gifts over most of the 16 shards.
        let shards: Vec<i64> = rooms_store::on_pool!(db, p => sqlx::query_scalar(
            "SELECT DISTINCT shard FROM gift_counters WHERE board = 'wealth' AND subject = $1")
            .bind(sender.to_string()).fetch_all(p).await.unwrap());
        assert_eq!(shards.len(), 1, "{b:?}: {shards:?}");
        let level = leaderboards::level(db, Track::Wealth, &sender.to_string()).await.unwrap();
        assert_eq!(level.xp, 120, "{b:?}: the sums are the same");
        assert_clean(db, "after batches on one shard").await;
    }
}

#[tokio::test]
async fn a_thousand_gifts_in_concurrent_batches_with_exact_sums() {
    for (b, t) in dbs().await {
        let db = &t.db;
        let now = Utc::now();
        let s = scene(db, 99).await;
        let senders = fifty_fans(db, &s, now).await;
        let settings = Settings::default();
        let reqs: Vec<gifts::GiftRequest> = (0..20)
            .flat_map(|j| senders.iter().map(move |a| (*a, j)))
            .map(|(a, j)| {
                request(a, s.room, s.gift, Recipients::Seated(vec![if j % 2 == 0 { s.plain } else { s.member }]), &format!("{a}-{j}"))
            })
            .collect();
        // Ten batches of 100 at once; a batch that fails as a whole is
        // accepted one by one, as the web's batcher does.
        let settings = &settings;
        let results: Vec<Vec<Result<gifts::Sent, StoreError>>> = join_all(reqs.chunks(100).map(|chunk| async move {
            let sends: Vec<SendGift> = chunk.iter().map(|r| r.as_send()).collect();
            match gifts::accept_many(db, &sends, settings, now).await {
                Ok(a) => a,
                Err(_) => {
                    let mut out = vec![];
                    for r in chunk {
                        out.push(gifts::accept(db, &r.as_send(), settings, now).await);
                    }
                    out
                }
            }
        }))
        .await;
        let mut accepted = 0;
        for r in results.iter().flatten() {
            match r {
                Ok(x) => accepted += usize::from(!x.duplicate),
                Err(StoreError::Insufficient { required: 99, available }) => assert!(*available < 99, "{b:?}: refused with {available}"),
                Err(e) => panic!("{b:?}: {e:?}"),
            }
        }
        assert_eq!(accepted, 750, "{b:?}: 15 gifts per sender");
        for a in &senders {
            assert_eq!(economy::balances(db, *a).await.unwrap().coins, 50, "{b:?}: no sender below zero");
        }
        let room_total = leaderboards::level(db, Track::Room, &s.room.to_string()).await.unwrap().xp;
        assert_eq!(room_total, 750 * 99, "{b:?}");
        gifts::credit_pending(db, now).await.unwrap();
        assert_clean(db, "after 1,000 gifts in batches").await;
    }
}

/// Each node keeps the catalogue and the level ladders in memory; a
/// change made through the back office's paths is seen by the very next
/// gift (its batch reads the versions a trigger moves), and a gift batch
/// reads neither table while nothing changed.
#[tokio::test]
async fn a_catalogue_or_ladder_change_is_seen_by_the_next_gift() {
    use rooms_domain::status::Step;
    use rooms_store::{backoffice, levels};
    for (b, t) in dbs().await {
        let db = &t.db;
        let now = Utc::now();
        let s = scene(db, 100).await;
        let fan = fan_of(db, &s, "cached", now).await;
        let staff = user(db, "staff").await;
        let settings = Settings::default();
        let send = |key: &'static str| request(fan, s.room, s.gift, Recipients::Seated(vec![s.plain]), key);
        let once = |r: gifts::GiftRequest| async move {
            let send = r.as_send();
            gifts::accept_many(db, std::slice::from_ref(&send), &settings, now).await.unwrap().pop().unwrap()
        };
        // The first gift fills this node's copies: the rose costs 100.
        let first = once(send("c1")).await.unwrap();
        assert_eq!(first.sends[0].cost, 100, "{b:?}");
        // Staff raise its price: the next gift costs the new price.
        let fields = backoffice::GiftFields {
            code: "rose".into(),
            name: "Rose".into(),
            category: "classic".into(),
            rarity: "common".into(),
            price: 150,
            wealth_pct: 100,
            charm_pct: 150,
            animation: "rose".into(),
            sort: 0,
            min_vip: 0,
        };
        backoffice::save_gift(db, staff, Some(s.gift), &fields, now).await.unwrap();
        let second = once(send("c2")).await.unwrap();
        assert_eq!((second.sends[0].cost, second.sends[0].unit_price), (150, 150), "{b:?}: the new price");
        // Staff lower wealth level 2 below the fan's 250 XP: the next gift records it.
        let level_of = |who: AccountId| async move {
            let subject = who.to_string();
            let l: Option<i64> = platform_db::on_pool!(db, p => sqlx::query_scalar("SELECT MAX(level) FROM level_events WHERE track = 'wealth' AND subject = $1")
                .bind(&subject).fetch_one(p).await.unwrap());
            l
        };
        assert_eq!(level_of(fan).await, None, "{b:?}: 250 XP is level 1 on the default ladder");
        levels::set_step(db, Track::Wealth, &Step { level: 2, xp: 200, badge: "Bronze".into(), privileges: vec![] }, None, now)
            .await
            .unwrap();
        once(send("c3")).await.unwrap();
        assert_eq!(level_of(fan).await, Some(2), "{b:?}: the new ladder");
        // Staff retire the gift: the next request is refused.
        assert!(backoffice::set_gift_active(db, staff, s.gift, false, now).await.unwrap());
        let e = once(send("c4")).await.unwrap_err();
        assert_eq!(code(e), "gift_unavailable", "{b:?}");
        // A change made outside those paths moves the version too.
        platform_db::on_pool!(db, p => sqlx::query("UPDATE gifts SET active = TRUE, price = 70 WHERE id = $1").bind(s.gift).execute(p).await.unwrap().rows_affected());
        let fifth = once(send("c5")).await.unwrap();
        assert_eq!(fifth.sends[0].cost, 70, "{b:?}");
        gifts::credit_pending(db, now).await.unwrap();
        assert_clean(db, &format!("{b:?}")).await;
    }
}
