//! Store tests on every backend under test (SQLite always, PostgreSQL with
//! TEST_DATABASE_URL): races, capacity, cool-downs, the moderation matrix
//! per room role, reset tokens, the outbox.

mod support;
use support::{code, dbs, user};

use chrono::{DateTime, Duration, NaiveDate, Utc};
use platform_db::{Db, StoreError};
use rooms_domain::account::{AdultBirthDate, Country, FullName, Gender, Handle, Login, PlatformRole, ResetChannel};
use rooms_domain::ids::{AccountId, RoomId};
use rooms_domain::room::{RoomKind, RoomName, SeatCount, VisitorPermissions};
use rooms_store::seats::Act;
use rooms_store::{accounts, chat, events, messages, presence, rooms, seats, social, sweep};

fn new_room(name: &str) -> rooms::NewRoom {
    rooms::NewRoom {
        name: RoomName::parse(name).unwrap(),
        kind: RoomKind::Public,
        password_hash: None,
        seat_count: SeatCount::default(),
        visitors: VisitorPermissions { speak: true, text: true, pictures: false },
        apply_mode: false,
        logo_url: None,
    }
}

async fn room_of(db: &Db, owner: AccountId, name: &str, now: DateTime<Utc>) -> RoomId {
    let r = rooms::create(db, owner, &new_room(name), now).await.unwrap();
    presence::join(db, r.id, owner, now).await.unwrap();
    r.id
}

#[tokio::test]
async fn accounts_are_unique_and_searchable() {
    for (b, t) in dbs().await {
        let db = &t.db;
        let a = user(db, "ada").await;
        let acct = accounts::by_id(db, a).await.unwrap().unwrap();
        assert!((10_000_000..=99_999_999).contains(&acct.public_number), "{b:?}");
        // Same handle in another case, same email: refused on their fields.
        let mut dup = accounts::NewAccount {
            login: Login::parse("other@example.com").unwrap(),
            handle: Handle::parse("ADA").unwrap(),
            full_name: FullName::parse("full_name", "Another").unwrap(),
            birth_date: AdultBirthDate::parse("1990-01-01", NaiveDate::from_ymd_opt(2026, 1, 1).unwrap()).unwrap(),
            country: Country::parse("NG").unwrap(),
            gender: Gender::Female,
        };
        let e = accounts::create(db, &dup, "h", PlatformRole::User, Utc::now()).await.unwrap_err();
        assert_eq!(code(e), "field:handle", "{b:?}");
        dup.handle = Handle::parse("ada2").unwrap();
        dup.login = Login::parse("ADA@example.com").unwrap();
        assert_eq!(code(accounts::create(db, &dup, "h", PlatformRole::User, Utc::now()).await.unwrap_err()), "field:email", "{b:?}");
        dup.login = Login::parse("+254712345678").unwrap();
        accounts::create(db, &dup, "h", PlatformRole::User, Utc::now()).await.unwrap();

        let by_number = accounts::search(db, &acct.public_number.to_string(), 10).await.unwrap();
        assert_eq!(by_number.iter().map(|p| p.id).collect::<Vec<_>>(), vec![a], "{b:?}");
        let by_name = accounts::search(db, "ADA", 10).await.unwrap();
        assert_eq!(by_name.len(), 2, "{b:?}: both names start with ada");
        assert!(accounts::search(db, "%", 10).await.unwrap().is_empty(), "{b:?}: LIKE wildcards are literal");
        assert!(!accounts::handle_free(db, &Handle::parse("Ada").unwrap()).await.unwrap());
    }
}

#[tokio::test]
async fn reset_tokens_work_once_expire_and_race_to_one_winner() {
    for (b, t) in dbs().await {
        let db = &t.db;
        let a = user(db, "bob").await;
        let staff = user(db, "staffer").await;
        let now = Utc::now();
        let login = Login::parse("bob@example.com").unwrap();
        // Unknown accounts: no token, and no error either.
        assert!(accounts::issue_reset(db, &Login::parse("nobody@example.com").unwrap(), ResetChannel::Email, None, now)
            .await
            .unwrap()
            .is_none());

        let (id, token) = accounts::issue_reset(db, &login, ResetChannel::Email, None, now).await.unwrap().unwrap();
        assert_eq!(id, a);
        // Expired after 15 minutes.
        assert_eq!(accounts::redeem_reset(db, &token, "h2", now + Duration::minutes(16)).await.unwrap(), None, "{b:?}");
        assert_eq!(accounts::redeem_reset(db, &token, "h2", now + Duration::minutes(14)).await.unwrap(), Some(a), "{b:?}");
        assert_eq!(accounts::redeem_reset(db, &token, "h3", now + Duration::minutes(14)).await.unwrap(), None, "{b:?}: one use");
        assert!(accounts::credentials_after(db, a).await.unwrap().is_some(), "a reset signs out everywhere");

        // Staff-issued: 24 h, audit-logged; two simultaneous uses, one winner.
        let (_, token) = accounts::issue_reset(db, &login, ResetChannel::Staff, Some(staff), now).await.unwrap().unwrap();
        let later = now + Duration::hours(23);
        let (x, y) = tokio::join!(accounts::redeem_reset(db, &token, "hx", later), accounts::redeem_reset(db, &token, "hy", later));
        let wins = [x.unwrap(), y.unwrap()].iter().filter(|r| r.is_some()).count();
        assert_eq!(wins, 1, "{b:?}");
        let audit = rooms_store::audit::recent(db, 10).await.unwrap();
        assert!(audit.iter().any(|e| e.action == "reset_token_issued" && e.actor_id == Some(staff)), "{b:?}");
        assert!(audit.iter().any(|e| e.action == "password_reset"), "{b:?}");
    }
}

