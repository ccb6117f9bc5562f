//! Agencies over HTTP, each test on its own fresh database: creating one
//! (bad input named on its field), staff approval on the back office with
//! its audit entry, applying, the owner's decisions (only the owner, once),
//! the member limit, the dashboard by period, removal, and the pages.

use crate::support::{backends, Client, Resp, TestApp};
use axum::http::StatusCode;
use serde_json::{json, Value};

async fn role(app: &TestApp, handle: &str, role: &str) {
    let sql = format!("UPDATE accounts SET role = '{role}' WHERE handle = '{handle}'");
    platform_db::on_pool!(&app.db, p => { sqlx::query(&sql).execute(p).await.unwrap(); });
    app.settled().await;
}

fn field(r: &Resp) -> (StatusCode, String) {
    (r.status, r.json()["fields"][0]["field"].as_str().unwrap_or_default().to_string())
}

fn refusal(r: &Resp) -> (StatusCode, String) {
    (r.status, r.code())
}

async fn signed_up(app: &TestApp, handle: &str) -> (Client, String) {
    let mut c = app.client();
    let v = c.sign_up(&format!("{handle}@example.com"), handle).await;
    (c, v["account"]["id"].as_str().unwrap().to_string())
}

/// The owner's application details, logo and both ID sides, as sent
/// through the details form (stored directly: the form has its own test).
pub(crate) async fn send_details(app: &TestApp, agency: &str) {
    use rooms_store::agency_details::{submit, SealedImage, Submission};
    let agency: rooms_domain::ids::AgencyId = agency.parse().unwrap();
    let owner = rooms_store::agencies::get(&app.db, agency).await.unwrap().owner_id;
    let image = |mime: &str| SealedImage { mime: mime.into(), sealed: vec![1, 2, 3] };
    let s = Submission {
        logo_url: "/media/logo.png".into(),
        details: rooms_domain::agency::Details {
            phone: "+234 801 234 5678".into(),
            address: "1 Marina, Lagos".into(),
            referrer: String::new(),
        },
        front: image("image/jpeg"),
        back: image("image/png"),
    };
    submit(&app.db, owner, agency, &s, chrono::Utc::now()).await.unwrap();
}

fn id(r: &Resp, what: &str) -> String {
    r.json()[what]["id"].as_str().unwrap_or_else(|| panic!("{what} id in {}", r.body)).to_string()
}

