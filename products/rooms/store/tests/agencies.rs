//! Agencies on every backend under test: creating one (pending until staff
//! approve), applying to one agency at a time, the owner's decisions, the
//! member limit with two accepts racing for the last place (exactly one
//! wins), removal, suspension, the dashboard read from the gift counters,
//! the back office's paged list with its audit entries, and `rooms check`
//! after each.

mod support;
use support::{code, dbs, send_details, user};

use chrono::Utc;
use futures_util::future::join_all;
use platform_db::{Db, StoreError};
use rooms_domain::agency::AgencyStatus;
use rooms_domain::ids::{AccountId, GiftId, RoomId};
use rooms_domain::progress::{Period, RankingClock};
use rooms_domain::room::{RoomKind, RoomName, SeatCount, VisitorPermissions};
use rooms_store::backoffice::At;
use rooms_store::gifts::{self, NewGift, Recipients, SendGift, Settings};
use rooms_store::{agencies, check, economy, presence, rooms, seats};

async fn assert_clean(db: &Db, what: &str) {
    let v = check::run(db).await.unwrap();
    assert!(v.is_empty(), "{what}: rooms check found {v:?}");
}

async fn gift_room(db: &Db, owner: AccountId, seated: &[AccountId]) -> (RoomId, GiftId) {
    let new = rooms::NewRoom {
        name: RoomName::parse("Agency Hall").unwrap(),
        kind: RoomKind::Public,
        password_hash: None,
        seat_count: SeatCount::default(),
        visitors: VisitorPermissions { speak: true, text: true, pictures: false },
        apply_mode: false,
        logo_url: None,
    };
    let now = Utc::now();
    let r = rooms::create(db, owner, &new, now).await.unwrap();
    presence::join(db, r.id, owner, now).await.unwrap();
    for who in seated {
        presence::join(db, r.id, *who, now).await.unwrap();
        seats::take(db, r.id, *who, None, now).await.unwrap();
    }
    let g = NewGift::plain("rose", "Rose", 100);
    (r.id, gifts::create_gift(db, &g).await.unwrap())
}