#[tokio::test]
async fn one_room_per_user_even_when_racing_and_names_ignore_case() {
    for (b, t) in dbs().await {
        let db = &t.db;
        let a = user(db, "carol").await;
        let now = Utc::now();
        let (first, second) = (new_room("First"), new_room("Second"));
        let (x, y) = tokio::join!(rooms::create(db, a, &first, now), rooms::create(db, a, &second, now));
        let results = [x.map(|_| ()).map_err(code), y.map(|_| ()).map_err(code)];
        assert_eq!(results.iter().filter(|r| r.is_ok()).count(), 1, "{b:?}: {results:?}");
        assert!(results.contains(&Err("one_room_per_user".into())), "{b:?}: {results:?}");
        let d = user(db, "dave").await;
        let taken = rooms::create(db, d, &new_room("  first "), now).await.map(|r| r.name);
        let taken2 = rooms::create(db, d, &new_room("SECOND"), now).await.map(|r| r.name);
        // Whichever of the two won, its name is taken in any case.
        assert!(taken.is_err() || taken2.is_err(), "{b:?}");
    }
}

#[tokio::test]
async fn last_free_seat_race_has_one_winner_and_one_seat_per_user() {
    for (b, t) in dbs().await {
        let db = &t.db;
        let now = Utc::now();
        let owner = user(db, "owner").await;
        let mut r = new_room("Race");
        r.seat_count = SeatCount::parse(1).unwrap();
        let room = rooms::create(db, owner, &r, now).await.unwrap().id;
        let (u, v) = (user(db, "uma").await, user(db, "vic").await);
        presence::join(db, room, u, now).await.unwrap();
        presence::join(db, room, v, now).await.unwrap();
        for _ in 0..5 {
            let (x, y) = tokio::join!(seats::take(db, room, u, Some(1), now), seats::take(db, room, v, Some(1), now));
            let (x, y) = (x.map_err(code), y.map_err(code));
            assert_eq!([&x, &y].iter().filter(|r| r.is_ok()).count(), 1, "{b:?}: {x:?} {y:?}");
            assert!(x == Err("seat_taken".into()) || y == Err("seat_taken".into()), "{b:?}: {x:?} {y:?}");
            let winner = if x.is_ok() { u } else { v };
            seats::leave(db, room, winner, now).await.unwrap();
        }
        // One seat per user, across rooms too.
        let mut r2 = new_room("Race two");
        r2.seat_count = SeatCount::parse(3).unwrap();
        let room2 = rooms::create(db, u, &r2, now).await.unwrap().id;
        presence::join(db, room2, u, now).await.unwrap();
        seats::take(db, room2, u, None, now).await.unwrap();
        assert_eq!(code(seats::take(db, room2, u, None, now).await.unwrap_err()), "already_seated", "{b:?}");
        assert_eq!(code(seats::take(db, room, u, Some(1), now).await.unwrap_err()), "already_seated", "{b:?}");
    }
}

#[tokio::test]
async fn capacity_is_enforced_even_under_concurrent_joins() {
    for (b, t) in dbs().await {
        let db = &t.db;
        let now = Utc::now();
        let owner = user(db, "host").await;
        let room = rooms::create(db, owner, &new_room("Tiny"), now).await.unwrap().id;
        // Shrink capacity to 3 for the test.
        platform_db::on_pool!(db, p => { sqlx::query("UPDATE rooms SET capacity = 3 WHERE id = $1").bind(room).execute(p).await.unwrap(); });
        let mut people = vec![];
        for i in 0..6 {
            people.push(user(db, &format!("guest{i}")).await);
        }
        let joins = futures_util::future::join_all(people.iter().map(|p| presence::join(db, room, *p, now))).await;
        let ok = joins.iter().filter(|r| r.is_ok()).count();
        assert_eq!(ok, 3, "{b:?}");
        for r in joins.into_iter().filter(|r| r.is_err()) {
            assert_eq!(code(r.unwrap_err()), "room_full", "{b:?}");
        }
        let state = presence::state(db, room).await.unwrap();
        assert_eq!((state.room.present, state.participants.len()), (3, 3), "{b:?}");
        // A place frees: the next one gets in.
        let inside = state.participants[0].account_id;
        presence::leave(db, room, inside, now).await.unwrap();
        let outside = people.iter().find(|p| !state.participants.iter().any(|x| x.account_id == **p)).unwrap();
        presence::join(db, room, *outside, now).await.unwrap();
        // Rejoining while present resumes without counting twice.
        assert!(presence::join(db, room, *outside, now).await.unwrap().resumed);
        assert_eq!(presence::state(db, room).await.unwrap().room.present, 3, "{b:?}");
    }
}