/// A staff member ("staff", super admin) and `boss`'s agency "Stars", its
/// details sent and approved by that staff member: the agency's id and the
/// staff member's client.
async fn approved_agency(app: &TestApp, boss: &mut Client) -> (String, Client) {
    let (mut staff, _) = signed_up(app, "staff").await;
    role(app, "staff", "super_admin").await;
    let agency = id(&boss.post("/api/v1/agencies", json!({"name": "Stars", "country": "NG"})).await, "agency");
    send_details(app, &agency).await;
    let r = staff.post(&format!("/api/v1/admin/agencies/{agency}/status"), json!({"status": "active"})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    (agency, staff)
}

#[tokio::test]
async fn an_agency_is_created_approved_joined_and_run_from_its_dashboard() {
    for b in backends() {
        let app = TestApp::new(b).await;
        let (mut boss, _) = signed_up(&app, "boss").await;
        let (mut star, star_id) = signed_up(&app, "star").await;
        let (mut fan, _) = signed_up(&app, "fan").await;
        let (mut staff, _) = signed_up(&app, "staff").await;
        role(&app, "staff", "super_admin").await;

        // Bad input names its field; nothing is written.
        for (body, f) in [
            (json!({"country": "NG"}), "name"),
            (json!({"name": "x".repeat(21), "country": "NG"}), "name"),
            (json!({"name": "Stars", "country": "ZZ"}), "country"),
            (json!({"name": "Stars"}), "country"),
        ] {
            let r = boss.post("/api/v1/agencies", body.clone()).await;
            assert_eq!(field(&r), (StatusCode::UNPROCESSABLE_ENTITY, f.to_string()), "{b:?} {body}: {}", r.body);
            assert!(!r.json()["fields"][0]["message"].as_str().unwrap_or_default().is_empty());
        }
        assert_eq!(boss.get("/api/v1/me/agency").await.json()["owns"], Value::Null);
        let r = boss.post("/api/v1/agencies", json!({"name": "Stars", "country": "ng"})).await;
        assert_eq!(r.status, StatusCode::CREATED, "{b:?}: {}", r.body);
        let agency = id(&r, "agency");
        assert_eq!(r.json()["agency"]["status"], "pending");
        assert_eq!(
            refusal(&boss.post("/api/v1/agencies", json!({"name": "Moons", "country": "NG"})).await),
            (StatusCode::CONFLICT, "already_in_agency".into())
        );
        let taken = fan.post("/api/v1/agencies", json!({"name": "Stars", "country": "NG"})).await;
        assert_eq!(field(&taken), (StatusCode::UNPROCESSABLE_ENTITY, "name".into()), "{b:?}: names are unique");

        // Pending: no one may apply. Search needs 3 characters.
        let apply = format!("/api/v1/agencies/{agency}/applications");
        assert_eq!(refusal(&star.post(&apply, json!({})).await), (StatusCode::CONFLICT, "agency_not_active".into()));
        assert_eq!(field(&star.get("/api/v1/agencies?q=st").await), (StatusCode::UNPROCESSABLE_ENTITY, "q".into()));
        assert_eq!(star.get("/api/v1/agencies?q=sta").await.json()["agencies"].as_array().unwrap().len(), 0);

        // The back office: only staff; bad input named; approval audited.
        assert_eq!(fan.get("/api/v1/admin/agencies").await.status, StatusCode::FORBIDDEN);
        assert_eq!(field(&staff.get("/api/v1/admin/agencies?status=gone").await), (StatusCode::UNPROCESSABLE_ENTITY, "status".into()));
        let listed = staff.get("/api/v1/admin/agencies?status=pending").await.json();
        assert_eq!(listed["agencies"][0]["name"], "Stars", "{b:?}: {listed}");
        let status = format!("/api/v1/admin/agencies/{agency}/status");
        assert_eq!(field(&staff.post(&status, json!({"status": "closed"})).await), (StatusCode::UNPROCESSABLE_ENTITY, "status".into()));
        assert_eq!(field(&staff.post(&status, json!({"status": "rejected"})).await), (StatusCode::UNPROCESSABLE_ENTITY, "reason".into()));
        assert_eq!(
            refusal(&staff.post(&status, json!({"status": "suspended", "reason": "x"})).await),
            (StatusCode::CONFLICT, "bad_transition".into())
        );
        assert_eq!(fan.post(&status, json!({"status": "active"})).await.status, StatusCode::FORBIDDEN);
        // Nothing sent yet: approval is refused with a reason, and the page's Approve is disabled.
        let r = staff.post(&status, json!({"status": "active"})).await;
        assert_eq!(refusal(&r), (StatusCode::CONFLICT, "details_missing".into()), "{b:?}: {}", r.body);
        assert!(r.json()["message"].as_str().unwrap().contains("both sides of an ID"), "{}", r.body);
        let page = staff.get(&format!("/backoffice/agencies/{agency}")).await;
        assert!(page.body.contains("id=\"approve-disabled\"") && page.body.contains("id=\"details-missing\""), "{b:?}: {}", page.body);
        let form = staff.form(&format!("/backoffice/agencies/{agency}/status"), &[("status", "active")]).await;
        assert!(form.status.is_redirection() && form.location().contains("error="), "{b:?}: {} {}", form.status, form.location());
        assert_eq!(staff.get("/api/v1/admin/agencies?status=pending").await.json()["agencies"][0]["status"], "pending");
        send_details(&app, &agency).await;
        let page = staff.get(&format!("/backoffice/agencies/{agency}")).await;
        assert!(!page.body.contains("id=\"approve-disabled\"") && page.body.contains("<option value=\"active\">Approve</option>"), "{b:?}");
        let r = staff.post(&status, json!({"status": "active"})).await;
        assert_eq!((r.status, r.json()["agency"]["status"].as_str()), (StatusCode::OK, Some("active")), "{b:?}: {}", r.body);
        let page = staff.get(&format!("/backoffice/agencies/{agency}")).await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.body);
        assert!(
            page.body.contains("agency.active") && page.body.contains("Suspend"),
            "{b:?}: the audit entry and the next step: {}",
            page.body
        );
        let list = staff.get("/backoffice/agencies").await;
        assert!(list.body.contains("data-key=\"Stars\""), "{}", list.body);

        // Applying: one at a time; the owner cannot apply to their own.
        assert_eq!(
            field(&star.post(&apply, json!({"message": "m".repeat(501)})).await),
            (StatusCode::UNPROCESSABLE_ENTITY, "message".into())
        );
        let r = star.post(&apply, json!({"message": "I sing"})).await;
        assert_eq!(r.status, StatusCode::CREATED, "{b:?}: {}", r.body);
        let application = id(&r, "application");
        assert_eq!(refusal(&star.post(&apply, json!({})).await), (StatusCode::CONFLICT, "application_pending".into()));
        assert_eq!(refusal(&boss.post(&apply, json!({})).await), (StatusCode::CONFLICT, "already_in_agency".into()));
        assert_eq!(star.get("/api/v1/me/agency").await.json()["pending"]["id"], application.as_str());

        // Deciding: only the owner, once; unknown actions are 404.
        let accept = format!("/api/v1/agency/applications/{application}/accept");
        assert_eq!(refusal(&fan.post(&accept, json!({})).await), (StatusCode::FORBIDDEN, "not_agency_owner".into()));
        assert_eq!(boss.post(&format!("/api/v1/agency/applications/{application}/promote"), json!({})).await.status, StatusCode::NOT_FOUND);
        let d = boss.get("/api/v1/agency/dashboard").await.json();
        assert_eq!(d["pending"][0]["handle"], "star", "{b:?}: {d}");
        let r = boss.post(&accept, json!({})).await;
        assert_eq!((r.status, r.json()["application"]["status"].as_str()), (StatusCode::OK, Some("accepted")), "{b:?}: {}", r.body);
        assert_eq!(refusal(&boss.post(&accept, json!({})).await), (StatusCode::CONFLICT, "already_processed".into()));
        assert_eq!(star.get("/api/v1/me/agency").await.json()["member_of"]["name"], "Stars");

        // The limit: staff lower it to the one member; the next accept is refused.
        let limit = format!("/api/v1/admin/agencies/{agency}/limit");
        assert_eq!(
            field(&staff.post(&limit, json!({"member_limit": "many"})).await),
            (StatusCode::UNPROCESSABLE_ENTITY, "member_limit".into())
        );
        assert_eq!(field(&staff.post(&limit, json!({"member_limit": 0})).await), (StatusCode::UNPROCESSABLE_ENTITY, "member_limit".into()));
        assert_eq!(staff.post(&limit, json!({"member_limit": 1})).await.status, StatusCode::OK);
        let fan_app = id(&fan.post(&apply, json!({})).await, "application");
        let full = boss.post(&format!("/api/v1/agency/applications/{fan_app}/accept"), json!({})).await;
        assert_eq!(refusal(&full), (StatusCode::CONFLICT, "agency_full".into()), "{b:?}");
        assert_eq!(fan.get("/api/v1/me/agency").await.json()["pending"]["id"], fan_app.as_str(), "{b:?}: still pending");

        // The dashboard by period; bad periods and non-owners refused.
        assert_eq!(field(&boss.get("/api/v1/agency/dashboard?period=year").await), (StatusCode::UNPROCESSABLE_ENTITY, "period".into()));
        assert_eq!(refusal(&fan.get("/api/v1/agency/dashboard").await), (StatusCode::FORBIDDEN, "not_agency_owner".into()));
        for p in ["day", "week", "month"] {
            let d = boss.get(&format!("/api/v1/agency/dashboard?period={p}")).await.json();
            assert_eq!(
                (d["members"][0]["handle"].as_str(), d["agency"]["member_count"].as_i64()),
                (Some("star"), Some(1)),
                "{b:?} {p}: {d}"
            );
            assert_eq!(d["earnings"], 0);
        }
        let page = boss.get("/agency?period=week").await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.body);
        assert!(page.body.contains("data-member=\"star\"") && page.body.contains("data-applicant=\"fan\""), "{}", page.body);
        assert!(page.body.contains("<title>Stars · Rooms</title>"), "the page's title is the agency's name: {}", page.body);
        assert_eq!(page.body.matches("id=\"month-h\"").count(), 1, "the month table once, in the page's body");

        // Declining by form goes back to the dashboard with a notice.
        let r = boss.form(&format!("/agency/applications/{fan_app}/reject"), &[]).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
        assert!(r.location().starts_with("/agency?notice="), "{}", r.location());

        // Removing: someone else's member is not found; the owner frees the place.
        let remove = format!("/api/v1/agency/members/{star_id}/remove");
        assert_eq!(fan.post(&remove, json!({})).await.status, StatusCode::NOT_FOUND);
        let r = boss.post(&remove, json!({})).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        let ends: chrono::DateTime<chrono::Utc> = r.json()["ends_at"].as_str().unwrap().parse().unwrap();
        assert_eq!((ends - chrono::Utc::now() + chrono::Duration::minutes(1)).num_days(), 7, "{b:?}: the notice period");
        assert_eq!(refusal(&boss.post(&remove, json!({})).await), (StatusCode::CONFLICT, "already_leaving".into()));
        // Until the notice runs out the member stays, and sees when it ends.
        let mine = star.get("/api/v1/me/agency").await.json();
        assert_eq!((mine["member_of"]["name"].as_str(), mine["leaving_at"].is_string()), (Some("Stars"), true), "{mine}");
        assert!(star.get("/agencies").await.body.contains("Your membership ends"));
        assert!(boss.get("/agency").await.body.contains("leaves "));
        assert_eq!(rooms_store::agencies::end_due(&app.db, ends + chrono::Duration::seconds(1)).await.unwrap(), 1);
        assert_eq!(star.get("/api/v1/me/agency").await.json()["member_of"], Value::Null);
        assert_eq!(boss.post(&remove, json!({})).await.status, StatusCode::NOT_FOUND);
        let page = star.get("/agencies?q=sta").await;
        assert!(page.body.contains("data-agency=\"Stars\"") && page.body.contains("/apply"), "{}", page.body);
        let short = star.get("/agencies?q=st").await;
        assert!(short.body.contains("at least 3"), "{}", short.body);

        // Signed out: 401.
        assert_eq!(app.client().get("/api/v1/me/agency").await.status, StatusCode::UNAUTHORIZED);
        let problems = rooms_store::check::run(&app.db).await.unwrap();
        assert!(problems.is_empty(), "{b:?}: {problems:?}");
    }
}