#[tokio::test]
async fn an_agency_is_created_approved_joined_and_left() {
    for (b, t) in dbs().await {
        let db = &t.db;
        let now = Utc::now();
        let boss = user(db, "boss").await;
        let star = user(db, "star").await;
        let other = user(db, "other").await;
        let staff = user(db, "staff").await;

        // Bad input names its field; nothing is written.
        assert_eq!(code(agencies::create(db, boss, &"x".repeat(21), "NG", now).await.unwrap_err()), "field:name");
        assert_eq!(code(agencies::create(db, boss, "Stars", "ZZ", now).await.unwrap_err()), "field:country");
        let a = agencies::create(db, boss, " Stars ", "ng", now).await.unwrap();
        assert_eq!(
            (a.name.as_str(), a.country.as_str(), a.status.as_str(), a.member_limit, a.member_count),
            ("Stars", "NG", "pending", 50, 0)
        );
        assert_eq!(code(agencies::create(db, boss, "Moons", "NG", now).await.unwrap_err()), "already_in_agency", "{b:?}: one per owner");
        assert_eq!(code(agencies::create(db, other, "Stars", "NG", now).await.unwrap_err()), "field:name", "{b:?}: names are unique");

        // Pending: nobody may join yet, and search does not find it.
        assert_eq!(code(agencies::apply(db, a.id, star, "", now).await.unwrap_err()), "agency_not_active");
        assert!(agencies::search(db, "sta", 10).await.unwrap().is_empty());
        assert_eq!(code(agencies::search(db, "st", 10).await.unwrap_err()), "field:q");
        assert_eq!(code(agencies::set_status(db, staff, a.id, AgencyStatus::Suspended, "", now).await.unwrap_err()), "bad_transition");
        // Not before the owner sent the application's details; then approved.
        assert_eq!(
            code(agencies::set_status(db, staff, a.id, AgencyStatus::Active, "", now).await.unwrap_err()),
            "details_missing",
            "{b:?}"
        );
        assert_eq!(agencies::get(db, a.id).await.unwrap().status, "pending", "{b:?}: nothing changed");
        send_details(db, boss, a.id).await;
        let a = agencies::set_status(db, staff, a.id, AgencyStatus::Active, "looks fine", now).await.unwrap();
        assert!(a.is_active());
        assert_eq!(agencies::search(db, "TAR", 10).await.unwrap().len(), 1);

        // Apply: one pending application at a time; the owner cannot apply.
        let app = agencies::apply(db, a.id, star, "I sing", now).await.unwrap();
        assert_eq!((app.status.as_str(), app.handle.as_str()), ("pending", "star"));
        assert_eq!(code(agencies::apply(db, a.id, star, "", now).await.unwrap_err()), "application_pending", "{b:?}");
        assert_eq!(code(agencies::apply(db, a.id, boss, "", now).await.unwrap_err()), "already_in_agency");
        assert_eq!(code(agencies::apply(db, a.id, other, &"m".repeat(501), now).await.unwrap_err()), "field:message");
        assert_eq!(agencies::pending(db, a.id).await.unwrap().len(), 1);
        // Only the owner decides; a decision is made once.
        assert_eq!(code(agencies::decide(db, other, app.id, true, now).await.unwrap_err()), "not_agency_owner");
        let done = agencies::decide(db, boss, app.id, true, now).await.unwrap();
        assert_eq!(done.status, "accepted");
        assert_eq!(code(agencies::decide(db, boss, app.id, false, now).await.unwrap_err()), "already_processed");
        let st = agencies::standing(db, star).await.unwrap();
        assert_eq!(st.member_of.as_ref().map(|a| a.member_count), Some(1), "{b:?}");
        assert!(st.pending.is_none());
        // A member can neither create an agency nor apply to another.
        assert_eq!(code(agencies::create(db, star, "Solo", "NG", now).await.unwrap_err()), "already_in_agency");
        assert_eq!(code(agencies::apply(db, a.id, star, "", now).await.unwrap_err()), "already_in_agency");
        // The applicant was told, on their channel and by a notice.
        let told: i64 = platform_db::on_pool!(db, p => sqlx::query_scalar("SELECT COUNT(*) FROM user_events WHERE account_id = $1 AND kind = 'agency_application'")
            .bind(star).fetch_one(p).await.unwrap());
        assert_eq!(told, 1);
        assert_clean(db, &format!("{b:?} after joining")).await;

        // A gift to the member: diamonds, and the agency's share on the dashboard.
        let (room, gift) = gift_room(db, other, &[star]).await;
        let sender = user(db, "sender").await;
        presence::join(db, room, sender, now).await.unwrap();
        economy::grant(db, sender, 10_000, "fund", None, now).await.unwrap();
        let send = SendGift { sender, room, gift, recipients: Recipients::Seated(vec![star]), quantity: 5, combo: 1, key: "g1" };
        gifts::send(db, &send, &Settings::default(), now).await.unwrap();
        let clock = RankingClock::default();
        let d = agencies::dashboard(db, a.id, Period::Weekly, &clock, now).await.unwrap();
        assert_eq!((d.earnings, d.earnings_day, d.earnings_week, d.earnings_month, d.balance), (7, 7, 7, 7, 7), "{b:?}");
        assert_eq!(d.members.len(), 1);
        assert_eq!((d.members[0].handle.as_str(), d.members[0].diamonds, d.members[0].earned), ("star", 350, 350));
        let next_month = now + chrono::Duration::days(32);
        assert_eq!(agencies::dashboard(db, a.id, Period::Monthly, &clock, next_month).await.unwrap().earnings, 0);

        // Suspended: its members' gifts no longer earn it anything.
        agencies::set_status(db, staff, a.id, AgencyStatus::Suspended, "review", now).await.unwrap();
        let send = SendGift { sender, room, gift, recipients: Recipients::Seated(vec![star]), quantity: 5, combo: 1, key: "g2" };
        let sent = gifts::send(db, &send, &Settings::default(), now).await.unwrap();
        assert_eq!((sent.sends[0].agency_share, sent.sends[0].receiver_unit.as_str()), (0, "coins"), "{b:?}");
        agencies::set_status(db, staff, a.id, AgencyStatus::Active, "", now).await.unwrap();
        let audits: i64 = platform_db::on_pool!(db, p => sqlx::query_scalar("SELECT COUNT(*) FROM audit_entries WHERE subject_kind = 'agency' AND subject_id = $1")
            .bind(a.id.to_string()).fetch_one(p).await.unwrap());
        assert_eq!(audits, 5, "{b:?}: created, details sent, approved, suspended, reactivated");

        // Removal gives notice (6.5); someone else's member cannot be removed.
        let notice = chrono::Duration::days(7);
        assert!(matches!(agencies::remove(db, other, star, notice, now).await, Err(StoreError::NotFound)));
        let leaving = agencies::remove(db, boss, star, notice, now).await.unwrap();
        assert_eq!((leaving.agency_id, leaving.ends_at), (a.id, now + notice));
        assert_eq!(code(agencies::remove(db, star, star, notice, now).await.unwrap_err()), "already_leaving", "{b:?}");
        let st = agencies::standing(db, star).await.unwrap();
        assert!(st.member_of.is_some() && st.leaving_at.is_some(), "{b:?}: a member until the notice runs out");
        assert!(agencies::dashboard(db, a.id, Period::Monthly, &clock, now).await.unwrap().members[0].ends_at.is_some());
        // Within the notice a gift still credits the agency; after its end it no longer does,
        // even before the job has ended the membership.
        let send = SendGift { sender, room, gift, recipients: Recipients::Seated(vec![star]), quantity: 5, combo: 1, key: "g3" };
        let sent = gifts::send(db, &send, &Settings::default(), now).await.unwrap();
        assert_eq!((sent.sends[0].agency_share, sent.sends[0].receiver_unit.as_str()), (7, "diamonds"), "{b:?}");
        let after = leaving.ends_at + chrono::Duration::seconds(1);
        let send = SendGift { sender, room, gift, recipients: Recipients::Seated(vec![star]), quantity: 5, combo: 1, key: "g4" };
        let sent = gifts::send(db, &send, &Settings::default(), after).await.unwrap();
        assert_eq!((sent.sends[0].agency_share, sent.sends[0].receiver_unit.as_str()), (0, "coins"), "{b:?}");
        assert_eq!(agencies::end_due(db, now).await.unwrap(), 0, "{b:?}: not due yet");
        assert_eq!(agencies::end_due(db, after).await.unwrap(), 1);
        assert_eq!(agencies::end_due(db, after).await.unwrap(), 0);
        assert_eq!(agencies::get(db, a.id).await.unwrap().member_count, 0);
        assert!(agencies::standing(db, star).await.unwrap().member_of.is_none());
        let past: String = platform_db::on_pool!(db, p => sqlx::query_scalar("SELECT how FROM agency_past_members WHERE account_id = $1")
            .bind(star).fetch_one(p).await.unwrap());
        assert_eq!(past, "removed");
        // Rejecting and withdrawing.
        let again = agencies::apply(db, a.id, star, "", now).await.unwrap();
        assert_eq!(agencies::decide(db, boss, again.id, false, now).await.unwrap().status, "rejected");
        assert_eq!(agencies::get(db, a.id).await.unwrap().member_count, 0);
        let third = agencies::apply(db, a.id, star, "", now).await.unwrap();
        assert!(matches!(agencies::withdraw(db, other, third.id, now).await, Err(StoreError::NotFound)));
        agencies::withdraw(db, star, third.id, now).await.unwrap();
        assert_eq!(code(agencies::decide(db, boss, third.id, true, now).await.unwrap_err()), "already_processed");
        assert_clean(db, &format!("{b:?} at the end")).await;
    }
}

