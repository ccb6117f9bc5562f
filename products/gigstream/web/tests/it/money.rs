//! Paying through the fake Stripe and PayPal (real clients over loopback
//! HTTP, signed webhooks), refunds back through the provider, and the
//! seller's wallet: clearance, withdrawals and payouts.

use crate::support::{backends, TestApp};
use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use chrono::{Duration, Utc};
use gigstream_domain::Currency;
use gigstream_store::{escrow, invariants, wallet};
use platform_payments::fake_paypal::Behaviour as PayPalBehaviour;
use platform_payments::fake_stripe::{Behaviour as StripeBehaviour, FakeStripe};
use serde_json::{json, Value};

pub(crate) fn gig() -> Value {
    json!({
        "title": "I will write your product launch email",
        "category": "writing-translation",
        "subcategory": "copywriting",
        "tags": "email, launch",
        "description": "<p>One launch email that gets your product noticed.</p>",
        "packages": [{ "tier": "basic", "name": "One email", "price": "100", "delivery_days": 2, "revisions": 1, "items": ["Email"] }],
        "faq": [],
        "requirements": []
    })
}

/// A seller with a gig and a buyer; returns (seller, buyer, gig id).
async fn market(app: &TestApp) -> (String, String, String) {
    let seller = app.sign_up("penn").await;
    let buyer = app.sign_up("ada").await;
    let (s, v) = app.call(Method::POST, "/api/v1/gigs", Some(&seller), Some(gig())).await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    (seller, buyer, v["gig"]["id"].as_str().unwrap().to_string())
}

async fn order(app: &TestApp, token: &str, id: &str) -> Value {
    let (s, v) = app.call(Method::GET, &format!("/api/v1/orders/{id}"), Some(token), None).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    v["order"].clone()
}

fn webhook(provider: &str, body: Vec<u8>, headers: &[(&str, String)]) -> Request<Body> {
    let mut r = Request::post(format!("/api/webhooks/{provider}")).header("content-type", "application/json");
    for (k, v) in headers {
        r = r.header(*k, v);
    }
    r.body(Body::from(body)).unwrap()
}

#[tokio::test]
async fn stripe_webhooks_are_verified_and_a_hundred_copies_credit_escrow_once() {
    for backend in backends() {
        let (app, _) = TestApp::served(backend).await;
        let (_, buyer, gig) = market(&app).await;
        let (id, checkout) = app.place(&buyer, &gig, "stripe").await;
        let session = checkout.rsplit('/').next().unwrap().to_string();
        let stripe = &app.fakes().stripe;

        // A forged or replayed delivery is refused before anything is read.
        let paid = json!({ "id": session, "object": "checkout.session", "client_reference_id": stripe.session(&session).unwrap()["client_reference_id"],
                           "amount_total": 10_500, "currency": "usd", "payment_status": "paid", "status": "complete", "payment_intent": "pi_forged" });
        let body = FakeStripe::event_body("checkout.session.completed", paid.clone());
        let now = Utc::now().timestamp();
        let forged = platform_payments::StripeSignature::new("whsec_not_ours").sign(now, &body);
        let (s, _, text) = app.raw(webhook("stripe", body.clone(), &[("stripe-signature", forged)])).await;
        assert_eq!(s, StatusCode::UNAUTHORIZED, "{text}");
        let stale = stripe.sign(now - 3_600, &body);
        let (s, _, _) = app.raw(webhook("stripe", body.clone(), &[("stripe-signature", stale)])).await;
        assert_eq!(s, StatusCode::UNAUTHORIZED);
        let (s, _, _) = app.raw(webhook("stripe", body.clone(), &[])).await;
        assert_eq!(s, StatusCode::UNAUTHORIZED);
        assert_eq!(order(&app, &buyer, &id).await["status"], "placed", "{backend:?}");

        // The buyer pays; Stripe delivers each event 100 times at once.
        stripe.set_behaviour(StripeBehaviour { webhook_copies: 100, send_webhooks: true });
        let statuses = app.fakes().stripe.pay(&session).await;
        assert_eq!(statuses.len(), 200);
        assert!(statuses.iter().all(|s| *s == 200), "{statuses:?}");
        let o = order(&app, &buyer, &id).await;
        assert_eq!(
            (o["status"].as_str(), o["paid_minor"].as_i64(), o["payment_provider"].as_str()),
            (Some("paid"), Some(10_500), Some("stripe"))
        );
        assert_eq!(escrow::system_balance(&app.db, escrow::ESCROW, Currency::Usd).await.unwrap(), 10_500, "{backend:?}");
        let report = invariants::check(&app.db).await.unwrap();
        assert!(report.is_clean(), "{report:?}");

        // A correctly signed delivery of an unknown session is acknowledged and changes nothing.
        let other = FakeStripe::event_body(
            "checkout.session.completed",
            json!({ "id": "cs_x", "client_reference_id": "gs_unknown",
            "amount_total": 1, "currency": "usd", "payment_status": "paid", "status": "complete" }),
        );
        let sig = stripe.sign(Utc::now().timestamp(), &other);
        let (s, _, text) = app.raw(webhook("stripe", other, &[("stripe-signature", sig)])).await;
        assert_eq!(s, StatusCode::OK);
        assert!(text.contains("unknown_reference"), "{text}");
        assert_eq!(escrow::system_balance(&app.db, escrow::ESCROW, Currency::Usd).await.unwrap(), 10_500);
    }
}

