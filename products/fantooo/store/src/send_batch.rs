//! Group commit for users' paid sends: many users' messages written in one
//! transaction, each with its own outcome.
//!
//! [`send_as_users`] does for a batch of sends what
//! [`messages::send_as_user`](crate::messages::send_as_user) does for one,
//! with the same rules and the same rows written, in a few statements per
//! batch instead of about a dozen per send:
//!
//! 1. Lock and read the batch's users and their chats in one statement
//!    (`SELECT … FOR UPDATE OF u FOR NO KEY UPDATE OF c` on PostgreSQL;
//!    SQLite's `BEGIN IMMEDIATE` already serialises writers), in (user,
//!    chat) id order: each user before its chats. The single send locks
//!    one user and then its chat, so the orders agree and batches on
//!    different nodes cannot deadlock each other or a single send. Only
//!    a chat of the user who sends into it is read.
//! 2. Look up every `client_id` of the batch, with its chat, in one query.
//! 3. Decide each send in memory, in arrival order, with running balances
//!    and counters: a banned sender, a closed or blocked chat, a retried
//!    `client_id` (stored before, or earlier in the same batch) or too few
//!    credits is that send's own answer, and nothing of it is written.
//! 4. Write the survivors, each kind of row in one statement whatever the
//!    batch's size: one update of all the users (balance, spend, loyalty
//!    count, the guard `credits - charged >= 0` still in the statement, its
//!    row count checked), one multi-row insert of ledger entries (each with
//!    its own idempotency key and `balance_after`), one update of all the
//!    chats' counters, one upsert of their profiles' counter slots, one
//!    upsert of queue entries when some chat waits for an operator (an
//!    entry already there for every operator is left unwritten), one
//!    insert of events (each charged user's last balance, and one queue
//!    notice when some chat waits), and one multi-row insert of the
//!    messages, last. Each statement's rows are padded to a power of two
//!    ([`padded`]), so a statement has seven texts rather than one per
//!    batch size.
//!
//! The caller answers each sender only after the commit. When the
//! transaction fails as a whole (a lost connection, a deadlock, a guard),
//! the function returns that error and the caller re-runs each send on its
//! own, so every member still gets its true outcome; a send with a
//! `client_id` is never stored twice either way. The batcher that feeds it
//! is `fantooo_web::send_batch`.

use crate::messages::{featured_now, Body, ChatForSend, Message, Sent, Waiting, ACTIVE_GRANULARITY, MESSAGE_COLUMNS, RECENT};
use crate::{on_pool, Backend, BeginWrite, Db, StoreError, StoreResult};
use chrono::{DateTime, Utc};
use fantooo_domain::chat::ChatStatus;
use fantooo_domain::ids::{ChatId, LedgerEntryId, MessageId, UserId};
use fantooo_domain::ledger::LedgerReason;
use fantooo_domain::pricing::{message_price, Price, PriceInput, PricingConfig};
use fantooo_domain::{Credits, UserTier};
use platform_db::value_tuples;
use std::collections::HashMap;

/// One user's send in a batch.
#[derive(Debug, Clone)]
pub struct UserSend {
    pub chat: ChatId,
    pub user: UserId,
    pub body: Body,
}

/// The most sends one batch takes (bounded by the statements' parameters:
/// nine per message).
pub const MAX_BATCH: usize = 64;

/// The batch's users charged and counted in one statement, one `VALUES`
/// row per user: (id, credits charged, messages written), from `$3`; `$1`
/// is now and `$2` the moment before which `last_active_at` is moved. The
/// guard `credits - charged >= 0` is part of it: a user it skips shows in
/// the row count, and the caller fails the batch.
///
/// One text serves both stores: PostgreSQL and SQLite (3.33 and later)
/// both take `UPDATE … FROM` a `VALUES` list named in a `WITH`. An
/// `UNNEST` of arrays would keep PostgreSQL's text the same for every
/// batch size, but SQLite has no arrays; a batch holds at most
/// [`MAX_BATCH`] sends, so there are at most that many texts of each
/// statement, and sqlx prepares each once per connection.
const USERS_UPDATE: &str = "WITH v (id, charged, written) AS (VALUES {VALUES})
    UPDATE real_users SET credits = credits - v.charged, lifetime_credits_spent = lifetime_credits_spent + v.charged,
        total_messages_sent = total_messages_sent + v.written,
        last_active_at = CASE WHEN last_active_at IS NULL OR last_active_at < $2 THEN $1 ELSE last_active_at END
    FROM v WHERE real_users.id = v.id AND real_users.credits - v.charged >= 0";