#[tokio::test]
async fn two_accepts_racing_for_the_last_place_one_wins() {
    for (b, t) in dbs().await {
        let db = &t.db;
        let now = Utc::now();
        let boss = user(db, "boss").await;
        let staff = user(db, "staff").await;
        let a = agencies::create(db, boss, "Tiny", "KE", now).await.unwrap();
        send_details(db, boss, a.id).await;
        agencies::set_status(db, staff, a.id, AgencyStatus::Active, "", now).await.unwrap();
        assert_eq!(code(agencies::set_member_limit(db, staff, a.id, 0, now).await.unwrap_err()), "field:member_limit");
        agencies::set_member_limit(db, staff, a.id, 2, now).await.unwrap();
        let first = user(db, "first").await;
        let app = agencies::apply(db, a.id, first, "", now).await.unwrap();
        agencies::decide(db, boss, app.id, true, now).await.unwrap();
        // One place left, three applicants accepted at once.
        let mut apps = vec![];
        for h in ["racer1", "racer2", "racer3"] {
            let who = user(db, h).await;
            apps.push(agencies::apply(db, a.id, who, "", now).await.unwrap().id);
        }
        let outcomes = join_all(apps.iter().map(|id| agencies::decide(db, boss, *id, true, now))).await;
        let won = outcomes.iter().filter(|o| o.is_ok()).count();
        let full: Vec<String> = outcomes.into_iter().filter_map(|o| o.err()).map(code).collect();
        assert_eq!(won, 1, "{b:?}: exactly one accept wins the last place");
        assert_eq!(full, vec!["agency_full", "agency_full"], "{b:?}");
        let a = agencies::get(db, a.id).await.unwrap();
        assert_eq!((a.member_count, a.member_limit), (2, 2));
        // The losers' applications are still pending: nothing of them was written.
        assert_eq!(agencies::pending(db, a.id).await.unwrap().len(), 2, "{b:?}");
        assert_eq!(code(agencies::set_member_limit(db, staff, a.id, 1, now).await.unwrap_err()), "field:member_limit");
        assert_clean(db, &format!("{b:?} after the race")).await;
    }
}

