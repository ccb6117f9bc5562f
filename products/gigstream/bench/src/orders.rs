//! Orders under concurrency: `concurrency` buyers at once, each placing an
//! order, paying it, submitting requirements, receiving a delivery and
//! accepting it, again and again, spread over `sellers` sellers (so many
//! orders credit and release money of the same seller at the same moment).
//!
//! Stripe is the platform's protocol-true fake, run here on its own port:
//! the server opens checkout sessions on it over HTTP like on Stripe, and
//! the bench marks each session paid there and delivers the signed
//! `checkout.session.completed` webhook itself, so "webhook → escrow
//! credited" is exactly that request (the server checks the signature,
//! records the event once and credits escrow before it answers 200).
//! "Accept → released" is the buyer's accept call, which releases escrow
//! to the seller's pending earnings and the platform's fees before it
//! answers. Afterwards the server is stopped and `gigstream check` runs.

use crate::server::{self, Store};
use crate::stats::Latencies;
use crate::Fail;
use futures_util::{stream, StreamExt, TryStreamExt};
use platform_payments::fake::CheckoutBase;
use platform_payments::fake_stripe::{Behaviour, FakeStripe};
use serde_json::{json, Value};
use std::path::PathBuf;
use std::time::Instant;

const PASSWORD: &str = "Bench!pass1";

#[derive(clap::Args, Debug)]
pub struct Args {
    /// PostgreSQL for the server (default: an embedded SQLite file in a temporary directory).
    #[arg(long, env = "DATABASE_URL")]
    database_url: Option<String>,
    /// The `gigstream` binary (default: next to this one).
    #[arg(long)]
    gigstream_bin: Option<PathBuf>,
    /// Buyers ordering at the same time, one order each at a time.
    #[arg(long, default_value_t = 200)]
    concurrency: usize,
    /// Sellers whose gigs they order.
    #[arg(long, default_value_t = 20)]
    sellers: usize,
    /// Orders each buyer takes from placing to acceptance.
    #[arg(long, default_value_t = 5)]
    rounds: usize,
    /// Write the results here as JSON.
    #[arg(long)]
    json: Option<PathBuf>,
}

struct Api {
    http: reqwest::Client,
    base: String,
}

impl Api {
    async fn call(&self, method: reqwest::Method, path: &str, token: Option<&str>, body: Option<Value>) -> Result<(u16, Value), Fail> {
        let mut r = self.http.request(method, format!("{}{path}", self.base)).header("accept", "application/json");
        if let Some(t) = token {
            r = r.bearer_auth(t);
        }
        if let Some(b) = body {
            r = r.json(&b);
        }
        let resp = r.send().await?;
        let status = resp.status().as_u16();
        Ok((status, resp.json().await.unwrap_or(Value::Null)))
    }

    async fn post(&self, path: &str, token: &str, body: Value, want: u16) -> Result<Value, Fail> {
        let (s, v) = self.call(reqwest::Method::POST, path, Some(token), Some(body)).await?;
        if s != want {
            return Err(format!("POST {path}: {s} {v}").into());
        }
        Ok(v)
    }

    async fn sign_up(&self, username: String) -> Result<String, Fail> {
        let body =
            json!({ "email": format!("{username}@bench.test"), "username": username, "display_name": username, "password": PASSWORD });
        let (s, v) = self.call(reqwest::Method::POST, "/api/v1/signup", None, Some(body)).await?;
        if s != 201 {
            return Err(format!("sign-up {username}: {s} {v}").into());
        }
        Ok(v["token"].as_str().unwrap_or_default().to_string())
    }
}

fn gig(n: usize) -> Value {
    json!({
        "title": format!("I will design a bold logo for your brand, studio {n}"),
        "category": "graphics-design", "subcategory": "logo-design", "tags": "logo, branding",
        "description": "<p>A <b>clean vector logo</b> for your brand.</p>",
        "packages": [{ "tier": "basic", "name": "Starter", "price": "100", "delivery_days": 3, "revisions": 1, "items": ["Vector file"] }],
        "faq": [], "requirements": [{ "question": "Your brand name?", "required": true }]
    })
}

/// What one buyer measured.
struct Timings {
    place: Latencies,
    webhook: Latencies,
    accept: Latencies,
    order: Latencies,
}

impl Timings {
    fn new() -> Timings {
        Timings {
            place: Latencies::new("place order (checkout opened)"),
            webhook: Latencies::new("checkout webhook → escrow credited"),
            accept: Latencies::new("accept → escrow released"),
            order: Latencies::new("whole order, place to release"),
        }
    }

    fn add(&mut self, o: &Timings) {
        self.place.add(&o.place);
        self.webhook.add(&o.webhook);
        self.accept.add(&o.accept);
        self.order.add(&o.order);
    }
}

