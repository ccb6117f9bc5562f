//! Payments end to end against a fake Paystack on its own port that speaks
//! the real protocol: signatures, duplicate and early webhooks, amount
//! mismatches, reconciliation, refunds, tiers and rewards. Every test ends
//! by checking that each balance equals the sum of its ledger entries.

use crate::chat::{assert_books_balance, flat_pricing, grant, say, user_id, user_with_chat};
use crate::support::*;
use axum::http::{Method, StatusCode};
use fantooo_domain::ids::{PackageId, UserId};
use fantooo_domain::payment::TransactionStatus;
use fantooo_domain::{AdminRole, Kes, UserTier};
use fantooo_store::{ledger, packages, payments, rewards, Backend, Db};
use fantooo_web::config::{PaymentsConfig, PaymentsMode};
use platform_payments::fake::{Behaviour, CheckoutBase, FakePaystack};
use platform_payments::Paystack;
use serde_json::json;
use std::time::Duration;

/// The app (served on loopback so webhooks arrive over HTTP) and the fake
/// provider it talks to.
pub struct PayApp {
    pub app: TestApp,
    pub fake: FakePaystack,
    pub fake_base: String,
    pub secret: String,
    pub app_base: String,
}

impl PayApp {
    pub async fn new(backend: Backend) -> PayApp {
        let secret = FakePaystack::random_secret();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let fake_base = format!("http://{}", listener.local_addr().unwrap());
        let fake = FakePaystack::new(secret.clone(), CheckoutBase::Fixed(fake_base.clone()));
        let router = fake.router();
        tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
        let (s, b) = (secret.clone(), fake_base.clone());
        let app = TestApp::with_config(backend, move |c| {
            c.payments = PaymentsConfig {
                mode: PaymentsMode::Paystack,
                secret_key: s,
                api_base_url: b,
                public_url: Some("http://shop.test".into()),
                reconcile_after: Duration::from_secs(15 * 60),
            };
        })
        .await;
        let addr = app.serve().await;
        fake.set_webhook_url(format!("http://{addr}/api/webhooks/paystack"));
        PayApp { app, fake, fake_base, secret, app_base: format!("http://{addr}") }
    }

    pub fn provider(&self) -> Paystack {
        Paystack::new(self.secret.clone()).with_base_url(self.fake_base.clone())
    }

    pub fn db(&self) -> &Db {
        &self.app.db
    }

    /// Posts a raw webhook body with the given signature header.
    pub async fn post_webhook(&self, body: &[u8], signature: Option<&str>) -> reqwest::Response {
        let mut req = reqwest::Client::new()
            .post(format!("{}/api/webhooks/paystack", self.app_base))
            .header("content-type", "application/json")
            .body(body.to_vec());
        if let Some(s) = signature {
            req = req.header("x-paystack-signature", s);
        }
        req.send().await.unwrap()
    }
}

/// The spec's four packages; returns their ids in order (10, 50, 100, 500).
pub async fn spec_packages(db: &Db) -> Vec<PackageId> {
    let mut ids = vec![];
    for (i, (name, credits, kes, bonus, badge, featured)) in [
        ("Starter", 10, 100, 0, None, false),
        ("Popular", 50, 400, 0, Some("POPULAR"), true),
        ("Best value", 100, 700, 10, Some("BEST VALUE"), false),
        ("VIP", 500, 3000, 100, Some("VIP"), false),
    ]
    .into_iter()
    .enumerate()
    {
        ids.push(
            packages::create(
                db,
                &packages::NewPackage {
                    name,
                    credits,
                    price_cents: Kes::from_shillings(kes).cents(),
                    bonus_credits: bonus,
                    badge,
                    is_featured: featured,
                    sort_order: i as i64,
                    valid_from: None,
                    valid_until: None,
                    variant: None,
                },
            )
            .await
            .unwrap(),
        );
    }
    ids
}

async fn one_credit_package(db: &Db, name: &str, kes: i64) -> PackageId {
    packages::create(
        db,
        &packages::NewPackage {
            name,
            credits: 1,
            price_cents: Kes::from_shillings(kes).cents(),
            bonus_credits: 0,
            badge: None,
            is_featured: false,
            sort_order: 10,
            valid_from: None,
            valid_until: None,
            variant: None,
        },
    )
    .await
    .unwrap()
}

/// Opens a checkout through the API; returns the reference.
pub async fn initialize(c: &mut Client, package: PackageId) -> String {
    let r = c.json(Method::POST, "/api/payments/initialize", json!({ "package_id": package.to_string() })).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    r.json()["reference"].as_str().unwrap().to_string()
}

async fn post_refund(admin: &mut Client, body: serde_json::Value) -> Resp {
    let token = admin.csrf.clone().expect("signed in");
    admin
        .send(Method::POST, "/api/admin/refunds", Some("application/json"), serde_json::to_vec(&body).unwrap(), &[("x-csrf-token", &token)])
        .await
}

async fn balance(db: &Db, user: UserId) -> i64 {
    ledger::balance(db, user).await.unwrap().get()
}

