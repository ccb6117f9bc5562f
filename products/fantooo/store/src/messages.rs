//! Messages and the send path. A user's message is priced, charged and
//! written in one transaction with its ledger entry and the chat counters,
//! so a message exists if and only if it was paid for.

use crate::{emit_event, ledger_charge, on_pool, Backend, BeginWrite, Db, StoreError, StoreResult};
use chrono::{DateTime, Utc};
use fantooo_domain::chat::{ChatStatus, ContentType, MessageStatus, Side};
use fantooo_domain::ids::{AdminId, ChatId, MessageId, OperatorId, ProfileId, UserId};
use fantooo_domain::ledger::LedgerReason;
use fantooo_domain::pricing::{message_price, Price, PriceInput, PricingConfig};
use fantooo_domain::{Credits, UserTier};
use serde::Serialize;

/// A message as its chat's participants see it. Who voiced a profile
/// message is deliberately not part of it.
#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
pub struct Message {
    pub seq: i64,
    pub id: MessageId,
    pub chat_id: ChatId,
    pub sender_type: Side,
    pub content: String,
    pub content_type: ContentType,
    pub media_url: Option<String>,
    pub is_free_message: bool,
    pub credits_charged: Credits,
    pub client_id: Option<String>,
    pub status: MessageStatus,
    pub delivered_at: Option<DateTime<Utc>>,
    pub read_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    /// A moderator redacted this message (a user's own words); its user is
    /// told. Edits of profile messages never show.
    pub moderated: bool,
}

pub(crate) const MESSAGE_COLUMNS: &str =
    "seq, id, chat_id, sender_type, content, content_type, media_url, is_free_message, credits_charged,
                               client_id, status, delivered_at, read_at, created_at, moderated";

/// What a message carries.
#[derive(Debug, Clone)]
pub struct Body {
    pub content: String,
    pub content_type: ContentType,
    pub media_url: Option<String>,
    /// The sender's own id for this message, so a retry is recognised.
    pub client_id: Option<String>,
}

/// The result of a send.
#[derive(Debug, Clone)]
pub struct Sent {
    pub message: Message,
    pub price: Price,
    /// The sender's balance afterwards (users only).
    pub balance: Option<Credits>,
    /// True when the client id had been used: nothing new was written.
    pub duplicate: bool,
    /// True when this message put the chat in the waiting queue.
    pub queued: bool,
    /// What the sender's next message in this chat will cost (users only),
    /// priced from the state this send saw, so no second read is needed.
    pub next_price: Option<Price>,
    /// A user's send into a chat with no operator on it: the chat's
    /// profile, which the answer names as the one the user waits for, and
    /// whether an operator is free (both read by the send's own statements,
    /// so the handler reads nothing more for its waiting notice). `None`
    /// for profile messages and for chats with an operator.
    pub waiting_on: Option<Waiting>,
}

/// Whom a user's message waits for, when no operator holds its chat.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Waiting {
    pub profile: ProfileId,
    pub profile_name: String,
    /// Some operator could take a chat now (online, not full).
    pub operators_available: bool,
}

/// The send statements' column that says whether some operator could take
/// a chat now (as [`crate::operators::available_count`] counts them); an
/// uncorrelated subquery, so each statement evaluates it once.
pub(crate) const OPERATORS_AVAILABLE: &str =
    "EXISTS (SELECT 1 FROM operators o WHERE o.is_active AND o.is_available AND NOT o.is_suspended AND o.deleted_at IS NULL
             AND o.current_chat_count < o.max_concurrent_chats) AS operators_available";

/// The chat state the price depends on, read under the send lock.
#[derive(sqlx::FromRow)]
pub(crate) struct ChatForSend {
    pub(crate) fictional_user_id: ProfileId,
    pub(crate) status: ChatStatus,
    pub(crate) assigned_operator_id: Option<OperatorId>,
    pub(crate) free_messages_used: i64,
    pub(crate) paid_messages_count: i64,
    pub(crate) is_featured: bool,
    pub(crate) featured_until: Option<DateTime<Utc>>,
    pub(crate) profile_listed: bool,
    /// The user blocked this profile: the chat stays closed.
    pub(crate) blocked: bool,
    pub(crate) profile_name: String,
    pub(crate) operators_available: bool,
}

