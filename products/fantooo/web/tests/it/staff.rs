//! The staff's experience, on both stores: corrections (a profile's words
//! edited, a user's only redacted and the user told), the console's reply
//! clock, real waits and user panel, and the back office's sidebar,
//! analytics, activity, job results, pricing multipliers, thumbnails and
//! one response-time figure per operator.

use crate::backoffice::admin_json;
use crate::chat::{assign_to, grant, make_profile, say, user_with_chat};
use crate::support::*;
use axum::http::{Method, StatusCode};
use chrono::{DateTime, Duration, Utc};
use fantooo_domain::chat::REDACTED_TEXT;
use fantooo_domain::ids::{OperatorId, UserId};
use fantooo_domain::AdminRole;
use fantooo_store::{on_pool, Db};
use serde_json::{json, Value};

async fn operator_id(db: &Db, email: &str) -> OperatorId {
    fantooo_store::operators::list(db).await.unwrap().into_iter().find(|o| o.email == email).unwrap().id
}

fn messages_of(v: &Value) -> Vec<Value> {
    v["messages"].as_array().unwrap().clone()
}

async fn purchase(db: &Db, user: UserId, kes_cents: i64, credits: i64, at: DateTime<Utc>) {
    let sql = "INSERT INTO transactions (id, real_user_id, type, amount_cents, credits_amount, provider_reference, status, created_at)
               VALUES ($1, $2, 'purchase', $3, $4, $5, 'success', $6)";
    let (id, reference) = (fantooo_domain::ids::TransactionId::new(), format!("ref-{}", uuid::Uuid::new_v4()));
    on_pool!(db, p => {
        sqlx::query(sql).bind(id).bind(user).bind(kes_cents).bind(credits).bind(reference).bind(at).execute(p).await.unwrap();
        sqlx::query("UPDATE real_users SET total_spent_cents = total_spent_cents + $2 WHERE id = $1").bind(user).bind(kes_cents).execute(p).await.unwrap();
    });
}

