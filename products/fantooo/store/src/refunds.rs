//! Credit refunds and the cash owed for unused credits when an account is
//! deleted. A refund's credits, its ledger entry, its audit row and the
//! user's notification are written in one transaction that first locks the
//! user's row, so two admins refunding the same message at once cannot
//! together exceed what the message was charged.

use crate::audit::Actor;
use crate::ledger::{applied, CREDITS};
use crate::{emit_balance, on_pool, BeginWrite, Db, StoreError, StoreResult};
use chrono::{DateTime, Utc};
use fantooo_domain::ids::{AccountId, AdminId, ChatId, MessageId, NotificationId, RefundId, UserId};
use fantooo_domain::ledger::LedgerReason;
use fantooo_domain::refund::{check_refund, deletion_refund, RefundReason, RefundStatus};
use fantooo_domain::{Credits, Kes};
use serde::Serialize;

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Refund {
    pub id: RefundId,
    pub user_id: UserId,
    pub username: String,
    pub amount: Credits,
    pub reason: RefundReason,
    pub message_id: Option<MessageId>,
    pub chat_id: Option<ChatId>,
    /// The staff member who handled it; none yet for the refund recorded
    /// when users delete their own account.
    pub processed_by: Option<AdminId>,
    pub admin_name: Option<String>,
    pub notes: Option<String>,
    pub status: RefundStatus,
    pub created_at: DateTime<Utc>,
}

const REFUND_SELECT: &str =
    "SELECT r.id, r.user_id, u.username, r.amount, r.reason, r.message_id, r.chat_id, r.processed_by, a.name AS admin_name,
                                    r.notes, r.status, r.created_at
                             FROM credit_refunds r JOIN real_users u ON u.id = r.user_id LEFT JOIN admins a ON a.id = r.processed_by";

pub struct RefundRequest<'a> {
    pub user: UserId,
    pub credits: Credits,
    pub reason: RefundReason,
    pub message: Option<MessageId>,
    pub chat: Option<ChatId>,
    pub admin: AdminId,
    /// The admin's login identity, recorded on the ledger entry.
    pub admin_account: AccountId,
    pub notes: Option<&'a str>,
    /// Names this refund request (a key embedded in the form, or sent by
    /// the API client): a repeated submit with the same key refunds once.
    /// Without one every call is a new refund.
    pub key: Option<&'a str>,
}

#[derive(Debug, Clone)]
pub struct Refunded {
    pub refund: Refund,
    pub balance: Credits,
    /// The key was seen before: `refund` is the refund it made, and
    /// nothing new happened.
    pub repeated: bool,
}

fn refused(field: &'static str, message: impl Into<String>) -> StoreError {
    StoreError::Refused { field, message: message.into() }
}