async fn purchase_entries(db: &Db, user: UserId) -> usize {
    ledger::entries(db, user, None, 1000)
        .await
        .unwrap()
        .iter()
        .filter(|e| e.reason == fantooo_domain::ledger::LedgerReason::Purchase)
        .count()
}

#[tokio::test]
async fn webhook_signatures_are_checked_before_anything_happens() {
    for b in backends() {
        let p = PayApp::new(b).await;
        let pkgs = spec_packages(p.db()).await;
        let mut c = api_user(&p.app, "signer").await;
        let uid = user_id(&mut c).await;
        p.fake.set_behaviour(Behaviour { send_webhooks: false, ..Behaviour::default() });
        let reference = initialize(&mut c, pkgs[1]).await;
        p.fake.pay(&reference).await;
        let body = p.fake.event_body(&reference, "charge.success").unwrap();
        let good = p.fake.sign(&body);

        let forged = platform_payments::signature::sign("sk_test_not_the_key", &body);
        let mut tampered = String::from_utf8(body.clone()).unwrap().replace("\"amount\":40000", "\"amount\":4000000");
        assert_ne!(tampered.as_bytes(), &body[..], "the tamper changed the body");
        for (sig, what) in [(None, "missing"), (Some(forged.as_str()), "wrong key"), (Some("zz"), "junk")] {
            let r = p.post_webhook(&body, sig).await;
            assert_eq!(r.status(), 401, "{b:?}: {what}");
        }
        let r = p.post_webhook(tampered.as_bytes(), Some(&good)).await;
        assert_eq!(r.status(), 401, "{b:?}: tampered body");
        tampered.clear();
        let t = payments::by_reference(p.db(), &reference).await.unwrap();
        assert_eq!(
            (t.webhook_received_count, t.status, balance(p.db(), uid).await),
            (0, TransactionStatus::Pending, 0),
            "{b:?}: rejected deliveries leave no trace"
        );

        let r = p.post_webhook(&body, Some(&good.to_uppercase())).await;
        assert_eq!(r.status(), 200, "{b:?}");
        let v: serde_json::Value = r.json().await.unwrap();
        assert_eq!(v["result"]["decision"], "credited", "{b:?}: {v}");
        assert_eq!(balance(p.db(), uid).await, 50, "{b:?}");
        assert_books_balance(p.db()).await;
    }
}

#[tokio::test]
async fn the_same_webhook_100_times_at_once_credits_once_and_counts_100() {
    for b in backends() {
        let p = PayApp::new(b).await;
        let pkgs = spec_packages(p.db()).await;
        let mut c = api_user(&p.app, "hundred").await;
        let uid = user_id(&mut c).await;
        p.fake.set_behaviour(Behaviour { webhook_copies: 100, ..Behaviour::default() });
        let reference = initialize(&mut c, pkgs[1]).await;
        let statuses = p.fake.pay(&reference).await;
        assert_eq!(statuses.len(), 100);
        assert!(statuses.iter().all(|s| *s == 200), "{b:?}: every delivery answered 200: {statuses:?}");

        let t = payments::by_reference(p.db(), &reference).await.unwrap();
        assert_eq!(t.webhook_received_count, 100, "{b:?}");
        assert!(t.last_webhook_at.is_some());
        assert_eq!(t.status, TransactionStatus::Success, "{b:?}");
        assert_eq!(balance(p.db(), uid).await, 50, "{b:?}: credited exactly once");
        assert_eq!(purchase_entries(p.db(), uid).await, 1, "{b:?}");
        let me = c.api_get("/api/me").await.json();
        assert_eq!(me["user"]["total_spent_cents"], 40_000, "{b:?}: spend counted once");

        // The buyer's return and a late retry change nothing either.
        let r = c.json(Method::POST, "/api/payments/verify", json!({ "reference": reference })).await;
        assert_eq!(r.json()["outcome"], "duplicate", "{b:?}");
        let admin_view =
            admin_client(&p.app, "money@fantooo.com", AdminRole::Admin).await.api_get("/api/admin/payments/queue").await.json();
        assert_eq!(admin_view["webhooks"]["duplicates"], 99, "{b:?}: {admin_view}");
        assert_eq!(balance(p.db(), uid).await, 50);
        assert_books_balance(p.db()).await;
    }
}

#[tokio::test]
async fn a_webhook_before_our_checkout_record_is_held_then_credited_once() {
    for b in backends() {
        let p = PayApp::new(b).await;
        let pkgs = spec_packages(p.db()).await;
        let mut c = api_user(&p.app, "early").await;
        let uid = user_id(&mut c).await;
        // The provider settles and delivers while initialize is still open.
        p.fake.set_behaviour(Behaviour { pay_during_initialize: true, ..Behaviour::default() });
        let reference = initialize(&mut c, pkgs[2]).await;
        let t = payments::by_reference(p.db(), &reference).await.unwrap();
        assert_eq!(t.webhook_received_count, 1, "{b:?}: the early delivery was counted");
        assert_eq!(t.real_user_id, Some(uid));
        assert_eq!(t.status, TransactionStatus::Success, "{b:?}: decided when the checkout was recorded");
        assert_eq!(balance(p.db(), uid).await, 110, "{b:?}: 100 + 10 bonus");

        // Redelivered later, out of order with the buyer's return: still once.
        p.fake.deliver(&reference, "charge.success", 3).await;
        let r = c.json(Method::POST, "/api/payments/verify", json!({ "reference": reference })).await;
        assert_eq!(r.status, StatusCode::OK);
        assert_eq!(balance(p.db(), uid).await, 110, "{b:?}");
        assert_eq!(payments::by_reference(p.db(), &reference).await.unwrap().webhook_received_count, 4);
        assert_books_balance(p.db()).await;
    }
}