#[tokio::test]
async fn a_members_payout_is_confirmed_by_the_agency_then_paid_by_staff() {
    for b in backends() {
        let app = TestApp::new(b).await;
        let (mut boss, _) = signed_up(&app, "boss").await;
        let (mut star, star_id) = signed_up(&app, "star").await;
        let (mut fan, _) = signed_up(&app, "fan").await;
        let (agency, mut staff) = approved_agency(&app, &mut boss).await;
        let application = id(&star.post(&format!("/api/v1/agencies/{agency}/applications"), json!({})).await, "application");
        assert_eq!(boss.post(&format!("/api/v1/agency/applications/{application}/accept"), json!({})).await.status, StatusCode::OK);
        let r = staff
            .post(
                &format!("/api/v1/admin/users/{star_id}/adjust"),
                json!({"unit": "diamonds", "amount": 300, "reason": "test", "key": "d1"}),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);

        // The member asks; staff cannot approve before the agency confirms.
        let r = star.post("/api/v1/diamonds/payouts", json!({"diamonds": 100})).await;
        assert_eq!(r.status, StatusCode::CREATED, "{b:?}: {}", r.body);
        let payout = id(&r, "payout");
        assert_eq!(r.json()["payout"]["agency_id"], agency.as_str());
        let approve = format!("/api/v1/admin/payouts/{payout}/approve");
        assert_eq!(refusal(&staff.post(&approve, json!({})).await), (StatusCode::CONFLICT, "agency_confirmation_pending".into()), "{b:?}");
        // The owner sees it and confirms; no one else may.
        assert_eq!(boss.get("/api/v1/agency/payouts").await.json()["payouts"][0]["id"], payout.as_str());
        assert_eq!(refusal(&fan.get("/api/v1/agency/payouts").await), (StatusCode::FORBIDDEN, "not_agency_owner".into()));
        let confirm = format!("/api/v1/agency/payouts/{payout}/confirm");
        assert_eq!(refusal(&star.post(&confirm, json!({})).await), (StatusCode::FORBIDDEN, "not_agency_owner".into()));
        assert_eq!(boss.post(&format!("/api/v1/agency/payouts/{payout}/pay"), json!({})).await.status, StatusCode::NOT_FOUND);
        let page = boss.get("/agency").await;
        assert!(page.body.contains(&format!("/agency/payouts/{payout}/confirm")), "{}", page.body);
        let r = boss.form(&format!("/agency/payouts/{payout}/confirm"), &[]).await;
        assert!(r.location().starts_with("/agency?notice="), "{b:?}: {}", r.location());
        assert_eq!(refusal(&boss.post(&confirm, json!({})).await), (StatusCode::CONFLICT, "already_processed".into()));
        // Staff approve and mark it paid, once.
        assert_eq!(staff.post(&approve, json!({})).await.status, StatusCode::OK);
        let paid = format!("/api/v1/admin/payouts/{payout}/paid");
        assert_eq!(staff.post(&paid, json!({})).await.json()["payout"]["status"], "paid");
        assert_eq!(refusal(&staff.post(&paid, json!({})).await), (StatusCode::CONFLICT, "already_processed".into()));
        // The owner declines the next one: the diamonds come back.
        let next = id(&star.post("/api/v1/diamonds/payouts", json!({"diamonds": 50})).await, "payout");
        let r = boss.post(&format!("/api/v1/agency/payouts/{next}/reject"), json!({})).await;
        assert_eq!(r.json()["payout"]["status"], "rejected", "{b:?}: {}", r.body);
        let mine = star.get("/api/v1/diamonds/payouts").await.json();
        assert_eq!(mine["payouts"].as_array().unwrap().len(), 2);
        let problems = rooms_store::check::run(&app.db).await.unwrap();
        assert!(problems.is_empty(), "{b:?}: {problems:?}");
        let held = rooms_store::economy::balances(&app.db, star_id.parse().unwrap()).await.unwrap().diamonds;
        assert_eq!(held, 200, "{b:?}: 300 − 100 paid; the declined 50 came back");
    }
}