#[tokio::test]
async fn profile_words_are_edited_user_words_only_redacted_and_the_user_is_told() {
    for b in backends() {
        let app = TestApp::new(b).await;
        let (mut user, _, chat) = user_with_chat(&app, "outspoken").await;
        let said = say(&mut user, chat, "call me on 0712 345 678, idiot").await.json();
        let user_msg = said["message"]["id"].as_str().unwrap().to_string();
        let mut admin = admin_client(&app, "mod@fantooo.com", AdminRole::SuperAdmin).await;

        // Send as profile: written and audited in the same transaction.
        let r = admin_json(&mut admin, Method::POST, &format!("/api/admin/chats/{chat}/send"), json!({ "content": "Hi thre!" })).await;
        assert_eq!(r.status, StatusCode::OK, "{b:?}: {}", r.body);
        let profile_msg = r.json()["message"]["id"].as_str().unwrap().to_string();
        let audit = fantooo_store::audit::recent_admin_actions(&app.db, 20).await.unwrap();
        let sent =
            audit.iter().find(|a| a.action == "message_sent_as_profile").unwrap_or_else(|| panic!("{b:?}: send-as-profile not audited"));
        assert_eq!(sent.entity_id.as_deref(), Some(profile_msg.as_str()));
        assert_eq!(sent.after_value.as_ref().unwrap().0["content"], "Hi thre!");
        assert!(sent.admin_name.is_some(), "{b:?}: the admin is named");
        assert!(sent.ip.is_some(), "{b:?}: the admin's address is kept");

        // The same from the chat page's own send (the chat API as an admin).
        let r = admin_json(&mut admin, Method::POST, &format!("/api/chats/{chat}/messages"), json!({ "content": "Still there?" })).await;
        assert_eq!(r.status, StatusCode::CREATED, "{b:?}: {}", r.body);
        let from_page = r.json()["message"]["id"].as_str().unwrap().to_string();
        let audit = fantooo_store::audit::recent_admin_actions(&app.db, 20).await.unwrap();
        let row = audit.iter().find(|a| a.entity_id.as_deref() == Some(from_page.as_str())).expect("the chat page's send is audited");
        assert_eq!((row.action.as_str(), row.ip.is_some()), ("message_sent_as_profile", true), "{b:?}");

        // A user's words cannot be edited, a profile's cannot be redacted.
        let edit = |m: &str| format!("/api/admin/chats/{chat}/messages/{m}/edit");
        let redact = |m: &str| format!("/api/admin/chats/{chat}/messages/{m}/redact");
        let r = admin_json(&mut admin, Method::POST, &edit(&user_msg), json!({ "content": "call me", "reason": "tone" })).await;
        assert_eq!(r.status, StatusCode::CONFLICT, "{b:?}: {}", r.body);
        assert!(r.body.contains("cannot be edited"), "{b:?}: {}", r.body);
        let r = admin_json(&mut admin, Method::POST, &redact(&profile_msg), json!({ "reason": "typo" })).await;
        assert_eq!(r.status, StatusCode::CONFLICT, "{b:?}: {}", r.body);
        let r = admin_json(&mut admin, Method::POST, &redact(&user_msg), json!({ "reason": "" })).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{b:?}: a reason is required: {}", r.body);
        assert!(r.body.contains("reason"), "{b:?}: {}", r.body);

        // The profile's typo is edited; the user's insult is redacted.
        let r = admin_json(&mut admin, Method::POST, &edit(&profile_msg), json!({ "content": "Hi there!", "reason": "spelling" })).await;
        assert_eq!(r.status, StatusCode::OK, "{b:?}: {}", r.body);
        let r = admin_json(&mut admin, Method::POST, &redact(&user_msg), json!({ "reason": "contact details and insults" })).await;
        assert_eq!(r.status, StatusCode::OK, "{b:?}: {}", r.body);
        let r = admin_json(&mut admin, Method::POST, &redact(&user_msg), json!({ "reason": "again" })).await;
        assert_eq!(r.status, StatusCode::CONFLICT, "{b:?}: redacted once: {}", r.body);

        // The user sees the marker and that a moderator changed it; the
        // profile's edit shows no sign.
        let hist = messages_of(&user.api_get(&format!("/api/chats/{chat}/messages")).await.json());
        let mine = hist.iter().find(|m| m["id"] == user_msg).unwrap();
        assert_eq!(mine["content"], REDACTED_TEXT, "{b:?}");
        assert_eq!(mine["moderated"], true, "{b:?}");
        let theirs = hist.iter().find(|m| m["id"] == profile_msg).unwrap();
        assert_eq!((theirs["content"].as_str(), theirs["moderated"].as_bool()), (Some("Hi there!"), Some(false)), "{b:?}");
        assert!(!serde_json::to_string(&hist).unwrap().contains("0712"), "{b:?}: the user's original is not served back");

        // Admins keep the original in the history (policy: the audit trail
        // stays until the account's GDPR deletion anonymises it).
        let i = admin.api_get(&format!("/api/admin/chats/{chat}")).await.json();
        let edits = i["edits"].as_array().unwrap();
        assert!(edits.iter().any(|e| e["message_id"] == user_msg && e["original_content"].as_str().unwrap().contains("0712")), "{b:?}");
        let inspected = i["messages"].as_array().unwrap().iter().find(|m| m["id"] == user_msg).unwrap().clone();
        assert_eq!(inspected["moderated"], true, "{b:?}");
        let page = admin.get(&format!("/admin/chats/{chat}")).await.body;
        assert!(page.contains("data-moderated"), "{b:?}: the inspector marks the redaction");
        assert!(page.contains(&format!("/messages/{profile_msg}/edit")) && !page.contains(&format!("/messages/{user_msg}/edit")), "{b:?}");
        let audit = fantooo_store::audit::recent_admin_actions(&app.db, 20).await.unwrap();
        assert!(audit.iter().any(|a| a.action == "message_redacted" && a.entity_id.as_deref() == Some(user_msg.as_str())), "{b:?}");

        // The user's chat page says so after a reload too.
        let mut web = app.client();
        web.post_form("/login", &[("login", "outspoken"), ("password", PASSWORD)]).await;
        let page = web.get(&format!("/chat/{chat}")).await;
        assert_eq!(page.status, StatusCode::OK, "{b:?}");
        assert!(page.body.contains("Changed by a moderator") && page.body.contains(REDACTED_TEXT), "{b:?}");
        assert_eq!(page.body.matches("data-moderated").count(), 1, "{b:?}: only the redacted message is marked");
    }
}

