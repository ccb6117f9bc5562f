//! Chats: search, the live grid, the escalated queue, and the inspector
//! (user | chat | profile) with send-as-profile, message edits, reassign,
//! close, block and notes.

use super::kit::{self, Flash, Input, Via};
use super::nav;
use crate::auth::{ClientIp, CsrfToken, CurrentAdmin};
use crate::error::{AppError, AppResult};
use crate::templates::{AdminNav, Chrome};
use crate::AppState;
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::Utc;
use fantooo_domain::chat::{message_text, ContentType, REDACTED_TEXT};
use fantooo_domain::ids::{ChatId, MessageId, OperatorId};
use fantooo_domain::operations::OperationsConfig;
use fantooo_domain::Permission;
use fantooo_store::chat_admin::{self, AssignmentStep, ChatFilter, ChatNotes, ChatRow, Edit, InspectedMessage};
use fantooo_store::messages::{self, Body, ProfileVoice};
use fantooo_store::operations::{self, Reason};
use fantooo_store::operator_admin::{self, Performance};
use fantooo_store::profile_admin::{self, ManagedProfile};
use fantooo_store::users::{self, User};
use fantooo_store::{audit, queue, user_admin};
use serde::{Deserialize, Serialize};
use serde_json::json;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/admin/chats", get(list_page))
        .route("/api/admin/chats", get(list_api))
        .route("/admin/chats/live", get(live_page))
        .route("/api/admin/chats/live", get(live_api))
        .route("/admin/chats/{id}", get(inspect_page))
        .route("/api/admin/chats/{id}", get(inspect_api))
        .route("/admin/chats/{id}/send", post(send))
        .route("/api/admin/chats/{id}/send", post(send))
        .route("/admin/chats/{id}/messages/{message}/edit", post(edit))
        .route("/api/admin/chats/{id}/messages/{message}/edit", post(edit))
        .route("/admin/chats/{id}/messages/{message}/redact", post(redact))
        .route("/api/admin/chats/{id}/messages/{message}/redact", post(redact))
        .route("/admin/chats/{id}/reassign", post(reassign))
        .route("/api/admin/chats/{id}/reassign", post(reassign))
        .route("/admin/chats/{id}/close", post(close))
        .route("/api/admin/chats/{id}/close", post(close))
        .route("/admin/chats/{id}/block-user", post(block_user))
        .route("/api/admin/chats/{id}/block-user", post(block_user))
        .route("/admin/chats/{id}/notes", post(notes))
        .route("/api/admin/chats/{id}/notes", post(notes))
}

#[derive(Deserialize, Default, Clone)]
struct ListQuery {
    #[serde(default)]
    status: String,
    #[serde(default)]
    user: String,
    #[serde(default)]
    profile: String,
    #[serde(default)]
    operator: String,
}

async fn search(state: &AppState, me: &CurrentAdmin, q: &ListQuery) -> AppResult<(Vec<ChatRow>, Vec<ChatRow>)> {
    me.require(Permission::ManageChats)?;
    let operator: Option<OperatorId> =
        (!q.operator.is_empty()).then(|| q.operator.parse()).transpose().map_err(|_| AppError::field("operator", "Unknown operator"))?;
    let filter = ChatFilter { status: Some(q.status.clone()), user: Some(q.user.clone()), profile: Some(q.profile.clone()), operator };
    Ok((chat_admin::search(&state.db, &filter, 200).await?, chat_admin::escalated(&state.db, 100).await?))
}

#[derive(Template, WebTemplate)]
#[template(path = "admin/chats.html")]
struct ListPage {
    chrome: Chrome,
    nav: AdminNav,
    chats: Vec<ChatRow>,
    escalated: Vec<ChatRow>,
    operators: Vec<Performance>,
    q: ListQuery,
}

async fn list_page(State(state): State<AppState>, me: CurrentAdmin, csrf: CsrfToken, Query(q): Query<ListQuery>) -> AppResult<Response> {
    let (chats, escalated) = search(&state, &me, &q).await?;
    let operators = operator_admin::performance(&state.db, "name").await?;
    Ok(ListPage { chrome: me.chrome(&csrf, "/admin/chats"), nav: nav(&me), chats, escalated, operators, q }.into_response())
}

async fn list_api(State(state): State<AppState>, me: CurrentAdmin, Query(q): Query<ListQuery>) -> AppResult<Json<serde_json::Value>> {
    let (chats, escalated) = search(&state, &me, &q).await?;
    Ok(Json(json!({ "chats": chats, "escalated": escalated })))
}