#[tokio::test]
async fn kick_cool_down_block_and_private_room_states() {
    for (b, t) in dbs().await {
        let db = &t.db;
        let now = Utc::now();
        let owner = user(db, "olga").await;
        let room = room_of(db, owner, "Moderated", now).await;
        let guest = user(db, "gus").await;
        presence::join(db, room, guest, now).await.unwrap();
        seats::take(db, room, guest, None, now).await.unwrap();
        let act = Act { room, actor: owner, reason: "spam" };
        let until = seats::kick(db, act, guest, now).await.unwrap();
        assert_eq!(until - now, Duration::minutes(10));
        let state = presence::state(db, room).await.unwrap();
        assert!(state.participants.iter().all(|p| p.account_id != guest), "{b:?}: kicked out");
        assert!(state.seats.iter().all(|s| s.occupant_id != Some(guest)), "{b:?}: seat freed");
        assert_eq!(code(presence::join(db, room, guest, now + Duration::minutes(9)).await.unwrap_err()), "kick_cooldown", "{b:?}");
        presence::join(db, room, guest, now + Duration::minutes(11)).await.unwrap();

        seats::block(db, act, guest, now).await.unwrap();
        assert_eq!(code(presence::join(db, room, guest, now + Duration::days(30)).await.unwrap_err()), "blocked", "{b:?}");
        assert_eq!(seats::bans(db, room, now).await.unwrap().len(), 1);
        seats::unblock(db, act, guest, now).await.unwrap();
        presence::join(db, room, guest, now).await.unwrap();

        let log = seats::log(db, room, 50).await.unwrap();
        let actions: Vec<&str> = log.iter().map(|e| e.action.as_str()).collect();
        for a in ["kick", "block", "unblock"] {
            assert!(actions.contains(&a), "{b:?}: {actions:?}");
        }
        let kick = log.iter().find(|e| e.action == "kick").unwrap();
        assert_eq!((kick.actor_id, kick.target_id, kick.reason.as_str()), (owner, Some(guest), "spam"));

        // Suspending an account takes it out of every room at once.
        seats::take(db, room, guest, None, now).await.unwrap();
        accounts::set_status(db, owner, guest, rooms_domain::account::AccountStatus::Suspended, "spam", now).await.unwrap();
        let st = presence::state(db, room).await.unwrap();
        assert!(st.participants.iter().all(|p| p.account_id != guest) && st.seats.iter().all(|s| s.occupant_id != Some(guest)), "{b:?}");
        assert_eq!(st.room.present, 1, "{b:?}");
        accounts::set_status(db, owner, guest, rooms_domain::account::AccountStatus::Active, "", now).await.unwrap();
        presence::join(db, room, guest, now).await.unwrap();

        // Closing empties the room and refuses entry.
        assert!(rooms::close(db, room, owner, false, "done", now).await.unwrap());
        assert_eq!(code(presence::join(db, room, guest, now).await.unwrap_err()), "room_closed", "{b:?}");
        rooms::reopen(db, room, owner, now).await.unwrap();
        presence::join(db, room, guest, now).await.unwrap();
    }
}

