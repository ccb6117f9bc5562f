//! Gig videos: an upload is scanned and kept, converted by ffmpeg in the
//! background to H.264/AAC MP4 with a poster, then served with the right
//! types and range requests; a file ffmpeg cannot read is reported to the
//! seller and its original kept. The test clip is made by ffmpeg here
//! (skipped when ffmpeg is missing, a failure with REQUIRE_FFMPEG=1).

use crate::support::{backends, TestApp};
use crate::uploads::{gig, post_multipart};
use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use serde_json::Value;
use std::time::{Duration, Instant};

/// A 2-second MPEG-4 Part 2 + PCM QuickTime clip (not what browsers play).
pub(crate) fn clip() -> Option<Vec<u8>> {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("clip.mov");
    let made = std::process::Command::new("ffmpeg")
        .args(["-hide_banner", "-loglevel", "error", "-nostdin", "-y", "-f", "lavfi", "-i", "testsrc=duration=2:size=320x240:rate=10"])
        .args(["-f", "lavfi", "-i", "sine=frequency=440:duration=2", "-c:v", "mpeg4", "-c:a", "pcm_s16le", "-shortest"])
        .arg(&out)
        .status();
    match made {
        Ok(s) if s.success() => Some(std::fs::read(out).unwrap()),
        _ => {
            assert!(std::env::var("REQUIRE_FFMPEG").as_deref() != Ok("1"), "REQUIRE_FFMPEG=1 but ffmpeg cannot make a clip");
            eprintln!("skipping the video test: ffmpeg is not installed");
            None
        }
    }
}