#[tokio::test]
async fn paypal_approval_is_captured_once_under_a_hundred_concurrent_webhooks() {
    for backend in backends() {
        let (app, base) = TestApp::served(backend).await;
        let (_, buyer, gig) = market(&app).await;
        let (id, checkout) = app.place(&buyer, &gig, "paypal").await;
        assert!(checkout.starts_with(&format!("{base}/fake-paypal/checkoutnow?token=")), "{checkout}");
        let paypal_order = checkout.rsplit('=').next().unwrap().to_string();
        let paypal = &app.fakes().paypal;

        // A tampered delivery fails PayPal's verify-webhook-signature: 401.
        let (body, headers) = paypal.signed_event("CHECKOUT.ORDER.APPROVED", "checkout-order", paypal.order(&paypal_order).unwrap());
        let tampered = String::from_utf8(body.clone()).unwrap().replace("APPROVED", "COMPLETED").into_bytes();
        let (s, _, _) = app.raw(webhook("paypal", tampered, &headers)).await;
        assert_eq!(s, StatusCode::UNAUTHORIZED);
        let (s, _, _) = app.raw(webhook("paypal", body, &[])).await;
        assert_eq!(s, StatusCode::UNAUTHORIZED);

        // The buyer approves; 100 copies of the approval race to capture.
        paypal.set_behaviour(PayPalBehaviour { webhook_copies: 100, ..PayPalBehaviour::default() });
        let statuses = paypal.approve(&paypal_order).await;
        assert_eq!(statuses.len(), 100);
        assert!(statuses.iter().all(|s| *s == 200), "{statuses:?}");
        let o = order(&app, &buyer, &id).await;
        assert_eq!(
            (o["status"].as_str(), o["paid_minor"].as_i64(), o["payment_provider"].as_str()),
            (Some("paid"), Some(10_500), Some("paypal"))
        );
        assert_eq!(paypal.order(&paypal_order).unwrap()["status"], "COMPLETED");
        assert_eq!(escrow::system_balance(&app.db, escrow::ESCROW, Currency::Usd).await.unwrap(), 10_500, "{backend:?}");
        assert!(invariants::check(&app.db).await.unwrap().is_clean());
    }
}