#[tokio::test]
async fn the_console_shows_the_reply_clock_the_real_wait_and_who_the_user_is() {
    for b in backends() {
        let app = TestApp::new(b).await;
        let (mut user, uid, chat) = user_with_chat(&app, "waiter").await;
        grant(&app.db, uid, 40).await;
        purchase(&app.db, uid, 40_000, 50, Utc::now()).await;
        // Another chat of the same user, with another profile.
        let other = make_profile(&app.db, "Wanjiru", false).await;
        let r = user.json(Method::POST, "/api/chats", json!({ "profile_id": other.to_string() })).await;
        assert_eq!(r.status, StatusCode::CREATED);
        say(&mut user, chat, "first").await;
        say(&mut user, chat, "second").await;
        let mut op = operator_client(&app, "clock@fantooo.com").await;
        let op_id = operator_id(&app.db, "clock@fantooo.com").await;
        assert!(assign_to(&app.db, chat, op_id).await);
        // The user wrote 4 minutes ago; the chat came to this operator 2:40 ago.
        let now = Utc::now();
        let (wrote, assigned) = (now - Duration::seconds(240), now - Duration::seconds(160));
        on_pool!(&app.db, p => {
            sqlx::query("UPDATE messages SET created_at = $2 WHERE chat_id = $1").bind(chat).bind(wrote).execute(p).await.unwrap();
            sqlx::query("UPDATE chats SET last_user_message_at = $2, assignment_time = $3 WHERE id = $1").bind(chat).bind(wrote).bind(assigned).execute(p).await.unwrap();
        });
        let page = op.get(&format!("/operator/chat/{chat}")).await;
        assert_eq!(page.status, StatusCode::OK, "{b:?}: {}", page.body);
        let body = &page.body;
        // The clock runs from the assignment (the idle check's rule): 2:40, a warning.
        let waiting: i64 = body
            .split("id=\"reply-clock\"")
            .nth(1)
            .unwrap()
            .split("data-waiting=\"")
            .nth(1)
            .unwrap()
            .split('"')
            .next()
            .unwrap()
            .parse()
            .unwrap();
        assert!((160..170).contains(&waiting), "{b:?}: reply clock {waiting}");
        assert!(body.contains("data-clock=\"warning\""), "{b:?}");
        assert!(body.contains("Warning at 2:30") && body.contains("reassigned at 3:00"), "{b:?}");
        // The user's real wait: since their oldest unanswered message, 4:00.
        let user_waiting: i64 = body.split("data-user-waiting=\"").nth(1).unwrap().split('"').next().unwrap().parse().unwrap();
        assert!((240..250).contains(&user_waiting), "{b:?}: real wait {user_waiting}");
        // Who the user is: tier, spend, other chats.
        assert!(body.contains("data-tier>free") || body.contains("data-tier>bronze"), "{b:?}: tier shown");
        assert!(body.contains("KES 400.00 in 1 purchase"), "{b:?}: spend shown");
        let others = body.split("data-other-chats").nth(1).unwrap();
        assert!(others.contains("Wanjiru"), "{b:?}: other chats listed");

        // The waiting room's list and the API say the same.
        let q = op.api_get("/api/operator/queue").await.json();
        let held = q["chats"].as_array().unwrap().iter().find(|c| c["chat_id"] == chat.to_string()).unwrap().clone();
        assert_eq!(held["state"], "warning", "{b:?}");
        assert_eq!(held["clock"], "warning", "{b:?}");
        assert!(held["user_waiting_secs"].as_i64().unwrap() >= 240, "{b:?}");
        let room = op.get("/operator/waiting").await.body;
        assert!(room.contains("reply clock 2:4") && room.contains("/ 3:00"), "{b:?}: {room}");

        // The queue shows the real wait too: a chat that came back to the
        // queue a moment ago after its user waited 5 minutes.
        let (mut q_user, _, queued) = user_with_chat(&app, "requeued").await;
        say(&mut q_user, queued, "hello?").await;
        let five = Utc::now() - Duration::seconds(300);
        on_pool!(&app.db, p => {
            sqlx::query("UPDATE messages SET created_at = $2 WHERE chat_id = $1").bind(queued).bind(five).execute(p).await.unwrap();
            sqlx::query("UPDATE chats SET last_user_message_at = $2 WHERE id = $1").bind(queued).bind(five).execute(p).await.unwrap();
        });
        let q = op.api_get("/api/operator/queue").await.json();
        let row = q["queue"].as_array().unwrap().iter().find(|c| c["chat_id"] == queued.to_string()).unwrap().clone();
        assert!(row["waiting_secs"].as_i64().unwrap() >= 300, "{b:?}: {row}");
        assert!(row["in_queue_secs"].as_i64().unwrap() < 60, "{b:?}: {row}");
    }
}