/// Polls the gig's videos until the newest is no longer pending or processing.
async fn settled(app: &TestApp, seller: &str, gig: &str) -> Value {
    let started = Instant::now();
    loop {
        let (_, v) = app.call(Method::GET, &format!("/api/v1/gigs/id/{gig}/videos"), Some(seller), None).await;
        let newest = v["videos"][0].clone();
        if newest["status"] == "ready" || newest["status"] == "failed" {
            return newest;
        }
        assert!(started.elapsed() < Duration::from_secs(60), "still {newest}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

fn files_under(dir: &std::path::Path) -> Vec<String> {
    let mut out = vec![];
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(files_under(&p));
        } else {
            out.push(p.display().to_string());
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_gig_video_is_converted_served_with_ranges_and_failures_are_reported() {
    let Some(mov) = clip() else { return };
    for backend in backends() {
        let app = TestApp::new(backend).await;
        let seller = app.sign_up("filmer").await;
        let id = gig(&app, &seller).await;
        let path = format!("/api/v1/gigs/id/{id}/videos");

        let (s, v, _) = post_multipart(&app, &path, &seller, &[("video", Some("clip.mov"), &mov)]).await;
        assert_eq!(s, StatusCode::ACCEPTED, "{v}");
        let page = |p: String| Request::get(p).header(header::AUTHORIZATION, format!("Bearer {seller}")).body(Body::empty()).unwrap();
        let (_, _, html) = app.raw(page(format!("/gigs/id/{id}/videos"))).await;
        let converting = html.contains("Waiting to be converted") || html.contains("Converting…");
        assert!(!converting || html.contains("http-equiv=\"refresh\""), "a page under way reloads itself: {html}");
        let done = settled(&app, &seller, &id).await;
        assert_eq!((done["status"].as_str(), done["progress"].as_i64()), (Some("ready"), Some(100)), "{backend:?} {done}");
        // The original is gone once the conversion is stored.
        let stored = files_under(app.media.path());
        assert!(stored.iter().all(|f| !f.contains("originals")), "{stored:?}");

        // The MP4: H.264 in an MP4 container, served in ranges.
        let mp4 = done["mp4_url"].as_str().unwrap().to_string();
        let (s, h, _) = app.raw(Request::get(&mp4).header(header::RANGE, "bytes=0-99").body(Body::empty()).unwrap()).await;
        assert_eq!(s, StatusCode::PARTIAL_CONTENT);
        assert_eq!(h[header::CONTENT_TYPE], "video/mp4");
        assert_eq!(h[header::ACCEPT_RANGES], "bytes");
        let total: usize = h[header::CONTENT_RANGE].to_str().unwrap().strip_prefix("bytes 0-99/").unwrap().parse().unwrap();
        let whole = std::fs::read(app.media.path().join(mp4.trim_start_matches("/media/"))).unwrap();
        assert_eq!(whole.len(), total);
        assert_eq!(&whole[4..8], b"ftyp");
        assert!(whole.windows(4).any(|w| w == b"avc1") && whole.windows(4).any(|w| w == b"mp4a"), "H.264 video and AAC audio");
        let (s, h, _) = app.raw(Request::get(done["poster_url"].as_str().unwrap()).body(Body::empty()).unwrap()).await;
        assert_eq!((s, h[header::CONTENT_TYPE].to_str().unwrap()), (StatusCode::OK, "image/jpeg"));
        let (_, _, html) = app.raw(Request::get("/gigs/i-will-design-a-logo-for-your-shop").body(Body::empty()).unwrap()).await;
        assert!(html.contains(&format!("src=\"{mp4}\"")), "the gig page plays it");

        // Looks like an MP4, is not one: reported, and the original kept.
        let mut fake = vec![0, 0, 0, 24];
        fake.extend_from_slice(b"ftypmp42\0\0\0\0mp42isom");
        fake.extend(vec![0x5a; 4000]);
        let (s, _, _) = post_multipart(&app, &path, &seller, &[("video", Some("broken.mp4"), &fake)]).await;
        assert_eq!(s, StatusCode::ACCEPTED);
        let failed = settled(&app, &seller, &id).await;
        assert_eq!(failed["status"], "failed", "{failed}");
        assert!(failed["error"].as_str().unwrap().starts_with("The video could not be converted"), "{failed}");
        assert_eq!(files_under(app.media.path()).iter().filter(|f| f.contains("originals")).count(), 1);
        let page = Request::get(format!("/gigs/id/{id}/videos"))
            .header(header::AUTHORIZATION, format!("Bearer {seller}"))
            .body(Body::empty())
            .unwrap();
        let (s, _, html) = app.raw(page).await;
        assert_eq!(s, StatusCode::OK);
        assert!(html.contains("The video could not be converted") && html.contains("<video"), "{html}");
        assert!(!html.contains("http-equiv"), "nothing under way, no reloading");

        // A picture is not a video; nobody else sees the videos.
        let (s, v, _) = post_multipart(&app, &path, &seller, &[("video", Some("x.png"), include_bytes!("../../assets/test.png"))]).await;
        assert_eq!((s, v["fields"][0]["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("video")));
        let other = app.sign_up("peeker").await;
        assert_eq!(app.call(Method::GET, &path, Some(&other), None).await.0, StatusCode::NOT_FOUND);
    }
}

/// Polls the conversation until its video attachment is ready or failed.
async fn message_video_settled(app: &TestApp, token: &str, conv: &str) -> Value {
    let started = Instant::now();
    loop {
        let (s, v) = app.call(Method::GET, &format!("/api/v1/conversations/{conv}"), Some(token), None).await;
        assert_eq!(s, StatusCode::OK, "{v}");
        let a = v["messages"].as_array().unwrap().iter().flat_map(|m| m["attachments"].as_array().unwrap().clone()).last().unwrap();
        if a["video"]["status"] == "ready" || a["video"]["status"] == "failed" {
            return a;
        }
        assert!(started.elapsed() < Duration::from_secs(60), "still {a}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_video_in_a_message_is_converted_and_only_the_two_parties_fetch_it() {
    let Some(mov) = clip() else { return };
    for backend in backends() {
        let app = TestApp::new(backend).await;
        let seller = app.sign_up("filmer").await;
        let buyer = app.sign_up("asker").await;
        let stranger = app.sign_up("peeker").await;
        let gig_id = gig(&app, &seller).await;
        let body = serde_json::json!({ "gig": gig_id, "body": "Can you edit this?" });
        let (s, v) = app.call(Method::POST, "/api/v1/conversations", Some(&buyer), Some(body)).await;
        assert_eq!(s, StatusCode::CREATED, "{v}");
        let conv = v["conversation"]["id"].as_str().unwrap().to_string();

        // The buyer sends the clip: scanned, stored, its conversion queued.
        let path = format!("/api/v1/conversations/{conv}/messages");
        let parts: [(&str, Option<&str>, &[u8]); 2] = [("body", None, b"Here it is"), ("attachment", Some("clip.mov"), &mov)];
        let (s, v, _) = post_multipart(&app, &path, &buyer, &parts).await;
        assert_eq!(s, StatusCode::CREATED, "{v}");
        let sent = &v["message"]["attachments"][0];
        assert_eq!(sent["content_type"], "video/quicktime", "{v}");
        assert!(["pending", "processing"].contains(&sent["video"]["status"].as_str().unwrap()), "{v}");
        let original = sent["url"].as_str().unwrap().to_string();

        let done = message_video_settled(&app, &seller, &conv).await;
        assert_eq!(done["video"]["status"], "ready", "{backend:?} {done}");
        let mp4 = done["video"]["mp4_url"].as_str().unwrap().to_string();
        let poster = done["video"]["poster_url"].as_str().unwrap().to_string();
        assert!(mp4.starts_with("/media/messages/videos/") && poster.starts_with("/media/messages/videos/"), "{done}");

        // The other party plays it: an H.264/AAC MP4 in ranges, a JPEG poster.
        let get = |p: &str, who: Option<&str>, range: bool| {
            let mut r = Request::get(p);
            if let Some(t) = who {
                r = r.header(header::AUTHORIZATION, format!("Bearer {t}"));
            }
            if range {
                r = r.header(header::RANGE, "bytes=0-99");
            }
            r.body(Body::empty()).unwrap()
        };
        let (s, h, _) = app.raw(get(&mp4, Some(&seller), true)).await;
        assert_eq!((s, h[header::CONTENT_TYPE].to_str().unwrap()), (StatusCode::PARTIAL_CONTENT, "video/mp4"));
        assert!(h[header::CONTENT_RANGE].to_str().unwrap().starts_with("bytes 0-99/"));
        let whole = std::fs::read(app.media.path().join(mp4.trim_start_matches("/media/"))).unwrap();
        assert_eq!(&whole[4..8], b"ftyp");
        assert!(whole.windows(4).any(|w| w == b"avc1") && whole.windows(4).any(|w| w == b"mp4a"), "H.264 video and AAC audio");
        let (s, h, _) = app.raw(get(&poster, Some(&buyer), false)).await;
        assert_eq!((s, h[header::CONTENT_TYPE].to_str().unwrap()), (StatusCode::OK, "image/jpeg"));
        // The original stays as the attachment it is.
        assert_eq!(app.raw(get(&original, Some(&seller), false)).await.0, StatusCode::OK);

        // Nobody else: not a stranger, not the signed-out.
        for p in [&mp4, &poster, &original] {
            assert_eq!(app.raw(get(p, Some(&stranger), false)).await.0, StatusCode::NOT_FOUND, "{p}");
            assert_eq!(app.raw(get(p, None, false)).await.0, StatusCode::NOT_FOUND, "{p}");
        }

        // The thread shows the player with its poster.
        let (s, _, html) = app.raw(get(&format!("/messages/{conv}"), Some(&seller), false)).await;
        assert_eq!(s, StatusCode::OK);
        assert!(html.contains(&format!(r#"src="{mp4}" poster="{poster}""#)), "{html}");
        // A picture is still judged as a picture (not as a video).
        let png: &[u8] = include_bytes!("../../assets/test.png");
        let (s, v, _) = post_multipart(&app, &path, &seller, &[("attachment", Some("a.png"), png)]).await;
        assert_eq!(s, StatusCode::CREATED, "{v}");
        assert!(v["message"]["attachments"][0].get("video").is_none(), "{v}");
    }
}