/// The batch's chats' counters in one statement, one `VALUES` row per chat:
/// (id, messages, free, paid, credits), from `$2`; `$1` is now. A closed or
/// idle chat is active again.
const CHATS_UPDATE: &str = "WITH v (id, written, free, paid, credits) AS (VALUES {VALUES})
    UPDATE chats SET message_count = message_count + v.written, free_messages_used = free_messages_used + v.free,
        paid_messages_count = paid_messages_count + v.paid, total_credits_spent = total_credits_spent + v.credits,
        first_message_at = COALESCE(first_message_at, $1), last_message_at = $1, last_user_message_at = $1, updated_at = $1,
        status = CASE WHEN status IN ('closed', 'idle') THEN 'active' ELSE status END,
        close_reason = CASE WHEN status = 'closed' THEN NULL ELSE close_reason END,
        closed_at = CASE WHEN status = 'closed' THEN NULL ELSE closed_at END
    FROM v WHERE chats.id = v.id";

/// The profiles' counter slots of the batch's chats in one statement, one
/// `VALUES` row per profile: (profile, slot, messages, credits), from `$1`.
/// Chats of one profile are summed first (an upsert touches a row once),
/// and the rows are written in key order, so two batches lock shared slots
/// in the same order. A batch counts all its chats in one slot, drawn at
/// random per batch ([`batch_slot`]): with a slot per chat, two batches
/// that wrote at once met on some profile's slot row most of the time
/// whenever their chats shared a few profiles, and the later one waited
/// for the other's commit. The profiles come from the chats' rows read
/// under their locks.
const PROFILE_SLOTS_UPSERT: &str = "WITH v (id, slot, written, credits) AS (VALUES {VALUES})
    INSERT INTO profile_message_counts (profile_id, slot, messages, revenue_credits)
    SELECT v.id, v.slot, v.written, v.credits FROM v WHERE v.id IS NOT NULL ORDER BY v.id
    ON CONFLICT (profile_id, slot) DO UPDATE SET messages = profile_message_counts.messages + excluded.messages,
        revenue_credits = profile_message_counts.revenue_credits + excluded.revenue_credits";

/// The batch's ledger entries, one `VALUES` row per paid message: (id,
/// user, delta, balance after, reason, reference, idempotency key), from
/// `$2`; `$1` is now. Rows of NULLs are padding.
const LEDGER_INSERT: &str = "WITH v (id, user_id, delta, balance_after, reason, reference, idempotency_key) AS (VALUES {VALUES})
    INSERT INTO credit_ledger (id, user_id, delta, balance_after, reason, reference, idempotency_key, created_at)
    SELECT v.id, v.user_id, v.delta, v.balance_after, v.reason, v.reference, v.idempotency_key, $1 FROM v WHERE v.id IS NOT NULL";

/// The batch's events in one statement, one `VALUES` row each: (user,
/// kind, payload), from `$2`; `$1` is now. Each charged user's balance,
/// and one queue notice to the operators' consoles (no user) when some
/// chat of the batch waits for an operator.
const EVENTS_INSERT: &str = "WITH v (user_id, kind, payload) AS (VALUES {VALUES})
    INSERT INTO realtime_events (user_id, kind, payload, created_at)
    SELECT v.user_id, v.kind, v.payload, $1 FROM v WHERE v.kind IS NOT NULL";

/// The batch's messages, one `VALUES` row each in arrival order: (id,
/// chat, content, content type, media, free, credits, client id), from
/// `$2`; `$1` is now.
const MESSAGES_INSERT: &str = "WITH v (id, chat_id, content, content_type, media_url, is_free_message, credits_charged, client_id) AS (VALUES {VALUES})
    INSERT INTO messages (id, chat_id, sender_type, content, content_type, media_url, is_free_message, credits_charged, client_id, status, created_at)
    SELECT v.id, v.chat_id, 'real', v.content, v.content_type, v.media_url, v.is_free_message, v.credits_charged, v.client_id, 'sent', $1
    FROM v WHERE v.id IS NOT NULL";

