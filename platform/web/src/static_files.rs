//! Static files compiled into a product's binary (its stylesheets and
//! scripts), served the way browsers expect: each is compressed with gzip
//! once, when the table is built, and sent compressed to clients that
//! accept it; each carries a strong `ETag` from its content, so a browser
//! whose copy has gone stale asks again with `If-None-Match` and gets a
//! bodiless 304 while the file has not changed.
//!
//! Only these fixed files are compressed. Pages and API answers are not:
//! they carry CSRF tokens and session data next to reflected input, which
//! compression would expose to a BREACH-style attack.
//!
//! ```ignore
//! static FILES: LazyLock<StaticFiles> = LazyLock::new(|| {
//!     StaticFiles::new("public, max-age=300", &[("app.css", APP_CSS.as_bytes(), static_files::CSS)])
//! });
//! async fn asset(Path(file): Path<String>, headers: HeaderMap) -> Response {
//!     FILES.respond(&file, &headers).unwrap_or_else(|| StatusCode::NOT_FOUND.into_response())
//! }
//! ```

use axum::body::Bytes;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::io::Write;

/// Files smaller than this are sent as they are: gzip's own framing would
/// eat what it saves.
const MIN_GZIP_BYTES: usize = 512;

/// Content types of the files products serve.
pub const CSS: &str = "text/css; charset=utf-8";
pub const JS: &str = "text/javascript; charset=utf-8";
pub const SVG: &str = "image/svg+xml";

struct StaticFile {
    mime: &'static str,
    body: &'static [u8],
    /// Quoted hex of the content's SHA-256 (its first 16 bytes).
    etag: HeaderValue,
    /// The gzip form, when it is smaller, and its own validator.
    gzip: Option<(Bytes, HeaderValue)>,
}

/// A product's static files by name, ready to serve.
pub struct StaticFiles {
    files: HashMap<&'static str, StaticFile>,
    cache_control: &'static str,
}

impl StaticFiles {
    /// The table of `(name, content, content type)`; every response carries
    /// `cache_control` (e.g. `public, max-age=300`).
    pub fn new(cache_control: &'static str, files: &[(&'static str, &'static [u8], &'static str)]) -> StaticFiles {
        let files = files
            .iter()
            .map(|&(name, body, mime)| {
                let hash = hex::encode(&Sha256::digest(body)[..16]);
                let tag = |suffix: &str| HeaderValue::from_str(&format!("\"{hash}{suffix}\"")).expect("hex is a header value");
                // A different representation has its own validator.
                let gzip = gzip(body).map(|gz| (Bytes::from(gz), tag("-gz")));
                (name, StaticFile { mime, body, etag: tag(""), gzip })
            })
            .collect();
        StaticFiles { files, cache_control }
    }

    /// The response for `name` given the request's headers, or `None` for
    /// a name not in the table.
    pub fn respond(&self, name: &str, request: &HeaderMap) -> Option<Response> {
        let file = self.files.get(name)?;
        let compressed = file.gzip.as_ref().filter(|_| accepts_gzip(request));
        let mut headers = HeaderMap::new();
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(self.cache_control));
        headers.insert(header::VARY, HeaderValue::from_static("Accept-Encoding"));
        headers.insert(header::ETAG, compressed.map_or(&file.etag, |(_, tag)| tag).clone());
        if none_match(request, &file.etag) {
            return Some((StatusCode::NOT_MODIFIED, headers).into_response());
        }
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(file.mime));
        Some(match compressed {
            Some((gz, _)) => {
                headers.insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
                (headers, gz.clone()).into_response()
            }
            None => (headers, file.body).into_response(),
        })
    }
}

fn gzip(body: &[u8]) -> Option<Vec<u8>> {
    if body.len() < MIN_GZIP_BYTES {
        return None;
    }
    let mut enc = flate2::write::GzEncoder::new(Vec::with_capacity(body.len() / 3), flate2::Compression::best());
    enc.write_all(body).ok()?;
    let out = enc.finish().ok()?;
    (out.len() < body.len()).then_some(out)
}

/// Whether `Accept-Encoding` accepts gzip: `gzip` or `*` listed with a
/// quality above zero (`gzip;q=0` refuses it).
pub fn accepts_gzip(request: &HeaderMap) -> bool {
    let mut gzip = None;
    let mut any = None;
    for value in request.get_all(header::ACCEPT_ENCODING) {
        let Ok(value) = value.to_str() else { continue };
        for item in value.split(',') {
            let mut parts = item.split(';');
            let coding = parts.next().unwrap_or("").trim().to_ascii_lowercase();
            let q = parts
                .filter_map(|p| p.trim().strip_prefix("q=").or_else(|| p.trim().strip_prefix("Q=")))
                .find_map(|q| q.trim().parse::<f32>().ok())
                .unwrap_or(1.0);
            match coding.as_str() {
                "gzip" | "x-gzip" => gzip = Some(q > 0.0),
                "*" => any = Some(q > 0.0),
                _ => {}
            }
        }
    }
    gzip.or(any).unwrap_or(false)
}

