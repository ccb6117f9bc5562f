//! The session layer on both stores: a cookie session, a bearer session, a
//! revoked one, the CSRF token handed to forms, and the product's own type
//! in the request.

use axum::body::Body;
use axum::extract::Request;
use axum::http::{header, StatusCode};
use axum::routing::get;
use axum::{Extension, Router};
use chrono::{Duration, Utc};
use platform_accounts::{Session, SessionSpec, SessionStore, Via};
use platform_db::Db;
use platform_web::request::{CsrfToken, ProxyTrust, SessionVia};
use platform_web::session::{self, Cookies, Sessions, SignIn};
use tower::ServiceExt;

platform_kernel::id_type!(AccountId);
platform_kernel::text_enum! { pub enum Kind { User => "user", Admin => "admin" } }

/// A product's view of a signed-in request.
#[derive(Debug, Clone)]
struct Signed {
    account: AccountId,
    kind: Kind,
    via: SessionVia,
}

#[derive(Clone)]
struct Product {
    db: Db,
}

impl SignIn for Product {
    type Id = AccountId;
    type Kind = Kind;
    type Signed = Signed;
    fn sessions(&self) -> Sessions<'_> {
        let cookies = Cookies { session: "p_session", csrf: "p_csrf", secure: true, trust: ProxyTrust::one_if(true) };
        Sessions { db: &self.db, store: SessionStore::new(), cookies }
    }
    fn signed(&self, _token: String, via: SessionVia, s: Session<AccountId, Kind>) -> Signed {
        Signed { account: s.account_id, kind: s.kind, via }
    }
}

async fn who(signed: Option<Extension<Signed>>, Extension(csrf): Extension<CsrfToken>, req: Request) -> String {
    let ip = req.extensions().get::<platform_web::request::ClientIp>().map(|c| c.0.clone()).unwrap_or_default();
    match signed {
        Some(Extension(s)) => format!("{} {:?} {:?} csrf={} ip={ip}", s.account, s.kind, s.via, csrf.0),
        None => format!("anonymous csrf={} ip={ip}", csrf.0),
    }
}

fn app(p: Product) -> Router {
    Router::new().route("/", get(who)).layer(axum::middleware::from_fn_with_state(p, session::load::<Product>))
}

async fn call(app: &Router, headers: &[(header::HeaderName, &str)]) -> (StatusCode, Vec<String>, String) {
    let mut req = Request::get("/").header("x-forwarded-for", "198.51.100.4");
    for (k, v) in headers {
        req = req.header(k, *v);
    }
    let resp = app.clone().oneshot(req.body(Body::empty()).unwrap()).await.unwrap();
    let cookies = resp.headers().get_all(header::SET_COOKIE).iter().map(|v| v.to_str().unwrap().to_string()).collect();
    let status = resp.status();
    let body = axum::body::to_bytes(resp.into_body(), 4096).await.unwrap();
    (status, cookies, String::from_utf8_lossy(&body).into_owned())
}

#[tokio::test]
async fn cookie_and_bearer_sessions_reach_the_handler_as_the_products_type() {
    for backend in platform_db::testing::backends() {
        let t = platform_db::testing::fresh_db(backend, &platform_accounts::MIGRATIONS, "platform_web_session").await;
        let store = SessionStore::new();
        let who_id = AccountId::new();
        let spec = |via| SessionSpec { account: who_id, kind: Kind::Admin, via, ttl: Duration::days(1), ip: None, user_agent: None };
        let by_cookie = store.create(&t.db, spec(Via::Cookie), Utc::now()).await.unwrap();
        let by_bearer = store.create(&t.db, spec(Via::Bearer), Utc::now()).await.unwrap();
        let app = app(Product { db: t.db.clone() });

        // Signed out: a double-submit CSRF token is issued in its own cookie.
        let (s, set, body) = call(&app, &[]).await;
        assert_eq!(s, StatusCode::OK);
        assert!(body.starts_with("anonymous csrf=") && body.ends_with("ip=198.51.100.4"), "{body}");
        let issued = body.split("csrf=").nth(1).unwrap().split(' ').next().unwrap().to_string();
        assert_eq!(set, vec![format!("p_csrf={issued}; Path=/; HttpOnly; SameSite=Strict; Secure")], "{backend:?}");
        // … and kept when the browser sends it back.
        let (_, set, body) = call(&app, &[(header::COOKIE, &format!("p_csrf={issued}"))]).await;
        assert!(set.is_empty() && body.contains(&format!("csrf={issued}")), "{body}");

        // A cookie session: its own CSRF token.
        let cookie = format!("p_session={}; p_csrf={issued}", by_cookie.token);
        let (_, set, body) = call(&app, &[(header::COOKIE, &cookie)]).await;
        assert!(set.is_empty());
        assert_eq!(body, format!("{who_id} Admin Cookie csrf={} ip=198.51.100.4", by_cookie.csrf_token), "{backend:?}");

        // A bearer token wins over a cookie and takes no session CSRF token.
        let auth = format!("Bearer {}", by_bearer.token);
        let (_, _, body) = call(&app, &[(header::AUTHORIZATION, &auth), (header::COOKIE, &cookie)]).await;
        assert_eq!(body, format!("{who_id} Admin Bearer csrf={issued} ip=198.51.100.4"), "{backend:?}");
        // An unknown bearer token is signed out, even beside a good cookie.
        let (_, _, body) = call(&app, &[(header::AUTHORIZATION, "Bearer nope"), (header::COOKIE, &cookie)]).await;
        assert!(body.starts_with("anonymous"), "{body}");

        // Revoked: signed out.
        store.revoke(&t.db, &by_cookie.token, Utc::now()).await.unwrap();
        let (_, _, body) = call(&app, &[(header::COOKIE, &cookie)]).await;
        assert!(body.starts_with("anonymous"), "{body}");
    }
}

#[tokio::test]
async fn a_store_outage_is_not_signing_out() {
    let t = platform_db::testing::fresh_db(platform_db::Backend::Sqlite, &platform_accounts::MIGRATIONS, "platform_web_session").await;
    let app = app(Product { db: t.db.clone() });
    t.db.close().await;
    let (s, set, body) = call(&app, &[(header::COOKIE, "p_session=abc")]).await;
    assert_eq!(s, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    assert!(set.is_empty(), "no cookie is cleared or issued");
}

#[test]
fn session_cookies_are_set_and_cleared() {
    let c = Cookies { session: "p_session", csrf: "p_csrf", secure: false, trust: ProxyTrust::one_if(false) };
    assert_eq!((c.trust, ProxyTrust::one_if(true)), (ProxyTrust::None, ProxyTrust::Hops(1)));
    assert_eq!(c.session_cookie("tok", 60), "p_session=tok; Path=/; HttpOnly; SameSite=Lax; Max-Age=60");
    assert_eq!(c.clear_session_cookie(), "p_session=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0");
}