#[tokio::test]
async fn refunds_go_back_through_the_provider_once_per_key_and_never_above_the_payment() {
    for backend in backends() {
        let (app, _) = TestApp::served(backend).await;
        let admin = app.admin("ops").await;
        let (_, buyer, gig) = market(&app).await;
        for method in ["stripe", "paypal"] {
            let (id, checkout) = app.place(&buyer, &gig, method).await;
            if method == "stripe" {
                app.pay_stripe(&checkout).await;
            } else {
                app.fakes().paypal.approve(checkout.rsplit('=').next().unwrap()).await;
            }
            assert_eq!(order(&app, &buyer, &id).await["status"], "paid");
            let refund = json!({ "amount_minor": 2_500, "reason": "Late start", "request_key": format!("goodwill-{method}") });
            let path = format!("/api/v1/admin/orders/{id}/refund");
            let (s, v) = app.call(Method::POST, &path, Some(&admin), Some(refund.clone())).await;
            assert_eq!(s, StatusCode::OK, "{v}");
            // The same request again refunds nothing more, here or at the provider.
            let (s, _) = app.call(Method::POST, &path, Some(&admin), Some(refund)).await;
            assert_eq!(s, StatusCode::CONFLICT);
            let too_much = json!({ "amount_minor": 9_000, "reason": "x", "request_key": "big" });
            let (s, v) = app.call(Method::POST, &path, Some(&admin), Some(too_much)).await;
            assert_eq!((s, v["fields"][0]["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("amount")), "{v}");
            // Cancelling refunds the rest.
            let (s, v) = app
                .call(Method::POST, &format!("/api/v1/orders/{id}/cancel"), Some(&admin), Some(json!({ "reason": "Seller left" })))
                .await;
            assert_eq!(s, StatusCode::OK, "{v}");
            let amounts: Vec<i64> = if method == "stripe" {
                app.fakes().stripe.refunds().iter().map(|r| r["amount"].as_i64().unwrap()).collect()
            } else {
                app.fakes()
                    .paypal
                    .refunds()
                    .iter()
                    .map(|r| platform_payments::currency::from_paypal_value(r["amount"]["value"].as_str().unwrap(), "USD").unwrap())
                    .collect()
            };
            assert_eq!(amounts, [2_500, 8_000], "{method} {backend:?}");
            let o = order(&app, &buyer, &id).await;
            assert_eq!((o["status"].as_str(), o["refunded_minor"].as_i64()), (Some("refunded"), Some(10_500)));
            let pending = gigstream_store::payments::pending_refunds(&app.db, None, 10).await.unwrap();
            assert!(pending.is_empty(), "{pending:?}");
        }
        assert!(invariants::check(&app.db).await.unwrap().is_clean());
    }
}

/// Places, pays (Stripe), starts, delivers and accepts an order; returns its id.
async fn completed_order(app: &TestApp, seller: &str, buyer: &str, gig: &str) -> String {
    let (id, checkout) = app.place(buyer, gig, "stripe").await;
    app.pay_stripe(&checkout).await;
    let step = |a: &str| format!("/api/v1/orders/{id}/{a}");
    let (s, v) = app.call(Method::POST, &step("requirements"), Some(buyer), Some(json!({ "answers": [] }))).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let (s, v) = app.call(Method::POST, &step("deliver"), Some(seller), Some(json!({ "message": "Here it is" }))).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let (s, v) = app.call(Method::POST, &step("accept"), Some(buyer), None).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    id
}

#[tokio::test]
async fn earnings_clear_after_the_period_and_withdrawals_are_paid_once() {
    for backend in backends() {
        let (app, _) = TestApp::served(backend).await;
        let admin = app.admin("ops").await;
        let (seller, buyer, gig) = market(&app).await;
        completed_order(&app, &seller, &buyer, &gig).await;
        completed_order(&app, &seller, &buyer, &gig).await;
        let (_, v) = app.call(Method::GET, "/api/v1/wallet", Some(&seller), None).await;
        // $100 less the 20% platform fee, twice: pending, nothing available yet.
        assert_eq!(v["balances"], json!({ "pending": 16_000, "available": 0, "withdrawing": 0, "withdrawn": 0 }), "{v}");
        assert_eq!(v["earnings"][0]["cleared"], false);

        // Nothing is withdrawable before clearance.
        let ask = |amount: &str, method: &str, to: &str| json!({ "amount": amount, "method": method, "destination": to });
        let (s, v) =
            app.call(Method::POST, "/api/v1/wallet/withdrawals", Some(&seller), Some(ask("50", "paypal", "penn@example.test"))).await;
        assert_eq!((s, v["fields"][0]["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("amount")), "{v}");

        // The clearance job: a day early nothing moves; on time everything, once.
        let days = app.state.config.clearance_days;
        assert_eq!(wallet::clear_due(&app.db, Utc::now() + Duration::days(i64::from(days) - 1), days).await.unwrap(), 0);
        let later = Utc::now() + Duration::days(i64::from(days)) + Duration::minutes(1);
        let (a, b) = tokio::join!(wallet::clear_due(&app.db, later, days), wallet::clear_due(&app.db, later, days));
        assert_eq!(a.unwrap() + b.unwrap(), 2, "{backend:?}");
        let (_, v) = app.call(Method::GET, "/api/v1/wallet", Some(&seller), None).await;
        assert_eq!(v["balances"], json!({ "pending": 0, "available": 16_000, "withdrawing": 0, "withdrawn": 0 }), "{v}");

        // Bad requests name their field.
        for (body, field) in [
            (ask("10", "paypal", "penn@example.test"), "amount"),
            (ask("500", "paypal", "penn@example.test"), "amount"),
            (ask("50", "paypal", "not-an-email"), "destination"),
            (ask("50", "stripe", "penn@example.test"), "destination"),
            (ask("50", "cheque", "x"), "method"),
            (ask("lots", "paypal", "penn@example.test"), "amount"),
        ] {
            let (s, v) = app.call(Method::POST, "/api/v1/wallet/withdrawals", Some(&seller), Some(body.clone())).await;
            assert_eq!((s, v["fields"][0]["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some(field)), "{body} {v}");
        }

        // Stripe: requested, a second open request refused, approved and paid once.
        let (s, v) = app.call(Method::POST, "/api/v1/wallet/withdrawals", Some(&seller), Some(ask("60", "stripe", "acct_1Penn"))).await;
        assert_eq!(s, StatusCode::CREATED, "{v}");
        let w = v["withdrawal"]["id"].as_str().unwrap().to_string();
        let (s, v) = app.call(Method::POST, "/api/v1/wallet/withdrawals", Some(&seller), Some(ask("20", "stripe", "acct_1Penn"))).await;
        assert_eq!((s, v["fields"][0]["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("amount")), "{v}");
        let (s, _) = app.call(Method::POST, &format!("/api/v1/admin/withdrawals/{w}/approve"), Some(&seller), None).await;
        assert_eq!(s, StatusCode::FORBIDDEN);
        let approve = format!("/api/v1/admin/withdrawals/{w}/approve");
        let (r1, r2) =
            tokio::join!(app.call(Method::POST, &approve, Some(&admin), None), app.call(Method::POST, &approve, Some(&admin), None));
        assert!(r1.0 == StatusCode::OK || r2.0 == StatusCode::OK, "{r1:?} {r2:?}");
        let (s, v) = app.call(Method::POST, &approve, Some(&admin), None).await;
        assert_eq!((s, v["withdrawal"]["status"].as_str()), (StatusCode::OK, Some("paid")), "{v}");
        let transfers = app.fakes().stripe.transfers();
        assert_eq!(transfers.len(), 1, "{transfers:?}");
        assert_eq!((transfers[0]["amount"].as_i64(), transfers[0]["destination"].as_str()), (Some(6_000), Some("acct_1Penn")));
        let (s, _) =
            app.call(Method::POST, &format!("/api/v1/admin/withdrawals/{w}/reject"), Some(&admin), Some(json!({ "note": "late" }))).await;
        assert_eq!(s, StatusCode::CONFLICT);
        let (_, v) = app.call(Method::GET, "/api/v1/wallet", Some(&seller), None).await;
        assert_eq!(v["balances"], json!({ "pending": 0, "available": 10_000, "withdrawing": 0, "withdrawn": 6_000 }), "{v}");

        // PayPal: the batch is pending, then PayPal denies it: the money comes back.
        let (_, v) =
            app.call(Method::POST, "/api/v1/wallet/withdrawals", Some(&seller), Some(ask("30", "paypal", "penn@example.test"))).await;
        let w2: gigstream_domain::ids::WithdrawalId = v["withdrawal"]["id"].as_str().unwrap().parse().unwrap();
        let (_, v) = app.call(Method::POST, &format!("/api/v1/admin/withdrawals/{w2}/approve"), Some(&admin), None).await;
        assert_eq!(v["withdrawal"]["status"], "approved", "{v}");
        let batch = v["withdrawal"]["payout_id"].as_str().unwrap().to_string();
        app.fakes().paypal.set_payout_status(&batch, "DENIED");
        let status = gigstream_web::payments::pay_out(&app.state, w2).await.unwrap();
        assert_eq!(status.as_str(), "failed");
        assert_eq!(gigstream_web::payments::pay_out(&app.state, w2).await.unwrap().as_str(), "failed");
        assert_eq!(app.fakes().paypal.payouts().len(), 1);
        let (_, v) = app.call(Method::GET, "/api/v1/wallet", Some(&seller), None).await;
        assert_eq!(v["balances"], json!({ "pending": 0, "available": 10_000, "withdrawing": 0, "withdrawn": 6_000 }), "{v}");

        // A rejected request returns the money too, with the admin's reason.
        let (_, v) =
            app.call(Method::POST, "/api/v1/wallet/withdrawals", Some(&seller), Some(ask("25", "paypal", "penn@example.test"))).await;
        let w3 = v["withdrawal"]["id"].as_str().unwrap().to_string();
        let (s, v) =
            app.call(Method::POST, &format!("/api/v1/admin/withdrawals/{w3}/reject"), Some(&admin), Some(json!({ "note": "" }))).await;
        assert_eq!((s, v["fields"][0]["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("note")));
        let (s, v) = app
            .call(
                Method::POST,
                &format!("/api/v1/admin/withdrawals/{w3}/reject"),
                Some(&admin),
                Some(json!({ "note": "Check your account" })),
            )
            .await;
        assert_eq!((s, v["withdrawal"]["status"].as_str()), (StatusCode::OK, Some("rejected")));
        let (_, v) = app.call(Method::GET, "/api/v1/wallet", Some(&seller), None).await;
        assert_eq!(v["balances"]["available"], 10_000);
        assert_eq!(v["withdrawals"][0]["note"], "Check your account");
        let (_, v) = app.call(Method::GET, "/api/v1/admin/withdrawals?status=paid", Some(&admin), None).await;
        assert_eq!(v["withdrawals"].as_array().unwrap().len(), 1);
        assert!(invariants::check(&app.db).await.unwrap().is_clean());
    }
}