#[tokio::test]
async fn moderation_permissions_per_room_role() {
    for (b, t) in dbs().await {
        let db = &t.db;
        let now = Utc::now();
        let owner = user(db, "queen").await;
        let room = room_of(db, owner, "Matrix", now).await;
        let (admin, member, visitor, admin2) = (user(db, "ann").await, user(db, "mel").await, user(db, "vin").await, user(db, "abe").await);
        let o = Act { room, actor: owner, reason: "" };
        for p in [admin, member, visitor, admin2] {
            presence::join(db, room, p, now).await.unwrap();
        }
        seats::set_admin(db, o, admin, true, now).await.unwrap();
        seats::set_admin(db, o, admin2, true, now).await.unwrap();
        // "member": a role below admin, given by demoting an admin.
        seats::set_admin(db, o, member, true, now).await.unwrap();
        seats::set_admin(db, o, member, false, now).await.unwrap();
        assert_eq!(rooms::role(db, room, member).await.unwrap().as_str(), "member");
        for p in [admin, member, visitor, admin2] {
            seats::take(db, room, p, None, now).await.unwrap();
        }
        let a = Act { room, actor: admin, reason: "" };
        let m = Act { room, actor: member, reason: "" };
        let v = Act { room, actor: visitor, reason: "" };
        // Admins mute members and visitors, not other admins or the owner.
        seats::set_muted(db, a, member, true, now).await.unwrap();
        seats::set_muted(db, a, visitor, true, now).await.unwrap();
        assert_eq!(code(seats::set_muted(db, a, admin2, true, now).await.unwrap_err()), "target_not_lower", "{b:?}");
        seats::take(db, room, owner, None, now).await.unwrap();
        assert_eq!(code(seats::set_muted(db, a, owner, true, now).await.unwrap_err()), "target_not_lower", "{b:?}");
        // Members and visitors moderate nobody.
        assert_eq!(code(seats::set_muted(db, m, visitor, false, now).await.unwrap_err()), "not_moderator", "{b:?}");
        assert_eq!(code(seats::kick(db, v, member, now).await.unwrap_err()), "not_moderator", "{b:?}");
        assert_eq!(code(seats::set_locked(db, m, 4, true, now).await.unwrap_err()), "not_moderator", "{b:?}");
        // Muted by a moderator: no self-unmute; self-muted: yes.
        assert_eq!(code(seats::set_muted(db, v, visitor, false, now).await.unwrap_err()), "muted_by_moderator", "{b:?}");
        seats::set_muted(db, o, admin, true, now).await.unwrap();
        assert_eq!(code(seats::set_muted(db, a, admin, false, now).await.unwrap_err()), "muted_by_moderator", "{b:?}");
        seats::set_muted(db, o, admin, false, now).await.unwrap();
        seats::set_muted(db, a, admin, true, now).await.unwrap();
        seats::set_muted(db, a, admin, false, now).await.unwrap();
        // Only the owner appoints admins; the owner outranks admins.
        assert_eq!(code(seats::set_admin(db, a, member, true, now).await.unwrap_err()), "owner_only", "{b:?}");
        seats::set_muted(db, o, admin2, true, now).await.unwrap();
        seats::remove(db, o, admin2, now).await.unwrap();
        // Admins kick members; a kicked member cannot be acted on as a higher rank.
        seats::kick(db, a, member, now).await.unwrap();
        assert_eq!(code(seats::kick(db, a, owner, now).await.unwrap_err()), "target_not_lower", "{b:?}");
        // Unknown room: not found, never allowed.
        let ghost = Act { room: RoomId::new(), actor: owner, reason: "" };
        assert!(matches!(seats::set_locked(db, ghost, 1, true, now).await.unwrap_err(), StoreError::NotFound), "{b:?}");
        // Lock: a locked seat cannot be taken.
        seats::set_locked(db, a, 4, true, now).await.unwrap();
        seats::leave(db, room, visitor, now).await.unwrap();
        assert_eq!(code(seats::take(db, room, visitor, Some(4), now).await.unwrap_err()), "seat_locked", "{b:?}");
    }
}