async fn number_of(app: &TestApp, handle: &str) -> i64 {
    platform_db::on_pool!(&app.db, p => sqlx::query_scalar("SELECT public_number FROM accounts WHERE handle = $1").bind(handle).fetch_one(p).await.unwrap())
}

#[tokio::test]
async fn an_agency_invites_a_user_who_answers_on_the_page_and_the_api() {
    for b in backends() {
        let app = TestApp::new(b).await;
        let (mut boss, _) = signed_up(&app, "boss").await;
        let (mut star, _) = signed_up(&app, "star").await;
        let (mut shy, _) = signed_up(&app, "shy").await;
        let (mut fan, _) = signed_up(&app, "fan").await;
        let (mut staff, _) = signed_up(&app, "staff").await;
        role(&app, "staff", "super_admin").await;
        let agency = id(&boss.post("/api/v1/agencies", json!({"name": "Stars", "country": "NG"})).await, "agency");
        let star_no = number_of(&app, "star").await.to_string();
        // Pending agencies do not invite; then bad numbers name their field.
        assert_eq!(
            refusal(&boss.post("/api/v1/agency/invitations", json!({"number": star_no})).await),
            (StatusCode::CONFLICT, "agency_not_active".into())
        );
        send_details(&app, &agency).await;
        staff.post(&format!("/api/v1/admin/agencies/{agency}/status"), json!({"status": "active"})).await;
        assert_eq!(
            field(&boss.post("/api/v1/agency/invitations", json!({"number": "abc"})).await),
            (StatusCode::UNPROCESSABLE_ENTITY, "number".into())
        );
        assert_eq!(
            field(&boss.post("/api/v1/agency/invitations", json!({"number": "1"})).await),
            (StatusCode::UNPROCESSABLE_ENTITY, "number".into())
        );
        assert_eq!(
            refusal(&fan.post("/api/v1/agency/invitations", json!({"number": star_no})).await),
            (StatusCode::FORBIDDEN, "not_agency_owner".into())
        );

        let r = boss.post("/api/v1/agency/invitations", json!({"number": star_no})).await;
        assert_eq!(r.status, StatusCode::CREATED, "{b:?}: {}", r.body);
        let inv = id(&r, "invitation");
        assert_eq!(
            refusal(&boss.post("/api/v1/agency/invitations", json!({"number": star_no})).await),
            (StatusCode::CONFLICT, "invitation_pending".into())
        );
        assert_eq!(boss.get("/api/v1/agency/dashboard").await.json()["invitations"][0]["handle"], "star");
        // The user sees it in the API and on the page, and accepts by form.
        assert_eq!(star.get("/api/v1/me/agency/invitations").await.json()["invitations"][0]["agency_name"], "Stars");
        let page = star.get("/agencies").await;
        assert!(
            page.body.contains("data-invitation=\"Stars\"") && page.body.contains(&format!("/agency/invitations/{inv}/accept")),
            "{}",
            page.body
        );
        assert_eq!(fan.post(&format!("/api/v1/agency/invitations/{inv}/accept"), json!({})).await.status, StatusCode::NOT_FOUND);
        assert_eq!(star.post(&format!("/api/v1/agency/invitations/{inv}/maybe"), json!({})).await.status, StatusCode::NOT_FOUND);
        let r = star.form(&format!("/agency/invitations/{inv}/accept"), &[]).await;
        assert!(r.location().starts_with("/agencies?notice="), "{}", r.location());
        assert_eq!(star.get("/api/v1/me/agency").await.json()["member_of"]["name"], "Stars");
        assert_eq!(
            refusal(&star.post(&format!("/api/v1/agency/invitations/{inv}/decline"), json!({})).await),
            (StatusCode::CONFLICT, "already_processed".into())
        );

        // At the limit (6.6): 409 with a readable message, on the API and the dashboard form.
        staff.post(&format!("/api/v1/admin/agencies/{agency}/limit"), json!({"member_limit": "1"})).await;
        let shy_no = number_of(&app, "shy").await.to_string();
        let full = boss.post("/api/v1/agency/invitations", json!({"number": shy_no})).await;
        assert_eq!(refusal(&full), (StatusCode::CONFLICT, "agency_full".into()), "{b:?}");
        assert!(full.json()["message"].as_str().unwrap_or_default().contains("member limit"), "{}", full.body);
        let r = boss.form("/agency/invitations", &[("number", &shy_no)]).await;
        assert!(r.location().starts_with("/agency?error="), "{}", r.location());
        assert!(shy.get("/api/v1/me/agency/invitations").await.json()["invitations"].as_array().unwrap().is_empty());
        let page = boss.get("/agency").await;
        assert!(page.body.contains("action=\"/agency/invitations\""), "{}", page.body);
    }
}