/// The inspector shows how fast the profile answers in this chat: the
/// last reply's wait and the running figure, where each reply moves it a
/// quarter of the way to its own wait.
#[tokio::test]
async fn the_inspector_shows_the_chats_reply_times() {
    for b in backends() {
        let app = TestApp::new(b).await;
        let mut op = operator_client(&app, "timed@fantooo.com").await;
        let op_id = operator_id(&app.db, "timed@fantooo.com").await;
        let (mut user, _, chat) = user_with_chat(&app, "waiter").await;
        assert!(assign_to(&app.db, chat, op_id).await);
        let mut admin = admin_client(&app, "times@fantooo.com", AdminRole::SuperAdmin).await;
        let before = admin.api_get(&format!("/api/admin/chats/{chat}")).await.json();
        assert_eq!(
            (before["notes"]["last_response_ms"].clone(), before["notes"]["average_response_ms"].clone()),
            (Value::Null, Value::Null),
            "{b:?}"
        );
        let mut seen = Vec::new();
        for waited in [4_i64, 8] {
            say(&mut user, chat, "still there?").await;
            let asked = Utc::now() - Duration::seconds(waited);
            on_pool!(&app.db, p => {
                // The user asked `waited` seconds ago, after the profile's
                // last word (the reply before, if any).
                sqlx::query(
                    "UPDATE chats SET last_user_message_at = $2,
                            last_fictional_message_at = CASE WHEN last_fictional_message_at IS NULL THEN NULL ELSE $3 END WHERE id = $1",
                )
                .bind(chat)
                .bind(asked)
                .bind(asked - Duration::seconds(1))
                .execute(p)
                .await
                .unwrap();
            });
            let r = admin_json(&mut op, Method::POST, &format!("/api/chats/{chat}/messages"), json!({ "content": "here!" })).await;
            assert_eq!(r.status, StatusCode::CREATED, "{b:?}: {}", r.body);
            let i = admin.api_get(&format!("/api/admin/chats/{chat}")).await.json();
            seen.push((i["notes"]["last_response_ms"].as_i64().unwrap(), i["notes"]["average_response_ms"].as_i64().unwrap()));
        }
        // The waits are the backdated seconds plus the test's own few
        // milliseconds; the second reply moves the figure a quarter of the
        // way from 4 s to 8 s.
        let near = |ms: i64, want: i64| (want..want + 2_000).contains(&ms);
        assert!(near(seen[0].0, 4_000) && seen[0].1 == seen[0].0, "{b:?}: {seen:?}");
        assert!(near(seen[1].0, 8_000) && seen[1].1 == (seen[0].1 * 3 + seen[1].0) / 4, "{b:?}: {seen:?}");
        let page = admin.get(&format!("/admin/chats/{chat}")).await.body;
        let line = page.lines().find(|l| l.contains("data-reply-times")).expect("the inspector shows reply times");
        let text = |ms: i64| fantooo_domain::operations::response_time_text(Some(ms));
        assert!(line.contains(&text(seen[1].1)) && line.contains(&text(seen[1].0)), "{b:?}: {line}");
    }
}