/// A grid cell: how long the user has waited and what that means under
/// the idle thresholds in force.
#[derive(Debug, Clone, Serialize)]
struct LiveChat {
    #[serde(flatten)]
    chat: ChatRow,
    /// Seconds since the unanswered user message (None: answered).
    waiting_secs: Option<i64>,
    /// active, warning, idle, waiting (no operator) or escalated.
    state: &'static str,
}

fn classify(c: ChatRow, cfg: &OperationsConfig, now: chrono::DateTime<Utc>) -> LiveChat {
    let unanswered = c.last_user_message_at.filter(|u| c.last_fictional_message_at.is_none_or(|f| f < *u));
    let waiting_secs = unanswered.map(|u| (now - u.max(c.assignment_time.unwrap_or(u))).num_seconds().max(0));
    let state = if c.status == fantooo_domain::chat::ChatStatus::Escalated {
        "escalated"
    } else if c.operator_id.is_none() {
        "waiting"
    } else {
        match waiting_secs {
            Some(s) if s >= cfg.idle_reassign_secs => "idle",
            Some(s) if s >= cfg.idle_warning_secs => "warning",
            _ => "active",
        }
    };
    LiveChat { chat: c, waiting_secs, state }
}

#[derive(Serialize)]
struct Live {
    chats: Vec<LiveChat>,
    queue_length: i64,
    idle_warning_secs: i64,
    idle_reassign_secs: i64,
}

async fn live(state: &AppState, me: &CurrentAdmin) -> AppResult<Live> {
    me.require(Permission::ManageChats)?;
    let cfg = operations::config(&state.db).await?;
    let now = Utc::now();
    let chats = chat_admin::live(&state.db, 500).await?.into_iter().map(|c| classify(c, &cfg, now)).collect();
    Ok(Live {
        chats,
        queue_length: queue::len(&state.db).await?,
        idle_warning_secs: cfg.idle_warning_secs,
        idle_reassign_secs: cfg.idle_reassign_secs,
    })
}

#[derive(Template, WebTemplate)]
#[template(path = "admin/chats_live.html")]
struct LivePage {
    chrome: Chrome,
    nav: AdminNav,
    live: Live,
}

async fn live_page(State(state): State<AppState>, me: CurrentAdmin, csrf: CsrfToken) -> AppResult<Response> {
    let live = live(&state, &me).await?;
    Ok(LivePage { chrome: me.chrome(&csrf, "/admin/chats"), nav: nav(&me), live }.into_response())
}

async fn live_api(State(state): State<AppState>, me: CurrentAdmin) -> AppResult<Json<serde_json::Value>> {
    Ok(Json(serde_json::to_value(live(&state, &me).await?).map_err(|e| AppError::Internal(e.to_string()))?))
}

#[derive(Serialize)]
struct Inspection {
    chat: ChatRow,
    notes: ChatNotes,
    user: User,
    profile: ManagedProfile,
    messages: Vec<InspectedMessage>,
    edits: Vec<Edit>,
    assignments: Vec<AssignmentStep>,
}

async fn inspect(state: &AppState, me: &CurrentAdmin, id: &str) -> AppResult<Inspection> {
    me.require(Permission::ManageChats)?;
    let id: ChatId = kit::id(id)?;
    let chat = chat_admin::row(&state.db, id).await?;
    // A deleted profile's chats stay inspectable.
    let profile = profile_admin::including_deleted(&state.db, chat.profile_id).await?;
    Ok(Inspection {
        notes: chat_admin::notes(&state.db, id).await?,
        user: users::by_id(&state.db, chat.user_id).await?,
        messages: chat_admin::messages(&state.db, id, 200).await?,
        edits: chat_admin::edits(&state.db, id).await?,
        assignments: chat_admin::assignment_history(&state.db, id).await?,
        profile,
        chat,
    })
}

#[derive(Template, WebTemplate)]
#[template(path = "admin/chat_inspect.html")]
struct InspectPage {
    chrome: Chrome,
    nav: AdminNav,
    i: Inspection,
    operators: Vec<Performance>,
    flash: Flash,
}

impl InspectPage {
    fn edits_of(&self, id: &MessageId) -> Vec<&Edit> {
        self.i.edits.iter().filter(|e| e.message_id == *id).collect()
    }
}

async fn inspect_page(
    State(state): State<AppState>,
    me: CurrentAdmin,
    csrf: CsrfToken,
    Path(id): Path<String>,
    Query(flash): Query<Flash>,
) -> AppResult<Response> {
    let i = inspect(&state, &me, &id).await?;
    let operators = operator_admin::performance(&state.db, "name").await?;
    Ok(InspectPage { chrome: me.chrome(&csrf, "/admin/chats"), nav: nav(&me), i, operators, flash }.into_response())
}