/// The batch's chats that now wait for an operator, one `VALUES` row each:
/// (id, chat, priority, score, tier), from `$3`; `$1` is now, `$2` the
/// (empty) excluded operators. An entry already there that excludes no
/// one is left as it is (no new row version); one that excludes some
/// operator is opened to all again. The statement runs even when every
/// chat seemed to wait already: a transaction the batch's lock waited for
/// may have removed an entry after the batch's snapshot, and only the
/// upsert's own conflict check sees that.
const CHATS_ENQUEUE: &str = "WITH v (id, chat, priority, score, tier) AS (VALUES {VALUES})
    INSERT INTO chat_queue (id, chat_id, priority, priority_score, user_tier, excluded_operator_ids, entered_queue_at, created_at)
    SELECT v.id, v.chat, v.priority, v.score, v.tier, $2, $1, $1 FROM v WHERE v.id IS NOT NULL
    ON CONFLICT (chat_id) DO UPDATE SET excluded_operator_ids = excluded.excluded_operator_ids
    WHERE chat_queue.excluded_operator_ids <> excluded.excluded_operator_ids";

/// The profile counter slot one batch writes in (any slot is right: the
/// readers add them all up).
fn batch_slot() -> i64 {
    (uuid::Uuid::new_v4().as_u128() % u128::from(crate::messages::REPLY_SLOTS)) as i64
}

/// The number of rows (or list items) a statement's text is written for:
/// `n` rounded up to a power of two. A text per batch size made up to 64
/// texts of each statement, and a connection met most of them for the
/// first time, so PostgreSQL parsed and planned them again and again; with
/// 1, 2, 4 … 64 each statement has seven texts. The rows past `n` are
/// padding: a repeated list item, or a `VALUES` row of NULLs that the
/// statement's join or `WHERE … IS NOT NULL` leaves out.
fn padded(n: usize) -> usize {
    n.next_power_of_two()
}

/// `items` made up to [`padded`] length with `None`s, bound as the NULL
/// padding rows of a `VALUES` list.
fn padded_rows<T: Copy>(items: &[T]) -> impl Iterator<Item = Option<T>> + '_ {
    let pad = padded(items.len()) - items.len();
    items.iter().copied().map(Some).chain(std::iter::repeat_n(None, pad))
}

/// A sender's row, read with each of its chats in the batch (the columns
/// carry a `u_` prefix beside the chat's).
#[derive(sqlx::FromRow)]
struct BatchUser {
    #[sqlx(rename = "real_user_id")]
    id: UserId,
    #[sqlx(rename = "u_credits")]
    credits: i64,
    #[sqlx(rename = "u_total_messages_sent")]
    total_messages_sent: i64,
    #[sqlx(rename = "u_user_tier")]
    user_tier: UserTier,
    #[sqlx(rename = "u_lifetime_credits_spent")]
    lifetime_credits_spent: i64,
    #[sqlx(rename = "u_is_banned")]
    is_banned: bool,
    #[sqlx(rename = "u_banned_until")]
    banned_until: Option<DateTime<Utc>>,
    #[sqlx(rename = "u_is_active")]
    is_active: bool,
}

#[derive(sqlx::FromRow)]
struct BatchChat {
    id: ChatId,
    real_user_id: UserId,
    #[sqlx(flatten)]
    chat: ChatForSend,
}

/// One row of the batch's first statement: a chat and its user.
#[derive(sqlx::FromRow)]
struct BatchRow {
    #[sqlx(flatten)]
    user: BatchUser,
    #[sqlx(flatten)]
    chat: BatchChat,
    pricing_version: Option<DateTime<Utc>>,
}

/// A user's running state while the batch is decided.
struct UserRun {
    credits: i64,
    sent: i64,
    spent: i64,
    tier: UserTier,
    /// Messages and credits this batch writes for the user.
    written: i64,
    charged: i64,
}

/// A chat's running state while the batch is decided.
struct ChatRun {
    chat: ChatForSend,
    written: i64,
    free: i64,
    paid: i64,
    credits: i64,
    /// The priority its queue entry gets, when the batch queues it.
    enqueue: Option<(fantooo_domain::operations::QueuePriority, UserTier)>,
}