#[tokio::test]
async fn the_back_office_list_pages_by_creation_and_filters_by_status() {
    for (b, t) in dbs().await {
        let db = &t.db;
        let staff = user(db, "staff").await;
        let start = Utc::now();
        let mut ids = vec![];
        let mut owners = vec![];
        for i in 0..5 {
            let owner = user(db, &format!("owner{i}")).await;
            let at = start + chrono::Duration::seconds(i);
            ids.push(agencies::create(db, owner, &format!("Agency {i}"), "NG", at).await.unwrap().id);
            owners.push(owner);
        }
        send_details(db, owners[1], ids[1]).await;
        agencies::set_status(db, staff, ids[1], AgencyStatus::Active, "", start).await.unwrap();
        let first = agencies::list(db, None, At::First, 2).await.unwrap();
        assert_eq!(first.iter().map(|a| a.name.as_str()).collect::<Vec<_>>(), ["Agency 4", "Agency 3", "Agency 2"], "{b:?}: limit + 1");
        let key = first[1].created_at.timestamp_micros();
        let next = agencies::list(db, None, At::Before(key), 2).await.unwrap();
        assert_eq!(next.iter().map(|a| a.name.as_str()).collect::<Vec<_>>(), ["Agency 2", "Agency 1", "Agency 0"], "{b:?}");
        let back = agencies::list(db, None, At::After(next[0].created_at.timestamp_micros()), 2).await.unwrap();
        assert_eq!(back.iter().map(|a| a.name.as_str()).collect::<Vec<_>>(), ["Agency 3", "Agency 4"], "{b:?}: oldest first going back");
        let active = agencies::list(db, Some(AgencyStatus::Active), At::First, 10).await.unwrap();
        assert_eq!(active.iter().map(|a| a.name.as_str()).collect::<Vec<_>>(), ["Agency 1"]);
    }
}