#[tokio::test]
async fn the_dashboard_shows_each_members_month_and_members_claim_their_target() {
    for b in backends() {
        let app = TestApp::new(b).await;
        let (mut boss, _) = signed_up(&app, "boss").await;
        let (mut star, _) = signed_up(&app, "star").await;
        approved_agency(&app, &mut boss).await;
        let star_no = number_of(&app, "star").await.to_string();
        let inv = id(&boss.post("/api/v1/agency/invitations", json!({"number": star_no})).await, "invitation");
        assert_eq!(star.post(&format!("/api/v1/agency/invitations/{inv}/accept"), json!({})).await.status, StatusCode::OK);

        let v = boss.get("/api/v1/agency/months").await.json();
        assert_eq!(v["month"], chrono::Utc::now().format("%Y-%m").to_string());
        let m = &v["members"][0];
        assert_eq!(
            (
                m["handle"].as_str(),
                m["coins"].as_i64(),
                m["valid_mic_seconds"].as_i64(),
                m["estimated_salary_cents"].as_i64(),
                m["settled"].as_bool()
            ),
            (Some("star"), Some(0), Some(0), Some(0), Some(false)),
            "{b:?}: {v}"
        );
        assert_eq!(field(&boss.get("/api/v1/agency/months?month=2026-13").await), (StatusCode::UNPROCESSABLE_ENTITY, "month".into()));
        assert_eq!(refusal(&star.get("/api/v1/agency/months").await), (StatusCode::FORBIDDEN, "not_agency_owner".into()));
        assert_eq!(boss.get("/api/v1/agency/months?month=2020-01").await.json()["members"].as_array().unwrap().len(), 0);
        let page = boss.get("/agency").await;
        assert!(
            page.body.contains("data-month-member=\"star\"") && page.body.contains("Mic hours") && page.body.contains("Advances"),
            "{}",
            page.body
        );
        // Nothing reached yet: nothing to claim, said on the API and the page.
        assert_eq!(refusal(&star.post("/api/v1/agency/salary/claim", json!({})).await), (StatusCode::CONFLICT, "nothing_to_claim".into()));
        let r = star.form("/agency/salary/claim", &[]).await;
        assert!(r.location().starts_with("/agencies?error="), "{}", r.location());
        assert_eq!(refusal(&boss.post("/api/v1/agency/salary/claim", json!({})).await), (StatusCode::CONFLICT, "not_agency_member".into()));
        assert!(rooms_web::jobs::Job::from_name("agencies").is_some());
    }
}

