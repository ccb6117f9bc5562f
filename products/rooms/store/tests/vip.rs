//! VIP on every backend under test: buying through the ledger (price
//! checked, key once, too few coins writes nothing), stacking, upgrading
//! and refusing a lower tier, the job ending memberships at their exact
//! end, the badge, wealth XP from coins spent on VIP and frames, the seats
//! a tier adds to its holder's room, VIP-only gifts, the shield against
//! room admins, and `rooms check` after each.

mod support;
use support::{dbs, room_of, user, whole_now};

use chrono::Duration;
use futures_util::future::join_all;
use platform_db::{Db, StoreError};
use rooms_domain::ids::AccountId;
use rooms_domain::room::SeatCount;
use rooms_domain::vip::Kind;
use rooms_store::gifts::{self, NewGift, Recipients, SendGift, Settings};
use rooms_store::seats::Act;
use rooms_store::{check, economy, events, levels, presence, rooms, seats, vip};

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
async fn vip_is_bought_stacked_upgraded_and_ends_at_its_exact_end() {
    for (b, t) in dbs().await {
        let db = &t.db;
        let now = whole_now();
        let who = user(db, "vipper").await;
        let tiers = vip::tiers(db).await.unwrap();
        assert_eq!(tiers.all().len(), 7, "{b:?}");
        let (one, three) = (tiers.get(1).unwrap().clone(), tiers.get(3).unwrap().clone());
        assert_eq!((one.price, one.days, three.price), (1_000, 30, 8_000), "{b:?}: migration 1050's tiers");
        // No coins: the numbers, nothing written.
        assert_eq!(code(vip::buy(db, who, 1, 1_000, "k1", now).await.unwrap_err()), "insufficient:1000:0", "{b:?}");
        assert_eq!(vip::membership(db, who, now).await.unwrap(), None);
        economy::grant(db, who, 10_500, "fund", None, now).await.unwrap();
        assert_eq!(code(vip::buy(db, who, 1, 900, "k1", now).await.unwrap_err()), "price_changed");
        assert_eq!(code(vip::buy(db, who, 8, 1, "k1", now).await.unwrap_err()), "tier_unavailable");
        assert_eq!(code(vip::buy(db, who, 1, 1_000, " ", now).await.unwrap_err()), "field:idempotency_key");
        let first = vip::buy(db, who, 1, 1_000, "k1", now).await.unwrap();
        assert_eq!((first.kind, first.expires_at, first.balance), (Kind::New, now + Duration::days(30), 9_500), "{b:?}");
        // The same key again: refused, charged once.
        assert_eq!(code(vip::buy(db, who, 1, 1_000, "k1", now).await.unwrap_err()), "duplicate_purchase");
        assert_eq!(economy::balances(db, who).await.unwrap().coins, 9_500);
        // Renewed ten days in: stacked on the time left.
        let renewed = vip::buy(db, who, 1, 1_000, "k2", now + Duration::days(10)).await.unwrap();
        assert_eq!((renewed.kind, renewed.expires_at), (Kind::Renewal, now + Duration::days(60)), "{b:?}");
        // Upgraded: the higher tier starts now; a lower one is then refused.
        let up = vip::buy(db, who, 3, 8_000, "k3", now + Duration::days(20)).await.unwrap();
        assert_eq!((up.kind, up.expires_at, up.balance), (Kind::Upgrade, now + Duration::days(50), 500), "{b:?}");
        assert_eq!(code(vip::buy(db, who, 1, 1_000, "k4", now + Duration::days(21)).await.unwrap_err()), "higher_tier_held");
        let badge = levels::badge(db, who).await.unwrap();
        assert_eq!((badge.vip, badge.vip_name.as_deref()), (3, Some("VIP 3")), "{b:?}");
        assert!(badge.has(rooms_domain::status::Privilege::EntryNotice) && badge.coloured, "{b:?}: VIP 1 and 3 privileges");
        // Coins spent on VIP are wealth XP: 10,000 reached level 1's top, not level 2.
        assert_eq!(
            (badge.wealth, levels::level(db, rooms_domain::progress::Track::Wealth, &who.to_string()).await.unwrap().xp),
            (1, 10_000)
        );
        assert_clean(db, &format!("{b:?} after purchases")).await;
        // The job: running one second before the end, ended at the end instant, once.
        let end = now + Duration::days(50);
        assert_eq!(vip::expire(db, end - Duration::seconds(1)).await.unwrap().ended.len(), 0, "{b:?}");
        assert_eq!(vip::tier_of(db, who, end - Duration::seconds(1)).await.unwrap(), 3);
        assert_eq!(vip::tier_of(db, who, end).await.unwrap(), 0, "{b:?}: the end instant is outside");
        assert_eq!(vip::expire(db, end).await.unwrap().ended, vec![(who, 3)], "{b:?}");
        assert_eq!(vip::expire(db, end).await.unwrap().ended.len(), 0);
        let told = events::user_since(db, who, 0, 100).await.unwrap();
        assert_eq!(told.iter().filter(|e| e.kind == "vip_expired").count(), 1, "{b:?}");
        assert_eq!(told.iter().filter(|e| e.kind == "vip").count(), 3, "{b:?}");
        // Lapsed: any tier again, from then.
        economy::grant(db, who, 1_000, "fund2", None, end).await.unwrap();
        let again = vip::buy(db, who, 1, 1_000, "k5", end).await.unwrap();
        assert_eq!((again.kind, again.expires_at), (Kind::New, end + Duration::days(30)), "{b:?}");
        assert_eq!(vip::purchases(db, who, 10).await.unwrap().len(), 4);
        assert_clean(db, &format!("{b:?} after expiry")).await;
    }
}