#[tokio::test]
async fn a_members_payout_goes_through_the_agency_then_staff() {
    use rooms_store::economy::PayoutAction as A;
    for (b, t) in dbs().await {
        let db = &t.db;
        let now = Utc::now();
        let boss = user(db, "boss").await;
        let star = user(db, "star").await;
        let fan = user(db, "fan").await;
        let staff = user(db, "staff").await;
        let a = agencies::create(db, boss, "Stars", "NG", now).await.unwrap();
        send_details(db, boss, a.id).await;
        agencies::set_status(db, staff, a.id, AgencyStatus::Active, "", now).await.unwrap();
        let app = agencies::apply(db, a.id, star, "", now).await.unwrap();
        agencies::decide(db, boss, app.id, true, now).await.unwrap();
        // The star earns 350 diamonds from a gift.
        let (room, gift) = gift_room(db, fan, &[star]).await;
        let sender = user(db, "sender").await;
        presence::join(db, room, sender, now).await.unwrap();
        economy::grant(db, sender, 1_000, "fund", None, now).await.unwrap();
        let send = SendGift { sender, room, gift, recipients: Recipients::Seated(vec![star]), quantity: 5, combo: 1, key: "g1" };
        gifts::send(db, &send, &Settings::default(), now).await.unwrap();
        let diamonds = |db: &Db| {
            let db = db.clone();
            async move { economy::balances(&db, star).await.unwrap().diamonds }
        };
        assert_eq!(diamonds(db).await, 350);

        // Requested: held at once, and waiting for the agency.
        let p = economy::request_payout(db, star, 100, now).await.unwrap();
        assert_eq!((p.agency_id, p.awaits_agency()), (Some(a.id), true), "{b:?}");
        assert_eq!(diamonds(db).await, 250);
        assert_eq!(economy::agency_payouts(db, a.id, 10).await.unwrap().len(), 1);
        assert_eq!(
            code(economy::decide_payout(db, p.id, staff, A::Approve, now).await.unwrap_err()),
            "agency_confirmation_pending",
            "{b:?}"
        );
        assert_eq!(code(economy::decide_payout(db, p.id, fan, A::AgencyConfirm, now).await.unwrap_err()), "not_agency_owner");
        assert_eq!(code(economy::decide_payout(db, p.id, star, A::AgencyConfirm, now).await.unwrap_err()), "not_agency_owner");
        let confirmed = economy::decide_payout(db, p.id, boss, A::AgencyConfirm, now).await.unwrap();
        assert!(confirmed.agency_confirmed_at.is_some() && !confirmed.awaits_agency());
        assert_eq!(code(economy::decide_payout(db, p.id, boss, A::AgencyConfirm, now).await.unwrap_err()), "already_processed");
        assert_eq!(code(economy::decide_payout(db, p.id, boss, A::AgencyReject, now).await.unwrap_err()), "already_processed");
        assert!(economy::agency_payouts(db, a.id, 10).await.unwrap().is_empty());
        economy::decide_payout(db, p.id, staff, A::Approve, now).await.unwrap();
        // Marked paid by 8 at once: paid once.
        let paid = join_all((0..8).map(|_| economy::decide_payout(db, p.id, staff, A::MarkPaid, now))).await;
        assert_eq!(paid.iter().filter(|r| r.is_ok()).count(), 1, "{b:?}");
        assert_clean(db, &format!("{b:?} after the paid payout")).await;

        // The owner declines: the diamonds return, with their ledger entry.
        let q = economy::request_payout(db, star, 50, now).await.unwrap();
        assert_eq!(diamonds(db).await, 200);
        let r = economy::decide_payout(db, q.id, boss, A::AgencyReject, now).await.unwrap();
        assert_eq!(r.status, "rejected");
        assert_eq!(diamonds(db).await, 250, "{b:?}");
        assert_eq!(code(economy::decide_payout(db, q.id, staff, A::Approve, now).await.unwrap_err()), "already_processed");
        // Staff reject after the agency confirmed and after approving: back too.
        for approve_first in [false, true] {
            let x = economy::request_payout(db, star, 25, now).await.unwrap();
            economy::decide_payout(db, x.id, boss, A::AgencyConfirm, now).await.unwrap();
            if approve_first {
                economy::decide_payout(db, x.id, staff, A::Approve, now).await.unwrap();
            }
            economy::decide_payout(db, x.id, staff, A::Reject, now).await.unwrap();
            assert_eq!(diamonds(db).await, 250, "{b:?} approved first: {approve_first}");
            assert_eq!(code(economy::decide_payout(db, x.id, staff, A::MarkPaid, now).await.unwrap_err()), "already_processed");
        }
        let returns: i64 = platform_db::on_pool!(db, p => sqlx::query_scalar("SELECT COUNT(*) FROM ledger_entries WHERE reason = 'payout_returned' AND delta > 0")
            .fetch_one(p).await.unwrap());
        assert_eq!(returns, 3, "{b:?}: one ledger return per rejected payout");

        // Someone without an agency is paid directly.
        agencies::remove(db, star, star, chrono::Duration::zero(), now).await.unwrap();
        assert_eq!(agencies::end_due(db, now).await.unwrap(), 1);
        let d = economy::request_payout(db, star, 10, now).await.unwrap();
        assert_eq!((d.agency_id, d.awaits_agency()), (None, false));
        economy::decide_payout(db, d.id, staff, A::Approve, now).await.unwrap();
        economy::decide_payout(db, d.id, staff, A::MarkPaid, now).await.unwrap();
        assert_clean(db, &format!("{b:?} at the end")).await;
    }
}

async fn number(db: &Db, who: AccountId) -> i64 {
    platform_db::on_pool!(db, p => sqlx::query_scalar("SELECT public_number FROM accounts WHERE id = $1").bind(who).fetch_one(p).await.unwrap())
}

async fn active_agency(db: &Db, boss: AccountId, staff: AccountId, name: &str) -> rooms_domain::ids::AgencyId {
    let now = Utc::now();
    let a = agencies::create(db, boss, name, "NG", now).await.unwrap();
    send_details(db, boss, a.id).await;
    agencies::set_status(db, staff, a.id, AgencyStatus::Active, "", now).await.unwrap();
    a.id
}

/// An active agency "Stars" whose member `star` sits in `host`'s room, and a
/// sender there holding 100,000 coins.
struct Earner {
    agency: rooms_domain::ids::AgencyId,
    boss: AccountId,
    star: AccountId,
    room: RoomId,
    gift: GiftId,
    sender: AccountId,
}

async fn earner(db: &Db, now: chrono::DateTime<Utc>) -> Earner {
    let boss = user(db, "boss").await;
    let staff = user(db, "staff").await;
    let star = user(db, "star").await;
    let host = user(db, "host").await;
    let agency = active_agency(db, boss, staff, "Stars").await;
    let i = agencies::invite(db, boss, number(db, star).await, now).await.unwrap();
    agencies::answer_invitation(db, star, i.id, true, now).await.unwrap();
    let (room, gift) = gift_room(db, host, &[star]).await;
    let sender = user(db, "sender").await;
    presence::join(db, room, sender, now).await.unwrap();
    economy::grant(db, sender, 100_000, "fund", None, now).await.unwrap();
    Earner { agency, boss, star, room, gift, sender }
}