async fn inspect_api(State(state): State<AppState>, me: CurrentAdmin, Path(id): Path<String>) -> AppResult<Json<serde_json::Value>> {
    Ok(Json(serde_json::to_value(inspect(&state, &me, &id).await?).map_err(|e| AppError::Internal(e.to_string()))?))
}

#[derive(Deserialize)]
struct SendForm {
    content: Option<String>,
}

async fn send(
    State(state): State<AppState>,
    via: Via,
    me: CurrentAdmin,
    ClientIp(ip): ClientIp,
    Path(id): Path<String>,
    Input(f): Input<SendForm>,
) -> AppResult<Response> {
    me.require(Permission::ManageChats)?;
    let chat: ChatId = kit::id(&id)?;
    let outcome = async {
        let content = message_text(f.content.as_deref().unwrap_or(""))?;
        let body = Body { content, content_type: ContentType::Text, media_url: None, client_id: None };
        let sent = messages::send_as_profile_from(&state.db, chat, ProfileVoice::Admin(me.admin.id), &body, Some(&ip)).await?;
        state.realtime.written();
        Ok(("Message sent".to_string(), json!({ "message": sent.message })))
    }
    .await;
    via.finish(&format!("/admin/chats/{chat}"), outcome)
}

#[derive(Deserialize)]
struct EditForm {
    content: Option<String>,
    reason: Option<String>,
}

async fn edit(
    State(state): State<AppState>,
    via: Via,
    me: CurrentAdmin,
    ClientIp(ip): ClientIp,
    Path((id, message)): Path<(String, String)>,
    Input(f): Input<EditForm>,
) -> AppResult<Response> {
    me.require(Permission::ManageChats)?;
    let chat: ChatId = kit::id(&id)?;
    let message: MessageId = kit::id(&message)?;
    let outcome = async {
        let content = message_text(f.content.as_deref().unwrap_or(""))?;
        let reason = kit::text(&f.reason)
            .filter(|r| r.chars().count() <= 500)
            .ok_or_else(|| AppError::field("reason", "Say why the message is edited"))?;
        chat_admin::edit_message(&state.db, chat, message, &content, &reason, me.admin.id, Some(&ip)).await?;
        state.realtime.written();
        Ok(("Message edited".to_string(), json!({ "message_id": message, "content": content })))
    }
    .await;
    via.finish(&format!("/admin/chats/{chat}"), outcome)
}

#[derive(Deserialize)]
struct RedactForm {
    reason: Option<String>,
}

/// Redacts a user's message for moderation (their words are never edited).
async fn redact(
    State(state): State<AppState>,
    via: Via,
    me: CurrentAdmin,
    ClientIp(ip): ClientIp,
    Path((id, message)): Path<(String, String)>,
    Input(f): Input<RedactForm>,
) -> AppResult<Response> {
    me.require(Permission::ManageChats)?;
    let chat: ChatId = kit::id(&id)?;
    let message: MessageId = kit::id(&message)?;
    let outcome = async {
        let reason = kit::text(&f.reason)
            .filter(|r| r.chars().count() <= 500)
            .ok_or_else(|| AppError::field("reason", "Say which rule the message breaks"))?;
        chat_admin::redact_message(&state.db, chat, message, &reason, me.admin.id, Some(&ip)).await?;
        state.realtime.written();
        Ok(("Message redacted".to_string(), json!({ "message_id": message, "content": REDACTED_TEXT, "moderated": true })))
    }
    .await;
    via.finish(&format!("/admin/chats/{chat}"), outcome)
}

#[derive(Deserialize)]
struct ReassignForm {
    /// Empty: back to the queue; an operator id: straight to them.
    operator_id: Option<String>,
}

async fn reassign(
    State(state): State<AppState>,
    via: Via,
    me: CurrentAdmin,
    ClientIp(ip): ClientIp,
    Path(id): Path<String>,
    Input(f): Input<ReassignForm>,
) -> AppResult<Response> {
    me.require(Permission::ManageChats)?;
    let chat: ChatId = kit::id(&id)?;
    let outcome = async {
        let target: Option<OperatorId> =
            kit::text(&f.operator_id).map(|t| t.parse()).transpose().map_err(|_| AppError::field("operator_id", "Unknown operator"))?;
        let before = chat_admin::row(&state.db, chat).await?;
        let cfg = operations::config(&state.db).await?;
        let now = Utc::now();
        if let Some(current) = before.operator_id {
            if Some(current) == target {
                return Err(AppError::Conflict("The chat is already with that operator.".into()));
            }
            operations::take_away(&state.db, chat, current, Reason::Manual, &cfg, now).await?;
        }
        let assigned = match target {
            Some(op) => {
                if !queue::assign(&state.db, chat, op, now).await? {
                    state.realtime.written();
                    return Err(AppError::Conflict(
                        "That operator cannot take the chat now (offline, suspended or full); it waits in the queue.".into(),
                    ));
                }
                true
            }
            None => false,
        };
        state.realtime.written();
        state.assigner.poke();
        audit::admin_action(
            &state.db,
            Some(me.admin.id),
            "chat_reassigned",
            Some(("chat", chat.to_string())),
            Some(json!({ "operator_id": before.operator_id })),
            Some(json!({ "operator_id": target, "assigned": assigned })),
            Some(&ip),
        )
        .await?;
        Ok((
            if assigned { "Chat reassigned".to_string() } else { "Chat returned to the queue".to_string() },
            json!({ "operator_id": target, "assigned": assigned }),
        ))
    }
    .await;
    via.finish(&format!("/admin/chats/{chat}"), outcome)
}