#[tokio::test]
async fn one_key_raced_many_times_buys_once() {
    for (b, t) in dbs().await {
        let db = &t.db;
        let now = whole_now();
        let who = user(db, "racer").await;
        economy::grant(db, who, 5_000, "fund", None, now).await.unwrap();
        let results = join_all((0..8).map(|_| vip::buy(db, who, 1, 1_000, "same", now))).await;
        let ok = results.iter().filter(|r| r.is_ok()).count();
        assert_eq!(ok, 1, "{b:?}: {:?}", results.iter().filter_map(|r| r.as_ref().err()).collect::<Vec<_>>());
        for r in results.into_iter().filter_map(Result::err) {
            assert_eq!(code(r), "duplicate_purchase", "{b:?}");
        }
        assert_eq!(economy::balances(db, who).await.unwrap().coins, 4_000, "{b:?}: charged once");
        assert_eq!(vip::membership(db, who, now).await.unwrap().unwrap().expires_at, now + Duration::days(30));
        assert_clean(db, &format!("{b:?}")).await;
    }
}

#[tokio::test]
async fn the_owners_tier_adds_seats_within_fifteen_and_takes_them_back() {
    for (b, t) in dbs().await {
        let db = &t.db;
        let now = whole_now();
        let owner = user(db, "host").await;
        let guest = user(db, "guest").await;
        let room = room_of(db, owner, 5, now).await;
        economy::grant(db, owner, 50_000, "fund", None, now).await.unwrap();
        // VIP 5 adds three seats: 8, and seat 8 can be taken.
        vip::buy(db, owner, 5, 50_000, "k1", now).await.unwrap();
        let r = rooms::get(db, room).await.unwrap().unwrap();
        assert_eq!((r.seat_count, r.bonus_seats, r.seats()), (5, 3, 8), "{b:?}");
        presence::join(db, room, guest, now).await.unwrap();
        assert_eq!(seats::take(db, room, guest, Some(8), now).await.unwrap(), 8, "{b:?}");
        // The owner chooses 14: the bonus stops at the cap of 15.
        let more = rooms::Settings { seat_count: Some(SeatCount::parse(14).unwrap()), ..Default::default() };
        let r = rooms::update_settings(db, room, owner, &more, now).await.unwrap().room;
        assert_eq!((r.seat_count, r.bonus_seats, r.seats()), (14, 1, 15), "{b:?}");
        assert_eq!(seats::take(db, room, owner, Some(15), now).await.unwrap(), 15);
        assert_clean(db, &format!("{b:?} with VIP seats")).await;
        // The tier ends: seat 15 goes, its occupant is told.
        let end = now + Duration::days(30);
        assert_eq!(vip::expire(db, end).await.unwrap().ended.len(), 1);
        let r = rooms::get(db, room).await.unwrap().unwrap();
        assert_eq!((r.seat_count, r.bonus_seats, r.seats()), (14, 0, 14), "{b:?}");
        let evs = events::room_since(db, room, 0, 500).await.unwrap();
        assert!(evs.iter().any(|e| e.kind == "seat_removed" && e.data()["seat"] == 15), "{b:?}");
        assert_clean(db, &format!("{b:?} after the tier ended")).await;
    }
}