#[tokio::test]
async fn an_owner_invites_and_the_user_accepts_declines_or_lets_it_expire() {
    for (b, t) in dbs().await {
        let db = &t.db;
        let now = Utc::now();
        let boss = user(db, "boss").await;
        let rival = user(db, "rival").await;
        let staff = user(db, "staff").await;
        let star = user(db, "star").await;
        let shy = user(db, "shy").await;
        let late = user(db, "late").await;
        let a = active_agency(db, boss, staff, "Stars").await;

        // Only an owner invites; an unknown number names its field.
        assert_eq!(code(agencies::invite(db, star, number(db, shy).await, now).await.unwrap_err()), "not_agency_owner");
        assert_eq!(code(agencies::invite(db, boss, 999_999_999, now).await.unwrap_err()), "field:number");
        assert_eq!(code(agencies::invite(db, boss, number(db, boss).await, now).await.unwrap_err()), "already_in_agency");
        // An owner of another agency cannot be invited.
        active_agency(db, rival, staff, "Moons").await;
        assert_eq!(code(agencies::invite(db, boss, number(db, rival).await, now).await.unwrap_err()), "already_in_agency", "{b:?}");

        let i = agencies::invite(db, boss, number(db, star).await, now).await.unwrap();
        assert_eq!((i.status.as_str(), i.agency_name.as_str(), i.handle.as_str()), ("pending", "Stars", "star"));
        assert_eq!((i.expires_at - now + chrono::Duration::seconds(1)).num_days(), 7);
        assert_eq!(code(agencies::invite(db, boss, number(db, star).await, now).await.unwrap_err()), "invitation_pending", "{b:?}");
        // The user sees it and was told live and by a notice.
        let mine = agencies::invitations_for(db, star, now).await.unwrap();
        assert_eq!(mine.iter().map(|i| i.id).collect::<Vec<_>>(), vec![i.id]);
        let told: i64 = platform_db::on_pool!(db, p => sqlx::query_scalar("SELECT COUNT(*) FROM user_events WHERE account_id = $1 AND kind = 'agency_invitation'")
            .bind(star).fetch_one(p).await.unwrap());
        assert_eq!(told, 1);
        assert_eq!(agencies::invitations_sent(db, a, now).await.unwrap().len(), 1);

        // Someone else cannot answer it; the user accepts once.
        assert_eq!(code(agencies::answer_invitation(db, shy, i.id, true, now).await.unwrap_err()), "NotFound");
        let pending_app = agencies::apply(db, a, star, "", now).await.unwrap();
        let done = agencies::answer_invitation(db, star, i.id, true, now).await.unwrap();
        assert_eq!(done.status, "accepted");
        assert_eq!(code(agencies::answer_invitation(db, star, i.id, false, now).await.unwrap_err()), "already_processed");
        let st = agencies::standing(db, star).await.unwrap();
        assert_eq!(st.member_of.map(|a| a.member_count), Some(1), "{b:?}");
        assert!(st.pending.is_none(), "{b:?}: the application was withdrawn");
        assert_eq!(agencies::application(db, pending_app.id).await.unwrap().status, "withdrawn");
        // The owner was told.
        let told: i64 = platform_db::on_pool!(db, p => sqlx::query_scalar("SELECT COUNT(*) FROM user_events WHERE account_id = $1 AND kind = 'agency_invitation'")
            .bind(boss).fetch_one(p).await.unwrap());
        assert_eq!(told, 1);
        // A member cannot be invited again.
        assert_eq!(code(agencies::invite(db, boss, number(db, star).await, now).await.unwrap_err()), "already_in_agency");

        // Declined: no membership.
        let i2 = agencies::invite(db, boss, number(db, shy).await, now).await.unwrap();
        assert_eq!(agencies::answer_invitation(db, shy, i2.id, false, now).await.unwrap().status, "declined");
        assert!(agencies::standing(db, shy).await.unwrap().member_of.is_none());

        // Unanswered for 7 days: it lapses; answering then is refused.
        let i3 = agencies::invite(db, boss, number(db, late).await, now).await.unwrap();
        let later = now + chrono::Duration::days(7) + chrono::Duration::seconds(1);
        assert!(agencies::invitations_for(db, late, later).await.unwrap().is_empty());
        assert_eq!(code(agencies::answer_invitation(db, late, i3.id, true, later).await.unwrap_err()), "invitation_expired", "{b:?}");
        assert_eq!(agencies::expire_invitations(db, later).await.unwrap(), 1);
        assert_eq!(agencies::invitation(db, i3.id).await.unwrap().status, "expired");
        assert_eq!(agencies::expire_invitations(db, later).await.unwrap(), 0);

        // At the member limit: inviting is refused, and an earlier invitation cannot be accepted.
        let i4 = agencies::invite(db, boss, number(db, shy).await, now).await.unwrap();
        agencies::set_member_limit(db, staff, a, 1, now).await.unwrap();
        assert_eq!(code(agencies::invite(db, boss, number(db, late).await, now).await.unwrap_err()), "agency_full", "{b:?}");
        assert_eq!(code(agencies::answer_invitation(db, shy, i4.id, true, now).await.unwrap_err()), "agency_full", "{b:?}");
        assert_eq!(agencies::invitation(db, i4.id).await.unwrap().status, "pending", "{b:?}: nothing written");
        assert_clean(db, &format!("{b:?} after invitations")).await;
    }
}