#[tokio::test]
async fn a_stale_failure_arriving_after_success_changes_nothing() {
    for b in backends() {
        let p = PayApp::new(b).await;
        let pkgs = spec_packages(p.db()).await;
        let mut c = api_user(&p.app, "ordering").await;
        let uid = user_id(&mut c).await;
        let reference = initialize(&mut c, pkgs[0]).await;
        p.fake.pay(&reference).await;
        // An older "failed" event for the same reference shows up afterwards.
        p.fake.set_status(&reference, "failed", "Declined");
        let body = p.fake.event_body(&reference, "charge.failed").unwrap();
        let r = p.post_webhook(&body, Some(&p.fake.sign(&body))).await;
        assert_eq!(r.status(), 200);
        let t = payments::by_reference(p.db(), &reference).await.unwrap();
        assert_eq!((t.status, t.webhook_received_count), (TransactionStatus::Success, 2), "{b:?}");
        assert_eq!(balance(p.db(), uid).await, 10);
        assert_books_balance(p.db()).await;
    }
}

#[tokio::test]
async fn amount_or_currency_mismatches_go_to_review_without_credits() {
    for b in backends() {
        let p = PayApp::new(b).await;
        let pkgs = spec_packages(p.db()).await;
        let mut c = api_user(&p.app, "tamper").await;
        let uid = user_id(&mut c).await;
        let mut admin = admin_client(&p.app, "review@fantooo.com", AdminRole::Admin).await;

        for (behaviour, why) in [
            (Behaviour { charged_amount_cents: Some(100), ..Behaviour::default() }, "amount"),
            (Behaviour { charged_currency: Some("NGN".into()), ..Behaviour::default() }, "currency"),
        ] {
            p.fake.set_behaviour(behaviour);
            let reference = initialize(&mut c, pkgs[3]).await;
            let statuses = p.fake.pay(&reference).await;
            assert_eq!(statuses, vec![200], "{b:?}: review-bound events still answer 200");
            let t = payments::by_reference(p.db(), &reference).await.unwrap();
            assert_eq!(t.status, TransactionStatus::Processing, "{b:?}");
            assert!(t.needs_manual_review, "{b:?}");
            assert!(t.review_reason.as_deref().unwrap_or("").contains(why), "{b:?}: {:?}", t.review_reason);
            assert_eq!(balance(p.db(), uid).await, 0, "{b:?}: nothing credited");

            // The queue shows it; re-verifying keeps it in review; closing it is audited.
            let q = admin.api_get("/api/admin/payments/queue").await.json();
            assert!(q["transactions"].as_array().unwrap().iter().any(|x| x["provider_reference"] == reference.as_str()), "{b:?}");
            let r = admin
                .send(
                    Method::POST,
                    &format!("/api/admin/payments/transactions/{}/verify", t.id),
                    None,
                    vec![],
                    &[("x-csrf-token", &admin.csrf.clone().unwrap())],
                )
                .await;
            assert_eq!(r.status, StatusCode::OK, "{b:?}: {}", r.body);
            assert_eq!(r.json()["transaction"]["status"], "processing", "{b:?}");
            let r = admin
                .send(
                    Method::POST,
                    &format!("/api/admin/payments/transactions/{}/dismiss", t.id),
                    Some("application/json"),
                    serde_json::to_vec(&json!({ "note": "Refunded the card at the provider" })).unwrap(),
                    &[("x-csrf-token", &admin.csrf.clone().unwrap())],
                )
                .await;
            assert_eq!(r.status, StatusCode::OK, "{b:?}: {}", r.body);
            assert_eq!(r.json()["transaction"]["needs_manual_review"], false);
        }
        assert_eq!(balance(p.db(), uid).await, 0);
        assert_books_balance(p.db()).await;
    }
}