#[tokio::test]
async fn vip_gifts_need_the_tier_and_room_admins_cannot_touch_a_protected_vip() {
    for (b, t) in dbs().await {
        let db = &t.db;
        let now = whole_now();
        let owner = user(db, "owner").await;
        let admin = user(db, "admin").await;
        let v4 = user(db, "vipfour").await;
        let v5 = user(db, "vipfive").await;
        let room = room_of(db, owner, 5, now).await;
        for who in [admin, v4, v5] {
            presence::join(db, room, who, now).await.unwrap();
        }
        seats::set_admin(db, Act { room, actor: owner, reason: "" }, admin, true, now).await.unwrap();
        economy::grant(db, v4, 30_000, "f4", None, now).await.unwrap();
        economy::grant(db, v5, 60_000, "f5", None, now).await.unwrap();
        // A gift for VIP 3 and up: refused below it, sent at or above it.
        let crown = gifts::create_gift(
            db,
            &NewGift { category: "vip", rarity: "epic", animation: "crown.svg", min_vip: 3, ..NewGift::plain("crown", "Crown", 100) },
        )
        .await
        .unwrap();
        seats::take(db, room, admin, None, now).await.unwrap();
        let send =
            |sender, key| SendGift { sender, room, gift: crown, recipients: Recipients::Seated(vec![admin]), quantity: 1, combo: 1, key };
        assert_eq!(code(gifts::send(db, &send(v4, "g1"), &Settings::default(), now).await.unwrap_err()), "vip_required", "{b:?}");
        assert_eq!(economy::balances(db, v4).await.unwrap().coins, 30_000, "{b:?}: nothing charged");
        vip::buy(db, v4, 4, 20_000, "k4", now).await.unwrap();
        vip::buy(db, v5, 5, 50_000, "k5", now).await.unwrap();
        gifts::send(db, &send(v4, "g2"), &Settings::default(), now).await.unwrap();
        // Both on seats; the admin may not mute VIP 4 nor remove VIP 5; may still kick VIP 4.
        seats::take(db, room, v4, None, now).await.unwrap();
        seats::take(db, room, v5, None, now).await.unwrap();
        let by_admin = Act { room, actor: admin, reason: "test" };
        let by_owner = Act { room, actor: owner, reason: "test" };
        assert_eq!(code(seats::set_muted(db, by_admin, v4, true, now).await.unwrap_err()), "vip_protected", "{b:?}");
        assert_eq!(code(seats::remove(db, by_admin, v5, now).await.unwrap_err()), "vip_protected", "{b:?}");
        assert_eq!(code(seats::kick(db, by_admin, v5, now).await.unwrap_err()), "vip_protected", "{b:?}");
        assert_eq!(code(seats::block(db, by_admin, v5, now).await.unwrap_err()), "vip_protected", "{b:?}");
        // Themselves, and the owner: allowed.
        seats::set_muted(db, Act { room, actor: v4, reason: "" }, v4, true, now).await.unwrap();
        seats::set_muted(db, by_owner, v5, true, now).await.unwrap();
        seats::remove(db, by_owner, v5, now).await.unwrap();
        seats::kick(db, by_admin, v4, now).await.unwrap();
        // Once the tier lapses, the admin may act again.
        let later = now + Duration::days(30);
        vip::expire(db, later).await.unwrap();
        seats::kick(db, by_admin, v5, later).await.unwrap();
        assert_clean(db, &format!("{b:?}")).await;
    }
}

#[tokio::test]
async fn coins_spent_on_frames_are_wealth_xp() {
    use rooms_store::frames;
    for (b, t) in dbs().await {
        let db = &t.db;
        let now = whole_now();
        let who = user(db, "shopper").await;
        economy::grant(db, who, 12_000, "fund", None, now).await.unwrap();
        let neon = frames::catalogue(db).await.unwrap().into_iter().find(|f| f.code == "neon").unwrap();
        for i in 0..9 {
            frames::buy(db, who, neon.id, neon.price, &format!("k{i}"), now).await.unwrap();
        }
        // 9 × 1,200 = 10,800 XP: level 1; one more: 12,000, level 2, announced once.
        assert_eq!(levels::badge(db, who).await.unwrap().wealth, 1, "{b:?}");
        frames::buy(db, who, neon.id, neon.price, "k9", now).await.unwrap();
        assert_eq!(levels::badge(db, who).await.unwrap().wealth, 2, "{b:?}");
        let told = events::user_since(db, who, 0, 100).await.unwrap();
        assert_eq!(told.iter().filter(|e| e.kind == "level_up").count(), 1, "{b:?}");
        assert_clean(db, &format!("{b:?}")).await;
    }
}