/// What the batch decided for one send.
enum Plan {
    Fail(StoreError),
    /// The client id was stored before: answered from that row.
    Earlier {
        message: Message,
        balance: i64,
        next_price: Price,
    },
    /// The client id was used by an earlier send of this batch.
    SameAs {
        first: usize,
        balance: i64,
        next_price: Price,
    },
    Write {
        id: MessageId,
        price: Price,
        balance: i64,
        queued: bool,
        next_price: Price,
    },
}

/// Writes a batch of users' sends in one transaction (see the module
/// documentation). The outer error means nothing was written and each
/// send should be retried on its own; otherwise the answers are in the
/// order of `sends`.
pub async fn send_as_users(
    db: &Db,
    sends: &[UserSend],
    pricing: &crate::settings::Cached<PricingConfig>,
) -> StoreResult<Vec<StoreResult<Sent>>> {
    if sends.is_empty() {
        return Ok(vec![]);
    }
    if sends.len() > MAX_BATCH {
        return Err(StoreError::Invalid(format!("a send batch takes at most {MAX_BATCH} sends")));
    }
    let now = Utc::now();
    // Each chat with the user who sends into it (a chat named by another
    // user is not theirs: the join leaves it out, and its send fails).
    let mut owned: Vec<(ChatId, UserId)> = sends.iter().map(|s| (s.chat, s.user)).collect();
    owned.sort();
    owned.dedup();
    // The senders and their chats, read and locked in one statement (one
    // round trip where a statement per table took two): a `VALUES` list of
    // (chat, sender) pairs joined to the tables, which also keeps each
    // chat to the user who sends into it. Padding rows are NULL, which no
    // join matches.
    //
    // The rows are locked as the sort returns them, in (user, chat) order:
    // a user before its chats, and users in id order, so two batches take
    // their shared rows in one order, and a single send (its user, then
    // its chat) cannot close a cycle with a batch either. The users take
    // `FOR UPDATE`; the chats the lock an `UPDATE` of the row takes (the
    // counters' update below changes no key), so no row version is written
    // for it. SQLite's `BEGIN IMMEDIATE` already serialises writers.
    let lock = if db.backend() == Backend::Postgres { " FOR UPDATE OF u FOR NO KEY UPDATE OF c" } else { "" };
    let batch_sql = format!(
        "WITH v (id, owner) AS (VALUES {})
         SELECT c.id, c.real_user_id, c.fictional_user_id, c.status, c.assigned_operator_id, c.free_messages_used, c.paid_messages_count,
                u.credits AS u_credits, u.total_messages_sent AS u_total_messages_sent, u.user_tier AS u_user_tier,
                u.lifetime_credits_spent AS u_lifetime_credits_spent, u.is_banned AS u_is_banned, u.banned_until AS u_banned_until,
                u.is_active AS u_is_active,
                f.is_featured, f.featured_until, (f.is_active AND f.deleted_at IS NULL) AS profile_listed, f.name AS profile_name,
                EXISTS (SELECT 1 FROM profile_blocks b WHERE b.user_id = c.real_user_id AND b.profile_id = c.fictional_user_id) AS blocked,
                {}, {} AS pricing_version
         FROM v JOIN chats c ON c.id = v.id AND c.real_user_id = v.owner JOIN real_users u ON u.id = c.real_user_id
              JOIN fictional_users f ON f.id = c.fictional_user_id
         ORDER BY u.id, c.id{lock}",
        value_tuples(1, 2, padded(owned.len())),
        crate::messages::OPERATORS_AVAILABLE,
        crate::settings::VERSION_OF_PRICING,
    );
    // The client ids to look up, each with its chat.
    let client_ids: Vec<(ChatId, &str)> = {
        let mut v: Vec<(ChatId, &str)> = sends.iter().filter_map(|s| s.body.client_id.as_deref().map(|c| (s.chat, c))).collect();
        v.sort();
        v.dedup();
        v
    };
    on_pool!(db, p => {
        let mut tx = p.begin_write().await?;
        // 1. The users and their chats, locked.
        let mut q = sqlx::query_as::<_, BatchRow>(&batch_sql);
        for pair in padded_rows(&owned) {
            q = q.bind(pair.map(|p| p.0)).bind(pair.map(|p| p.1));
        }
        let rows = q.fetch_all(&mut *tx).await?;
        // The price settings: this node's copy, unless an admin changed them.
        let version = rows.first().and_then(|r| r.pricing_version);
        let cfg = match pricing.at(version) {
            Some(cfg) => cfg,
            None => {
                let row: Option<(sqlx::types::Json<serde_json::Value>, DateTime<Utc>)> =
                    sqlx::query_as("SELECT value, updated_at FROM app_settings WHERE key = $1").bind(pricing.key()).fetch_optional(&mut *tx).await?;
                let version = row.as_ref().map(|r| r.1);
                pricing.keep(version, pricing.parse(row.map(|r| r.0))?)
            }
        };
        // 2. Sends retried with a client id already stored.
        let mut earlier: HashMap<(ChatId, String), Message> = HashMap::new();
        if !client_ids.is_empty() {
            let sql = format!(
                "WITH v (chat_id, client_id) AS (VALUES {})
                 SELECT {MESSAGE_COLUMNS} FROM messages
                 WHERE created_at >= $1 AND client_id IS NOT NULL AND (chat_id, client_id) IN (SELECT v.chat_id, v.client_id FROM v)",
                value_tuples(2, 2, padded(client_ids.len()))
            );
            let mut q = sqlx::query_as::<_, Message>(&sql).bind(now - RECENT);
            for pair in padded_rows(&client_ids) {
                q = q.bind(pair.map(|p| p.0)).bind(pair.map(|p| p.1));
            }
            for m in q.fetch_all(&mut *tx).await? {
                if let Some(cid) = m.client_id.clone() {
                    earlier.entry((m.chat_id, cid)).or_insert(m);
                }
            }
        }
        // 3. Each send decided in arrival order.
        let plans = decide(sends, rows, &earlier, &cfg, now);
        let user_runs = plans.users;
        let chat_runs = plans.chats;
        let plans = plans.plans;
        // Who each send's chat waits for (its assignment does not move
        // while the batch holds the chat's lock).
        let waiting: Vec<Option<Waiting>> =
            sends.iter().map(|s| chat_runs.get(&s.chat).and_then(|r| r.chat.waiting_on())).collect();
        let writes: Vec<(usize, MessageId, Price)> = plans.iter().enumerate()
            .filter_map(|(i, p)| match p { Plan::Write { id, price, .. } => Some((i, *id, *price)), _ => None })
            .collect();
        if writes.is_empty() {
            tx.rollback().await?;
        } else {
            // 4. The survivors' rows. Users first, in id order.
            let mut written_users: Vec<(&UserId, &UserRun)> = user_runs.iter().filter(|(_, r)| r.written > 0).collect();
            written_users.sort_by_key(|(u, _)| **u);
            // One statement for every user, whatever their number: the
            // guard stays in it, and a row it skipped fails the batch.
            let sql = USERS_UPDATE.replace("{VALUES}", &value_tuples(3, 3, padded(written_users.len())));
            let mut q = sqlx::query(&sql).bind(now).bind(now - ACTIVE_GRANULARITY);
            for (user, run) in &written_users {
                q = q.bind(Some(**user)).bind(Some(run.charged)).bind(Some(run.written));
            }
            for _ in written_users.len()..padded(written_users.len()) {
                q = q.bind(None::<UserId>).bind(None::<i64>).bind(None::<i64>);
            }
            let changed = q.execute(&mut *tx).await?.rows_affected();
            if changed != written_users.len() as u64 {
                return Err(StoreError::Conflict("real_users.credits changed under a send batch".into()));
            }
            // The ledger entries, one per paid message, in one statement.
            let paid: Vec<(usize, MessageId, Price, i64)> = writes.iter()
                .filter(|(_, _, price)| price.credits().get() > 0)
                .map(|(i, id, price)| (*i, *id, *price, match &plans[*i] { Plan::Write { balance, .. } => *balance, _ => 0 }))
                .collect();
            if !paid.is_empty() {
                let sql = LEDGER_INSERT.replace("{VALUES}", &value_tuples(2, 7, padded(paid.len())));
                let mut q = sqlx::query(&sql).bind(now);
                for (i, id, price, balance) in &paid {
                    let id_text = id.to_string();
                    q = q.bind(Some(LedgerEntryId::new())).bind(Some(sends[*i].user)).bind(Some(-price.credits().get())).bind(Some(*balance))
                        .bind(Some(LedgerReason::MessageCharge)).bind(Some(id_text.clone())).bind(Some(format!("message:{id_text}")));
                }
                for _ in paid.len()..padded(paid.len()) {
                    q = q.bind(None::<LedgerEntryId>).bind(None::<UserId>).bind(None::<i64>).bind(None::<i64>)
                        .bind(None::<LedgerReason>).bind(None::<String>).bind(None::<String>);
                }
                q.execute(&mut *tx).await?;
            }
            // The chats' counters and their profiles' counter slots.
            let mut written_chats: Vec<(&ChatId, &ChatRun)> = chat_runs.iter().filter(|(_, r)| r.written > 0).collect();
            written_chats.sort_by_key(|(c, _)| **c);
            // The chats' counters in one statement, and their profiles'
            // slots in another (chats of one profile that share a slot
            // are summed first: an upsert may touch a row once).
            let sql = CHATS_UPDATE.replace("{VALUES}", &value_tuples(2, 5, padded(written_chats.len())));
            let mut q = sqlx::query(&sql).bind(now);
            for (chat, run) in &written_chats {
                q = q.bind(Some(**chat)).bind(Some(run.written)).bind(Some(run.free)).bind(Some(run.paid)).bind(Some(run.credits));
            }
            for _ in written_chats.len()..padded(written_chats.len()) {
                q = q.bind(None::<ChatId>).bind(None::<i64>).bind(None::<i64>).bind(None::<i64>).bind(None::<i64>);
            }
            q.execute(&mut *tx).await?;
            let mut profiles: std::collections::BTreeMap<fantooo_domain::ids::ProfileId, (i64, i64)> = std::collections::BTreeMap::new();
            for (_, run) in &written_chats {
                let sums = profiles.entry(run.chat.fictional_user_id).or_default();
                sums.0 += run.written;
                sums.1 += run.credits;
            }
            let sql = PROFILE_SLOTS_UPSERT.replace("{VALUES}", &value_tuples(1, 4, padded(profiles.len())));
            let mut q = sqlx::query(&sql);
            let slot = batch_slot();
            for (profile, (written, credits)) in &profiles {
                q = q.bind(Some(*profile)).bind(Some(slot)).bind(Some(*written)).bind(Some(*credits));
            }
            for _ in profiles.len()..padded(profiles.len()) {
                q = q.bind(None::<fantooo_domain::ids::ProfileId>).bind(None::<i64>).bind(None::<i64>).bind(None::<i64>);
            }
            q.execute(&mut *tx).await?;
            // Chats that now wait for an operator: one upsert.
            let queued: Vec<(ChatId, fantooo_domain::operations::QueuePriority, UserTier)> =
                written_chats.iter().filter_map(|(c, r)| r.enqueue.map(|(p, t)| (**c, p, t))).collect();
            if !queued.is_empty() {
                let sql = CHATS_ENQUEUE.replace("{VALUES}", &value_tuples(3, 5, padded(queued.len())));
                let no_one: &[fantooo_domain::ids::OperatorId] = &[];
                let mut q = sqlx::query(&sql).bind(now).bind(sqlx::types::Json(no_one));
                for (chat, priority, tier) in &queued {
                    q = q.bind(Some(fantooo_domain::ids::RowId::new())).bind(Some(*chat)).bind(Some(*priority)).bind(Some(priority.score())).bind(Some(*tier));
                }
                for _ in queued.len()..padded(queued.len()) {
                    q = q.bind(None::<fantooo_domain::ids::RowId>).bind(None::<ChatId>).bind(None::<fantooo_domain::operations::QueuePriority>)
                        .bind(None::<i64>).bind(None::<UserTier>);
                }
                q.execute(&mut *tx).await?;
            }
            // The events: each charged user's pages hear the balance after
            // the batch, and the operators' consoles hear of the queue
            // whenever a message was written into a waiting chat (its
            // preview there changed, even when its entry did not).
            let mut events: Vec<(Option<UserId>, crate::events::EventBody)> = written_users
                .iter()
                .filter(|(_, r)| r.charged > 0)
                .map(|(u, r)| (Some(**u), crate::events::EventBody::Balance { credits: r.credits }))
                .collect();
            if !queued.is_empty() {
                events.push((None, crate::events::EventBody::Queue));
            }
            if !events.is_empty() {
                let sql = EVENTS_INSERT.replace("{VALUES}", &value_tuples(2, 3, padded(events.len())));
                let mut q = sqlx::query(&sql).bind(now);
                let pad = padded(events.len()) - events.len();
                for (user, body) in events {
                    q = q.bind(user).bind(Some(body.kind())).bind(Some(sqlx::types::Json(body)));
                }
                for _ in 0..pad {
                    q = q.bind(None::<UserId>).bind(None::<&str>).bind(None::<sqlx::types::Json<crate::events::EventBody>>);
                }
                q.execute(&mut *tx).await?;
            }
            // The messages last, in arrival order, in one statement.
            let sql = format!("{} RETURNING {MESSAGE_COLUMNS}", MESSAGES_INSERT.replace("{VALUES}", &value_tuples(2, 8, padded(writes.len()))));
            let mut q = sqlx::query_as::<_, Message>(&sql).bind(now);
            for (i, id, price) in &writes {
                let s = &sends[*i];
                q = q.bind(Some(*id)).bind(Some(s.chat)).bind(Some(&s.body.content)).bind(Some(s.body.content_type)).bind(&s.body.media_url)
                    .bind(Some(price.is_free())).bind(Some(price.credits().get())).bind(&s.body.client_id);
            }
            for _ in writes.len()..padded(writes.len()) {
                q = q.bind(None::<MessageId>).bind(None::<ChatId>).bind(None::<String>).bind(None::<fantooo_domain::chat::ContentType>)
                    .bind(None::<String>).bind(None::<bool>).bind(None::<i64>).bind(None::<String>);
            }
            let stored = q.fetch_all(&mut *tx).await?;
            tx.commit().await?;
            let mut by_id: HashMap<MessageId, Message> = stored.into_iter().map(|m| (m.id, m)).collect();
            return Ok(answer(plans, &waiting, &mut by_id));
        }
        Ok(answer(plans, &waiting, &mut HashMap::new()))
    })
}