#[tokio::test]
async fn reconciliation_credits_missed_successes_and_records_failures() {
    for b in backends() {
        let p = PayApp::new(b).await;
        let pkgs = spec_packages(p.db()).await;
        let mut c = api_user(&p.app, "reconciled").await;
        let uid = user_id(&mut c).await;
        p.fake.set_behaviour(Behaviour { send_webhooks: false, ..Behaviour::default() });
        let paid = initialize(&mut c, pkgs[1]).await;
        let declined = initialize(&mut c, pkgs[0]).await;
        let abandoned = initialize(&mut c, pkgs[0]).await;
        p.fake.pay(&paid).await;
        p.fake.decline(&declined, "Declined by issuer").await;
        // A webhook for a checkout this platform never opened.
        p.fake.set_webhook_url(format!("{}/api/webhooks/paystack", p.app_base));
        let orphan_body = br#"{"event":"charge.success","data":{"reference":"not-ours","status":"success","amount":5000,"currency":"KES","gateway_response":"Approved"}}"#;
        assert_eq!(p.post_webhook(orphan_body, Some(&p.fake.sign(orphan_body))).await.status(), 200);

        let provider = p.provider();
        let later = chrono::Utc::now() + chrono::Duration::minutes(1);
        let r = fantooo_web::purchases::reconcile(p.db(), &provider, later).await.unwrap();
        assert_eq!((r.checked, r.credited, r.failed, r.errors, r.orphans_flagged), (3, 1, 2, 0, 1), "{b:?}: {r:?}");
        assert_eq!(balance(p.db(), uid).await, 50, "{b:?}");
        let d = payments::by_reference(p.db(), &declined).await.unwrap();
        assert_eq!(d.status, TransactionStatus::Failed);
        assert!(d.needs_manual_review, "a declined payment is flagged");
        assert_eq!(d.failure_reason.as_deref(), Some("Declined by issuer"), "the gateway's words are kept");
        let a = payments::by_reference(p.db(), &abandoned).await.unwrap();
        assert_eq!(a.status, TransactionStatus::Failed);
        assert!(!a.needs_manual_review, "an abandoned checkout needs nobody");
        let o = payments::by_reference(p.db(), "not-ours").await.unwrap();
        assert!(o.needs_manual_review && o.real_user_id.is_none());

        // A second pass finds nothing left and credits nothing twice.
        let again = fantooo_web::purchases::reconcile(p.db(), &provider, later).await.unwrap();
        assert_eq!((again.checked, again.credited), (0, 0), "{b:?}");
        // If the buyer completes a checkout later, it still credits once.
        p.fake.pay(&abandoned).await;
        let r = c.json(Method::POST, "/api/payments/verify", json!({ "reference": abandoned })).await;
        assert_eq!(r.json()["outcome"], "credited", "{b:?}: {}", r.body);
        assert_eq!(balance(p.db(), uid).await, 60);
        assert_books_balance(p.db()).await;
    }
}

#[tokio::test]
async fn checkout_keeps_the_price_it_started_with() {
    for b in backends() {
        let p = PayApp::new(b).await;
        let pkgs = spec_packages(p.db()).await;
        let mut c = api_user(&p.app, "pricelock").await;
        let uid = user_id(&mut c).await;
        let reference = initialize(&mut c, pkgs[1]).await;
        let admin = fantooo_store::admins::create(
            p.db(),
            &fantooo_store::admins::NewAdmin {
                name: "Pricing".into(),
                email: "pricing@fantooo.com".into(),
                role: AdminRole::Admin,
                permissions: fantooo_domain::Permissions::for_role(AdminRole::Admin),
            },
            "x",
            None,
            false,
        )
        .await
        .unwrap();
        packages::set_active(p.db(), pkgs[1], false, admin.id).await.unwrap();
        p.fake.pay(&reference).await;
        assert_eq!(balance(p.db(), uid).await, 50, "{b:?}: the retired package's checkout still completes");
        let r = c.json(Method::POST, "/api/payments/initialize", json!({ "package_id": pkgs[1].to_string() })).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{b:?}: no new checkouts for it");
        assert_eq!(r.json()["fields"][0]["field"], "package_id");
        assert_books_balance(p.db()).await;
    }
}

#[tokio::test]
async fn tiers_change_at_each_threshold_right_after_the_purchase() {
    for b in backends() {
        let p = PayApp::new(b).await;
        let mut c = api_user(&p.app, "climber").await;
        let steps = [
            (999, UserTier::Free),
            (1, UserTier::Bronze),
            (3_999, UserTier::Bronze),
            (1, UserTier::Silver),
            (14_999, UserTier::Silver),
            (1, UserTier::Gold),
            (79_999, UserTier::Gold),
            (1, UserTier::Platinum),
        ];
        for (i, (kes, tier)) in steps.into_iter().enumerate() {
            let pkg = one_credit_package(p.db(), &format!("Step {i}"), kes).await;
            let reference = initialize(&mut c, pkg).await;
            p.fake.pay(&reference).await;
            let me = c.api_get("/api/me").await.json();
            assert_eq!(me["user"]["user_tier"], tier.as_str(), "{b:?}: after step {i} ({kes} KES)");
        }
        let me = c.api_get("/api/me").await.json();
        assert_eq!(me["user"]["total_spent_cents"], 100_000 * 100);
        assert_eq!(me["user"]["credits"], 8);
        assert_books_balance(p.db()).await;
    }
}