#[tokio::test]
async fn vip_given_is_paid_once_by_the_giver_and_refusals_write_nothing() {
    for (b, t) in dbs().await {
        let db = &t.db;
        let now = whole_now();
        let giver = user(db, "giver").await;
        let friend = user(db, "friend").await;
        economy::grant(db, giver, 24_000, "fund", None, now).await.unwrap();
        // Refusals before any money moves: oneself, nobody, a stale price.
        assert_eq!(code(vip::give(db, giver, giver, 1, 1_000, "g0", now).await.unwrap_err()), "field:recipient", "{b:?}");
        assert_eq!(code(vip::give(db, giver, AccountId::new(), 1, 1_000, "g0", now).await.unwrap_err()), "field:recipient", "{b:?}");
        assert_eq!(code(vip::give(db, giver, friend, 1, 900, "g0", now).await.unwrap_err()), "price_changed", "{b:?}");
        assert_eq!(code(vip::give(db, giver, friend, 8, 1, "g0", now).await.unwrap_err()), "tier_unavailable", "{b:?}");
        assert_eq!(economy::balances(db, giver).await.unwrap().coins, 24_000, "{b:?}: nothing charged");
        // One key retried at once: given once, paid once, by the giver.
        let results = join_all((0..6).map(|_| vip::give(db, giver, friend, 1, 1_000, "g1", now))).await;
        assert_eq!(results.iter().filter(|r| r.is_ok()).count(), 1, "{b:?}");
        for r in results.into_iter().filter_map(Result::err) {
            assert_eq!(code(r), "duplicate_purchase", "{b:?}");
        }
        assert_eq!(code(vip::give(db, giver, friend, 1, 1_000, "g1", now).await.unwrap_err()), "duplicate_purchase", "{b:?}");
        // The giver's keys are one namespace with their own purchases.
        assert_eq!(code(vip::buy(db, giver, 1, 1_000, "g1", now).await.unwrap_err()), "duplicate_purchase", "{b:?}");
        assert_eq!(economy::balances(db, giver).await.unwrap().coins, 23_000, "{b:?}: charged once");
        assert_eq!(economy::balances(db, friend).await.unwrap().coins, 0, "{b:?}: the recipient pays nothing");
        assert_eq!(vip::tier_of(db, giver, now).await.unwrap(), 0, "{b:?}: the giver gets no tier");
        let m = vip::membership(db, friend, now).await.unwrap().unwrap();
        assert_eq!((m.tier, m.expires_at), (1, now + Duration::days(30)), "{b:?}");
        // Given again ten days in: stacked on the recipient's time left.
        let again = vip::give(db, giver, friend, 1, 1_000, "g2", now + Duration::days(10)).await.unwrap();
        assert_eq!((again.kind, again.expires_at, again.balance), (Kind::Renewal, now + Duration::days(60), 22_000), "{b:?}");
        // A higher tier starts now; a lower one is then refused for the recipient, nothing written.
        let up = vip::give(db, giver, friend, 4, 20_000, "g3", now + Duration::days(11)).await.unwrap();
        assert_eq!((up.kind, up.balance), (Kind::Upgrade, 2_000), "{b:?}");
        let refused = vip::give(db, giver, friend, 1, 1_000, "g4", now + Duration::days(12)).await.unwrap_err();
        let StoreError::Guard { code: c, message } = refused else { panic!("{b:?}: {refused:?}") };
        assert_eq!(c, "recipient_higher_tier", "{b:?}");
        assert!(message.starts_with("They hold VIP 4 until"), "{b:?}: {message}");
        // Too few coins: the numbers, nothing written, never below zero.
        assert_eq!(code(vip::give(db, giver, friend, 4, 20_000, "g5", now).await.unwrap_err()), "insufficient:20000:2000", "{b:?}");
        assert_eq!(economy::balances(db, giver).await.unwrap().coins, 2_000, "{b:?}");
        // The record names the giver; the recipient was told each time.
        let rows = vip::purchases(db, friend, 10).await.unwrap();
        assert_eq!(rows.len(), 3, "{b:?}");
        assert!(rows.iter().all(|p| p.given_by == Some(giver)), "{b:?}");
        assert!(vip::purchases(db, giver, 10).await.unwrap().is_empty(), "{b:?}");
        let told = events::user_since(db, friend, 0, 100).await.unwrap();
        let gifts: Vec<_> = told.iter().filter(|e| e.kind == "vip_gift").map(|e| e.data()).collect();
        assert_eq!(gifts.len(), 3, "{b:?}");
        assert_eq!(gifts[0]["from"]["id"], giver.to_string(), "{b:?}");
        assert_eq!(gifts[0]["from"]["name"], "giver person", "{b:?}");
        // The coins are the giver's wealth XP, not the recipient's.
        let xp =
            |who: AccountId| async move { levels::level(db, rooms_domain::progress::Track::Wealth, &who.to_string()).await.unwrap().xp };
        assert_eq!((xp(giver).await, xp(friend).await), (22_000, 0), "{b:?}");
        assert_clean(db, &format!("{b:?} after gifts")).await;
    }
}