#[tokio::test]
async fn seat_requests_invites_visitors_and_apply_mode() {
    for (b, t) in dbs().await {
        let db = &t.db;
        let now = Utc::now();
        let owner = user(db, "hana").await;
        let mut r = new_room("Apply");
        r.apply_mode = true;
        r.visitors = VisitorPermissions::default(); // visitors may not speak
        let room = rooms::create(db, owner, &r, now).await.unwrap().id;
        presence::join(db, room, owner, now).await.unwrap();
        let vis = user(db, "ivy").await;
        presence::join(db, room, vis, now).await.unwrap();
        assert_eq!(code(seats::take(db, room, vis, None, now).await.unwrap_err()), "visitors_may_not_speak", "{b:?}");
        let o = Act { room, actor: owner, reason: "" };
        rooms::update_settings(
            db,
            room,
            owner,
            &rooms::Settings { visitors: Some(VisitorPermissions { speak: true, text: true, pictures: false }), ..Default::default() },
            now,
        )
        .await
        .unwrap();
        assert_eq!(code(seats::take(db, room, vis, None, now).await.unwrap_err()), "must_apply", "{b:?}");
        seats::request(db, room, vis, now).await.unwrap();
        assert_eq!(presence::state(db, room).await.unwrap().requests, vec![vis]);
        let seat = seats::accept(db, o, vis, Some(2), now).await.unwrap();
        assert_eq!(seat, 2);
        seats::move_to(db, o, vis, 4, now).await.unwrap();
        let st = presence::state(db, room).await.unwrap();
        assert_eq!(st.seats.iter().find(|s| s.occupant_id == Some(vis)).map(|s| s.seat_no), Some(4), "{b:?}");
        seats::leave(db, room, vis, now).await.unwrap();
        // Invitations lapse after 30 s.
        seats::invite(db, o, vis, 1, now).await.unwrap();
        assert_eq!(code(seats::accept_invite(db, room, vis, now + Duration::seconds(31)).await.unwrap_err()), "no_invite", "{b:?}");
        seats::invite(db, o, vis, 1, now).await.unwrap();
        assert_eq!(seats::accept_invite(db, room, vis, now + Duration::seconds(20)).await.unwrap(), 1);
        // Lowering the seat count frees removed seats and says so.
        seats::move_to(db, o, vis, 5, now).await.unwrap();
        let done = rooms::update_settings(
            db,
            room,
            owner,
            &rooms::Settings { seat_count: Some(SeatCount::parse(3).unwrap()), ..Default::default() },
            now,
        )
        .await
        .unwrap();
        assert_eq!(done.unseated, vec![vis], "{b:?}: whoever sat on a removed seat is named, for their voice to be muted");
        assert_eq!(done.room.seats(), 3);
        let st = presence::state(db, room).await.unwrap();
        assert_eq!(st.seats.len(), 3);
        assert!(st.seats.iter().all(|s| s.occupant_id.is_none()), "{b:?}");
        let evs = events::room_since(db, room, 0, 500).await.unwrap();
        assert!(evs.iter().any(|e| e.kind == "seat_removed" && e.data()["account"] == serde_json::json!(vis)), "{b:?}");
        // Settings by a visitor are refused.
        assert_eq!(code(rooms::update_settings(db, room, vis, &rooms::Settings::default(), now).await.unwrap_err()), "not_moderator");
        // Private: needs a password; public erases it.
        let e = rooms::update_settings(
            db,
            room,
            owner,
            &rooms::Settings { access: Some((RoomKind::Private, None)), ..Default::default() },
            now,
        )
        .await
        .unwrap_err();
        assert_eq!(code(e), "field:password", "{b:?}");
        rooms::update_settings(
            db,
            room,
            owner,
            &rooms::Settings { access: Some((RoomKind::Private, Some("hash".into()))), ..Default::default() },
            now,
        )
        .await
        .unwrap();
        assert_eq!(rooms::password_hash(db, room).await.unwrap().as_deref(), Some("hash"));
        rooms::update_settings(db, room, owner, &rooms::Settings { access: Some((RoomKind::Public, None)), ..Default::default() }, now)
            .await
            .unwrap();
        assert_eq!(rooms::password_hash(db, room).await.unwrap(), None);
    }
}

#[tokio::test]
async fn sweep_holds_seats_then_frees_and_closes_empty_rooms() {
    for (b, t) in dbs().await {
        let db = &t.db;
        let t0 = Utc::now();
        let owner = user(db, "sam").await;
        let room = room_of(db, owner, "Sweep", t0).await;
        let listener = user(db, "lou").await;
        presence::join(db, room, listener, t0).await.unwrap();
        seats::take(db, room, owner, None, t0).await.unwrap();
        // 40 s of silence: the listener is gone, the seated owner is held.
        let c = sweep::run(db, t0 + Duration::seconds(40)).await.unwrap();
        assert_eq!(c.left, 1, "{b:?}");
        assert!(presence::is_present(db, room, owner).await.unwrap());
        // A heartbeat within the hold resumes (here by handle, as the demo's keeper does).
        assert_eq!(presence::heartbeat_handles(db, &["sam", "nobody"], t0 + Duration::seconds(44)).await.unwrap(), 1);
        assert_eq!(sweep::run(db, t0 + Duration::seconds(60)).await.unwrap().left, 0, "{b:?}");
        // Then silence past the hold: seat and place freed, room empty.
        let c = sweep::run(db, t0 + Duration::seconds(44 + 46)).await.unwrap();
        assert_eq!(c.left, 1, "{b:?}");
        assert_eq!(presence::state(db, room).await.unwrap().room.present, 0);
        // Not closed before 120 s of emptiness, closed after.
        assert_eq!(sweep::run(db, t0 + Duration::seconds(90 + 100)).await.unwrap().rooms_closed, 0, "{b:?}");
        assert_eq!(sweep::run(db, t0 + Duration::seconds(90 + 121)).await.unwrap().rooms_closed, 1, "{b:?}");
        let evs = events::room_since(db, room, 0, 500).await.unwrap();
        assert_eq!(evs.last().map(|e| e.kind.as_str()), Some("room_closed"), "{b:?}");
        assert!(evs.windows(2).all(|w| w[0].seq < w[1].seq));
    }
}