/// Refunds credits to a user: the one path every refund form and API
/// takes. With a message, the message must be one the user paid for, and
/// all refunds for it together stay within its charge; without one, the
/// refund is capped (`check_refund`). The credits, ledger entry, audit row
/// and notification commit together; a request key already used returns
/// the refund it made.
pub async fn refund(db: &Db, r: &RefundRequest<'_>) -> StoreResult<Refunded> {
    if r.reason == RefundReason::AccountDeletion {
        return Err(refused("reason", "Account-deletion refunds are made by deleting the account."));
    }
    let now = Utc::now();
    let id = RefundId::new();
    let key = match r.key {
        Some(k) => format!("refund:{}:{k}", r.user),
        None => format!("refund:{id}"),
    };
    let result: StoreResult<Credits> = on_pool!(db, p => {
        let mut tx = p.begin_write().await?;
        // The user's row lock serialises refunds for this user's messages.
        let locked: Option<Credits> = sqlx::query_scalar("UPDATE real_users SET updated_at = $2 WHERE id = $1 RETURNING credits")
            .bind(r.user).bind(now).fetch_optional(&mut *tx).await?;
        let current = locked.ok_or(StoreError::NotFound)?;
        let seen: Option<Option<String>> = sqlx::query_scalar("SELECT reference FROM credit_ledger WHERE idempotency_key = $1")
            .bind(&key).fetch_optional(&mut *tx).await?;
        if let Some(reference) = seen {
            let made: RefundId = reference.and_then(|s| s.parse().ok())
                .ok_or_else(|| StoreError::Conflict("that request key was used for something else".into()))?;
            tx.rollback().await?;
            return Ok(Refunded { refund: by_id(db, made).await?, balance: current, repeated: true });
        }
        let mut chat = r.chat;
        let bound = match r.message {
            None => None,
            Some(m) => {
                let msg: Option<(i64, ChatId, UserId, String)> = sqlx::query_as(
                    "SELECT m.credits_charged, m.chat_id, c.real_user_id, m.sender_type FROM messages m JOIN chats c ON c.id = m.chat_id WHERE m.id = $1")
                    .bind(m).fetch_optional(&mut *tx).await?;
                let (charged, msg_chat, owner, sender) = msg.ok_or_else(|| refused("message_id", "No such message."))?;
                if owner != r.user || sender != "real" {
                    return Err(refused("message_id", "That message was not sent by this user."));
                }
                if chat.is_some_and(|c| c != msg_chat) {
                    return Err(refused("chat_id", "That message belongs to another chat."));
                }
                chat = Some(msg_chat);
                let already: i64 = sqlx::query_scalar("SELECT CAST(COALESCE(SUM(amount), 0) AS BIGINT) FROM credit_refunds WHERE message_id = $1 AND status = 'completed'")
                    .bind(m).fetch_one(&mut *tx).await?;
                Some((Credits(charged), Credits(already)))
            }
        };
        if r.message.is_none() {
            if let Some(c) = chat {
                let owner: Option<UserId> = sqlx::query_scalar("SELECT real_user_id FROM chats WHERE id = $1").bind(c).fetch_optional(&mut *tx).await?;
                if owner != Some(r.user) {
                    return Err(refused("chat_id", "That chat is not this user's."));
                }
            }
        }
        check_refund(r.credits, bound).map_err(|m| refused("credits", m))?;
        sqlx::query("INSERT INTO credit_refunds (id, user_id, amount, reason, message_id, chat_id, processed_by, notes, status, created_at)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'completed', $9)")
            .bind(id).bind(r.user).bind(r.credits.get()).bind(r.reason).bind(r.message).bind(chat).bind(r.admin).bind(r.notes).bind(now)
            .execute(&mut *tx).await?;
        let reference = id.to_string();
        let movement = crate::ledger::Movement {
            user: r.user, delta: r.credits, reason: LedgerReason::Refund, reference: Some(&reference), idempotency_key: &key, created_by: Some(r.admin_account),
        };
        let balance = applied(CREDITS.post_in(&mut *tx, &movement.posting(), now).await?)?;
        emit_balance!(tx, r.user, balance, now);
        let word = if r.credits.get() == 1 { "credit" } else { "credits" };
        sqlx::query("INSERT INTO notifications (id, user_id, type, message, created_at) VALUES ($1, $2, 'credit_refund', $3, $4)")
            .bind(NotificationId::new()).bind(r.user).bind(format!("{} {word} refunded: {}.", r.credits, r.reason.label().to_lowercase())).bind(now)
            .execute(&mut *tx).await?;
        let after = serde_json::json!({ "refund_id": id, "credits": r.credits, "reason": r.reason, "message_id": r.message, "chat_id": chat, "notes": r.notes });
        platform_audit::record_in(&mut *tx, &Actor::admin(r.admin).record("credits_refunded").subject("user", &r.user.to_string()).change(None, Some(&after)), now).await?;
        tx.commit().await?;
        Ok(balance)
    });
    let balance = result?;
    Ok(Refunded { refund: by_id(db, id).await?, balance, repeated: false })
}

pub async fn by_id(db: &Db, id: RefundId) -> StoreResult<Refund> {
    let sql = format!("{REFUND_SELECT} WHERE r.id = $1");
    Ok(on_pool!(db, p => sqlx::query_as::<_, Refund>(&sql).bind(id).fetch_one(p).await?))
}

