//! The S3 backend against a small S3 stand-in on 127.0.0.1: path-style
//! PUT, GET, HEAD and DELETE of objects, each request's AWS Signature
//! Version 4 checked against the configured keys and region the way S3
//! checks it, so a request signed with anything else is refused.

#![cfg(feature = "aws")]

mod common;

use axum::body::Bytes;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use common::{key, round_trip};
use hmac::{Hmac, Mac};
use platform_media::{MediaStore, ObjectMedia, S3Config};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

const BUCKET: &str = "media-test";
const REGION: &str = "eu-test-1";
const ACCESS_KEY: &str = "AKIAMEDIATEST";
const SECRET: &str = "media-test-secret";

/// A stored object: bytes, content type, etag.
type Object = (Vec<u8>, String, u64);

/// What the stand-in holds and saw.
#[derive(Default)]
struct Bucket {
    objects: Mutex<HashMap<String, Object>>,
    /// "METHOD /path" of every request that passed the signature check.
    log: Mutex<Vec<String>>,
    next_etag: Mutex<u64>,
}

/// Starts the stand-in on an ephemeral port; returns its base URL.
async fn serve(bucket: Arc<Bucket>) -> String {
    let app = axum::Router::new().fallback(move |method: Method, uri: Uri, headers: HeaderMap, body: Bytes| {
        let bucket = bucket.clone();
        async move { handle(&bucket, method, uri, headers, body) }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    format!("http://{addr}")
}

fn s3_error(status: StatusCode, code: &str) -> Response {
    let body = format!("<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>{code}</Code><Message>{code}</Message></Error>");
    (status, [("content-type", "application/xml")], body).into_response()
}

fn handle(bucket: &Bucket, method: Method, uri: Uri, headers: HeaderMap, body: Bytes) -> Response {
    if let Err(why) = verify_signature(&method, &uri, &headers, &body) {
        eprintln!("refused {method} {uri}: {why}");
        return s3_error(StatusCode::FORBIDDEN, "SignatureDoesNotMatch");
    }
    bucket.log.lock().unwrap().push(format!("{method} {}", uri.path()));
    let Some(object) = uri.path().strip_prefix(&format!("/{BUCKET}/")) else {
        // Bucket-level calls (listing, bulk delete) are not part of the
        // contract; say so rather than answer with something plausible.
        return s3_error(StatusCode::NOT_IMPLEMENTED, "NotImplemented");
    };
    let object = object.to_string();
    let mut objects = bucket.objects.lock().unwrap();
    match method {
        Method::PUT => {
            assert_eq!(
                headers.get("content-length").and_then(|v| v.to_str().ok()),
                Some(body.len().to_string().as_str()),
                "S3 needs an exact Content-Length on PUT"
            );
            let content_type = headers.get("content-type").and_then(|v| v.to_str().ok()).unwrap_or("binary/octet-stream").to_string();
            let etag = {
                let mut n = bucket.next_etag.lock().unwrap();
                *n += 1;
                *n
            };
            objects.insert(object, (body.to_vec(), content_type, etag));
            (StatusCode::OK, [("etag", format!("\"{etag}\""))]).into_response()
        }
        Method::GET | Method::HEAD => match objects.get(&object) {
            None => s3_error(StatusCode::NOT_FOUND, "NoSuchKey"),
            Some((bytes, content_type, etag)) => (
                StatusCode::OK,
                [
                    ("content-type", content_type.clone()),
                    ("etag", format!("\"{etag}\"")),
                    ("last-modified", "Wed, 21 Oct 2015 07:28:00 GMT".to_string()),
                ],
                bytes.clone(),
            )
                .into_response(),
        },
        Method::DELETE => {
            objects.remove(&object);
            StatusCode::NO_CONTENT.into_response()
        }
        _ => s3_error(StatusCode::METHOD_NOT_ALLOWED, "MethodNotAllowed"),
    }
}

type HmacSha256 = Hmac<Sha256>;

fn hmac(key: &[u8], data: &str) -> Vec<u8> {
    let mut mac = HmacSha256::new_from_slice(key).unwrap();
    mac.update(data.as_bytes());
    mac.finalize().into_bytes().to_vec()
}

/// Recomputes the request's SigV4 signature from [`SECRET`] and compares.
fn verify_signature(method: &Method, uri: &Uri, headers: &HeaderMap, body: &[u8]) -> Result<(), String> {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).ok_or(format!("no {name} header"));
    let auth = header("authorization")?;
    let rest = auth.strip_prefix("AWS4-HMAC-SHA256 ").ok_or("not SigV4")?;
    let mut fields = HashMap::new();
    for part in rest.split(',') {
        let (k, v) = part.trim().split_once('=').ok_or("malformed authorization")?;
        fields.insert(k, v);
    }
    let credential = fields.get("Credential").ok_or("no Credential")?;
    let signed_headers = fields.get("SignedHeaders").ok_or("no SignedHeaders")?;
    let signature = fields.get("Signature").ok_or("no Signature")?;
    let scope: Vec<&str> = credential.split('/').collect();
    let [access_key, date, region, "s3", "aws4_request"] = scope.as_slice() else { return Err(format!("bad scope {credential}")) };
    if *access_key != ACCESS_KEY {
        return Err(format!("unknown access key {access_key}"));
    }
    if *region != REGION {
        return Err(format!("wrong region {region}"));
    }
    let amz_date = header("x-amz-date")?;
    let payload_hash = header("x-amz-content-sha256")?;
    if payload_hash != "UNSIGNED-PAYLOAD" && payload_hash != hex::encode(Sha256::digest(body)) {
        return Err("payload hash does not match the body".into());
    }

    let mut query: Vec<&str> = uri.query().unwrap_or("").split('&').filter(|p| !p.is_empty()).collect();
    query.sort_unstable();
    let query: Vec<String> = query.iter().map(|p| if p.contains('=') { p.to_string() } else { format!("{p}=") }).collect();
    let mut canonical_headers = String::new();
    for name in signed_headers.split(';') {
        let value = header(name)?;
        canonical_headers.push_str(&format!("{name}:{}\n", value.split_whitespace().collect::<Vec<_>>().join(" ")));
    }
    let canonical_request = format!("{method}\n{}\n{}\n{canonical_headers}\n{signed_headers}\n{payload_hash}", uri.path(), query.join("&"));
    let string_to_sign = format!(
        "AWS4-HMAC-SHA256\n{amz_date}\n{date}/{region}/s3/aws4_request\n{}",
        hex::encode(Sha256::digest(canonical_request.as_bytes()))
    );
    let mut signing_key = hmac(format!("AWS4{SECRET}").as_bytes(), date);
    for part in [*region, "s3", "aws4_request"] {
        signing_key = hmac(&signing_key, part);
    }
    if hex::encode(hmac(&signing_key, &string_to_sign)) != *signature {
        return Err("signature does not match".into());
    }
    Ok(())
}

fn config(endpoint: &str) -> S3Config {
    S3Config::new(BUCKET, endpoint, REGION, ACCESS_KEY, SECRET)
}

#[tokio::test]
async fn s3_round_trip_with_signed_requests() {
    let bucket = Arc::new(Bucket::default());
    let endpoint = serve(bucket.clone()).await;
    let store = ObjectMedia::s3(&config(&endpoint)).unwrap();
    round_trip(&store).await;

    let objects = bucket.objects.lock().unwrap();
    let (bytes, content_type, _) = &objects["rooms/logos/r1.webp"];
    assert_eq!((bytes.as_slice(), content_type.as_str()), (&[1u8, 2, 3][..], "image/webp"), "stored with its content type");
    assert!(!objects.contains_key("0190-abc.png"), "deleted");
    let log = bucket.log.lock().unwrap();
    for expected in
        ["PUT /media-test/0190-abc.png", "GET /media-test/0190-abc.png", "HEAD /media-test/0190-abc.png", "DELETE /media-test/0190-abc.png"]
    {
        assert!(log.iter().any(|l| l == expected), "{expected} in {log:?}");
    }
}

#[tokio::test]
async fn s3_requests_signed_with_other_keys_are_refused() {
    let bucket = Arc::new(Bucket::default());
    let endpoint = serve(bucket.clone()).await;
    let k = key("a.png");
    for bad in [
        S3Config { secret_access_key: "not-the-secret".into(), ..config(&endpoint) },
        S3Config { access_key_id: "AKIAOTHER".into(), ..config(&endpoint) },
        S3Config { region: "us-east-1".into(), ..config(&endpoint) },
    ] {
        let store = ObjectMedia::s3(&bad).unwrap();
        let err = store.put(&k, vec![1], "image/png").await.expect_err("refused");
        assert!(err.to_string().contains("SignatureDoesNotMatch") || err.to_string().contains("403"), "{err}");
        assert!(store.get(&k).await.is_err());
    }
    assert!(bucket.objects.lock().unwrap().is_empty());
    assert!(bucket.log.lock().unwrap().is_empty(), "nothing got past the signature check");
}

#[tokio::test]
async fn s3_public_base_and_endpoint_with_trailing_slash() {
    let bucket = Arc::new(Bucket::default());
    let endpoint = serve(bucket.clone()).await;
    let store = ObjectMedia::s3(&config(&format!("{endpoint}/")).with_public_base("https://cdn.example.test/m")).unwrap();
    let url = store.put(&key("g/1.mp4"), vec![0; 70_000], "video/mp4").await.unwrap();
    assert_eq!(url, "https://cdn.example.test/m/g/1.mp4");
    assert_eq!(store.get(&key("g/1.mp4")).await.unwrap().unwrap().bytes.len(), 70_000);
}

#[tokio::test]
async fn s3_unreachable_endpoint_is_an_error_not_a_hang() {
    // Nothing listens here; the error comes back rather than hanging.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let endpoint = format!("http://{}", listener.local_addr().unwrap());
    drop(listener);
    let store = ObjectMedia::s3(&config(&endpoint)).unwrap();
    let started = std::time::Instant::now();
    assert!(store.exists(&key("a.png")).await.is_err());
    assert!(started.elapsed() < std::time::Duration::from_secs(40), "took {:?}", started.elapsed());
}