#[tokio::test]
async fn chat_follows_discovery_and_private_messages() {
    for (b, t) in dbs().await {
        let db = &t.db;
        let now = Utc::now();
        let owner = user(db, "pia").await;
        let mut r = new_room("Quiet Room");
        r.visitors = VisitorPermissions { speak: false, text: false, pictures: false };
        let room = rooms::create(db, owner, &r, now).await.unwrap().id;
        presence::join(db, room, owner, now).await.unwrap();
        let fan = user(db, "fay").await;
        assert_eq!(code(chat::post(db, room, fan, "hi", now).await.unwrap_err()), "not_in_room");
        presence::join(db, room, fan, now).await.unwrap();
        assert_eq!(code(chat::post(db, room, fan, "hi", now).await.unwrap_err()), "chat_not_allowed", "{b:?}");
        chat::post(db, room, owner, "welcome", now).await.unwrap();
        chat::post(db, room, owner, "second", now).await.unwrap();
        let msgs = chat::recent(db, room, None, 10).await.unwrap();
        assert_eq!(msgs.iter().map(|m| m.body.as_str()).collect::<Vec<_>>(), ["welcome", "second"]);

        let other_owner = user(db, "ola").await;
        let busy = room_of(db, other_owner, "Busy", now).await;
        presence::join(db, busy, user(db, "xena").await, now).await.unwrap();
        presence::join(db, busy, user(db, "yuri").await, now).await.unwrap();
        let live = rooms::discover(db, rooms::Listing::Live, now, 10).await.unwrap();
        assert_eq!(live.iter().map(|r| r.id).collect::<Vec<_>>(), vec![busy, room], "{b:?}: by listeners");
        assert_eq!(rooms::discover(db, rooms::Listing::Search("quiet"), now, 10).await.unwrap().len(), 1);
        assert!(rooms::discover(db, rooms::Listing::Following(fan), now, 10).await.unwrap().is_empty());
        social::follow_room(db, fan, room, now).await.unwrap();
        social::follow_user(db, fan, other_owner, now).await.unwrap();
        assert_eq!(rooms::discover(db, rooms::Listing::Following(fan), now, 10).await.unwrap().len(), 2, "{b:?}");
        assert_eq!(social::followers(db, other_owner, 10).await.unwrap()[0].id, fan);
        assert_eq!(social::counts(db, fan).await.unwrap(), (0, 1));

        let m1 = messages::send(db, fan, owner, "hello", now).await.unwrap();
        messages::send(db, fan, owner, "again", now).await.unwrap();
        messages::send(db, owner, fan, "hey", now).await.unwrap();
        let convs = messages::conversations(db, owner, 10).await.unwrap();
        assert_eq!((convs.len(), convs[0].unread, convs[0].last_body.as_str()), (1, 2, "hey"), "{b:?}");
        messages::mark_read(db, owner, fan, m1, now).await.unwrap();
        assert_eq!(messages::conversations(db, owner, 10).await.unwrap()[0].unread, 1);
        let page = messages::history(db, owner, fan, None, 2).await.unwrap();
        assert_eq!(page.iter().map(|m| m.body.as_str()).collect::<Vec<_>>(), ["again", "hey"]);
        let older = messages::history(db, owner, fan, Some(page[0].seq), 2).await.unwrap();
        assert_eq!(older.iter().map(|m| m.body.as_str()).collect::<Vec<_>>(), ["hello"]);
        messages::block_user(db, owner, fan, now).await.unwrap();
        assert_eq!(code(messages::send(db, fan, owner, "?", now).await.unwrap_err()), "blocked");
        assert_eq!(code(messages::send(db, owner, fan, "?", now).await.unwrap_err()), "blocked", "both ways");
        let evs = events::user_since(db, owner, 0, 50).await.unwrap();
        assert_eq!(evs.iter().filter(|e| e.kind == "message").count(), 3, "{b:?}");
        // The tailer's view: every room's events in one sequence, addressed.
        let head = events::Outbox::Room.head(db).await.unwrap();
        let all = events::Outbox::Room.tail(db, 0, 1000).await.unwrap();
        assert_eq!(all.last().map(|e| e.seq), Some(head));
        assert!(all.iter().any(|e| e.to == room.to_string()) && all.iter().any(|e| e.to == busy.to_string()), "{b:?}");
        let picked = events::Outbox::Room.by_seqs(db, &[all[0].seq, all[2].seq, head + 5]).await.unwrap();
        assert_eq!(picked.iter().map(|e| e.seq).collect::<Vec<_>>(), vec![all[0].seq, all[2].seq]);
        let mine = events::Outbox::User.tail(db, 0, 100).await.unwrap();
        assert_eq!(mine.iter().filter(|e| e.to == fan.to_string()).count(), 4, "{b:?}: fan sent two, got one and a read mark");
    }
}

#[tokio::test]
async fn voice_numbers_are_stored_distinct_and_stable_under_races() {
    for (b, t) in dbs().await {
        let db = &t.db;
        let mut rooms = vec![];
        for i in 0..12 {
            let owner = user(db, &format!("vn{i}")).await;
            rooms.push(rooms::create(db, owner, &new_room(&format!("Voice {i}")), Utc::now()).await.unwrap().id);
        }
        // Every room allocating at once, each twice.
        let all = futures_util::future::join_all(rooms.iter().chain(rooms.iter()).map(|r| rooms_store::voice_numbers::of(db, *r))).await;
        let numbers: Vec<u64> = all.into_iter().map(|n| n.unwrap().unwrap()).collect();
        let (first, second) = numbers.split_at(rooms.len());
        assert_eq!(first, second, "{b:?}: one number per room, however often asked");
        let mut distinct = first.to_vec();
        distinct.sort_unstable();
        distinct.dedup();
        assert_eq!(distinct, (1..=12).collect::<Vec<u64>>(), "{b:?}: distinct, dense, exact in a browser");
        assert_eq!(rooms_store::voice_numbers::of(db, rooms[3]).await.unwrap(), Some(first[3]), "{b:?}: stored");
        assert_eq!(rooms_store::voice_numbers::of(db, RoomId::new()).await.unwrap(), None);
    }
}