/// Recent refunds, pending ones first.
pub async fn recent(db: &Db, limit: i64) -> StoreResult<Vec<Refund>> {
    let sql = format!("{REFUND_SELECT} ORDER BY CASE WHEN r.status = 'pending' THEN 0 ELSE 1 END, r.created_at DESC LIMIT $1");
    Ok(on_pool!(db, p => sqlx::query_as::<_, Refund>(&sql).bind(limit).fetch_all(p).await?))
}

/// The cash owed when an account is deleted.
#[derive(Debug, Clone, Serialize)]
pub struct DeletionRefund {
    pub refund_id: Option<RefundId>,
    pub unused_credits: Credits,
    pub amount: Kes,
}

/// Turns a departing user's unused credits into a pending cash refund of
/// 10 KES each: the balance goes to zero through the ledger and a pending
/// `account_deletion` refund records what is owed, in one transaction. The
/// refund stays pending until an admin marks it paid.
pub async fn open_deletion_refund(db: &Db, user: UserId, admin: AdminId, admin_account: AccountId) -> StoreResult<DeletionRefund> {
    let now = Utc::now();
    let id = RefundId::new();
    on_pool!(db, p => {
        let mut tx = p.begin_write().await?;
        let credits: Option<i64> = sqlx::query_scalar("UPDATE real_users SET updated_at = $2 WHERE id = $1 RETURNING credits")
            .bind(user).bind(now).fetch_optional(&mut *tx).await?;
        let unused = Credits(credits.ok_or(StoreError::NotFound)?);
        let amount = deletion_refund(unused);
        if unused.get() == 0 {
            tx.rollback().await?;
            return Ok(DeletionRefund { refund_id: None, unused_credits: unused, amount });
        }
        sqlx::query("INSERT INTO credit_refunds (id, user_id, amount, reason, processed_by, notes, status, created_at)
                     VALUES ($1, $2, $3, 'account_deletion', $4, $5, 'pending', $6)")
            .bind(id).bind(user).bind(unused.get()).bind(admin).bind(format!("{amount} owed for {unused} unused credits")).bind(now)
            .execute(&mut *tx).await?;
        // One key per user: the balance is closed once, however often this runs.
        let key = format!("account-deletion:{user}");
        let reference = id.to_string();
        let movement = crate::ledger::Movement {
            user, delta: Credits(-unused.get()), reason: LedgerReason::AdminAdjustment, reference: Some(&reference), idempotency_key: &key, created_by: Some(admin_account),
        };
        let balance = applied(CREDITS.post_in(&mut *tx, &movement.posting(), now).await?)?;
        emit_balance!(tx, user, balance, now);
        let after = serde_json::json!({ "refund_id": id, "unused_credits": unused, "amount_cents": amount.cents() });
        platform_audit::record_in(&mut *tx, &Actor::admin(admin).record("deletion_refund_opened").subject("user", &user.to_string()).change(None, Some(&after)), now).await?;
        tx.commit().await?;
        Ok(DeletionRefund { refund_id: Some(id), unused_credits: unused, amount })
    })
}

/// Marks a pending refund as paid out (and the archived account's refund
/// as processed, when the account has been archived).
pub async fn complete_pending(db: &Db, id: RefundId, admin: AdminId) -> StoreResult<()> {
    let now = Utc::now();
    on_pool!(db, p => {
        let mut tx = p.begin_write().await?;
        let user: Option<UserId> = sqlx::query_scalar("UPDATE credit_refunds SET status = 'completed', processed_by = COALESCE(processed_by, $2)
                                                             WHERE id = $1 AND status = 'pending' RETURNING user_id")
            .bind(id).bind(admin).fetch_optional(&mut *tx).await?;
        let user = user.ok_or(StoreError::NotFound)?;
        sqlx::query("UPDATE deleted_users SET refund_processed = TRUE WHERE original_user_id = $1").bind(user).execute(&mut *tx).await?;
        let after = serde_json::json!({ "user_id": user });
        platform_audit::record_in(&mut *tx, &Actor::admin(admin).record("refund_paid").subject("credit_refund", &id.to_string()).change(None, Some(&after)), now).await?;
        tx.commit().await?;
    });
    Ok(())
}