#[tokio::test]
async fn refunds_never_exceed_what_the_message_was_charged() {
    for b in backends() {
        let app = TestApp::new(b).await;
        flat_pricing(&app.db).await;
        let (mut c, uid, chat) = user_with_chat(&app, "refundee").await;
        grant(&app.db, uid, 10).await;
        let mut ids = vec![];
        for n in 1..=5 {
            let r = say(&mut c, chat, &format!("message {n}")).await;
            ids.push(r.json()["message"]["id"].as_str().unwrap().to_string());
        }
        assert_eq!(balance(&app.db, uid).await, 8, "two paid messages");
        let (free, paid, paid2) = (&ids[0], &ids[3], &ids[4]);
        let mut admin = admin_client(&app, "refunds@fantooo.com", AdminRole::Admin).await;
        let field_of = |r: &Resp| r.json()["fields"][0]["field"].as_str().unwrap_or("").to_string();

        let r = post_refund(&mut admin, json!({ "user": "refundee", "credits": 2, "reason": "accidental_send", "message_id": paid })).await;
        assert_eq!((r.status, field_of(&r)), (StatusCode::UNPROCESSABLE_ENTITY, "credits".into()), "{b:?}: more than charged: {}", r.body);
        let r = post_refund(&mut admin, json!({ "user": "refundee", "credits": 1, "reason": "accidental_send", "message_id": free })).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{b:?}: a free message has nothing to refund");
        let r =
            post_refund(&mut admin, json!({ "user": "refundee", "credits": 1, "reason": "account_deletion", "message_id": paid })).await;
        assert_eq!((r.status, field_of(&r)), (StatusCode::UNPROCESSABLE_ENTITY, "reason".into()), "{b:?}");
        let r = post_refund(
            &mut admin,
            json!({ "user": "refundee", "credits": 1, "reason": "inappropriate_content", "message_id": paid, "notes": "rude reply" }),
        )
        .await;
        assert_eq!(r.status, StatusCode::CREATED, "{b:?}: {}", r.body);
        assert_eq!(r.json()["refund"]["chat_id"], chat.to_string(), "the chat is recorded from the message");
        let r = post_refund(&mut admin, json!({ "user": "refundee", "credits": 1, "reason": "accidental_send", "message_id": paid })).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{b:?}: already fully refunded");

        // Eight refunds of the other paid message at once: one wins.
        let admin_row = fantooo_store::admins::list(&app.db).await.unwrap().into_iter().find(|a| a.email == "refunds@fantooo.com").unwrap();
        let message: fantooo_domain::ids::MessageId = paid2.parse().unwrap();
        let joins: Vec<_> = (0..8)
            .map(|_| {
                let (db, admin_row) = (app.db.clone(), admin_row.clone());
                tokio::spawn(async move {
                    fantooo_store::refunds::refund(
                        &db,
                        &fantooo_store::refunds::RefundRequest {
                            user: uid,
                            credits: fantooo_domain::Credits(1),
                            reason: fantooo_domain::refund::RefundReason::SystemError,
                            message: Some(message),
                            chat: None,
                            admin: admin_row.id,
                            admin_account: admin_row.account_id,
                            notes: None,
                            key: None,
                        },
                    )
                    .await
                    .is_ok()
                })
            })
            .collect();
        let mut wins = 0;
        for j in joins {
            if j.await.unwrap() {
                wins += 1;
            }
        }
        assert_eq!(wins, 1, "{b:?}: concurrent refunds stay within the charge");
        assert_eq!(balance(&app.db, uid).await, 10, "{b:?}: both paid messages refunded once");

        let notes = fantooo_store::notifications::for_user(&app.db, uid, 10).await.unwrap();
        assert_eq!(notes.len(), 2, "{b:?}: the user is told about each refund");
        assert!(notes.iter().all(|n| n.kind == "credit_refund"));
        assert_books_balance(&app.db).await;
    }
}

/// The user page's refund form takes the same path as the payments back
/// office: its embedded key makes a double submit refund once, the cap
/// for refunds without a message holds, and the audit row is written with
/// the refund. The JSON twin and `/api/admin/refunds` honour a client key.
#[tokio::test]
async fn user_page_refund_form_refunds_once_per_submit_and_keeps_the_cap() {
    for b in backends() {
        let app = TestApp::new(b).await;
        let (_c, uid, _chat) = user_with_chat(&app, "formrefund").await;
        let mut admin = admin_client(&app, "refunds@fantooo.com", AdminRole::SuperAdmin).await;
        let page = admin.get(&format!("/admin/users/{uid}")).await;
        assert_eq!(page.status, StatusCode::OK);
        let marker = "name=\"idempotency_key\" value=\"";
        let start = page.body.find(marker).expect("the refund form carries a key") + marker.len();
        let key = page.body[start..].split('"').next().unwrap().to_string();
        let form = format!("/admin/users/{uid}/refund");
        let fields = [("credits", "4"), ("reason", "system_error"), ("notes", "outage"), ("idempotency_key", key.as_str())];
        for _ in 0..2 {
            let r = admin.post_form(&form, &fields).await;
            assert_eq!(r.status, StatusCode::SEE_OTHER, "{b:?}: {}", r.body);
            assert!(r.location().contains("notice="), "{}", r.location());
        }
        assert_eq!(balance(&app.db, uid).await, 4, "{b:?}: a double submit refunds once");
        let audited: i64 = fantooo_store::on_pool!(&app.db, p => sqlx::query_scalar(
            "SELECT COUNT(*) FROM audit_entries WHERE action = 'credits_refunded' AND subject_id = $1")
            .bind(uid.to_string()).fetch_one(p).await.unwrap());
        assert_eq!(audited, 1);

        // Over the cap for refunds without a message: refused, nothing moves.
        let r = admin.post_form(&form, &[("credits", "1001"), ("reason", "admin_discretion"), ("idempotency_key", "other-key")]).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER);
        assert!(r.location().contains("error="), "{b:?}: {}", r.location());
        let token = admin.csrf.clone().unwrap();
        let over = serde_json::to_vec(&json!({ "credits": 5000, "reason": "admin_discretion" })).unwrap();
        let r = admin
            .send(Method::POST, &format!("/api/admin/users/{uid}/refund"), Some("application/json"), over, &[("x-csrf-token", &token)])
            .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{b:?}: {}", r.body);
        assert_eq!(balance(&app.db, uid).await, 4);

        // The JSON routes: the same client key twice is one refund.
        for _ in 0..2 {
            let r =
                post_refund(&mut admin, json!({ "user": "formrefund", "credits": 2, "reason": "system_error", "idempotency_key": "k-1" }))
                    .await;
            assert_eq!(r.status, StatusCode::CREATED, "{b:?}: {}", r.body);
        }
        assert_eq!(balance(&app.db, uid).await, 6);
        assert_books_balance(&app.db).await;
    }
}