#[tokio::test]
async fn talking_goes_to_the_room_outbox_only_for_a_seated_person() {
    use rooms_store::voice_numbers;
    for (b, t) in dbs().await {
        let db = &t.db;
        let now = Utc::now();
        let owner = user(db, "talker").await;
        let other = user(db, "quiet").await;
        let room = room_of(db, owner, "Talk", now).await;
        presence::join(db, room, other, now).await.unwrap();
        let n = voice_numbers::of(db, room).await.unwrap().unwrap();
        // Not seated: nothing written.
        assert_eq!(voice_numbers::talking(db, n, |a| a == owner, true, now).await.unwrap(), None, "{b:?}");
        seats::take(db, room, owner, Some(1), now).await.unwrap();
        let head = events::room_head(db, room).await.unwrap();
        assert_eq!(voice_numbers::talking(db, n, |a| a == owner, true, now).await.unwrap(), Some((room, owner)), "{b:?}");
        assert_eq!(voice_numbers::talking(db, n, |a| a == other, true, now).await.unwrap(), None, "{b:?}: not seated");
        assert_eq!(voice_numbers::talking(db, n + 1000, |a| a == owner, true, now).await.unwrap(), None, "{b:?}: no such room");
        assert_eq!(voice_numbers::talking(db, n, |a| a == owner, false, now).await.unwrap(), Some((room, owner)));
        let new = events::room_since(db, room, head, 10).await.unwrap();
        let got: Vec<(String, serde_json::Value)> = new.iter().map(|e| (e.kind.clone(), e.data())).collect();
        assert_eq!(
            got,
            vec![
                ("talking".into(), serde_json::json!({"account": owner, "talking": true})),
                ("talking".into(), serde_json::json!({"account": owner, "talking": false})),
            ],
            "{b:?}"
        );
    }
}

#[tokio::test]
async fn provider_identities_link_by_email_create_once_and_race_to_one_account() {
    use rooms_domain::account::Email;
    use rooms_store::identities::{self, External, Outcome};
    for (b, t) in dbs().await {
        let db = &t.db;
        let ext = |sub: &str, email: &str| External {
            issuer: "https://accounts.google.com".into(),
            subject: sub.into(),
            email: Email::parse(email).unwrap(),
            name: FullName::parse("full_name", "Ada Lovelace").unwrap(),
        };
        let existing = user(db, "ada").await;
        let now = Utc::now();
        assert_eq!(identities::sign_in(db, &ext("g-1", "ADA@example.com"), "h", now).await.unwrap(), Outcome::Linked(existing), "{b:?}");
        assert_eq!(identities::sign_in(db, &ext("g-1", "changed@example.com"), "h", now).await.unwrap(), Outcome::Known(existing));
        assert!(!accounts::by_id(db, existing).await.unwrap().unwrap().needs_profile);

        // A new person, signing in twice at once: one account.
        let grace = ext("g-2", "grace@example.com");
        let (x, y) = tokio::join!(identities::sign_in(db, &grace, "h", now), identities::sign_in(db, &grace, "h", now));
        let (x, y) = (x.unwrap(), y.unwrap());
        assert_eq!(x.account(), y.account(), "{b:?}");
        assert!(matches!((x, y), (Outcome::Created(_), Outcome::Known(_)) | (Outcome::Known(_), Outcome::Created(_))), "{b:?} {x:?} {y:?}");
        let grace = accounts::by_id(db, x.account()).await.unwrap().unwrap();
        assert!(grace.needs_profile && grace.birth_date.is_none() && grace.email.as_deref() == Some("grace@example.com"));

        let done = identities::Completion {
            handle: Handle::parse("ada").unwrap(),
            full_name: FullName::parse("full_name", "Grace Hopper").unwrap(),
            birth_date: AdultBirthDate::parse("1990-01-01", NaiveDate::from_ymd_opt(2026, 1, 1).unwrap()).unwrap(),
            country: Country::parse("US").unwrap(),
        };
        assert_eq!(code(identities::complete_profile(db, grace.id, &done).await.unwrap_err()), "field:handle", "{b:?}");
        let done = identities::Completion { handle: Handle::parse("grace").unwrap(), ..done };
        identities::complete_profile(db, grace.id, &done).await.unwrap();
        let grace = accounts::by_id(db, grace.id).await.unwrap().unwrap();
        assert!(!grace.needs_profile && grace.handle == "grace" && grace.country.as_deref() == Some("US"));
        assert_eq!(code(identities::complete_profile(db, grace.id, &done).await.unwrap_err()), "profile_complete");
    }
}