struct Decided {
    plans: Vec<Plan>,
    users: HashMap<UserId, UserRun>,
    chats: HashMap<ChatId, ChatRun>,
}

/// Step 3: every send's outcome, with the running state of its user and
/// chat, exactly as the sends one after another would have found it.
fn decide(
    sends: &[UserSend],
    rows: Vec<BatchRow>,
    earlier: &HashMap<(ChatId, String), Message>,
    cfg: &PricingConfig,
    now: DateTime<Utc>,
) -> Decided {
    let (user_rows, chat_rows): (Vec<BatchUser>, Vec<BatchChat>) = rows.into_iter().map(|r| (r.user, r.chat)).unzip();
    let mut users: HashMap<UserId, UserRun> = user_rows
        .into_iter()
        .filter(|u| u.is_active && !fantooo_domain::account::ban_in_force(u.is_banned, u.banned_until, now))
        .map(|u| {
            let run = UserRun {
                credits: u.credits,
                sent: u.total_messages_sent,
                spent: u.lifetime_credits_spent,
                tier: u.user_tier,
                written: 0,
                charged: 0,
            };
            (u.id, run)
        })
        .collect();
    let owners: HashMap<ChatId, UserId> = chat_rows.iter().map(|c| (c.id, c.real_user_id)).collect();
    let mut chats: HashMap<ChatId, ChatRun> =
        chat_rows.into_iter().map(|c| (c.id, ChatRun { chat: c.chat, written: 0, free: 0, paid: 0, credits: 0, enqueue: None })).collect();
    let mut in_batch: HashMap<(ChatId, String), usize> = HashMap::new();
    let mut plans = Vec::with_capacity(sends.len());
    for (i, s) in sends.iter().enumerate() {
        let (Some(u), Some(c)) = (users.get_mut(&s.user), chats.get_mut(&s.chat)) else {
            plans.push(Plan::Fail(StoreError::NotFound));
            continue;
        };
        if owners.get(&s.chat) != Some(&s.user) {
            plans.push(Plan::Fail(StoreError::NotFound));
            continue;
        }
        let ch = &c.chat;
        if !ch.profile_listed || ch.status == ChatStatus::Archived {
            plans.push(Plan::Fail(StoreError::Invalid("This chat is closed.".into())));
            continue;
        }
        if ch.blocked {
            plans.push(Plan::Fail(StoreError::Invalid("You blocked this profile. Unblock it to chat again.".into())));
            continue;
        }
        let price_after = |after: i64| {
            message_price(
                cfg,
                &PriceInput {
                    chat_user_messages_before: ch.free_messages_used + ch.paid_messages_count + after,
                    user_messages_before: u.sent + after,
                    profile_featured: featured_now(ch.is_featured, ch.featured_until, now),
                    tier: u.tier,
                    at: now,
                },
            )
        };
        if let Some(cid) = &s.body.client_id {
            let key = (s.chat, cid.clone());
            if let Some(message) = earlier.get(&key) {
                plans.push(Plan::Earlier { message: message.clone(), balance: u.credits, next_price: price_after(0) });
                continue;
            }
            if let Some(first) = in_batch.get(&key) {
                plans.push(Plan::SameAs { first: *first, balance: u.credits, next_price: price_after(0) });
                continue;
            }
        }
        let price = price_after(0);
        let charge = price.credits().get();
        if charge > u.credits {
            plans.push(Plan::Fail(StoreError::Insufficient { required: charge, available: u.credits }));
            continue;
        }
        let next_price = price_after(1);
        // Written: the user's and the chat's running state move on.
        u.credits -= charge;
        u.spent += charge;
        u.sent += 1;
        u.written += 1;
        u.charged += charge;
        let free = price.is_free();
        c.chat.free_messages_used += i64::from(free);
        c.chat.paid_messages_count += i64::from(!free);
        c.written += 1;
        c.free += i64::from(free);
        c.paid += i64::from(!free);
        c.credits += charge;
        let queued = c.chat.assigned_operator_id.is_none() && c.chat.status != ChatStatus::Escalated;
        if queued && c.enqueue.is_none() {
            let priority = fantooo_domain::operations::priority(&fantooo_domain::operations::PriorityInput {
                lifetime_credits_spent: u.spent,
                waiting: chrono::Duration::zero(),
                reassigned: false,
            });
            c.enqueue = Some((priority, u.tier));
        }
        if matches!(c.chat.status, ChatStatus::Closed | ChatStatus::Idle) {
            c.chat.status = ChatStatus::Active;
        }
        if let Some(cid) = &s.body.client_id {
            in_batch.insert((s.chat, cid.clone()), i);
        }
        plans.push(Plan::Write { id: MessageId::new(), price, balance: u.credits, queued, next_price });
    }
    Decided { plans, users, chats }
}