#[tokio::test]
async fn account_deletion_owes_ten_shillings_per_unused_credit_until_paid() {
    for b in backends() {
        let app = TestApp::new(b).await;
        let mut c = api_user(&app, "leaving").await;
        let uid = user_id(&mut c).await;
        grant(&app.db, uid, 37).await;
        let mut admin = admin_client(&app, "gdpr@fantooo.com", AdminRole::SuperAdmin).await;
        let token = admin.csrf.clone().unwrap();
        let r =
            admin.send(Method::POST, &format!("/api/admin/users/{uid}/deletion-refund"), None, vec![], &[("x-csrf-token", &token)]).await;
        assert_eq!(r.status, StatusCode::OK, "{b:?}: {}", r.body);
        let d = r.json()["deletion_refund"].clone();
        assert_eq!((d["unused_credits"].as_i64(), d["amount"].as_i64()), (Some(37), Some(37_000)), "{b:?}: {d}");
        assert_eq!(balance(&app.db, uid).await, 0, "{b:?}: the credits became a cash claim");
        let refund_id = d["refund_id"].as_str().unwrap().to_string();
        let list = admin.api_get("/api/admin/refunds").await.json();
        let row = list["refunds"].as_array().unwrap().iter().find(|r| r["id"] == refund_id.as_str()).unwrap().clone();
        assert_eq!((row["status"].as_str(), row["reason"].as_str()), (Some("pending"), Some("account_deletion")));
        // Running it again owes nothing more.
        let r =
            admin.send(Method::POST, &format!("/api/admin/users/{uid}/deletion-refund"), None, vec![], &[("x-csrf-token", &token)]).await;
        assert_eq!(r.json()["deletion_refund"]["amount"], 0, "{b:?}");
        let r = admin.send(Method::POST, &format!("/api/admin/refunds/{refund_id}/paid"), None, vec![], &[("x-csrf-token", &token)]).await;
        assert_eq!(r.json()["refund"]["status"], "completed", "{b:?}: {}", r.body);
        let r = admin.send(Method::POST, &format!("/api/admin/refunds/{refund_id}/paid"), None, vec![], &[("x-csrf-token", &token)]).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{b:?}: paid once");
        assert_books_balance(&app.db).await;
    }
}

