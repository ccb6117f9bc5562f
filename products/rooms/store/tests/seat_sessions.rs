//! Seat sessions on every backend under test: each seat change opens or
//! ends a session at its own instant with its reason (taking, leaving,
//! moving, kicks, the seat count lowered, the room closing), the agency
//! month table sums the exact intervals, and the job's reconcile only mends
//! what a crash left.

mod support;
use support::{dbs, room_of, user, whole_now};

use chrono::{DateTime, Duration, Utc};
use platform_db::Db;
use rooms_domain::ids::AccountId;
use rooms_domain::room::SeatCount;
use rooms_store::seat_sessions::{self, SeatSession};
use rooms_store::{presence, rooms, seats};

async fn sessions(db: &Db, who: AccountId) -> Vec<SeatSession> {
    seat_sessions::of(db, who, DateTime::from_timestamp(0, 0).unwrap(), Utc::now() + Duration::days(3650)).await.unwrap()
}

fn spans(s: &[SeatSession], t0: DateTime<Utc>) -> Vec<(i64, i64, Option<i64>, Option<String>)> {
    s.iter()
        .map(|s| (s.seat_no, (s.started_at - t0).num_seconds(), s.ended_at.map(|e| (e - t0).num_seconds()), s.end_reason.clone()))
        .collect()
}

#[tokio::test]
async fn every_seat_change_opens_or_ends_a_session_at_its_instant() {
    for (b, t) in dbs().await {
        let db = &t.db;
        let t0 = whole_now();
        let at = |s: i64| t0 + Duration::seconds(s);
        let owner = user(db, "owner").await;
        let (ann, bob) = (user(db, "ann").await, user(db, "bob").await);
        let room = room_of(db, owner, 8, t0).await;
        let o = seats::Act { room, actor: owner, reason: "" };
        for who in [ann, bob] {
            presence::join(db, room, who, t0).await.unwrap();
        }
        // Take, leave, take again; moved by the owner; kicked.
        seats::take(db, room, ann, Some(2), at(10)).await.unwrap();
        seats::leave(db, room, ann, at(70)).await.unwrap();
        seats::take(db, room, ann, Some(3), at(100)).await.unwrap();
        seats::move_to(db, o, ann, 5, at(160)).await.unwrap();
        seats::kick(db, o, ann, at(400)).await.unwrap();
        assert_eq!(
            spans(&sessions(db, ann).await, t0),
            vec![
                (2, 10, Some(70), Some("left_seat".into())),
                (3, 100, Some(160), Some("moved".into())),
                (5, 160, Some(400), Some("kicked".into())),
            ],
            "{b:?}"
        );
        // The seat count lowered under bob; then the room closes with the owner seated.
        seats::take(db, room, bob, Some(7), at(500)).await.unwrap();
        seats::take(db, room, owner, Some(1), at(510)).await.unwrap();
        let s = rooms::Settings { seat_count: Some(SeatCount::parse(4).unwrap()), ..Default::default() };
        assert_eq!(rooms::update_settings(db, room, owner, &s, at(600)).await.unwrap().unseated, vec![bob], "{b:?}");
        assert_eq!(spans(&sessions(db, bob).await, t0), vec![(7, 500, Some(600), Some("seat_removed".into()))], "{b:?}");
        assert!(rooms::close(db, room, owner, false, "done", at(900)).await.unwrap());
        assert_eq!(spans(&sessions(db, owner).await, t0), vec![(1, 510, Some(900), Some("room_closed".into()))], "{b:?}");
        // Nothing left open: the job has nothing to mend.
        assert_eq!(seat_sessions::reconcile(db, at(1000)).await.unwrap(), seat_sessions::Reconciled::default(), "{b:?}");
        // A session overlapping a window is found; one outside is not.
        assert_eq!(seat_sessions::of(db, ann, at(60), at(120)).await.unwrap().len(), 2, "{b:?}");
        assert!(seat_sessions::of(db, ann, at(401), at(500)).await.unwrap().is_empty(), "{b:?}");
        assert_eq!(rooms_store::check::run(db).await.unwrap(), vec![], "{b:?}");
    }
}

#[tokio::test]
async fn reconcile_mends_only_what_a_crash_left() {
    for (b, t) in dbs().await {
        let db = &t.db;
        let t0 = whole_now();
        let owner = user(db, "owner").await;
        let (ann, bob) = (user(db, "ann").await, user(db, "bob").await);
        let room = room_of(db, owner, 8, t0).await;
        for who in [ann, bob] {
            presence::join(db, room, who, t0).await.unwrap();
        }
        seats::take(db, room, ann, Some(2), t0).await.unwrap();
        seats::take(db, room, bob, Some(3), t0).await.unwrap();
        let later = t0 + Duration::seconds(120);
        assert_eq!(
            seat_sessions::reconcile(db, later).await.unwrap(),
            seat_sessions::Reconciled::default(),
            "{b:?}: seat holders have sessions"
        );
        // Written outside the store: ann's seat emptied, a session for bob's lost.
        platform_db::on_pool!(db, p => {
            sqlx::query("UPDATE seats SET occupant_id = NULL WHERE occupant_id = $1").bind(ann).execute(p).await.unwrap();
            sqlx::query("DELETE FROM seat_sessions WHERE account_id = $1").bind(bob).execute(p).await.unwrap();
        });
        let v = rooms_store::check::run(db).await.unwrap();
        assert!(v.iter().any(|(name, _)| name == "open seat session for a seat not held"), "{b:?}: {v:?}");
        let r = seat_sessions::reconcile(db, later).await.unwrap();
        assert_eq!(r, seat_sessions::Reconciled { closed: 1, opened: 1 }, "{b:?}");
        assert_eq!(spans(&sessions(db, ann).await, t0), vec![(2, 0, Some(120), Some("reconciled".into()))], "{b:?}");
        assert_eq!(spans(&sessions(db, bob).await, t0), vec![(3, 120, None, None)], "{b:?}");
        assert_eq!(seat_sessions::reconcile(db, later).await.unwrap(), seat_sessions::Reconciled::default(), "{b:?}: once");
        assert_eq!(rooms_store::check::run(db).await.unwrap(), vec![], "{b:?}");
    }
}