#[tokio::test]
async fn an_application_carries_a_square_logo_and_encrypted_id_images_only_staff_open() {
    use axum::http::Method;
    use image::ImageFormat;
    use platform_testkit::form::{field as text, file};
    use rooms_web::media::sample_picture;
    for b in backends() {
        let app = TestApp::new(b).await;
        let (mut boss, _) = signed_up(&app, "boss").await;
        let (mut fan, _) = signed_up(&app, "fan").await;
        let (mut staff, _) = signed_up(&app, "staff").await;
        role(&app, "staff", "super_admin").await;
        let agency = id(&boss.post("/api/v1/agencies", json!({"name": "Stars", "country": "NG"})).await, "agency");
        assert!(boss.get("/agencies").await.body.contains("id=\"details-form\""), "a pending agency's owner sees the form");
        let square = sample_picture(300, 300, ImageFormat::Png);
        let wide = sample_picture(400, 300, ImageFormat::Png);
        let front = sample_picture(640, 400, ImageFormat::Jpeg);
        let back = sample_picture(640, 400, ImageFormat::Png);
        let send = |logo: &[u8], phone: &str| {
            platform_testkit::multipart(&[
                file("logo", "logo.png", "image/png", logo),
                file("id_front", "front.jpg", "image/jpeg", &front),
                file("id_back", "back.png", "image/png", &back),
                text("phone", phone),
                text("address", "1 Allen Avenue, Ikeja"),
                text("referrer", ""),
            ])
        };
        // Every bad field is named: a logo that is not square, a bad phone.
        let (ct, body) = send(&wide, "12");
        let r = boss.send(Method::POST, "/api/v1/agency/details", Some(&ct), body).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{b:?}: {}", r.body);
        let fields: Vec<String> = r.json()["fields"].as_array().unwrap().iter().map(|f| f["field"].as_str().unwrap().to_string()).collect();
        assert_eq!(fields, vec!["phone".to_string(), "logo".to_string()], "{}", r.body);
        // Text dressed as a picture is judged from its bytes.
        let (ct, body) = send(b"not a picture at all", "+234 801 234 5678");
        assert_eq!(
            field(&boss.send(Method::POST, "/api/v1/agency/details", Some(&ct), body).await),
            (StatusCode::UNPROCESSABLE_ENTITY, "logo".into())
        );
        // Someone without an agency cannot send one.
        let (ct, body) = send(&square, "+234 801 234 5678");
        assert_eq!(
            refusal(&fan.send(Method::POST, "/api/v1/agency/details", Some(&ct), body).await),
            (StatusCode::FORBIDDEN, "not_agency_owner".into())
        );

        let (ct, body) = send(&square, "+234 801 234 5678");
        let r = boss.send(Method::POST, "/api/v1/agency/details", Some(&ct), body).await;
        assert_eq!(r.status, StatusCode::OK, "{b:?}: {}", r.body);
        assert!(r.json()["agency"]["logo_url"].as_str().unwrap_or_default().ends_with(".png"), "{}", r.body);
        // At rest the ID images are sealed: the stored bytes are not the upload.
        let stored: Vec<Vec<u8>> = platform_db::on_pool!(&app.db, p => sqlx::query_scalar("SELECT sealed FROM agency_id_documents ORDER BY side")
            .fetch_all(p).await.unwrap());
        assert_eq!(stored.len(), 2);
        assert!(stored.iter().all(|s| s.len() > 12 && !s.windows(64).any(|w| w == &front[100..164] || w == &back[100..164])), "{b:?}");

        // Staff see the details and open each side; the opening is logged. Others cannot.
        let page = staff.get(&format!("/backoffice/agencies/{agency}")).await;
        assert!(
            page.body.contains("1 Allen Avenue, Ikeja") && page.body.contains(&format!("/backoffice/agencies/{agency}/id/front")),
            "{}",
            page.body
        );
        let img = staff.get(&format!("/backoffice/agencies/{agency}/id/front")).await;
        assert_eq!((img.status, img.headers["content-type"].to_str().unwrap()), (StatusCode::OK, "image/jpeg"));
        assert_eq!(img.body_bytes(), &front[..], "{b:?}: opened to the original bytes");
        assert_eq!(img.headers["cache-control"], "no-store");
        assert_eq!(staff.get(&format!("/backoffice/agencies/{agency}/id/back")).await.body_bytes(), &back[..]);
        assert_ne!(fan.get(&format!("/backoffice/agencies/{agency}/id/front")).await.status, StatusCode::OK);
        assert_ne!(boss.get(&format!("/backoffice/agencies/{agency}/id/front")).await.status, StatusCode::OK, "not even the owner");
        let logged: i64 = platform_db::on_pool!(&app.db, p => sqlx::query_scalar("SELECT COUNT(*) FROM audit_entries WHERE action = 'agency.id_front_viewed'")
            .fetch_one(p).await.unwrap());
        assert_eq!(logged, 1, "{b:?}");

        // Approved: the application is fixed; staff rejecting give a visible reason.
        send_details(&app, &agency).await;
        staff.post(&format!("/api/v1/admin/agencies/{agency}/status"), json!({"status": "active"})).await;
        let (ct, body) = send(&square, "+234 801 234 5678");
        assert_eq!(
            refusal(&boss.send(Method::POST, "/api/v1/agency/details", Some(&ct), body).await),
            (StatusCode::CONFLICT, "details_fixed".into())
        );
        assert!(!boss.get("/agencies").await.body.contains("id=\"details-form\""));
    }
}