#[tokio::test]
async fn reset_mails_are_capped_per_hour_and_a_new_one_replaces_the_old() {
    for (b, t) in dbs().await {
        let db = &t.db;
        user(db, "cap").await;
        let login = Login::parse("cap@example.com").unwrap();
        let now = Utc::now();
        let mut tokens = vec![];
        for i in 0..3 {
            let (_, token) =
                accounts::issue_reset(db, &login, ResetChannel::Email, None, now + Duration::minutes(i)).await.unwrap().unwrap();
            tokens.push(token);
        }
        assert!(accounts::issue_reset(db, &login, ResetChannel::Email, None, now + Duration::minutes(3)).await.unwrap().is_none(), "{b:?}");
        assert!(
            accounts::issue_reset(db, &login, ResetChannel::Email, None, now + Duration::minutes(61)).await.unwrap().is_some(),
            "{b:?}"
        );
        let at = now + Duration::minutes(4);
        assert_eq!(accounts::redeem_reset(db, &tokens[0], "h", at).await.unwrap(), None, "{b:?}: replaced");
        assert_eq!(accounts::redeem_reset(db, &tokens[1], "h", at).await.unwrap(), None, "{b:?}: replaced");
    }
}

/// The bearer cache serves an account row only while the sign-in version
/// stands still, so every column of that row (and the credentials' time
/// and the active flag) must move it when it changes, and a column added
/// to the row without a trigger for it fails here. A sign-in's time and a
/// new password hash alone do not move it.
#[tokio::test]
async fn every_cached_account_column_moves_the_sign_in_version() {
    // Each column of the cached row with a change to it (one SQL text for
    // both stores); the row's id, number and creation time never change.
    let changes: &[(&str, &str)] = &[
        ("handle", "handle || '_x'"),
        ("full_name", "full_name || ' X'"),
        ("display_name", "display_name || ' X'"),
        ("phone", "'+254700000099'"),
        ("email", "'changed@example.com'"),
        ("birth_date", "'1991-02-03'"),
        ("country", "CASE WHEN country = 'KE' THEN 'NG' ELSE 'KE' END"),
        ("gender", "CASE WHEN gender = 'male' THEN 'female' ELSE 'male' END"),
        ("bio", "bio || 'x'"),
        ("avatar_url", "'/media/changed.png'"),
        ("role", "CASE WHEN role = 'admin' THEN 'user' ELSE 'admin' END"),
        ("status", "CASE WHEN status = 'suspended' THEN 'active' ELSE 'suspended' END"),
        ("status_reason", "'a reason'"),
        ("needs_profile", "NOT needs_profile"),
    ];
    let cached: Vec<&str> = accounts::session_columns()
        .split(',')
        .map(|c| c.trim().trim_start_matches("acct."))
        .filter(|c| !matches!(*c, "id" | "public_number" | "created_at"))
        .collect();
    let mut covered: Vec<&str> = changes.iter().map(|(c, _)| *c).collect();
    covered.sort();
    let mut wanted = cached.clone();
    wanted.sort();
    assert_eq!(covered, wanted, "each column of the cached account row has a change here (and a trigger)");

    let also: &[(&str, &str)] = &[("is_active", "NOT is_active"), ("credentials_after", "created_at")];
    let unmoved: &[(&str, &str)] = &[("last_login_at", "created_at"), ("password_hash", "'another hash'")];
    for (b, t) in dbs().await {
        let db = &t.db;
        let a = user(db, "versioned").await;
        let version = || async {
            platform_db::on_pool!(db, p => {
                let v: i64 = sqlx::query_scalar(&format!("SELECT version FROM {}", accounts::SIGN_IN_VERSION)).fetch_one(p).await.unwrap();
                v
            })
        };
        let set = |column: &'static str, to: &'static str| async move {
            let sql = format!("UPDATE accounts SET {column} = {to} WHERE id = $1");
            platform_db::on_pool!(db, p => { sqlx::query(&sql).bind(a).execute(p).await.unwrap(); });
        };
        for (column, to) in changes.iter().chain(also) {
            let before = version().await;
            set(column, to).await;
            assert!(version().await > before, "{b:?}: a change of {column} moves the sign-in version");
        }
        for (column, to) in unmoved {
            let before = version().await;
            set(column, to).await;
            assert_eq!(version().await, before, "{b:?}: {column} alone leaves the version");
        }
        let before = version().await;
        set("handle", "handle").await;
        assert_eq!(version().await, before, "{b:?}: an update that changes nothing leaves it");
        platform_db::on_pool!(db, p => { sqlx::query("DELETE FROM accounts WHERE id = $1").bind(a).execute(p).await.unwrap(); });
        assert!(version().await > before, "{b:?}: a deletion moves it");
    }
}