#[tokio::test]
async fn one_response_time_figure_for_an_operator_everywhere() {
    for b in backends() {
        let app = TestApp::new(b).await;
        let mut op = operator_client(&app, "fast@fantooo.com").await;
        let op_id = operator_id(&app.db, "fast@fantooo.com").await;
        for (name, ms) in [("first", 3_000_i64), ("second", 6_000)] {
            let (mut user, _, chat) = user_with_chat(&app, name).await;
            say(&mut user, chat, "hi").await;
            assert!(assign_to(&app.db, chat, op_id).await);
            let r = admin_json(&mut op, Method::POST, &format!("/api/chats/{chat}/messages"), json!({ "content": "hello!" })).await;
            assert_eq!(r.status, StatusCode::CREATED, "{b:?}: {}", r.body);
            let id = r.json()["message"]["id"].as_str().unwrap().to_string();
            exec(&app.db, &format!("UPDATE messages SET response_ms = {ms} WHERE id = '{id}'")).await;
        }
        let mut admin = admin_client(&app, "ranks@fantooo.com", AdminRole::SuperAdmin).await;
        let list = admin.api_get("/api/admin/operators/performance").await.json();
        let listed =
            list["operators"].as_array().unwrap().iter().find(|o| o["id"] == op_id.to_string()).unwrap()["average_response_ms"].clone();
        let detail = admin.api_get(&format!("/api/admin/operators/{op_id}")).await.json();
        let own = op.api_get("/api/operator/stats").await.json();
        let ranking = admin.api_get("/api/admin/stats").await.json();
        let ranked = ranking["operators"].as_array().unwrap().iter().find(|o| o["operator_id"] == op_id.to_string()).unwrap()
            ["average_response_ms"]
            .clone();
        let figures = [
            listed,
            detail["operator"]["average_response_ms"].clone(),
            detail["last_30_days"]["average_response_ms"].clone(),
            own["period"]["average_response_ms"].clone(),
            ranked,
        ];
        for f in &figures {
            assert_eq!(f, &json!(4_500), "{b:?}: {figures:?}");
        }
        // And the pages word it the same way.
        for page in [
            admin.get("/admin/operators").await.body,
            admin.get(&format!("/admin/operators/{op_id}")).await.body,
            admin.get("/admin/stats").await.body,
            op.get("/operator/stats").await.body,
        ] {
            let shown: Vec<&str> = page.split("data-response-time>").skip(1).map(|s| s.split('<').next().unwrap()).collect();
            assert!(!shown.is_empty() && shown.iter().all(|s| *s == "5 s"), "{b:?}: {shown:?}");
        }
    }
}