#[tokio::test]
async fn a_members_month_is_claimed_ahead_and_settled_once() {
    for (b, t) in dbs().await {
        let db = &t.db;
        let now = Utc::now();
        let Earner { agency: a, boss, star, room, gift, sender } = earner(db, now).await;
        assert_eq!(code(agencies::claim_salary(db, star, now).await.unwrap_err()), "nothing_to_claim");
        assert_eq!(code(agencies::claim_salary(db, boss, now).await.unwrap_err()), "not_agency_member");
        // 99 + 80 roses of 100 coins: the member receives 6,930 + 5,600 = 12,530.
        for (q, key) in [(99, "m1"), (80, "m2")] {
            let send = SendGift { sender, room, gift, recipients: Recipients::Seated(vec![star]), quantity: q, combo: 1, key };
            gifts::send(db, &send, &Settings::default(), now).await.unwrap();
        }
        // Mic time: exact seat sessions. The star sat down when the room was made,
        // leaves an hour later, sits again for half an hour, then again until the table is read.
        let sat =
            rooms_store::seat_sessions::of(db, star, now - chrono::Duration::hours(1), now + chrono::Duration::hours(1)).await.unwrap();
        let first = sat[0].started_at;
        let h = |m: i64| now + chrono::Duration::minutes(m);
        seats::leave(db, room, star, h(60)).await.unwrap();
        seats::take(db, room, star, None, h(120)).await.unwrap();
        seats::leave(db, room, star, h(150)).await.unwrap();
        seats::take(db, room, star, None, h(170)).await.unwrap();
        let read_at = h(175);
        let want_mic = (h(60) - first).num_seconds() + 1_800 + 300;

        // A target reached: its reward is claimed once, ahead of the month's end.
        assert_eq!(agencies::claim_salary(db, star, now).await.unwrap(), 1_000, "{b:?}");
        assert_eq!(code(agencies::claim_salary(db, star, now).await.unwrap_err()), "nothing_to_claim");
        let month = agencies::month_of(now);
        let rows = agencies::month_dashboard(db, a, &month, read_at).await.unwrap();
        assert_eq!(rows.len(), 1);
        let m = &rows[0];
        assert_eq!(
            (m.handle.as_str(), m.coins, m.agency_share, m.estimated_salary_cents, m.advances_cents, m.balance_cents, m.settled),
            ("star", 12_530, 138 + 112, 1_000, 1_000, 1_000, false),
            "{b:?}"
        );
        if agencies::month_of(read_at) == month {
            // Whole seconds per UTC day: a session that crosses midnight
            // (this test run late in the day) counts each part's whole
            // seconds, so the total may be a second under the sum's.
            let off = want_mic - m.valid_mic_seconds;
            assert!((0..=1).contains(&off), "{b:?}: {} against {want_mic}", m.valid_mic_seconds);
            assert!((1..=2).contains(&m.active_days), "{b:?}: {}", m.active_days);
        }
        assert_eq!(code(agencies::month_dashboard(db, a, "2026-13", now).await.unwrap_err()), "field:month");
        assert!(agencies::month_dashboard(db, a, "2020-01", now).await.unwrap().is_empty());

        // Month end: nothing more for the salary (claimed), the 2,530 coins beyond
        // the target × 50% as diamonds; a second run settles nothing.
        let before = economy::balances(db, star).await.unwrap().diamonds;
        let next = agencies::month_bounds(&month).unwrap().1 + chrono::Duration::hours(1);
        assert_eq!(agencies::settle_last_month(db, 50, now).await.unwrap(), 0, "{b:?}: the month is not over");
        assert_eq!(agencies::settle_last_month(db, 50, next).await.unwrap(), 1, "{b:?}");
        assert_eq!(agencies::settle_last_month(db, 50, next).await.unwrap(), 0, "{b:?}: settled once");
        assert!(!agencies::settle_member(db, a, star, &month, next, 50, next).await.unwrap());
        assert_eq!(economy::balances(db, star).await.unwrap().diamonds - before, 1_265, "{b:?}");
        let m = agencies::month_dashboard(db, a, &month, now).await.unwrap().remove(0);
        assert_eq!((m.balance_cents, m.advances_cents, m.settled), (1_000, 1_000, true), "{b:?}");
        let entries: i64 = platform_db::on_pool!(db, p => sqlx::query_scalar("SELECT COUNT(*) FROM ledger_entries WHERE reason IN ('agency_salary', 'agency_excess') AND delta > 0")
            .fetch_one(p).await.unwrap());
        assert_eq!(entries, 2, "{b:?}: one advance, one excess credit");
        assert_clean(db, &format!("{b:?} after settlement")).await;
    }
}

