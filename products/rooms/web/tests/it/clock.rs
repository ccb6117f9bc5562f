//! The app's ranking clock (`Economy::settings.clock`) is the one the
//! `boards` job and the agency dashboard key their periods by, not the
//! default: with weeks starting on Sunday, a missed fold is caught up in
//! the Sunday week and the dashboard names the Sunday week.

use crate::agencies::send_details;
use crate::economy::{id_of, room_with_gift};
use crate::support::{backends, TestApp};
use axum::http::StatusCode;
use chrono::Utc;
use rooms_domain::progress::{Period, RankingClock};
use rooms_web::jobs::Job;
use serde_json::json;
use std::sync::Arc;

fn sunday_clock() -> RankingClock {
    RankingClock { week_start: chrono::Weekday::Sun, ..RankingClock::default() }
}

async fn totals(app: &TestApp, period: &str) -> i64 {
    platform_db::on_pool!(&app.db, p => sqlx::query_scalar("SELECT COUNT(*) FROM board_totals WHERE period = $1").bind(period).fetch_one(p).await.unwrap())
}

#[tokio::test]
async fn the_boards_job_and_the_agency_dashboard_use_the_configured_clock() {
    let clock = sunday_clock();
    for b in backends() {
        let app = TestApp::with_state(b, |s| {
            let mut e = rooms_web::economy::Economy::unconfigured();
            e.settings.clock = clock;
            s.economy = Arc::new(e);
        })
        .await;
        let now = Utc::now();
        let (sunday, monday) = (clock.key(Period::Weekly, now), RankingClock::default().key(Period::Weekly, now));
        assert_ne!(sunday, monday);

        // A gift counts in the Sunday week; then its fold is lost.
        let mut r = room_with_gift(&app).await;
        let (fan_id, _) = id_of(&mut r.fan).await;
        rooms_store::economy::grant(&app.db, fan_id, 500, "t", None, now).await.unwrap();
        let folded = rooms_store::leaderboards::version(&app.db).await.unwrap();
        let sent = r.fan.post(&format!("/api/v1/rooms/{}/gifts", r.id), json!({"gift_id": r.gift, "to": r.star_id, "quantity": 1})).await;
        assert_eq!(sent.status, StatusCode::CREATED, "{b:?}: {}", sent.body);
        // The node folds the gift in the background when its frame goes
        // out; the totals are lost after that fold, not under it.
        for _ in 0..200 {
            if rooms_store::leaderboards::version(&app.db).await.unwrap() > folded {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(25)).await;
        }
        assert!(rooms_store::leaderboards::version(&app.db).await.unwrap() > folded, "{b:?}: the node's own fold");
        platform_db::on_pool!(&app.db, p => { sqlx::query("DELETE FROM board_totals").execute(p).await.unwrap(); });
        assert_eq!(totals(&app, &sunday).await, 0);

        // The job, given the app's clock, folds it back into the Sunday week only.
        let run = rooms_web::jobs::runner(app.db.clone(), Arc::new(rooms_web::voice::NoVoice), clock);
        run(Job::Boards, Utc::now()).await.unwrap();
        assert!(totals(&app, &sunday).await >= 2, "{b:?}: the sender's wealth and the receiver's charm in the Sunday week");
        assert_eq!(totals(&app, &monday).await, 0, "{b:?}: nothing in the default clock's week");
        let board = r.fan.get("/api/v1/leaderboards/wealth?period=weekly").await.json();
        assert_eq!(board["key"], sunday, "{b:?}: {board}");
        assert_eq!(board["rows"].as_array().map(Vec::len), Some(1), "{b:?}: {board}");

        // The agency dashboard names the Sunday week too.
        let mut boss = app.client();
        boss.sign_up("boss@example.com", "boss").await;
        let agency = boss.post("/api/v1/agencies", json!({"name": "Stars", "country": "NG"})).await.json()["agency"]["id"]
            .as_str()
            .unwrap()
            .to_string();
        send_details(&app, &agency).await;
        let mut staff = app.client();
        staff.sign_up("staff@example.com", "staff").await;
        platform_db::on_pool!(&app.db, p => { sqlx::query("UPDATE accounts SET role = 'super_admin' WHERE handle = 'staff'").execute(p).await.unwrap(); });
        app.settled().await;
        let r = staff.post(&format!("/api/v1/admin/agencies/{agency}/status"), json!({"status": "active"})).await;
        assert_eq!(r.status, StatusCode::OK, "{b:?}: {}", r.body);
        let d = boss.get("/api/v1/agency/dashboard?period=week").await;
        assert_eq!(d.status, StatusCode::OK, "{b:?}: {}", d.body);
        assert_eq!(d.json()["period_key"], sunday, "{b:?}: {}", d.body);
    }
}