impl ChatForSend {
    /// The profile the user waits for, when no operator is on the chat.
    pub(crate) fn waiting_on(&self) -> Option<Waiting> {
        self.assigned_operator_id.is_none().then(|| Waiting {
            profile: self.fictional_user_id,
            profile_name: self.profile_name.clone(),
            operators_available: self.operators_available,
        })
    }
}

#[derive(sqlx::FromRow)]
struct UserForSend {
    credits: i64,
    total_messages_sent: i64,
    user_tier: UserTier,
    lifetime_credits_spent: i64,
    is_banned: bool,
    banned_until: Option<DateTime<Utc>>,
    /// The pricing setting's `updated_at` (none: the defaults are in force).
    pricing_version: Option<DateTime<Utc>>,
}

/// How often a send moves the sender's `last_active_at` at most: the
/// column is indexed, so moving it makes the row update a non-HOT one that
/// touches every index of `real_users`. The "online" dot allows 45 s.
pub(crate) const ACTIVE_GRANULARITY: chrono::Duration = chrono::Duration::seconds(10);

/// The price of the next message in a chat, for display before sending.
pub async fn quote(db: &Db, chat: ChatId, user: UserId, cfg: &PricingConfig, at: DateTime<Utc>) -> StoreResult<Price> {
    let sql = "SELECT c.free_messages_used, c.paid_messages_count, f.is_featured, f.featured_until, u.total_messages_sent, u.user_tier
               FROM chats c JOIN fictional_users f ON f.id = c.fictional_user_id JOIN real_users u ON u.id = c.real_user_id
               WHERE c.id = $1 AND c.real_user_id = $2";
    let row: (i64, i64, bool, Option<DateTime<Utc>>, i64, UserTier) =
        on_pool!(db, p => sqlx::query_as(sql).bind(chat).bind(user).fetch_one(p).await?);
    let (free, paid, featured, until, sent, tier) = row;
    Ok(message_price(
        cfg,
        &PriceInput {
            chat_user_messages_before: free + paid,
            user_messages_before: sent,
            profile_featured: featured_now(featured, until, at),
            tier,
            at,
        },
    ))
}

pub(crate) fn featured_now(flag: bool, until: Option<DateTime<Utc>>, at: DateTime<Utc>) -> bool {
    flag && until.is_none_or(|u| u > at)
}

