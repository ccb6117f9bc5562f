//! Serving stored bytes with HTTP range requests (RFC 9110 §14): one
//! `Range: bytes=…` range is answered 206 with `Content-Range`; a range
//! past the end is 416; anything this server does not split (several
//! ranges, other units, a malformed header) gets the whole file with 200,
//! as the RFC allows. `Accept-Ranges: bytes` is always sent, so video
//! players know they may seek.

use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

/// What a `Range` header asks of a file of `len` bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wanted {
    Whole,
    /// Bytes `start..=end`.
    Part(u64, u64),
    Unsatisfiable,
}

pub fn parse(range: Option<&str>, len: u64) -> Wanted {
    let Some(spec) = range.and_then(|r| r.trim().strip_prefix("bytes=")) else { return Wanted::Whole };
    if spec.contains(',') {
        return Wanted::Whole;
    }
    let Some((a, b)) = spec.trim().split_once('-') else { return Wanted::Whole };
    let (a, b) = (a.trim(), b.trim());
    match (a.parse::<u64>().ok(), b.parse::<u64>().ok()) {
        // The last `n` bytes.
        (None, Some(n)) if a.is_empty() => {
            if n == 0 || len == 0 {
                Wanted::Unsatisfiable
            } else {
                Wanted::Part(len.saturating_sub(n), len - 1)
            }
        }
        (Some(start), None) if b.is_empty() => {
            if start >= len {
                Wanted::Unsatisfiable
            } else {
                Wanted::Part(start, len - 1)
            }
        }
        (Some(start), Some(end)) if start <= end => {
            if start >= len {
                Wanted::Unsatisfiable
            } else {
                Wanted::Part(start, end.min(len - 1))
            }
        }
        _ => Wanted::Whole,
    }
}

/// The response to a GET of `bytes`, honouring the request's `Range`.
pub fn respond(request: &HeaderMap, mut bytes: Vec<u8>, content_type: &str, extra: &[(header::HeaderName, String)]) -> Response {
    let len = bytes.len() as u64;
    let range = request.get(header::RANGE).and_then(|v| v.to_str().ok());
    let mut resp = match parse(range, len) {
        Wanted::Whole => (StatusCode::OK, bytes).into_response(),
        Wanted::Part(start, end) => {
            bytes.truncate(end as usize + 1);
            let part = bytes.split_off(start as usize);
            let mut r = (StatusCode::PARTIAL_CONTENT, part).into_response();
            if let Ok(v) = HeaderValue::from_str(&format!("bytes {start}-{end}/{len}")) {
                r.headers_mut().insert(header::CONTENT_RANGE, v);
            }
            r
        }
        Wanted::Unsatisfiable => {
            let mut r = StatusCode::RANGE_NOT_SATISFIABLE.into_response();
            if let Ok(v) = HeaderValue::from_str(&format!("bytes */{len}")) {
                r.headers_mut().insert(header::CONTENT_RANGE, v);
            }
            return r;
        }
    };
    let h = resp.headers_mut();
    h.insert(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));
    if let Ok(v) = HeaderValue::from_str(content_type) {
        h.insert(header::CONTENT_TYPE, v);
    }
    for (name, value) in extra {
        if let Ok(v) = HeaderValue::from_str(value) {
            h.insert(name.clone(), v);
        }
    }
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_parse() {
        let cases: Vec<(Option<&str>, u64, Wanted)> = vec![
            (None, 10, Wanted::Whole),
            (Some("bytes=0-3"), 10, Wanted::Part(0, 3)),
            (Some("bytes=4-"), 10, Wanted::Part(4, 9)),
            (Some("bytes=-3"), 10, Wanted::Part(7, 9)),
            (Some("bytes=-30"), 10, Wanted::Part(0, 9)),
            (Some("bytes=5-100"), 10, Wanted::Part(5, 9)),
            (Some("bytes=10-"), 10, Wanted::Unsatisfiable),
            (Some("bytes=12-15"), 10, Wanted::Unsatisfiable),
            (Some("bytes=-0"), 10, Wanted::Unsatisfiable),
            (Some("bytes=0-1,4-5"), 10, Wanted::Whole),
            (Some("bytes=5-2"), 10, Wanted::Whole),
            (Some("items=0-1"), 10, Wanted::Whole),
            (Some("bytes=x-y"), 10, Wanted::Whole),
        ];
        for (h, len, want) in cases {
            assert_eq!(parse(h, len), want, "{h:?}");
        }
    }

    #[tokio::test]
    async fn a_part_is_206_with_its_content_range() {
        let mut req = HeaderMap::new();
        req.insert(header::RANGE, HeaderValue::from_static("bytes=2-4"));
        let resp = respond(&req, b"0123456789".to_vec(), "video/mp4", &[]);
        assert_eq!(resp.status(), StatusCode::PARTIAL_CONTENT);
        assert_eq!(resp.headers()[header::CONTENT_RANGE], "bytes 2-4/10");
        assert_eq!(resp.headers()[header::ACCEPT_RANGES], "bytes");
        assert_eq!(resp.headers()[header::CONTENT_TYPE], "video/mp4");
        let body = axum::body::to_bytes(resp.into_body(), 100).await.unwrap();
        assert_eq!(&body[..], b"234");
        let whole = respond(&HeaderMap::new(), b"abc".to_vec(), "image/jpeg", &[(header::CONTENT_DISPOSITION, "inline".into())]);
        assert_eq!((whole.status(), whole.headers()[header::CONTENT_DISPOSITION].to_str().unwrap()), (StatusCode::OK, "inline"));
        req.insert(header::RANGE, HeaderValue::from_static("bytes=20-"));
        let r = respond(&req, b"abc".to_vec(), "image/jpeg", &[]);
        assert_eq!((r.status(), r.headers()[header::CONTENT_RANGE].to_str().unwrap()), (StatusCode::RANGE_NOT_SATISFIABLE, "bytes */3"));
    }
}