/// One buyer's `rounds` orders of one seller's gig.
async fn buyer(api: &Api, stripe: &FakeStripe, buyer: &str, seller: &str, gig: &str, rounds: usize) -> Result<Timings, Fail> {
    let mut t = Timings::new();
    for _ in 0..rounds {
        let began = Instant::now();
        let v = api.post("/api/v1/orders", buyer, json!({ "gig_id": gig, "tier": "basic", "method": "stripe" }), 201).await?;
        t.place.record(began.elapsed());
        let order = v["order"]["id"].as_str().ok_or("no order id")?.to_string();
        let session = v["checkout_url"].as_str().ok_or("no checkout link")?.rsplit('/').next().unwrap_or_default().to_string();

        // The buyer pays on Stripe; Stripe tells the server, signed.
        stripe.pay(&session).await;
        let object = stripe.session(&session).ok_or("the fake lost the session")?;
        let body = FakeStripe::event_body("checkout.session.completed", object);
        let signature = stripe.sign(chrono::Utc::now().timestamp(), &body);
        let sent = Instant::now();
        let r = api
            .http
            .post(format!("{}/api/webhooks/stripe", api.base))
            .header("content-type", "application/json")
            .header("Stripe-Signature", signature)
            .body(body)
            .send()
            .await?;
        let (status, answer) = (r.status().as_u16(), r.json::<Value>().await.unwrap_or(Value::Null));
        if status != 200 || answer["outcome"] != "credited" {
            return Err(format!("webhook for {order}: {status} {answer}").into());
        }
        t.webhook.record(sent.elapsed());

        let path = |a: &str| format!("/api/v1/orders/{order}/{a}");
        api.post(&path("requirements"), buyer, json!({ "answers": ["Bench Bakery"] }), 200).await?;
        api.post(&path("deliver"), seller, json!({ "message": "Here it is" }), 200).await?;
        let accepting = Instant::now();
        let v = api.post(&path("accept"), buyer, json!({}), 200).await?;
        if v["order"]["status"] != "released" {
            return Err(format!("accepted {order} but it is {}", v["order"]["status"]).into());
        }
        t.accept.record(accepting.elapsed());
        t.order.record(began.elapsed());
    }
    Ok(t)
}

pub async fn run(args: Args) -> Result<(), Fail> {
    let store = Store::new(args.database_url.as_deref())?;
    let bin = server::binary(args.gigstream_bin.clone());
    server::migrate(&bin, &store).await?;

    // Stripe: the fake on its own port, its webhooks (when it sends any) to the server.
    let (secret_key, webhook_secret) = FakeStripe::random_keys();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let stripe_base = format!("http://{}", listener.local_addr()?);
    let stripe = FakeStripe::new(secret_key.clone(), webhook_secret.clone(), CheckoutBase::Fixed(stripe_base.clone()));
    stripe.set_behaviour(Behaviour { webhook_copies: 1, send_webhooks: false });
    let router = stripe.router();
    tokio::spawn(async move { axum::serve(listener, router).await });
    let port = server::free_port()?;
    stripe.set_webhook_url(format!("http://127.0.0.1:{port}/api/webhooks/stripe"));
    let env = [
        ("GIGSTREAM_PAYMENTS", "live".to_string()),
        ("STRIPE_SECRET_KEY", secret_key),
        ("STRIPE_WEBHOOK_SECRET", webhook_secret),
        ("STRIPE_BASE_URL", stripe_base),
        ("GIGSTREAM_DB_MAX_CONNECTIONS", "32".to_string()),
    ];
    let srv = server::serve(&bin, &store, port, &env).await?;
    let api = Api { http: reqwest::Client::builder().pool_max_idle_per_host(1024).build()?, base: srv.base.clone() };

    println!("signing up {} sellers and {} buyers, one gig per seller ({})…", args.sellers, args.concurrency, store.label());
    let sellers: Vec<String> =
        stream::iter((0..args.sellers).map(|i| api.sign_up(format!("benchsell{i}")))).buffered(4).try_collect().await?;
    let buyers: Vec<String> =
        stream::iter((0..args.concurrency).map(|i| api.sign_up(format!("benchbuy{i}")))).buffered(4).try_collect().await?;
    let mut gigs = vec![];
    for (i, s) in sellers.iter().enumerate() {
        let v = api.post("/api/v1/gigs", s, gig(i), 201).await?;
        gigs.push(v["gig"]["id"].as_str().ok_or("no gig id")?.to_string());
    }

    println!("{} buyers × {} orders each, at once…", args.concurrency, args.rounds);
    let began = Instant::now();
    let results = futures_util::future::join_all(buyers.iter().enumerate().map(|(i, b)| {
        let k = i % sellers.len();
        let (api, stripe) = (&api, &stripe);
        let (seller, gig) = (&sellers[k], &gigs[k]);
        async move { buyer(api, stripe, b, seller, gig, args.rounds).await }
    }))
    .await;
    let elapsed = began.elapsed().as_secs_f64();
    let mut all = Timings::new();
    let mut errors = vec![];
    for r in results {
        match r {
            Ok(t) => all.add(&t),
            Err(e) => errors.push(e.to_string()),
        }
    }
    drop(srv);

    let completed = all.order.count();
    let (clean, said) = server::check(&bin, &store, &env).await?;
    println!("{} concurrent buyers, {} sellers, {} store:", args.concurrency, args.sellers, store.label());
    let figures = json!({
        "place": all.place.summary(), "webhook_to_escrow": all.webhook.summary(),
        "accept_to_release": all.accept.summary(), "order": all.order.summary(),
    });
    let per_second = completed as f64 / elapsed;
    println!("  {completed} orders paid, delivered and released in {elapsed:.1} s: {per_second:.1} orders/s");
    println!("  gigstream check: {}", if clean { "clean" } else { "VIOLATIONS" });
    if !said.is_empty() {
        println!("    {}", said.replace('\n', "\n    "));
    }
    for e in errors.iter().take(5) {
        println!("  failed: {e}");
    }
    let out = json!({
        "bench": "orders", "store": store.label(), "concurrency": args.concurrency, "sellers": args.sellers,
        "rounds": args.rounds, "completed": completed, "failed_buyers": errors.len(), "seconds": elapsed,
        "orders_per_second": per_second, "check_clean": clean, "check_output": said, "latencies": figures,
    });
    if let Some(path) = &args.json {
        std::fs::write(path, serde_json::to_string_pretty(&out)?)?;
    }
    if !clean || !errors.is_empty() {
        return Err(format!("{} buyers failed; check clean: {clean}", errors.len()).into());
    }
    Ok(())
}