/// Sends a user's message: prices it, debits the balance through the ledger
/// and writes the message and counters, all or nothing. With too few
/// credits it fails with `InsufficientCredits` and writes nothing.
/// The price settings come from `pricing`, this node's copy, checked
/// against the version the first statement reads (see [`crate::settings::Cached`]).
pub async fn send_as_user(
    db: &Db,
    chat: ChatId,
    user: UserId,
    body: &Body,
    pricing: &crate::settings::Cached<PricingConfig>,
) -> StoreResult<Sent> {
    let now = Utc::now();
    let id = MessageId::new();
    on_pool!(db, p => {
        let mut tx = p.begin_write().await?;
        // Lock order is always user row, then chat row. The user row lock
        // serialises all of one user's sends, which is what makes the
        // balance check, the loyalty count and the client-id check exact.
        let sql = format!(
            "UPDATE real_users SET total_messages_sent = total_messages_sent + 1,
                    last_active_at = CASE WHEN last_active_at IS NULL OR last_active_at < $3 THEN $2 ELSE last_active_at END
             WHERE id = $1 AND is_active
             RETURNING credits, total_messages_sent - 1 AS total_messages_sent, user_tier, lifetime_credits_spent, is_banned, banned_until,
                       {} AS pricing_version", crate::settings::VERSION_OF_PRICING);
        let u: Option<UserForSend> = sqlx::query_as(&sql).bind(user).bind(now).bind(now - ACTIVE_GRANULARITY).fetch_optional(&mut *tx).await?;
        let u = u.filter(|u| !fantooo_domain::account::ban_in_force(u.is_banned, u.banned_until, now)).ok_or(StoreError::NotFound)?;
        let cfg = match pricing.at(u.pricing_version) {
            Some(cfg) => cfg,
            None => {
                let row: Option<(sqlx::types::Json<serde_json::Value>, DateTime<Utc>)> =
                    sqlx::query_as("SELECT value, updated_at FROM app_settings WHERE key = $1").bind(pricing.key()).fetch_optional(&mut *tx).await?;
                let version = row.as_ref().map(|r| r.1);
                pricing.keep(version, pricing.parse(row.map(|r| r.0))?)
            }
        };
        let cfg: &PricingConfig = &cfg;
        // The chat row is locked (by updating it) before anything is read
        // from it, so an assignment cannot slip between reading "unassigned"
        // and queueing the chat.
        let sql = format!(
            "UPDATE chats SET updated_at = $3 WHERE id = $1 AND real_user_id = $2
             RETURNING fictional_user_id, status, assigned_operator_id, free_messages_used, paid_messages_count,
                       (SELECT f.is_featured FROM fictional_users f WHERE f.id = chats.fictional_user_id) AS is_featured,
                       (SELECT f.featured_until FROM fictional_users f WHERE f.id = chats.fictional_user_id) AS featured_until,
                       (SELECT (f.is_active AND f.deleted_at IS NULL) FROM fictional_users f WHERE f.id = chats.fictional_user_id) AS profile_listed,
                       EXISTS (SELECT 1 FROM profile_blocks b WHERE b.user_id = chats.real_user_id AND b.profile_id = chats.fictional_user_id) AS blocked,
                       (SELECT f.name FROM fictional_users f WHERE f.id = chats.fictional_user_id) AS profile_name,
                       {OPERATORS_AVAILABLE}");
        let c: Option<ChatForSend> = sqlx::query_as(&sql).bind(chat).bind(user).bind(now).fetch_optional(&mut *tx).await?;
        let c = c.ok_or(StoreError::NotFound)?;
        if !c.profile_listed || c.status == ChatStatus::Archived {
            return Err(StoreError::Invalid("This chat is closed.".into()));
        }
        if c.blocked {
            return Err(StoreError::Invalid("You blocked this profile. Unblock it to chat again.".into()));
        }
        // The price of this message (`after` = 0) and of the next one (1).
        let price_after = |after: i64| message_price(cfg, &PriceInput {
            chat_user_messages_before: c.free_messages_used + c.paid_messages_count + after,
            user_messages_before: u.total_messages_sent + after,
            profile_featured: featured_now(c.is_featured, c.featured_until, now),
            tier: u.user_tier,
            at: now,
        });
        if let Some(client_id) = &body.client_id {
            let sql = format!("SELECT {MESSAGE_COLUMNS} FROM messages WHERE {CLIENT_ID_LOOKUP}");
            let earlier: Option<Message> =
                sqlx::query_as(&sql).bind(chat).bind(client_id).bind(now - RECENT).fetch_optional(&mut *tx).await?;
            if let Some(message) = earlier {
                tx.rollback().await?;
                let price = if message.credits_charged.get() > 0 { Price::Paid { credits: message.credits_charged } } else { Price::FreeLoyalty };
                let next_price = Some(price_after(0));
                let waiting_on = c.waiting_on();
                return Ok(Sent { message, price, balance: Some(Credits(u.credits)), duplicate: true, queued: false, next_price, waiting_on });
            }
        }
        let price = price_after(0);
        let charge = price.credits();
        let id_text = id.to_string();
        let balance = if charge.get() > 0 {
            let key = format!("message:{id_text}");
            let movement = crate::ledger::Movement {
                user, delta: Credits(-charge.get()), reason: LedgerReason::MessageCharge,
                reference: Some(&id_text), idempotency_key: &key, created_by: None,
            };
            let applied: StoreResult<Credits> = ledger_charge!(tx, &movement, now);
            let b = applied?;
            crate::emit_balance!(tx, user, b, now);
            b
        } else {
            Credits(u.credits)
        };
        let (free, paid) = if price.is_free() { (1, 0) } else { (0, 1) };
        sqlx::query(
            "UPDATE chats SET message_count = message_count + 1, free_messages_used = free_messages_used + $2,
                    paid_messages_count = paid_messages_count + $3, total_credits_spent = total_credits_spent + $4,
                    first_message_at = COALESCE(first_message_at, $5), last_message_at = $5, last_user_message_at = $5, updated_at = $5,
                    status = CASE WHEN status IN ('closed', 'idle') THEN 'active' ELSE status END,
                    close_reason = CASE WHEN status = 'closed' THEN NULL ELSE close_reason END,
                    closed_at = CASE WHEN status = 'closed' THEN NULL ELSE closed_at END
             WHERE id = $1")
            .bind(chat).bind(free).bind(paid).bind(charge.get()).bind(now).execute(&mut *tx).await?;
        // One of a few counter rows per profile, chosen by chat: the users
        // of one popular profile do not queue on its row.
        sqlx::query(PROFILE_MESSAGE_COUNT).bind(chat).bind(chat_slot(chat)).bind(charge.get()).execute(&mut *tx).await?;
        // An unanswered message with nobody on the chat: it waits for an
        // operator. Escalated chats are with admins until they hand them back.
        let queued = c.assigned_operator_id.is_none() && c.status != ChatStatus::Escalated;
        if queued {
            let spent = u.lifetime_credits_spent + charge.get();
            let priority = fantooo_domain::operations::priority(&fantooo_domain::operations::PriorityInput {
                lifetime_credits_spent: spent, waiting: chrono::Duration::zero(), reassigned: false,
            });
            crate::enqueue_chat!(tx, chat, priority, u.user_tier, &[], now);
        }
        // The message row last: its seq is drawn as late as possible, so
        // the tailers rarely see a later seq committed before it.
        let sql = format!("INSERT INTO messages (id, chat_id, sender_type, content, content_type, media_url, is_free_message, credits_charged, client_id, status, created_at)
                           VALUES ($1, $2, 'real', $3, $4, $5, $6, $7, $8, 'sent', $9) RETURNING {MESSAGE_COLUMNS}");
        let message: Message = sqlx::query_as(&sql)
            .bind(id).bind(chat).bind(&body.content).bind(body.content_type).bind(&body.media_url)
            .bind(price.is_free()).bind(charge.get()).bind(&body.client_id).bind(now)
            .fetch_one(&mut *tx).await?;
        tx.commit().await?;
        Ok(Sent { message, price, balance: Some(balance), duplicate: false, queued, next_price: Some(price_after(1)), waiting_on: c.waiting_on() })
    })
}

/// Who writes as the profile.
#[derive(Debug, Clone, Copy)]
pub enum ProfileVoice {
    Operator(OperatorId),
    Admin(AdminId),
}

/// Sends a message as the chat's profile (an operator's reply, or an
/// admin's from the back office). Free for everyone. An operator writes
/// only in a chat they hold: another's answers `NotFound`, like a missing
/// chat, and the caller tells the two apart.
pub async fn send_as_profile(db: &Db, chat: ChatId, voice: ProfileVoice, body: &Body) -> StoreResult<Sent> {
    send_as_profile_from(db, chat, voice, body, None).await
}

/// `send_as_profile` from a known client address: an admin's message is
/// audited (who wrote what as which profile) in the send's transaction.
pub async fn send_as_profile_from(db: &Db, chat: ChatId, voice: ProfileVoice, body: &Body, ip: Option<&str>) -> StoreResult<Sent> {
    let now = Utc::now();
    let id = MessageId::new();
    let (operator, admin) = match voice {
        ProfileVoice::Operator(o) => (Some(o), None),
        ProfileVoice::Admin(a) => (None, Some(a)),
    };
    let sql = reply_sql(db.backend());
    on_pool!(db, p => {
        let mut tx = p.begin_write().await?;
        // One statement locks the chat, counts the reply and reads what
        // the checks, the response time and the user's `reply` event need;
        // a refused reply rolls it back. It serialises this with the user's
        // sends, and the message row still comes last.
        let row: Option<AfterReply> = sqlx::query_as(sql).bind(chat).bind(now).bind(operator.is_some()).fetch_optional(&mut *tx).await?;
        let (response_ms, user, profile, unread, total) = match row {
            None => return Err(StoreError::NotFound),
            Some((status, holder, blocked, response_ms, user, profile, unread, total)) => {
                // An operator writes only in a chat they hold; the caller
                // tells another's chat (forbidden) from a missing one.
                if operator.is_some_and(|o| holder != Some(o)) {
                    tx.rollback().await?;
                    return Err(StoreError::NotFound);
                }
                if blocked || matches!(status, ChatStatus::Closed | ChatStatus::Archived) {
                    tx.rollback().await?;
                    return Err(StoreError::Invalid("This chat is closed.".into()));
                }
                (response_ms, user, profile, unread, total)
            }
        };
        if let Some(client_id) = &body.client_id {
            let sql = format!("SELECT {MESSAGE_COLUMNS} FROM messages WHERE {CLIENT_ID_LOOKUP}");
            let earlier: Option<Message> =
                sqlx::query_as(&sql).bind(chat).bind(client_id).bind(now - RECENT).fetch_optional(&mut *tx).await?;
            if let Some(message) = earlier {
                tx.rollback().await?;
                return Ok(Sent { message, price: Price::FreeLoyalty, balance: None, duplicate: true, queued: false, next_price: None, waiting_on: None });
            }
        }
        // An operator's reply is counted by the message's insert (migration
        // 0031's trigger), in one of a few rows per operator chosen by
        // chat: replies in different chats do not wait for each other's
        // commits.
        if operator.is_none() {
            // An admin answered: the chat no longer waits for an operator.
            let n = sqlx::query("DELETE FROM chat_queue WHERE chat_id = $1").bind(chat).execute(&mut *tx).await?.rows_affected();
            if n > 0 {
                crate::emit_operator_event!(tx, None::<OperatorId>, crate::events::EventBody::Queue, now);
            }
            let after = serde_json::json!({ "chat_id": chat, "content": body.content, "media_url": body.media_url });
            let (actor, message_id) = (crate::audit::Actor::of(admin), id.to_string());
            let entry = actor.record("message_sent_as_profile").subject("message", &message_id).change(None, Some(&after)).ip(ip);
            platform_audit::record_in(&mut *tx, &entry, now).await?;
        }
        // The message row last, as in `send_as_user`.
        let sql = format!("INSERT INTO messages (id, chat_id, sender_type, content, content_type, media_url, handled_by_operator_id, sent_by_admin_id,
                                                 is_free_message, credits_charged, client_id, status, response_ms, created_at)
                           VALUES ($1, $2, 'fictional', $3, $4, $5, $6, $7, TRUE, 0, $8, 'sent', $9, $10) RETURNING {MESSAGE_COLUMNS}");
        let message: Message = sqlx::query_as(&sql)
            .bind(id).bind(chat).bind(&body.content).bind(body.content_type).bind(&body.media_url)
            .bind(operator).bind(admin).bind(&body.client_id).bind(response_ms).bind(now)
            .fetch_one(&mut *tx).await?;
        let preview = fantooo_domain::chat::preview(&message.content, message.content_type);
        emit_event!(tx, Some(chat), Some(user), crate::events::EventBody::Reply { chat_id: chat, seq: message.seq, profile, preview, unread, total }, now);
        tx.commit().await?;
        Ok(Sent { message, price: Price::FreeLoyalty, balance: None, duplicate: false, queued: false, next_price: None, waiting_on: None })
    })
}

/// What a reply's one chat statement returns: the chat's status, who
/// holds it, whether its user blocked the profile, the reply's response
/// time, then [`AFTER_REPLY`].
type AfterReply = (ChatStatus, Option<OperatorId>, bool, Option<i64>, UserId, String, i64, i64);

/// The reply's statement for `backend` (chat, now, by an operator): the
/// chat's counters, its last reply's response time (milliseconds from the
/// user's last message to this reply when that message waited for one)
/// and its running average, all from the row as it was, returning
/// [`AfterReply`]. Only the milliseconds between two times are spelled
/// apart: PostgreSQL subtracts timestamps, SQLite keeps them as text and
/// subtracts Julian days.
fn reply_sql(backend: Backend) -> &'static str {
    static SQL: [std::sync::OnceLock<String>; 2] = [std::sync::OnceLock::new(), std::sync::OnceLock::new()];
    let (slot, since) = match backend {
        Backend::Postgres => (0, "CAST(FLOOR(EXTRACT(EPOCH FROM ($2 - last_user_message_at)) * 1000) AS BIGINT)"),
        Backend::Sqlite => (1, "CAST(ROUND((julianday($2) - julianday(last_user_message_at)) * 86400000.0) AS INTEGER)"),
    };
    SQL[slot].get_or_init(|| {
        let waited = format!(
            "(CASE WHEN last_user_message_at IS NOT NULL AND (last_fictional_message_at IS NULL OR last_fictional_message_at < last_user_message_at)
                   THEN (CASE WHEN {since} < 0 THEN 0 ELSE {since} END) END)"
        );
        format!(
            "UPDATE chats SET message_count = message_count + 1, first_message_at = COALESCE(first_message_at, $2),
                    last_message_at = $2, last_fictional_message_at = $2, idle_warned_at = NULL, user_unread = user_unread + 1, updated_at = $2,
                    last_operator_activity = CASE WHEN $3 THEN $2 ELSE last_operator_activity END,
                    last_response_ms = {waited},
                    average_response_ms = CASE WHEN {waited} IS NULL THEN average_response_ms
                                               WHEN average_response_ms IS NULL THEN {waited}
                                               ELSE (average_response_ms * 3 + {waited}) / 4 END
             WHERE id = $1
             RETURNING status, assigned_operator_id,
                       EXISTS (SELECT 1 FROM profile_blocks b WHERE b.user_id = chats.real_user_id AND b.profile_id = chats.fictional_user_id),
                       last_response_ms, {AFTER_REPLY}"
        )
    })
}

/// Counts a user's message to the chat's profile (chat, slot, credits) in
/// one of [`REPLY_SLOTS`] rows; [`crate::profiles::message_totals`] adds
/// them up.
const PROFILE_MESSAGE_COUNT: &str = "INSERT INTO profile_message_counts (profile_id, slot, messages, revenue_credits)
    SELECT fictional_user_id, $2, 1, $3 FROM chats WHERE id = $1
    ON CONFLICT (profile_id, slot) DO UPDATE SET messages = profile_message_counts.messages + 1,
        revenue_credits = profile_message_counts.revenue_credits + excluded.revenue_credits";

/// How many rows one operator's reply count, or one profile's message
/// count, is spread over.
pub const REPLY_SLOTS: u64 = 16;

/// The slot a chat's messages are counted in, the same for every message
/// in it (those are serialised by the chat's lock anyway): an operator's
/// replies, or a profile's messages, in different chats rarely meet on one
/// row.
pub(crate) fn chat_slot(chat: ChatId) -> i64 {
    let h = chat.to_string().bytes().fold(0u64, |h, b| h.wrapping_mul(31).wrapping_add(u64::from(b)));
    (h % REPLY_SLOTS) as i64
}

/// What a reply's counter update returns (`RETURNING`, so no read after
/// it): the chat's user, its profile's name, its unread count and the
/// user's total. The total adds the user's other chats, read with the
/// statement, to this row's new count.
const AFTER_REPLY: &str = "real_user_id, (SELECT f.name FROM fictional_users f WHERE f.id = chats.fictional_user_id), user_unread,
    user_unread + (SELECT CAST(COALESCE(SUM(o.user_unread), 0) AS BIGINT) FROM chats o WHERE o.real_user_id = chats.real_user_id AND o.id <> chats.id)";

/// The chat, its profile's name, its unread count and the user's total,
/// read right after a read receipt lowered the count.
const UNREAD_AFTER_REPLY: &str = "SELECT c.real_user_id, f.name, c.user_unread,
        (SELECT CAST(COALESCE(SUM(o.user_unread), 0) AS BIGINT) FROM chats o WHERE o.real_user_id = c.real_user_id)
    FROM chats c JOIN fictional_users f ON f.id = c.fictional_user_id WHERE c.id = $1";

/// One page of a chat's history (chat, before seq, not before, limit),
/// bounded by `created_at` so PostgreSQL reads only the partitions of the
/// window asked for.
pub const HISTORY: &str = "chat_id = $1 AND seq < $2 AND created_at >= $3 AND deleted_at IS NULL ORDER BY seq DESC LIMIT $4";

/// How far back from the chat's newest message a history page looks
/// first, then second; a page still not full looks back to the chat's start.
pub const HISTORY_WINDOWS: [chrono::Duration; 2] = [chrono::Duration::days(31), chrono::Duration::days(366)];

/// A chat's messages, newest first, before an optional `seq` cursor.
///
/// Most pages are found among the chat's recent messages, so the query
/// first looks back [`HISTORY_WINDOWS`]`[0]` from the chat's newest
/// message, and only when that does not fill the page asks again with a
/// wider window, finally back to the chat's creation (no message is older
/// than its chat). Each query names its lower time bound, so on PostgreSQL
/// it reads only that window's monthly partitions; a widened query repeats
/// the narrower one, so a page is exactly the newest `limit` messages
/// before the cursor.
pub async fn history(db: &Db, chat: ChatId, before: Option<i64>, limit: i64) -> StoreResult<Vec<Message>> {
    let span: Option<(DateTime<Utc>, Option<DateTime<Utc>>)> = on_pool!(db, p =>
        sqlx::query_as("SELECT created_at, last_message_at FROM chats WHERE id = $1").bind(chat).fetch_optional(p).await?);
    let Some((start, newest)) = span else { return Ok(vec![]) };
    let newest = newest.unwrap_or(start).max(start);
    let sql = format!("SELECT {MESSAGE_COLUMNS} FROM messages WHERE {HISTORY}");
    let before = before.unwrap_or(i64::MAX);
    for window in HISTORY_WINDOWS.iter().map(Some).chain([None]) {
        let from = window.map(|w| newest - *w).filter(|from| *from > start).unwrap_or(start);
        let page = on_pool!(db, p => sqlx::query_as::<_, Message>(&sql).bind(chat).bind(before).bind(from).bind(limit).fetch_all(p).await?);
        if page.len() as i64 >= limit || from == start {
            return Ok(page);
        }
    }
    Ok(vec![])
}

/// A chat's messages after `after`, oldest first (resuming a connection).
pub async fn since(db: &Db, chat: ChatId, after: i64, limit: i64) -> StoreResult<Vec<Message>> {
    let sql =
        format!("SELECT {MESSAGE_COLUMNS} FROM messages WHERE chat_id = $1 AND seq > $2 AND deleted_at IS NULL ORDER BY seq LIMIT $3");
    Ok(on_pool!(db, p => sqlx::query_as::<_, Message>(&sql).bind(chat).bind(after).bind(limit).fetch_all(p).await?))
}

/// How far back the hot lookups that only ever concern new messages look:
/// a retried send's `client_id`, and the outbox tail. Bounding them by
/// `created_at` lets PostgreSQL prune them to the newest monthly partitions.
pub const RECENT: chrono::Duration = chrono::Duration::days(1);

/// The retried-send lookup (chat, client_id, not before): sends are only
/// deduplicated within `RECENT`.
pub const CLIENT_ID_LOOKUP: &str = "chat_id = $1 AND client_id = $2 AND created_at >= $3";

/// The outbox tail (after seq, not before, limit).
pub const TAIL: &str = "seq > $1 AND created_at >= $2 ORDER BY seq LIMIT $3";

/// Every chat's messages after `after` written within `RECENT`, oldest
/// first (the outbox tail: live messages only).
pub async fn tail(db: &Db, after: i64, limit: i64) -> StoreResult<Vec<Message>> {
    let sql = format!("SELECT {MESSAGE_COLUMNS} FROM messages WHERE {TAIL}");
    let since = Utc::now() - RECENT;
    Ok(on_pool!(db, p => sqlx::query_as::<_, Message>(&sql).bind(after).bind(since).bind(limit).fetch_all(p).await?))
}

/// The highest message seq so far.
pub async fn head(db: &Db) -> StoreResult<i64> {
    let sql = "SELECT CAST(COALESCE(MAX(seq), 0) AS BIGINT) FROM messages";
    Ok(on_pool!(db, p => sqlx::query_scalar(sql).fetch_one(p).await?))
}

/// Moves `side`'s messages up to `upto` forward to `status` (delivered or
/// read) and records one receipt event; returns how many changed.
pub async fn mark(db: &Db, chat: ChatId, side: Side, upto: i64, status: MessageStatus) -> StoreResult<u64> {
    let now = Utc::now();
    let from: &[&str] = match status {
        MessageStatus::Delivered => &["sent"],
        MessageStatus::Read => &["sent", "delivered"],
        _ => return Err(StoreError::Invalid("only delivered and read are receipts".into())),
    };
    let sql = format!(
        "UPDATE messages SET status = $4, delivered_at = COALESCE(delivered_at, $5),
                read_at = CASE WHEN $4 = 'read' THEN $5 ELSE read_at END, updated_at = $5
         WHERE chat_id = $1 AND sender_type = $2 AND seq <= $3 AND status IN ({})",
        from.iter().map(|s| format!("'{s}'")).collect::<Vec<_>>().join(", ")
    );
    on_pool!(db, p => {
        let mut tx = p.begin_write().await?;
        let changed = sqlx::query(&sql).bind(chat).bind(side).bind(upto).bind(status).bind(now).execute(&mut *tx).await?.rows_affected();
        if changed > 0 {
            emit_event!(tx, Some(chat), None::<UserId>, crate::events::EventBody::Receipt { side, status, upto }, now);
        }
        if changed > 0 && side == Side::Fictional && status == MessageStatus::Read {
            // The user read replies: fewer unread, on every page of theirs.
            sqlx::query("UPDATE chats SET user_unread = CASE WHEN user_unread > $2 THEN user_unread - $2 ELSE 0 END WHERE id = $1")
                .bind(chat).bind(changed as i64).execute(&mut *tx).await?;
            let (user, _, unread, total): (UserId, String, i64, i64) = sqlx::query_as(UNREAD_AFTER_REPLY).bind(chat).fetch_one(&mut *tx).await?;
            emit_event!(tx, Some(chat), Some(user), crate::events::EventBody::Unread { chat_id: chat, unread, total }, now);
        }
        tx.commit().await?;
        Ok(changed)
    })
}

/// Messages with the given sequence numbers (holes the tailer looks for again).
pub async fn by_seqs(db: &Db, seqs: &[i64]) -> StoreResult<Vec<Message>> {
    if seqs.is_empty() {
        return Ok(vec![]);
    }
    let list = platform_db::int_list(seqs);
    let sql = format!("SELECT {MESSAGE_COLUMNS} FROM messages WHERE seq IN ({list}) ORDER BY seq");
    Ok(on_pool!(db, p => sqlx::query_as::<_, Message>(&sql).fetch_all(p).await?))
}
