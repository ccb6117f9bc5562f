//! Invoices and credit notes end to end: an order paid through the fake
//! Stripe gets an invoice, a refund a credit note; each is mailed to the
//! buyer over real SMTP (the in-repo sink) with a text part and the PDF;
//! poppler renders the PDF and its text holds the number, the parties and
//! the amounts; only the buyer and the seller can download it.

use crate::support::{backends, TestApp, PASSWORD};
use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use http_body_util::BodyExt;
use platform_mail::testing::SmtpSink;
use serde_json::json;
use std::process::Command;
use std::sync::Arc;
use tower::ServiceExt;

async fn sign_up(app: &TestApp, username: &str, display_name: &str) -> String {
    let body =
        json!({ "email": format!("{username}@example.test"), "username": username, "display_name": display_name, "password": PASSWORD });
    let (s, v) = app.call(Method::POST, "/api/v1/signup", None, Some(body)).await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    v["token"].as_str().unwrap().to_string()
}

/// A gig with one basic package.
fn gig(title: &str, package: &str, price: &str) -> serde_json::Value {
    json!({
        "title": title,
        "category": "writing-translation",
        "tags": "translation, proofreading",
        "description": "<p>Careful work by a native speaker, with tracked changes.</p>",
        "packages": [{ "tier": "basic", "name": package, "price": price, "delivery_days": 3, "revisions": 1, "items": ["Pages"] }],
        "faq": [],
        "requirements": []
    })
}

/// The bytes and content type of a GET.
async fn fetch(app: &TestApp, path: &str, token: Option<&str>) -> (StatusCode, String, Vec<u8>) {
    let mut req = Request::get(path);
    if let Some(t) = token {
        req = req.header(header::AUTHORIZATION, format!("Bearer {t}"));
    }
    let resp = app.router.clone().oneshot(req.body(Body::empty()).unwrap()).await.unwrap();
    let status = resp.status();
    let kind = resp.headers().get(header::CONTENT_TYPE).map(|v| v.to_str().unwrap().to_string()).unwrap_or_default();
    (status, kind, resp.into_body().collect().await.unwrap().to_bytes().to_vec())
}