async fn close(
    State(state): State<AppState>,
    via: Via,
    me: CurrentAdmin,
    ClientIp(ip): ClientIp,
    Path(id): Path<String>,
) -> AppResult<Response> {
    me.require(Permission::ManageChats)?;
    let chat: ChatId = kit::id(&id)?;
    let outcome = async {
        let before = chat_admin::row(&state.db, chat).await?;
        if !operations::close(&state.db, chat, "admin_closed", None, Utc::now()).await? {
            return Err(AppError::Conflict("This chat is already closed.".into()));
        }
        state.realtime.written();
        audit::admin_action(
            &state.db,
            Some(me.admin.id),
            "chat_closed",
            Some(("chat", chat.to_string())),
            Some(json!({ "status": before.status })),
            Some(json!({ "status": "closed" })),
            Some(&ip),
        )
        .await?;
        Ok(("Chat closed".to_string(), json!({ "status": "closed" })))
    }
    .await;
    via.finish(&format!("/admin/chats/{chat}"), outcome)
}

#[derive(Deserialize)]
struct BlockForm {
    reason: Option<String>,
}

async fn block_user(
    State(state): State<AppState>,
    via: Via,
    me: CurrentAdmin,
    ClientIp(ip): ClientIp,
    Path(id): Path<String>,
    Input(f): Input<BlockForm>,
) -> AppResult<Response> {
    me.require(Permission::ManageChats)?;
    me.require(Permission::ManageUsers)?;
    let chat: ChatId = kit::id(&id)?;
    let outcome = async {
        let reason = kit::text(&f.reason).ok_or_else(|| AppError::field("reason", "Give a reason for blocking"))?;
        let row = chat_admin::row(&state.db, chat).await?;
        user_admin::ban(&state.db, row.user_id, &reason, None, me.admin.id).await?;
        operations::close(&state.db, chat, "user_blocked", None, Utc::now()).await?;
        state.realtime.written();
        audit::admin_action(
            &state.db,
            Some(me.admin.id),
            "user_banned",
            Some(("user", row.user_id.to_string())),
            Some(json!({ "is_banned": false })),
            Some(json!({ "is_banned": true, "reason": reason, "chat_id": chat })),
            Some(&ip),
        )
        .await?;
        Ok(("User blocked and chat closed".to_string(), json!({ "user_id": row.user_id, "is_banned": true })))
    }
    .await;
    via.finish(&format!("/admin/chats/{chat}"), outcome)
}

#[derive(Deserialize)]
struct NotesForm {
    admin_notes: Option<String>,
}

async fn notes(
    State(state): State<AppState>,
    via: Via,
    me: CurrentAdmin,
    ClientIp(ip): ClientIp,
    Path(id): Path<String>,
    Input(f): Input<NotesForm>,
) -> AppResult<Response> {
    me.require(Permission::ManageChats)?;
    let chat: ChatId = kit::id(&id)?;
    let outcome = async {
        let text = kit::text(&f.admin_notes);
        if text.as_deref().is_some_and(|t| t.chars().count() > 5000) {
            return Err(AppError::field("admin_notes", "At most 5,000 characters"));
        }
        let before = chat_admin::notes(&state.db, chat).await?;
        chat_admin::set_admin_notes(&state.db, chat, text.as_deref()).await?;
        audit::admin_action(
            &state.db,
            Some(me.admin.id),
            "chat_notes_updated",
            Some(("chat", chat.to_string())),
            Some(json!({ "admin_notes": before.admin_notes })),
            Some(json!({ "admin_notes": text })),
            Some(&ip),
        )
        .await?;
        Ok(("Notes saved".to_string(), json!({ "admin_notes": text })))
    }
    .await;
    via.finish(&format!("/admin/chats/{chat}"), outcome)
}
