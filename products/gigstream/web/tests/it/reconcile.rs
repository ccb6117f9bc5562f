//! The reconcile job: checkouts whose webhook never came are asked about
//! after a while and settled through the same idempotent path; unpaid ones
//! stay placed; recent ones are not asked yet.

use crate::support::{backends, TestApp};
use axum::http::{Method, StatusCode};
use chrono::{Duration, Utc};
use gigstream_web::payments::{reconcile, Reconciled};
use platform_payments::fake_paypal::Behaviour as PayPalBehaviour;
use platform_payments::fake_stripe::Behaviour as StripeBehaviour;

async fn status(app: &TestApp, token: &str, id: &str) -> String {
    let (s, v) = app.call(Method::GET, &format!("/api/v1/orders/{id}"), Some(token), None).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    v["order"]["status"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn checkouts_that_never_reported_back_are_settled_by_asking_the_provider() {
    for backend in backends() {
        let (app, _) = TestApp::served(backend).await;
        let seller = app.sign_up("penn").await;
        let buyer = app.sign_up("ada").await;
        let gig = crate::money::gig();
        let (s, v) = app.call(Method::POST, "/api/v1/gigs", Some(&seller), Some(gig)).await;
        assert_eq!(s, StatusCode::CREATED, "{v}");
        let gig = v["gig"]["id"].as_str().unwrap().to_string();

        // Paid at Stripe, but the webhook is lost and the buyer never returns.
        app.fakes().stripe.set_behaviour(StripeBehaviour { send_webhooks: false, ..StripeBehaviour::default() });
        let (paid, checkout) = app.place(&buyer, &gig, "stripe").await;
        assert!(app.pay_stripe(&checkout).await.is_empty(), "no webhook sent");
        // Approved at PayPal, webhook lost too: reconcile captures it.
        app.fakes().paypal.set_behaviour(PayPalBehaviour { send_webhooks: false, ..PayPalBehaviour::default() });
        let (approved, checkout) = app.place(&buyer, &gig, "paypal").await;
        app.fakes().paypal.approve(checkout.rsplit('=').next().unwrap()).await;
        // Opened and abandoned: nothing to credit.
        let (abandoned, _) = app.place(&buyer, &gig, "stripe").await;
        for id in [&paid, &approved, &abandoned] {
            assert_eq!(status(&app, &buyer, id).await, "placed");
        }

        // Too recent to ask about.
        assert_eq!(reconcile(&app.state, Utc::now()).await.unwrap(), Reconciled { checked: 0, credited: 0 });
        // Twenty minutes later: all three are asked about, two were paid.
        let later = Utc::now() + Duration::minutes(20);
        assert_eq!(reconcile(&app.state, later).await.unwrap(), Reconciled { checked: 3, credited: 2 });
        assert_eq!(status(&app, &buyer, &paid).await, "paid");
        assert_eq!(status(&app, &buyer, &approved).await, "paid");
        assert_eq!(status(&app, &buyer, &abandoned).await, "placed");
        // The abandoned one is asked again only after another period, and
        // nothing is credited twice.
        assert_eq!(reconcile(&app.state, later + Duration::minutes(1)).await.unwrap(), Reconciled { checked: 0, credited: 0 });
        assert_eq!(reconcile(&app.state, later + Duration::minutes(16)).await.unwrap(), Reconciled { checked: 1, credited: 0 });
        // A week on, it is no longer asked about.
        assert_eq!(reconcile(&app.state, later + Duration::days(8)).await.unwrap(), Reconciled { checked: 0, credited: 0 });
        let report = gigstream_store::invariants::check(&app.db).await.unwrap();
        assert!(report.is_clean(), "{:?}", report.violations);
        assert_eq!(gigstream_store::escrow::system_balance(&app.db, "escrow", gigstream_domain::Currency::Usd).await.unwrap(), 21_000);
    }
}