/// Each send's answer after the commit (or after a batch that wrote nothing).
fn answer(plans: Vec<Plan>, waiting: &[Option<Waiting>], stored: &mut HashMap<MessageId, Message>) -> Vec<StoreResult<Sent>> {
    let written: Vec<Option<Message>> = plans
        .iter()
        .map(|p| match p {
            Plan::Write { id, .. } => stored.get(id).cloned(),
            _ => None,
        })
        .collect();
    let charged = |m: &Message| if m.credits_charged.get() > 0 { Price::Paid { credits: m.credits_charged } } else { Price::FreeLoyalty };
    plans
        .into_iter()
        .enumerate()
        .map(|(i, p)| match p {
            Plan::Fail(e) => Err(e),
            Plan::Earlier { message, balance, next_price } => Ok(Sent {
                price: charged(&message),
                message,
                balance: Some(Credits(balance)),
                duplicate: true,
                queued: false,
                next_price: Some(next_price),
                waiting_on: waiting[i].clone(),
            }),
            Plan::SameAs { first, balance, next_price } => {
                let message = written[first].clone().ok_or_else(|| StoreError::Invalid("a batched message was not stored".into()))?;
                Ok(Sent {
                    price: charged(&message),
                    message,
                    balance: Some(Credits(balance)),
                    duplicate: true,
                    queued: false,
                    next_price: Some(next_price),
                    waiting_on: waiting[i].clone(),
                })
            }
            Plan::Write { price, balance, queued, next_price, .. } => {
                let message = written[i].clone().ok_or_else(|| StoreError::Invalid("a batched message was not stored".into()))?;
                Ok(Sent {
                    message,
                    price,
                    balance: Some(Credits(balance)),
                    duplicate: false,
                    queued,
                    next_price: Some(next_price),
                    waiting_on: waiting[i].clone(),
                })
            }
        })
        .collect()
}