/// The site refuses bodies above 4 MB; an agency's details (three pictures
/// of up to 2 MB) have their own, larger limit on their route only.
#[tokio::test]
async fn only_the_agency_details_route_takes_a_body_above_the_site_limit() {
    use axum::http::Method;
    use platform_testkit::form::file;
    let app = TestApp::new(backends()[0]).await;
    let (mut boss, _) = signed_up(&app, "boss").await;
    id(&boss.post("/api/v1/agencies", json!({"name": "Stars", "country": "NG"})).await, "agency");
    let five_mb = vec![0x5a_u8; 5 * 1024 * 1024];
    let (ct, body) = platform_testkit::multipart(&[file("avatar", "big.png", "image/png", &five_mb)]);
    let r = boss.send(Method::POST, "/api/v1/me/avatar", Some(&ct), body).await;
    assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE, "{}", r.body);
    let (ct, body) = platform_testkit::multipart(&[file("logo", "big.png", "image/png", &five_mb)]);
    let r = boss.send(Method::POST, "/api/v1/agency/details", Some(&ct), body).await;
    // Read in full and judged field by field: the form is refused, not the body.
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert!(r.json()["fields"].as_array().unwrap().iter().any(|f| f["field"] == "logo"), "{}", r.body);
    let eight_mb = vec![0x5a_u8; 8 * 1024 * 1024];
    let (ct, body) = platform_testkit::multipart(&[file("logo", "big.png", "image/png", &eight_mb)]);
    assert_eq!(boss.send(Method::POST, "/api/v1/agency/details", Some(&ct), body).await.status, StatusCode::PAYLOAD_TOO_LARGE);
}