#[tokio::test]
async fn daily_rewards_and_achievements_are_paid_once() {
    for b in backends() {
        let p = PayApp::new(b).await;
        let pkgs = spec_packages(p.db()).await;
        let (mut c, uid, _chat) = user_with_chat(&p.app, "loyal").await;
        let r = c.json(Method::POST, "/api/rewards/daily", json!({})).await.json();
        assert_eq!(
            (r["counted"].as_bool(), r["visit"]["reward"].as_i64(), r["balance"].as_i64()),
            (Some(true), Some(1), Some(1)),
            "{b:?}: {r}"
        );
        let r = c.json(Method::POST, "/api/rewards/daily", json!({})).await.json();
        assert_eq!((r["counted"].as_bool(), r["balance"].as_i64()), (Some(false), Some(1)), "{b:?}: once a day");

        // Later days, by the store's clock: day 2 pays nothing, day 3 pays 3, a gap restarts.
        let now = chrono::Utc::now();
        let day = |n: i64| now + chrono::Duration::days(n);
        assert_eq!(rewards::record_visit(p.db(), uid, day(1)).await.unwrap().unwrap().reward, None);
        let v = rewards::record_visit(p.db(), uid, day(2)).await.unwrap().unwrap();
        assert_eq!((v.streak, v.reward.map(|c| c.get())), (3, Some(3)), "{b:?}");
        let v = rewards::record_visit(p.db(), uid, day(5)).await.unwrap().unwrap();
        assert_eq!((v.streak, v.reward.map(|c| c.get())), (1, Some(1)), "{b:?}: a missed day restarts");
        assert_eq!(balance(p.db(), uid).await, 5);

        // Starting a chat earned first_chat; many claims at once pay it once.
        let claims: Vec<_> = (0..6)
            .map(|_| {
                let db = p.db().clone();
                tokio::spawn(async move { rewards::award_achievements(&db, uid, chrono::Utc::now()).await.unwrap().len() })
            })
            .collect();
        let mut paid = 0;
        for j in claims {
            paid += j.await.unwrap();
        }
        assert_eq!(paid, 1, "{b:?}: first_chat once");
        assert_eq!(balance(p.db(), uid).await, 10);
        let r = c.json(Method::POST, "/api/rewards/achievements", json!({})).await.json();
        assert_eq!(r["claimed"].as_array().unwrap().len(), 0, "{b:?}: nothing more");

        // Buying the 500 pack makes a big spender.
        let reference = initialize(&mut c, pkgs[3]).await;
        p.fake.pay(&reference).await;
        let r = c.json(Method::POST, "/api/rewards/achievements", json!({})).await.json();
        assert_eq!(r["claimed"][0]["achievement"], "big_spender", "{b:?}: {r}");
        assert_eq!(r["balance"], 10 + 600 + 100);
        let o = c.api_get("/api/credits").await.json();
        let earned: Vec<&str> = o["achievements"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|a| a["earned"] == true)
            .map(|a| a["achievement"].as_str().unwrap())
            .collect();
        assert_eq!(earned, vec!["first_chat", "big_spender"], "{b:?}");
        assert_books_balance(p.db()).await;
    }
}