#[tokio::test]
async fn a_month_without_an_advance_pays_the_salary_at_its_end() {
    for (b, t) in dbs().await {
        let db = &t.db;
        let now = Utc::now();
        let Earner { agency: a, star, room, gift, sender, .. } = earner(db, now).await;
        for (q, key) in [(99, "m1"), (99, "m2"), (99, "m3")] {
            let send = SendGift { sender, room, gift, recipients: Recipients::Seated(vec![star]), quantity: q, combo: 1, key };
            gifts::send(db, &send, &Settings::default(), now).await.unwrap();
        }
        // 3 × 6,930 = 20,790: the $20 target, not $10 + $20.
        let month = agencies::month_of(now);
        let next = agencies::month_bounds(&month).unwrap().1 + chrono::Duration::minutes(5);
        assert_eq!(agencies::settle_last_month(db, 50, next).await.unwrap(), 1);
        let m = agencies::month_dashboard(db, a, &month, now).await.unwrap().remove(0);
        assert_eq!(
            (m.coins, m.estimated_salary_cents, m.advances_cents, m.balance_cents, m.settled),
            (20_790, 2_000, 0, 2_000, true),
            "{b:?}"
        );
        assert_clean(db, &format!("{b:?} after settlement")).await;
    }
}

#[tokio::test]
async fn an_owner_withdraws_a_pending_invitation_once() {
    for (b, t) in dbs().await {
        let db = &t.db;
        let now = Utc::now();
        let (boss, staff, star, fan) = (user(db, "boss").await, user(db, "staff").await, user(db, "star").await, user(db, "fan").await);
        active_agency(db, boss, staff, "Stars").await;
        let i = agencies::invite(db, boss, number(db, star).await, now).await.unwrap();
        // Only the inviting agency's owner.
        assert!(matches!(agencies::withdraw_invitation(db, fan, i.id, now).await.unwrap_err(), StoreError::NotFound), "{b:?}");
        assert!(matches!(agencies::withdraw_invitation(db, star, i.id, now).await.unwrap_err(), StoreError::NotFound), "{b:?}");
        let w = agencies::withdraw_invitation(db, boss, i.id, now).await.unwrap();
        assert_eq!(w.status, "withdrawn", "{b:?}");
        assert_eq!(agencies::invitation(db, i.id).await.unwrap().status, "withdrawn", "{b:?}");
        assert_eq!(code(agencies::withdraw_invitation(db, boss, i.id, now).await.unwrap_err()), "already_processed", "{b:?}");
        // The invitee can no longer answer it, and no longer sees it.
        assert_eq!(code(agencies::answer_invitation(db, star, i.id, true, now).await.unwrap_err()), "invitation_withdrawn", "{b:?}");
        assert!(agencies::invitations_for(db, star, now).await.unwrap().is_empty(), "{b:?}");
        assert!(agencies::invitations_sent(db, i.agency_id, now).await.unwrap().is_empty(), "{b:?}");
        assert!(agencies::standing(db, star).await.unwrap().member_of.is_none(), "{b:?}");
        // They were told, with a link naming the invitation.
        let told = rooms_store::events::user_since(db, star, 0, 100).await.unwrap();
        assert!(told.iter().any(|e| e.kind == "agency_invitation" && e.data()["status"] == "withdrawn"), "{b:?}");
        // An answered invitation cannot be withdrawn; a new one can be sent.
        let again = agencies::invite(db, boss, number(db, star).await, now).await.unwrap();
        agencies::answer_invitation(db, star, again.id, false, now).await.unwrap();
        assert_eq!(code(agencies::withdraw_invitation(db, boss, again.id, now).await.unwrap_err()), "already_processed", "{b:?}");
        assert_clean(db, &format!("{b:?}")).await;
    }
}