#[tokio::test]
async fn the_end_of_a_tier_unseats_whoever_sat_on_its_seats() {
    for (b, t) in dbs().await {
        let db = &t.db;
        let now = whole_now();
        let owner = user(db, "seatowner").await;
        let (a, c, d) = (user(db, "seata").await, user(db, "seatc").await, user(db, "seatd").await);
        let room = room_of(db, owner, 5, now).await;
        economy::grant(db, owner, 50_000, "fund", None, now).await.unwrap();
        vip::buy(db, owner, 5, 50_000, "k1", now).await.unwrap();
        for (who, seat) in [(a, 8), (c, 6), (d, 2)] {
            presence::join(db, room, who, now).await.unwrap();
            assert_eq!(seats::take(db, room, who, Some(seat), now).await.unwrap(), seat, "{b:?}");
        }
        let end = now + Duration::days(30);
        assert_eq!(vip::expire(db, end - Duration::seconds(1)).await.unwrap(), vip::Expired::default(), "{b:?}");
        let mut x = vip::expire(db, end).await.unwrap();
        x.unseated.sort_by_key(|u| u.seat);
        assert_eq!(x.ended, vec![(owner, 5)], "{b:?}");
        assert_eq!(
            x.unseated,
            vec![vip::Unseated { room, seat: 6, account: c }, vip::Unseated { room, seat: 8, account: a }],
            "{b:?}: only the VIP seats' occupants"
        );
        // Off the seats, still in the room; seat 2 kept its occupant.
        let st = presence::state(db, room).await.unwrap();
        assert_eq!(st.seats.len(), 5, "{b:?}");
        assert!(!st.seats.iter().any(|s| s.occupant_id == Some(a) || s.occupant_id == Some(c)), "{b:?}");
        assert!(st.seats.iter().any(|s| s.occupant_id == Some(d)), "{b:?}");
        assert!(presence::is_present(db, room, a).await.unwrap(), "{b:?}");
        // Their seat sessions end at the expiry; seat 2's runs on.
        let window = (now - Duration::days(1), end + Duration::days(1));
        for (who, ended) in [(a, Some(end)), (c, Some(end)), (d, None)] {
            let s = rooms_store::seat_sessions::of(db, who, window.0, window.1).await.unwrap();
            assert_eq!(s.len(), 1, "{b:?}");
            assert_eq!((s[0].started_at, s[0].ended_at), (now, ended), "{b:?}");
            assert_eq!(s[0].end_reason.as_deref(), ended.map(|_| "seat_removed"), "{b:?}");
        }
        // Each unseated person is told; nothing more to end.
        for (who, seat) in [(a, 8), (c, 6)] {
            let told = events::user_since(db, who, 0, 100).await.unwrap();
            let e = told.iter().find(|e| e.kind == "vip_seat_removed").map(|e| e.data());
            assert_eq!(e.as_ref().map(|d| d["seat"].clone()), Some(serde_json::json!(seat)), "{b:?}");
        }
        assert!(!events::user_since(db, d, 0, 100).await.unwrap().iter().any(|e| e.kind == "vip_seat_removed"), "{b:?}");
        assert_eq!(vip::expire(db, end).await.unwrap(), vip::Expired::default(), "{b:?}");
        assert_clean(db, &format!("{b:?}")).await;
    }
}