#[tokio::test]
async fn credits_page_shows_badges_savings_the_suggestion_and_history() {
    let p = PayApp::new(Backend::Sqlite).await;
    let pkgs = spec_packages(p.db()).await;
    let mut c = p.app.client();
    let r = c
        .post_form(
            "/get-started",
            &[
                ("username", "browsy"),
                ("location", "Nairobi"),
                ("gender", "male"),
                ("looking_for", "female"),
                ("age", "30"),
                ("password", PASSWORD),
                ("password_confirm", PASSWORD),
                ("accept_terms", "on"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let page = c.get("/credits").await;
    assert_eq!(page.status, StatusCode::OK);
    for needle in [
        "POPULAR",
        "BEST VALUE",
        "VIP",
        "save 20%",
        "save 30%",
        "save 40%",
        "+10 bonus credits",
        "Suggested for you",
        "KES 8 per credit",
        "data-credits",
    ] {
        assert!(page.body.contains(needle), "missing {needle:?}");
    }
    let o = c.api_get("/api/credits").await.json();
    assert_eq!(o["suggested_package_id"], pkgs[1].to_string(), "a new user is casual: the 50 pack");
    assert_eq!(o["next_tier"][0], "bronze");

    // Buying through the page: the form leads to the provider's checkout.
    let r = c.post_form("/credits/buy", &[("package_id", &pkgs[1].to_string())]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert!(r.location().starts_with(&format!("{}/checkout/", p.fake_base)), "{}", r.location());
    let csp = r.headers.get("content-security-policy").unwrap().to_str().unwrap();
    assert!(csp.contains(&format!("form-action 'self' {}", p.fake_base)), "{csp}");
    let reference = p.fake.references().pop().unwrap();
    p.fake.pay(&reference).await;
    let back = c.get(&format!("/credits/return?trxref={reference}&reference={reference}")).await;
    assert!(back.body.contains("50 credits added"), "{}", back.body);
    let page = c.get("/credits").await;
    assert!(page.body.contains("Popular") && page.body.contains("success"), "the purchase is in the history");
    // Someone else's reference is not found.
    let mut other = api_user(&p.app, "nosy").await;
    assert_eq!(other.get(&format!("/credits/return?reference={reference}")).await.status, StatusCode::NOT_FOUND);
    assert_books_balance(p.db()).await;
}

#[tokio::test]
async fn back_office_payment_pages_need_manage_payments() {
    let p = PayApp::new(Backend::Sqlite).await;
    spec_packages(p.db()).await;
    let mut admin = admin_client(&p.app, "pay@fantooo.com", AdminRole::Admin).await;
    for path in ["/admin/payments", "/admin/payments/review", "/admin/payments/refunds", "/admin/payments/packages"] {
        let r = admin.get(path).await;
        assert_eq!(r.status, StatusCode::OK, "{path}: {}", r.body);
    }
    assert!(admin.get("/admin/payments").await.body.contains("/admin/payments/review"), "linked from the payments page");
    let r = admin
        .post_form(
            "/admin/payments/packages",
            &[
                ("name", "Weekend"),
                ("credits", "30"),
                ("price_kes", "250"),
                ("variant", "b"),
                ("valid_until", "2000-01-01T00:00"),
                ("valid_from", "2001-01-01T00:00"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "the window must be ordered");
    assert!(r.body.contains("The end must be after the start"));
    let r = admin.post_form("/admin/payments/refunds", &[("user", "nobody"), ("credits", "0"), ("reason", "whim")]).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    for field in ["Enter the username", "at least 1", "Choose a reason"] {
        assert!(r.body.contains(field), "{field}");
    }
    let mut moderator = admin_client(&p.app, "mod@fantooo.com", AdminRole::Moderator).await;
    for path in ["/admin/payments/review", "/admin/payments/refunds", "/api/admin/payments/queue", "/api/admin/refunds"] {
        assert_eq!(moderator.get(path).await.status, StatusCode::FORBIDDEN, "{path}");
    }
    let mut user = api_user(&p.app, "plain").await;
    assert_eq!(user.api_get("/api/admin/payments/queue").await.status, StatusCode::FORBIDDEN);
}

/// The paywall keeps the user's place: its packages are buttons that start
/// checkout, free credits waiting to be claimed are offered first, and
/// both paying and claiming land back in the same chat.
#[tokio::test]
async fn the_paywall_offers_free_credits_first_and_returns_to_the_chat() {
    for b in backends() {
        let p = PayApp::new(b).await;
        let pkgs = spec_packages(p.db()).await;
        crate::chat::flat_pricing(p.db()).await;
        let profile = crate::chat::make_profile(p.db(), "Amani", false).await;
        let mut c = p.app.client();
        c.get("/get-started").await;
        let r = c
            .post_form(
                "/get-started",
                &[
                    ("username", "paywalled"),
                    ("location", "Nairobi"),
                    ("gender", "male"),
                    ("looking_for", "female"),
                    ("age", "30"),
                    ("password", PASSWORD),
                    ("password_confirm", PASSWORD),
                    ("accept_terms", "on"),
                ],
            )
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
        c.get("/discover").await;
        let r = c.post_form("/chats", &[("profile_id", &profile.to_string())]).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
        let chat_path = r.location().to_string();
        let chat_id = chat_path.trim_start_matches("/chat/").to_string();

        // The dialog: today's streak credit first, then each package as a
        // checkout button that remembers the chat.
        let page = c.get(&chat_path).await.body;
        let claim_at = page.find("Claim today's 1 free credits").unwrap_or_else(|| panic!("{b:?}: no free offer: {page}"));
        let first_package = page.find("data-package=").expect("package buttons");
        assert!(claim_at < first_package, "free credits come first");
        let buttons = page.matches("data-package=").count();
        assert!(buttons >= pkgs.len(), "{b:?}: every package on sale is a button");
        let claims = page.matches("data-claim=").count();
        assert_eq!(page.matches(&format!(r#"name="back" value="{chat_id}""#)).count(), claims + buttons, "{b:?}");

        // Claiming lands back in the chat with a notice.
        let r = c.post_form("/credits/daily", &[("back", &chat_id)]).await;
        assert_eq!((r.status, r.location()), (StatusCode::SEE_OTHER, format!("{chat_path}?added=1").as_str()), "{b:?}");
        let page = c.get(&format!("{chat_path}?added=1")).await.body;
        assert!(page.contains("1 credits added. Carry on where you left off."), "{b:?}");
        assert!(!page.contains("Claim today's"), "{b:?}: claimed once");
        // Achievements met (opening a first chat) are offered too.
        if page.contains("data-claim=\"achievements\"") {
            let r = c.post_form("/credits/achievements", &[("back", &chat_id)]).await;
            assert_eq!(r.status, StatusCode::SEE_OTHER, "{b:?}");
            assert!(r.location().starts_with(&format!("{chat_path}?added=")), "{b:?}: {}", r.location());
        }
        let before = c.api_get("/api/me").await.json()["user"]["credits"].as_i64().unwrap();

        // Paying: the provider sends the buyer back to the chat.
        let r = c.post_form("/credits/buy", &[("package_id", &pkgs[1].to_string()), ("back", &chat_id)]).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
        let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
        let checkout = r.location().to_string();
        let paid = http.post(format!("{checkout}/pay")).send().await.unwrap();
        let to = paid.headers().get("location").unwrap().to_str().unwrap().to_string();
        let reference = p.fake.references().pop().unwrap();
        assert_eq!(to, format!("http://shop.test{chat_path}/paid?trxref={reference}&reference={reference}"), "{b:?}");
        let back = c.get(to.trim_start_matches("http://shop.test")).await;
        assert_eq!(
            (back.status, back.location()),
            (StatusCode::SEE_OTHER, format!("{chat_path}?added=50").as_str()),
            "{b:?}: {}",
            back.body
        );
        assert_eq!(c.api_get("/api/me").await.json()["user"]["credits"].as_i64().unwrap(), before + 50, "{b:?}");

        // Someone else's chat is not a place to return to.
        let mut nosy = api_user(&p.app, "nosy_payer").await;
        let r = nosy.json(Method::POST, "/api/payments/initialize", json!({ "package_id": pkgs[1].to_string(), "back": chat_id })).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{b:?}: {}", r.body);
        assert_eq!(r.json()["fields"][0]["field"], "back");
        assert_books_balance(p.db()).await;
    }
}
