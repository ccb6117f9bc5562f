use crate::support::{backends, TestApp, PASSWORD};
use axum::http::StatusCode;
use serde_json::json;

#[tokio::test]
async fn sign_up_create_join_seat_mute_kick_and_rejoin_refused() {
    for b in backends() {
        let app = TestApp::new(b).await;
        let mut owner = app.client();
        let o = owner.sign_up("+254711000001", "owner").await;
        let created = owner.post("/api/v1/rooms", json!({"name": "Evening Talk", "visitors_speak": true})).await;
        assert_eq!(created.status, StatusCode::CREATED, "{b:?} {}", created.body);
        let room = created.json()["room"]["id"].as_str().unwrap().to_string();
        // One room per user.
        let again = owner.post("/api/v1/rooms", json!({"name": "Another"})).await;
        assert_eq!((again.status, again.code()), (StatusCode::CONFLICT, "one_room_per_user".into()), "{b:?}");

        let mut guest = app.client();
        let g = guest.sign_up("guest@example.com", "guest").await;
        let gid = g["account"]["id"].as_str().unwrap().to_string();
        let joined = guest.post(&format!("/api/v1/rooms/{room}/join"), json!({})).await;
        assert_eq!(joined.status, StatusCode::OK, "{b:?} {}", joined.body);
        assert_eq!(joined.json()["joined"]["role"], "visitor");
        let sat = guest.post(&format!("/api/v1/rooms/{room}/actions/take_seat"), json!({"seat": 2})).await;
        assert_eq!((sat.status, sat.json()["seat"].as_i64()), (StatusCode::OK, Some(2)), "{b:?} {}", sat.body);

        // The owner mutes the guest; the guest cannot unmute themselves.
        let muted = owner.post(&format!("/api/v1/rooms/{room}/actions/mute"), json!({"account": gid})).await;
        assert_eq!(muted.status, StatusCode::OK, "{b:?} {}", muted.body);
        let unmute = guest.post(&format!("/api/v1/rooms/{room}/actions/unmute"), json!({})).await;
        assert_eq!((unmute.status, unmute.code()), (StatusCode::FORBIDDEN, "muted_by_moderator".into()), "{b:?}");
        // A visitor cannot moderate the owner.
        let oid = o["account"]["id"].as_str().unwrap();
        let back = guest.post(&format!("/api/v1/rooms/{room}/actions/kick"), json!({"account": oid})).await;
        assert_eq!((back.status, back.code()), (StatusCode::FORBIDDEN, "not_moderator".into()), "{b:?}");

        let kicked = owner.post(&format!("/api/v1/rooms/{room}/actions/kick"), json!({"account": gid, "reason": "test"})).await;
        assert_eq!(kicked.status, StatusCode::OK, "{b:?} {}", kicked.body);
        let rejoin = guest.post(&format!("/api/v1/rooms/{room}/join"), json!({})).await;
        assert_eq!((rejoin.status, rejoin.code()), (StatusCode::FORBIDDEN, "kick_cooldown".into()), "{b:?} {}", rejoin.body);

        // Every step is in the room outbox, in order.
        let evs = owner.get(&format!("/api/v1/rooms/{room}/events?after=0")).await.json();
        let kinds: Vec<&str> = evs["events"].as_array().unwrap().iter().map(|e| e["kind"].as_str().unwrap()).collect();
        let expected = ["room_opened", "joined", "joined", "seat_taken", "muted", "seat_freed", "left", "kicked"];
        assert_eq!(kinds, expected, "{b:?}");
        let log = owner.get(&format!("/api/v1/rooms/{room}/log")).await.json();
        assert!(log["log"].as_array().unwrap().iter().any(|e| e["action"] == "kick" && e["reason"] == "test"), "{b:?}");
        assert_eq!(guest.get(&format!("/api/v1/rooms/{room}/log")).await.status, StatusCode::FORBIDDEN);
    }
}

