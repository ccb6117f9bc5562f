//! What every product's static files must do through its router: the same
//! bytes whole or gzip'd, a validator, and a bodiless 304 for a copy that
//! is still current.

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use std::io::Read;
use tower::ServiceExt;

/// GETs `path` from `router` plainly, with `Accept-Encoding: gzip`, and
/// with the `ETag` it was given in `If-None-Match`, asserting that the
/// gzip'd body unpacks to the plain one and is smaller, and that the last
/// answer is a bodiless 304 with the same validator. Returns the bytes.
pub async fn assert_compressed_and_revalidated(router: axum::Router, path: &str) -> Vec<u8> {
    let get = |headers: &[(header::HeaderName, String)]| {
        let mut req = Request::get(path);
        for (k, v) in headers {
            req = req.header(k, v);
        }
        let router = router.clone();
        let req = req.body(Body::empty()).unwrap();
        async move {
            let r = router.oneshot(req).await.unwrap();
            let (parts, body) = r.into_parts();
            (parts, axum::body::to_bytes(body, usize::MAX).await.unwrap().to_vec())
        }
    };
    let (plain, whole) = get(&[]).await;
    assert_eq!(plain.status, StatusCode::OK, "{path}");
    assert!(plain.headers.get(header::CONTENT_ENCODING).is_none(), "{path}: not compressed without Accept-Encoding");
    assert_eq!(plain.headers[header::VARY], "Accept-Encoding", "{path}");
    assert!(plain.headers.contains_key(header::CACHE_CONTROL), "{path}");

    let (gz, packed) = get(&[(header::ACCEPT_ENCODING, "gzip, deflate, br".into())]).await;
    assert_eq!(gz.status, StatusCode::OK, "{path}");
    assert_eq!(gz.headers[header::CONTENT_ENCODING], "gzip", "{path}");
    assert_eq!(gz.headers[header::CONTENT_TYPE], plain.headers[header::CONTENT_TYPE], "{path}");
    let mut unpacked = vec![];
    flate2::read::GzDecoder::new(&packed[..]).read_to_end(&mut unpacked).expect("gzip");
    assert_eq!(unpacked, whole, "{path}: the gzip'd body unpacks to the file");
    assert!(packed.len() < whole.len() / 2, "{path}: {} bytes gzip'd of {}", packed.len(), whole.len());

    let etag = gz.headers[header::ETAG].to_str().unwrap().to_string();
    let (again, empty) = get(&[(header::ACCEPT_ENCODING, "gzip".into()), (header::IF_NONE_MATCH, etag.clone())]).await;
    assert_eq!(again.status, StatusCode::NOT_MODIFIED, "{path}");
    assert_eq!(again.headers[header::ETAG], etag.as_str(), "{path}");
    assert!(empty.is_empty(), "{path}: a 304 has no body");
    whole
}