/// Renders page 1 with pdftoppm (it must be a PDF poppler can draw; the
/// picture is kept under the target directory as `<name>.png`) and returns
/// the text pdftotext reads from it.
fn poppler(pdf: &[u8], name: &str) -> String {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("doc.pdf");
    std::fs::write(&file, pdf).unwrap();
    let out = Command::new("pdftoppm")
        .args(["-png", "-r", "90", "-f", "1", "-l", "1"])
        .arg(&file)
        .arg(dir.path().join("page"))
        .output()
        .expect("pdftoppm (poppler-utils, installed by scripts/install-deps)");
    assert!(out.status.success(), "pdftoppm: {}", String::from_utf8_lossy(&out.stderr));
    let png =
        std::fs::read_dir(dir.path()).unwrap().flatten().find(|e| e.file_name().to_string_lossy().ends_with(".png")).expect("a PNG page");
    let png = std::fs::read(png.path()).unwrap();
    assert!(png.starts_with(b"\x89PNG") && png.len() > 2_000, "a drawn page, {} bytes", png.len());
    let keep = std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("gigstream-screens");
    std::fs::create_dir_all(&keep).unwrap();
    std::fs::write(keep.join(format!("{name}.png")), &png).unwrap();
    let out = Command::new("pdftotext").args(["-layout"]).arg(&file).arg("-").output().expect("pdftotext");
    assert!(out.status.success(), "pdftotext: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

#[tokio::test]
async fn paid_orders_and_refunds_get_numbered_pdfs_mailed_to_the_buyer() {
    for backend in backends() {
        let sink = SmtpSink::start().await.unwrap();
        let mailer = platform_mail::SmtpMailer::new(sink.config()).unwrap();
        let (app, _) = TestApp::served_with_mailer(backend, Some(Arc::new(mailer))).await;
        let seller = sign_up(&app, "zofia", "Zofia Nowak").await;
        let buyer = sign_up(&app, "ada", "Ada Lovelace").await;
        let stranger = sign_up(&app, "eve", "Eve").await;
        let admin = app.admin("root").await;
        let gig = gig("I will translate your website into Polish", "Ten pages", "100");
        let (s, v) = app.call(Method::POST, "/api/v1/gigs", Some(&seller), Some(gig)).await;
        assert_eq!(s, StatusCode::CREATED, "{v}");
        let order = app.paid_order(&buyer, v["gig"]["id"].as_str().unwrap()).await;

        // The invoice is mailed to the buyer: a text part and the PDF.
        let mail = sink.wait_for(1).await.remove(0);
        assert_eq!(mail.rcpt_to, ["ada@example.test"]);
        let (s, list) = app.call(Method::GET, &format!("/api/v1/orders/{order}/invoices"), Some(&buyer), None).await;
        assert_eq!(s, StatusCode::OK, "{list}");
        let inv = list["invoices"][0].clone();
        let number = inv["number"].as_str().unwrap().to_string();
        assert!(number.starts_with("GS-") && number.ends_with("-000001"), "{number}");
        assert_eq!(
            (inv["kind"].as_str(), inv["total_minor"].as_i64(), inv["price_minor"].as_i64()),
            (Some("invoice"), Some(10_500), Some(10_000))
        );
        assert!(mail.header("subject").unwrap().contains(&number));
        let text = mail.text().expect("a text part");
        assert!(text.contains("$105.00") && text.contains(&number) && text.contains("Zofia Nowak"), "{text}");
        let attachments = mail.attachments();
        assert_eq!(attachments.len(), 1);
        let (name, kind, pdf) = &attachments[0];
        assert_eq!((name.as_str(), kind.as_str()), (format!("invoice-{number}.pdf").as_str(), "application/pdf"));
        let words = poppler(pdf, "invoice");
        for needle in [
            number.as_str(),
            "Invoice",
            "Ada Lovelace",
            "ada@example.test",
            "Zofia Nowak",
            "@zofia",
            "$100.00",
            "$5.00",
            "$105.00",
            "Total paid",
        ] {
            assert!(words.contains(needle), "{needle:?} missing from the invoice:\n{words}");
        }
        assert!(words.contains("I will translate your website into Polish"), "{words}");

        // Buyer and seller download the stored PDF; nobody else sees it.
        let id = inv["id"].as_str().unwrap();
        for token in [&buyer, &seller] {
            let (s, kind, bytes) = fetch(&app, &format!("/api/v1/invoices/{id}/pdf"), Some(token)).await;
            assert_eq!((s, kind.as_str()), (StatusCode::OK, "application/pdf"));
            assert_eq!(&bytes, pdf, "the stored document is the one mailed");
            let (s, _, _) = fetch(&app, &format!("/invoices/{id}/pdf"), Some(token)).await;
            assert_eq!(s, StatusCode::OK);
        }
        for token in [&stranger, &admin] {
            let (s, _, _) = fetch(&app, &format!("/api/v1/invoices/{id}/pdf"), Some(token)).await;
            assert_eq!(s, StatusCode::NOT_FOUND);
            let (s, _) = app.call(Method::GET, &format!("/api/v1/invoices/{id}"), Some(token), None).await;
            assert_eq!(s, StatusCode::NOT_FOUND);
            let (s, _) = app.call(Method::GET, &format!("/api/v1/orders/{order}/invoices"), Some(token), None).await;
            assert_eq!(s, StatusCode::NOT_FOUND);
        }
        let (s, _, _) = fetch(&app, &format!("/api/v1/invoices/{id}/pdf"), None).await;
        assert_eq!(s, StatusCode::UNAUTHORIZED);
        let (s, mine) = app.call(Method::GET, "/api/v1/invoices", Some(&stranger), None).await;
        assert_eq!((s, mine["invoices"].as_array().unwrap().len()), (StatusCode::OK, 0));

        // A partial refund gets a credit note of its own series, mailed too.
        let body = json!({ "amount_minor": 2_500, "request_key": "goodwill-1", "reason": "Started two days late" });
        let (s, v) = app.call(Method::POST, &format!("/api/v1/admin/orders/{order}/refund"), Some(&admin), Some(body)).await;
        assert_eq!(s, StatusCode::OK, "{v}");
        let mails = sink.wait_for(2).await;
        let note_mail = &mails[1];
        let (_, list) = app.call(Method::GET, &format!("/api/v1/orders/{order}/invoices"), Some(&seller), None).await;
        let note = list["invoices"].as_array().unwrap().iter().find(|d| d["kind"] == "credit_note").expect("a credit note").clone();
        let note_number = note["number"].as_str().unwrap();
        assert!(note_number.starts_with("GSC-") && note_number.ends_with("-000001"), "{note_number}");
        assert_eq!(note["invoice_number"].as_str(), Some(number.as_str()));
        assert!(note_mail.text().unwrap().contains("$25.00"), "{:?}", note_mail.text());
        let words = poppler(&note_mail.attachments()[0].2, "credit-note");
        for needle in [note_number, "Credit note", "$25.00", "Total refunded", number.as_str(), "Started two days late", "Ada Lovelace"] {
            assert!(words.contains(needle), "{needle:?} missing from the credit note:\n{words}");
        }

        // The invoices page lists both for the buyer; the order page links them.
        let (s, _, page) = fetch(&app, "/invoices", Some(&buyer)).await;
        let page = String::from_utf8(page).unwrap();
        assert_eq!(s, StatusCode::OK);
        assert!(page.contains(&number) && page.contains(note_number) && page.contains("Zofia Nowak"), "{page}");
        let (_, _, page) = fetch(&app, &format!("/orders/{order}"), Some(&seller)).await;
        assert!(String::from_utf8(page).unwrap().contains(&format!("/invoices/{id}/pdf")));

        // Nothing is left for the job, and the books agree.
        assert_eq!(gigstream_web::invoices::deliver_pending(&app.state).await.unwrap(), 0);
        assert_eq!(sink.received().len(), 2, "each document mailed once");
        let report = gigstream_store::invariants::check(&app.db).await.unwrap();
        assert!(report.is_clean(), "{:?}", report.violations);
    }
}

#[tokio::test]
async fn a_mail_relay_that_is_down_leaves_the_invoice_for_the_job() {
    for backend in backends() {
        // A port nobody listens on: the first attempt fails.
        let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = closed.local_addr().unwrap().port();
        drop(closed);
        let down = platform_mail::SmtpMailer::new(platform_mail::SmtpConfig::plain("127.0.0.1", port)).unwrap();
        let (app, _) = TestApp::served_with_mailer(backend, Some(Arc::new(down))).await;
        let seller = sign_up(&app, "zofia", "Zofia Nowak").await;
        let buyer = sign_up(&app, "ada", "Ada Lovelace").await;
        let gig = gig("I will proofread your thesis", "Up to 50 pages", "80");
        let (s, v) = app.call(Method::POST, "/api/v1/gigs", Some(&seller), Some(gig)).await;
        assert_eq!(s, StatusCode::CREATED, "{v}");
        let order = app.paid_order(&buyer, v["gig"]["id"].as_str().unwrap()).await;
        // Wait until the first attempt has failed and been recorded.
        let id: gigstream_domain::ids::OrderId = order.parse().unwrap();
        let mut tries = 0;
        let inv = loop {
            tries += 1;
            assert!(tries < 500, "the first attempt never finished");
            let docs = gigstream_store::invoices::for_order(&app.db, id).await.unwrap();
            if let Some(d) = docs.into_iter().find(|d| d.mail_attempts > 0) {
                let again = gigstream_store::invoices::get(&app.db, d.id).await.unwrap();
                if again.pdf_key.is_some() {
                    break again;
                }
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        };
        assert!(inv.emailed_at.is_none(), "not mailed while the relay is down");
        // The relay is back: the job mails it, once.
        let sink = SmtpSink::start().await.unwrap();
        let mut state = app.state.clone();
        state.mailer = Arc::new(platform_mail::SmtpMailer::new(sink.config()).unwrap());
        let mut mailed = 0;
        for _ in 0..20 {
            if gigstream_store::invoices::get(&app.db, inv.id).await.unwrap().emailed_at.is_some() {
                break;
            }
            mailed += gigstream_web::invoices::deliver_pending(&state).await.unwrap();
        }
        assert_eq!(mailed, 1);
        assert_eq!(gigstream_web::invoices::deliver_pending(&state).await.unwrap(), 0);
        let got = sink.wait_for(1).await;
        assert_eq!(got.len(), 1);
        assert!(got[0].header("subject").unwrap().contains(&inv.number));
    }
}