/// Whether `If-None-Match` names the file's current content, in either of
/// its representations (the comparison is weak, as the standard has it
/// for this header), or is `*`.
fn none_match(request: &HeaderMap, etag: &HeaderValue) -> bool {
    let bare = etag.to_str().expect("hex").trim_matches('"');
    request.get_all(header::IF_NONE_MATCH).iter().filter_map(|v| v.to_str().ok()).flat_map(|v| v.split(',')).any(|tag| {
        let tag = tag.trim();
        let tag = tag.strip_prefix("W/").unwrap_or(tag).trim_matches('"');
        tag == "*" || tag == bare || tag.strip_suffix("-gz") == Some(bare)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    const CSS: &str = "body { color: #212121; }\n";

    fn files() -> StaticFiles {
        static BIG: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| CSS.repeat(200));
        StaticFiles::new("public, max-age=300", &[("app.css", BIG.as_bytes(), "text/css"), ("tiny.js", b"x()", "text/javascript")])
    }

    fn req(pairs: &[(header::HeaderName, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(k.clone(), HeaderValue::from_str(v).unwrap());
        }
        h
    }

    async fn body(r: Response) -> Vec<u8> {
        axum::body::to_bytes(r.into_body(), usize::MAX).await.unwrap().to_vec()
    }

    #[test]
    fn accept_encoding_is_read_with_its_qualities() {
        let cases: &[(&[&str], bool)] = &[
            (&[], false),
            (&["gzip"], true),
            (&["gzip, deflate, br"], true),
            (&["br;q=1.0, GZIP;q=0.5"], true),
            (&["gzip;q=0"], false),
            (&["gzip;q=0, *"], false),
            (&["*"], true),
            (&["*;q=0"], false),
            (&["identity"], false),
            (&["deflate", "x-gzip"], true),
        ];
        for (values, want) in cases {
            let h = req(&values.iter().map(|v| (header::ACCEPT_ENCODING, *v)).collect::<Vec<_>>());
            assert_eq!(accepts_gzip(&h), *want, "{values:?}");
        }
    }

    #[tokio::test]
    async fn gzip_goes_to_clients_that_accept_it_and_unpacks_to_the_file() {
        let f = files();
        let plain = f.respond("app.css", &req(&[])).unwrap();
        assert_eq!(plain.status(), StatusCode::OK);
        assert!(plain.headers().get(header::CONTENT_ENCODING).is_none());
        assert_eq!(plain.headers()[header::VARY], "Accept-Encoding");
        assert_eq!(plain.headers()[header::CACHE_CONTROL], "public, max-age=300");
        let original = body(plain).await;
        assert_eq!(original, CSS.repeat(200).into_bytes());

        let gz = f.respond("app.css", &req(&[(header::ACCEPT_ENCODING, "gzip, br")])).unwrap();
        assert_eq!(gz.headers()[header::CONTENT_ENCODING], "gzip");
        assert_eq!(gz.headers()[header::CONTENT_TYPE], "text/css");
        let packed = body(gz).await;
        assert!(packed.len() * 10 < original.len(), "{} of {}", packed.len(), original.len());
        let mut unpacked = vec![];
        flate2::read::GzDecoder::new(&packed[..]).read_to_end(&mut unpacked).unwrap();
        assert_eq!(unpacked, original);

        // Too small to gain: sent as it is.
        let tiny = f.respond("tiny.js", &req(&[(header::ACCEPT_ENCODING, "gzip")])).unwrap();
        assert!(tiny.headers().get(header::CONTENT_ENCODING).is_none());
        assert_eq!(body(tiny).await, b"x()");
        assert!(f.respond("missing.css", &req(&[])).is_none());
    }

    #[tokio::test]
    async fn a_current_copy_gets_a_bodiless_304_and_a_stale_one_the_file() {
        let f = files();
        let first = f.respond("app.css", &req(&[(header::ACCEPT_ENCODING, "gzip")])).unwrap();
        let gz_tag = first.headers()[header::ETAG].to_str().unwrap().to_string();
        let plain_tag = f.respond("app.css", &req(&[])).unwrap().headers()[header::ETAG].to_str().unwrap().to_string();
        assert!(gz_tag.starts_with('"') && gz_tag.ends_with("-gz\""), "{gz_tag}");
        assert_eq!(gz_tag, format!("{}-gz\"", plain_tag.trim_end_matches('"')));
        for tag in [gz_tag.as_str(), plain_tag.as_str(), "\"0000\", W/PLACEHOLDER", "*"] {
            let tag = tag.replace("PLACEHOLDER", &plain_tag);
            let r = f.respond("app.css", &req(&[(header::ACCEPT_ENCODING, "gzip"), (header::IF_NONE_MATCH, &tag)])).unwrap();
            assert_eq!(r.status(), StatusCode::NOT_MODIFIED, "{tag}");
            assert_eq!(r.headers()[header::ETAG], gz_tag.as_str());
            assert!(body(r).await.is_empty());
        }
        let stale = f.respond("app.css", &req(&[(header::IF_NONE_MATCH, "\"0123456789abcdef\"")])).unwrap();
        assert_eq!(stale.status(), StatusCode::OK);
        assert_eq!(body(stale).await.len(), CSS.len() * 200);
        // Another file's tag is not this one's.
        let tiny_tag = f.respond("tiny.js", &req(&[])).unwrap().headers()[header::ETAG].to_str().unwrap().to_string();
        let r = f.respond("app.css", &req(&[(header::IF_NONE_MATCH, &tiny_tag)])).unwrap();
        assert_eq!(r.status(), StatusCode::OK);
    }
}