#[tokio::test]
async fn analytics_are_current_when_opened_and_the_dashboard_shows_users_activity() {
    for b in backends() {
        let app = TestApp::new(b).await;
        let mut admin = admin_client(&app, "numbers@fantooo.com", AdminRole::SuperAdmin).await;
        // Before the data exists, the page is opened once (and aggregates).
        let before = admin.api_get("/api/admin/stats").await.json();
        assert_eq!(before["summary"]["new_users"], 0, "{b:?}");
        let (_, uid, _) = user_with_chat(&app, "newcomer").await;
        purchase(&app.db, uid, 12_345, 20, Utc::now()).await;
        // Opened again later (nobody pressed Refresh; the job has not run).
        exec(&app.db, "UPDATE daily_stats SET refreshed_at = '2000-01-01T00:00:00Z'").await;
        let after = admin.api_get("/api/admin/stats").await.json();
        assert_eq!(after["summary"]["new_users"], 1, "{b:?}: {}", after["summary"]);
        assert_eq!(after["summary"]["revenue_cents"], 12_345, "{b:?}");

        let dash = admin.api_get("/api/admin/dashboard").await.json();
        let kinds: Vec<&str> = dash["activity"].as_array().unwrap().iter().map(|a| a["kind"].as_str().unwrap()).collect();
        assert!(kinds.contains(&"signup") && kinds.contains(&"purchase"), "{b:?}: {kinds:?}");
        let page = admin.get("/admin").await.body;
        assert!(page.contains("@newcomer") && page.contains("signed up"), "{b:?}");
        assert!(page.contains("bought 20 credits for KES 123.45"), "{b:?}");

        // Job results read as words.
        let t = Utc::now();
        platform_jobs::runs::record(&app.db, "assign", "node-a", t, t, &json!({ "assigned": 3 }), None).await.unwrap();
        let page = admin.get("/admin").await.body;
        assert!(page.contains("<span data-job-result>3 assigned</span>"), "{b:?}");
        assert!(!page.contains("{&quot;assigned&quot;") && !page.contains("{\"assigned\""), "{b:?}: no raw JSON");
    }
}

#[tokio::test]
async fn sidebar_pricing_multipliers_and_profile_thumbnails() {
    for b in backends() {
        let app = TestApp::new(b).await;
        make_profile(&app.db, "Thumbnail", false).await;
        let mut admin = admin_client(&app, "pages@fantooo.com", AdminRole::SuperAdmin).await;
        for (page, label) in
            [("/admin", "Dashboard"), ("/admin/users", "Users"), ("/admin/chats/live", "Chats"), ("/admin/settings", "Settings")]
        {
            let body = admin.get(page).await.body;
            let sidebar = body.split("aria-label=\"Back office\"").nth(1).unwrap().split("</aside>").next().unwrap();
            let current: Vec<&str> = sidebar.split("aria-current=\"page\">").skip(1).map(|s| s.split('<').next().unwrap()).collect();
            assert_eq!(current, [label], "{b:?}: {page}");
        }

        let body = admin.get("/admin/settings").await.body;
        assert!(body.contains("name=\"featured_percent\"") && body.contains("data-multiplier=\"featured\">×1.5<"), "{b:?}");
        assert!(body.contains("data-multiplier=\"peak\">×1.2<") && body.contains("data-multiplier=\"off_peak\">×0.8<"), "{b:?}");
        assert!(body.contains("data-tier=\"platinum\">×0.8<") && body.contains("data-tier=\"bronze\">×0.95<"), "{b:?}");
        let r = admin.post_form("/admin/settings", &[("peak_percent", "130"), ("featured_percent", "90")]).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{b:?}: a featured price below the base is refused");
        assert!(r.body.contains("from 100 to 500"), "{b:?}: the field's rule is named");
        assert!(admin.get("/admin/settings").await.body.contains("data-multiplier=\"peak\">×1.2<"), "{b:?}: nothing half-saved");
        let r = admin.post_form("/admin/settings", &[("peak_percent", "130")]).await;
        assert!(r.location().contains("notice="), "{b:?}: {}", r.location());
        assert!(admin.get("/admin/settings").await.body.contains("data-multiplier=\"peak\">×1.3<"), "{b:?}");

        let body = admin.get("/admin/profiles").await.body;
        assert!(body.contains("<img class=\"thumb\" src=\"/media/generated/portrait-a.svg\""), "{b:?}");
    }
}