#[tokio::test]
async fn an_owner_withdraws_a_pending_invitation_and_the_invitees_link_says_so() {
    for b in backends() {
        let app = TestApp::new(b).await;
        let (mut boss, _) = signed_up(&app, "boss").await;
        let (mut star, _) = signed_up(&app, "star").await;
        approved_agency(&app, &mut boss).await;
        let star_no = number_of(&app, "star").await.to_string();
        let invite = |n: String| json!({ "number": n });

        // By API: only the owner; then once.
        let first = id(&boss.post("/api/v1/agency/invitations", invite(star_no.clone())).await, "invitation");
        let url = format!("/api/v1/agency/invitations/{first}/withdraw");
        assert_eq!(star.post(&url, json!({})).await.status, StatusCode::NOT_FOUND, "{b:?}: the invitee cannot withdraw it");
        let r = boss.post(&url, json!({})).await;
        assert_eq!((r.status, r.json()["invitation"]["status"].as_str()), (StatusCode::OK, Some("withdrawn")), "{b:?}: {}", r.body);
        assert_eq!(refusal(&boss.post(&url, json!({})).await), (StatusCode::CONFLICT, "already_processed".into()));
        let answer = star.post(&format!("/api/v1/agency/invitations/{first}/accept"), json!({})).await;
        assert_eq!(refusal(&answer), (StatusCode::CONFLICT, "invitation_withdrawn".into()), "{b:?}");
        assert!(answer.json()["message"].as_str().unwrap().contains("Stars withdrew"), "{}", answer.body);
        assert_eq!(star.get("/api/v1/me/agency/invitations").await.json()["invitations"], json!([]));
        // The invitee's link says what happened.
        let page = star.get(&format!("/agencies?invitation={first}")).await;
        assert!(
            page.body.contains("id=\"invitation-note\"") && page.body.contains("Stars withdrew its invitation."),
            "{b:?}: {}",
            page.body
        );
        // Someone else's link says nothing.
        let page = boss.get(&format!("/agencies?invitation={first}")).await;
        assert!(!page.body.contains("id=\"invitation-note\""), "{b:?}");

        // On the page: a Withdraw button with a confirmation box; unconfirmed, nothing happens.
        let second = id(&boss.post("/api/v1/agency/invitations", invite(star_no.clone())).await, "invitation");
        let page = boss.get("/agency").await;
        assert!(page.body.contains(&format!("action=\"/agency/invitations/{second}/withdraw\"")), "{b:?}: {}", page.body);
        assert!(page.body.contains("name=\"confirm\" value=\"yes\" required"), "{b:?}");
        let form = boss.form(&format!("/agency/invitations/{second}/withdraw"), &[]).await;
        assert!(form.status.is_redirection() && form.location().contains("error="), "{b:?}: {} {}", form.status, form.location());
        assert_eq!(star.get("/api/v1/me/agency/invitations").await.json()["invitations"][0]["id"], second.as_str());
        let form = boss.form(&format!("/agency/invitations/{second}/withdraw"), &[("confirm", "yes")]).await;
        assert!(form.location().contains("notice="), "{b:?}: {}", form.location());
        assert!(!boss.get("/agency").await.body.contains(&format!("/agency/invitations/{second}/withdraw")), "{b:?}: no longer listed");
        assert!(star.get(&format!("/agencies?invitation={second}")).await.body.contains("Stars withdrew its invitation."));
    }
}