#[tokio::test]
async fn json_errors_name_their_status_code_and_field() {
    for b in backends() {
        let app = TestApp::new(b).await;
        let mut c = app.client();
        let bad = c
            .post("/api/v1/auth/signup", json!({"login": "0712", "password": "short", "full_name": "Al", "handle": "1x", "birth_date": "2015-01-01", "country": "ZZ"}))
            .await;
        assert_eq!((bad.status, bad.code()), (StatusCode::UNPROCESSABLE_ENTITY, "validation".into()));
        let body = bad.json();
        let fields: Vec<&str> = body["fields"].as_array().unwrap().iter().map(|f| f["field"].as_str().unwrap()).collect();
        assert_eq!(fields, ["login", "password", "full_name", "handle", "birth_date", "country"], "{b:?}");

        let not_json = c.send(axum::http::Method::POST, "/api/v1/auth/signin", Some("application/json"), b"{".to_vec()).await;
        assert_eq!((not_json.status, not_json.code()), (StatusCode::BAD_REQUEST, "bad_request".into()));
        assert_eq!(c.get("/api/v1/me").await.code(), "unauthenticated");

        c.sign_up("ann@example.com", "ann").await;
        // Unknown account and wrong password: the same answer.
        let mut anon = app.client();
        let unknown = anon.post("/api/v1/auth/signin", json!({"login": "nobody@example.com", "password": PASSWORD})).await;
        let wrong = anon.post("/api/v1/auth/signin", json!({"login": "ann@example.com", "password": "Wr0ng!pw"})).await;
        assert_eq!((unknown.status, &unknown.body), (wrong.status, &wrong.body), "{b:?}");
        assert_eq!(unknown.code(), "login_failed");

        let dup = anon
            .post("/api/v1/auth/signup", json!({"login": "ann@example.com", "password": PASSWORD, "full_name": "Ann Two", "handle": "ann2", "birth_date": "1990-01-01", "country": "KE"}))
            .await;
        assert_eq!((dup.status, dup.json()["fields"][0]["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("email")), "{b:?}");

        let room = c.post("/api/v1/rooms", json!({"name": "R", "seat_count": 16})).await;
        assert_eq!((room.status, room.json()["fields"][0]["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("seat_count")));
        let private = c.post("/api/v1/rooms", json!({"name": "R", "private": true})).await;
        assert_eq!(private.json()["fields"][0]["field"], "password");
        let r = c
            .post(
                "/api/v1/rooms",
                json!({"name": "Secret Den", "private": true, "password": "opensesame", "seat_count": 1, "visitors_speak": true}),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
        assert!(!r.body.contains("opensesame") && !r.body.contains("password_hash"), "the password is never returned");
        let id = r.json()["room"]["id"].as_str().unwrap().to_string();
        assert_eq!(c.post(&format!("/api/v1/rooms/{id}/actions/nonsense"), json!({})).await.status, StatusCode::NOT_FOUND);
        let seat = c.post(&format!("/api/v1/rooms/{id}/actions/lock_seat"), json!({})).await;
        assert_eq!((seat.status, seat.json()["fields"][0]["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("seat")));

        // Private room: wrong password refused with its code; right one admits.
        let mut d = app.client();
        d.sign_up("dee@example.com", "dee").await;
        let wrong = d.post(&format!("/api/v1/rooms/{id}/join"), json!({"password": "nope"})).await;
        assert_eq!((wrong.status, wrong.code()), (StatusCode::FORBIDDEN, "wrong_room_password".into()));
        let right = d.post(&format!("/api/v1/rooms/{id}/join"), json!({"password": "opensesame"})).await;
        assert_eq!(right.status, StatusCode::OK, "{}", right.body);
        // Dee takes the one seat; the owner then finds it taken.
        assert_eq!(d.post(&format!("/api/v1/rooms/{id}/actions/take_seat"), json!({"seat": 1})).await.status, StatusCode::OK);
        let taken = c.post(&format!("/api/v1/rooms/{id}/actions/take_seat"), json!({"seat": 1})).await;
        assert_eq!((taken.status, taken.code()), (StatusCode::CONFLICT, "seat_taken".into()), "{b:?}");
        let long = d.post(&format!("/api/v1/rooms/{id}/chat"), json!({"body": "x".repeat(501)})).await;
        assert_eq!((long.status, long.json()["fields"][0]["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("body")));
    }
}

#[tokio::test]
async fn sign_in_is_limited_per_account_and_blocked_accounts_hear_why() {
    for b in backends() {
        let app = TestApp::with(b, |c| {
            c.auth_per_minute = 5;
            c.trust_proxy = true;
        })
        .await;
        let mut c = app.client();
        c.ip = Some("10.0.0.1".into());
        c.sign_up("+254722000001", "limited").await;
        // Per account: from five different addresses, one account, written two ways.
        let mut statuses = vec![];
        for i in 0..5 {
            c.ip = Some(format!("10.0.1.{i}"));
            let login = if i % 2 == 0 { "+254 722 000 001" } else { "+254722000001" };
            statuses.push(c.post("/api/v1/auth/signin", json!({"login": login, "password": "Wr0ng!pw"})).await.status.as_u16());
        }
        // The sign-up counted once for this account; four wrong tries, then 429.
        assert_eq!(statuses, [401, 401, 401, 401, 429], "{b:?}");
        // Per address: five different accounts from one address.
        let mut statuses = vec![];
        c.ip = Some("10.0.2.1".into());
        for i in 0..6 {
            statuses.push(
                c.post("/api/v1/auth/signin", json!({"login": format!("p{i}@example.com"), "password": "Wr0ng!pw"})).await.status.as_u16(),
            );
        }
        assert_eq!(statuses, [401, 401, 401, 401, 401, 429], "{b:?}");

        let app = TestApp::new(b).await;
        let mut staff = app.client();
        staff.sign_up("staff@example.com", "staffer").await;
        platform_db::on_pool!(&app.db, p => { sqlx::query("UPDATE accounts SET role = 'super_admin' WHERE handle = 'staffer'").execute(p).await.unwrap(); });
        app.settled().await;
        let mut user = app.client();
        let u = user.sign_up("user@example.com", "someone").await;
        let uid = u["account"]["id"].as_str().unwrap();
        assert_eq!(
            user.post(&format!("/api/v1/admin/users/{uid}/status"), json!({"status": "banned", "reason": "x"})).await.status,
            StatusCode::FORBIDDEN
        );
        let r = staff.post(&format!("/api/v1/admin/users/{uid}/status"), json!({"status": "suspended", "reason": "spam"})).await;
        assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.body);
        // The block ends the user's credentials and sign-in says why.
        assert_eq!(user.get("/api/v1/me").await.status, StatusCode::UNAUTHORIZED, "{b:?}");
        let refused =
            app.client().post("/api/v1/auth/signin", json!({"login": "user@example.com", "password": crate::support::PASSWORD})).await;
        assert_eq!((refused.status, refused.code()), (StatusCode::FORBIDDEN, "account_blocked".into()));
        assert!(refused.json()["message"].as_str().unwrap().contains("spam"));
        let audit = staff.get("/api/v1/admin/audit").await.json();
        assert!(audit["audit"].as_array().unwrap().iter().any(|e| e["action"] == "account_suspended"), "{b:?}");
    }
}

#[tokio::test]
async fn tokens_rotate_sign_out_revokes_all_and_staff_resets_work_once() {
    for b in backends() {
        let app = TestApp::new(b).await;
        let mut c = app.client();
        let v = c.sign_up("+254733000001", "phoney").await;
        let refresh = v["tokens"]["refresh_token"].as_str().unwrap().to_string();
        let r1 = c.post("/api/v1/auth/refresh", json!({"refresh_token": refresh})).await;
        assert_eq!(r1.status, StatusCode::OK, "{}", r1.body);
        // Reusing a spent refresh token revokes the family.
        let reuse = c.post("/api/v1/auth/refresh", json!({"refresh_token": refresh})).await;
        assert_eq!((reuse.status, reuse.code()), (StatusCode::CONFLICT, "token_reused".into()), "{b:?}");
        let next = r1.json()["tokens"]["refresh_token"].as_str().unwrap().to_string();
        assert_eq!(c.post("/api/v1/auth/refresh", json!({"refresh_token": next})).await.status, StatusCode::UNAUTHORIZED);

        // Sign out everywhere: the access token stops working at once.
        let mut other = app.client();
        let mut fresh = other.post("/api/v1/auth/signin", json!({"login": "+254733000001", "password": PASSWORD})).await;
        assert_eq!(fresh.status, StatusCode::OK);
        other.bearer = fresh.json()["tokens"]["access_token"].as_str().map(str::to_string);
        assert_eq!(other.get("/api/v1/me").await.status, StatusCode::OK);
        tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
        let out = other.post("/api/v1/auth/signout", json!({})).await;
        assert_eq!(out.status, StatusCode::NO_CONTENT, "{}", out.body);
        assert_eq!(other.get("/api/v1/me").await.status, StatusCode::UNAUTHORIZED, "{b:?}");
        assert_eq!(c.get("/api/v1/me").await.status, StatusCode::UNAUTHORIZED, "{b:?}: every device of the account");
        let refresh2 = fresh.json()["tokens"]["refresh_token"].as_str().unwrap().to_string();
        assert_eq!(other.post("/api/v1/auth/refresh", json!({"refresh_token": refresh2})).await.status, StatusCode::UNAUTHORIZED);

        // A staff-issued reset token works once; answers never reveal accounts.
        let mut staff = app.client();
        staff.sign_up("boss@example.com", "boss").await;
        platform_db::on_pool!(&app.db, p => { sqlx::query("UPDATE accounts SET role = 'admin' WHERE handle = 'boss'").execute(p).await.unwrap(); });
        app.settled().await;
        let uid = v["account"]["id"].as_str().unwrap();
        let t = staff.post(&format!("/api/v1/admin/users/{uid}/reset-token"), json!({})).await;
        assert_eq!(t.status, StatusCode::CREATED, "{}", t.body);
        let token = t.json()["token"].as_str().unwrap().to_string();
        let mut anon = app.client();
        let first = anon.post("/api/v1/auth/reset/confirm", json!({"token": token, "password": "N3w!pass"})).await;
        assert_eq!(first.status, StatusCode::NO_CONTENT, "{}", first.body);
        let second = anon.post("/api/v1/auth/reset/confirm", json!({"token": token, "password": "N3w!pass2"})).await;
        assert_eq!(second.code(), "reset_token_invalid");
        assert_eq!(
            anon.post("/api/v1/auth/signin", json!({"login": "+254733000001", "password": PASSWORD})).await.status,
            StatusCode::UNAUTHORIZED
        );
        fresh = anon.post("/api/v1/auth/signin", json!({"login": "+254733000001", "password": "N3w!pass"})).await;
        assert_eq!(fresh.status, StatusCode::OK);
        let known = anon.post("/api/v1/auth/reset", json!({"login": "boss@example.com"})).await;
        let unknown = anon.post("/api/v1/auth/reset", json!({"login": "ghost@example.com"})).await;
        assert_eq!((known.status, &known.body), (unknown.status, &unknown.body), "{b:?}");
    }
}

#[tokio::test]
async fn profiles_search_follows_and_private_messages() {
    for b in backends() {
        let app = TestApp::new(b).await;
        let mut a = app.client();
        let av = a.sign_up("amy@example.com", "amy").await;
        let mut z = app.client();
        let zv = z.sign_up("zed@example.com", "zed").await;
        let zid = zv["account"]["id"].as_str().unwrap().to_string();
        let aid = av["account"]["id"].as_str().unwrap().to_string();
        let number = zv["account"]["public_number"].as_i64().unwrap();
        let found = a.get(&format!("/api/v1/users?q={number}")).await.json();
        assert_eq!(found["users"][0]["id"], zv["account"]["id"]);
        let public = a.get(&format!("/api/v1/users/{number}")).await;
        assert!(!public.body.contains("zed@example.com") && !public.body.contains("birth_date"), "others never see email or birth date");
        assert_eq!(a.post(&format!("/api/v1/users/{zid}/follow"), json!({})).await.status, StatusCode::NO_CONTENT);
        assert_eq!(z.get("/api/v1/me").await.json()["followers"], 1);
        let edit = z
            .send(
                axum::http::Method::PATCH,
                "/api/v1/me",
                Some("application/json"),
                json!({"display_name": "Zed Z", "bio": "hello"}).to_string().into_bytes(),
            )
            .await;
        assert_eq!(edit.json()["account"]["display_name"], "Zed Z");

        assert_eq!(a.post(&format!("/api/v1/messages/{zid}"), json!({"body": "hi zed"})).await.status, StatusCode::CREATED);
        let convs = z.get("/api/v1/messages").await.json();
        assert_eq!(
            (convs["conversations"][0]["unread"].as_i64(), convs["conversations"][0]["last_body"].as_str()),
            (Some(1), Some("hi zed"))
        );
        let seq = convs["conversations"][0]["last_seq"].as_i64().unwrap();
        z.post(&format!("/api/v1/messages/{aid}/read"), json!({"up_to": seq})).await;
        assert_eq!(z.get("/api/v1/messages").await.json()["conversations"][0]["unread"], 0);
        let evs = a.get("/api/v1/events?after=0").await.json();
        let kinds: Vec<&str> = evs["events"].as_array().unwrap().iter().map(|e| e["kind"].as_str().unwrap()).collect();
        assert_eq!(kinds, ["message", "read"], "{b:?}");
        assert_eq!(z.post(&format!("/api/v1/users/{aid}/block"), json!({})).await.status, StatusCode::NO_CONTENT);
        let blocked = a.post(&format!("/api/v1/messages/{zid}"), json!({"body": "?"})).await;
        assert_eq!((blocked.status, blocked.code()), (StatusCode::FORBIDDEN, "blocked".into()));
    }
}

/// Records what the voice seam is told.
#[derive(Default)]
struct Recorder(std::sync::Mutex<Vec<rooms_web::voice::VoiceChange>>);

impl rooms_web::voice::VoiceSeam for Recorder {
    fn apply(&self, change: rooms_web::voice::VoiceChange) {
        self.0.lock().unwrap().push(change);
    }
    fn available(&self) -> bool {
        true
    }
}

#[tokio::test]
async fn voice_is_told_every_committed_change_and_nothing_refused() {
    use rooms_web::voice::VoiceChange::*;
    for b in backends() {
        let rec = std::sync::Arc::new(Recorder::default());
        let app = TestApp::with_voice(b, rec.clone()).await;
        let mut owner = app.client();
        owner.sign_up("vo@example.com", "voiceowner").await;
        let room = owner.post("/api/v1/rooms", json!({"name": "Voice", "visitors_speak": true})).await.json()["room"]["id"]
            .as_str()
            .unwrap()
            .to_string();
        let mut g = app.client();
        let gid = g.sign_up("vg@example.com", "voiceguest").await["account"]["id"].as_str().unwrap().to_string();
        g.post(&format!("/api/v1/rooms/{room}/join"), json!({})).await;
        g.post(&format!("/api/v1/rooms/{room}/actions/take_seat"), json!({})).await;
        // Refused actions tell voice nothing.
        assert_eq!(g.post(&format!("/api/v1/rooms/{room}/actions/kick"), json!({"account": gid})).await.status, StatusCode::FORBIDDEN);
        owner.post(&format!("/api/v1/rooms/{room}/actions/mute"), json!({"account": gid})).await;
        owner.post(&format!("/api/v1/rooms/{room}/actions/kick"), json!({"account": gid})).await;
        owner.post(&format!("/api/v1/rooms/{room}/actions/close"), json!({})).await;
        let seen: Vec<&str> = rec
            .0
            .lock()
            .unwrap()
            .iter()
            .map(|c| match c {
                RoomOpened(_) => "opened",
                RoomClosed(_) => "closed",
                Joined { .. } => "joined",
                Left { .. } => "left",
                Seated { .. } => "seated",
                Unseated { .. } => "unseated",
                Muted { .. } => "muted",
                Unmuted { .. } => "unmuted",
                Kicked { .. } => "kicked",
            })
            .collect();
        assert_eq!(seen, ["opened", "joined", "joined", "seated", "muted", "kicked", "closed"], "{b:?}");
    }
}
