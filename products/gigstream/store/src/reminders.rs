//! The unread-message email: [`send_due`] finds, per conversation and
//! recipient, messages from the other side unread for
//! [`UNREAD_REMINDER_MINUTES`] and not covered by an earlier email, and for
//! each writes one `unread_messages` notification (its email queued by the
//! person's preferences) in the same transaction as the conditional move of
//! `message_reminders.upto_seq` — so a second run, or another node, finds
//! nothing to send, and a claim is never kept without its email.

use crate::notifications::{create_in, New};
use chrono::{DateTime, Utc};
use gigstream_domain::ids::AccountId;
use gigstream_domain::messaging::ConversationId;
use gigstream_domain::notifications::{Event, UNREAD_REMINDER_MINUTES};
use platform_db::{on_pool, BeginWrite, Db, StoreResult};

/// Messages older than this are not reminded of (a first run after a long
/// pause would otherwise mail about old conversations).
pub const LOOK_BACK_DAYS: i64 = 2;

/// A conversation whose recipient is due an email.
#[derive(Debug, Clone, sqlx::FromRow)]
struct Candidate {
    conversation_id: ConversationId,
    account_id: AccountId,
    subject: String,
    other_name: String,
    unread: i64,
    upto_seq: i64,
}

/// What one run did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct Reminded {
    /// Conversations whose recipient got a reminder notification.
    pub reminded: usize,
    /// How many of those queued an email (the rest had it turned off).
    pub emails: usize,
}

/// Writes the reminders due at `now` (at most `limit` conversations).
pub async fn send_due(db: &Db, now: DateTime<Utc>, limit: i64) -> StoreResult<Reminded> {
    let cutoff = now - chrono::Duration::minutes(UNREAD_REMINDER_MINUTES);
    let since = now - chrono::Duration::days(LOOK_BACK_DAYS);
    let sql = "SELECT c.id AS conversation_id, r.account_id, c.subject, o.display_name AS other_name,
                      COUNT(*) AS unread, MAX(m.seq) AS upto_seq
               FROM (SELECT id, buyer_id AS account_id, seller_id AS other_id FROM conversations
                     UNION ALL SELECT id, seller_id, buyer_id FROM conversations) r
               JOIN conversations c ON c.id = r.id
               JOIN accounts o ON o.id = r.other_id
               JOIN messages m ON m.conversation_id = r.id AND m.sender_id = r.other_id
               LEFT JOIN conversation_reads cr ON cr.conversation_id = r.id AND cr.account_id = r.account_id
               LEFT JOIN message_reminders mr ON mr.conversation_id = r.id AND mr.account_id = r.account_id
               WHERE m.created_at > $1 AND m.seq > COALESCE(cr.last_read_seq, 0) AND m.seq > COALESCE(mr.upto_seq, 0)
               GROUP BY c.id, r.account_id, c.subject, o.display_name
               HAVING MIN(m.created_at) <= $2
               ORDER BY MIN(m.seq) LIMIT $3";
    let due: Vec<Candidate> = on_pool!(db, p => sqlx::query_as(sql).bind(since).bind(cutoff).bind(limit).fetch_all(p).await?);
    let mut done = Reminded::default();
    for c in due {
        let title = format!("Unread messages from {}", c.other_name);
        let body = if c.unread == 1 {
            format!("{} wrote to you about “{}” and is waiting for your reply.", c.other_name, c.subject)
        } else {
            format!("{} sent you {} messages about “{}” that you have not read yet.", c.other_name, c.unread, c.subject)
        };
        let link = format!("/messages/{}", c.conversation_id);
        let n = New { account: c.account_id, event: Event::UnreadMessages, title: &title, body: &body, link: &link };
        let created = on_pool!(db, p => async {
            let mut tx = p.begin_write().await?;
            // Still unread (the recipient may have read meanwhile), and the claim
            // moves forward only past what an earlier email covered.
            let still: i64 = sqlx::query_scalar(
                "SELECT COUNT(*) FROM messages m WHERE m.conversation_id = $1 AND m.sender_id <> $2 AND m.seq <= $3
                   AND m.seq > COALESCE((SELECT last_read_seq FROM conversation_reads WHERE conversation_id = $1 AND account_id = $2), 0)")
                .bind(c.conversation_id).bind(c.account_id).bind(c.upto_seq).fetch_one(&mut *tx).await?;
            if still == 0 {
                return Ok(None);
            }
            let claimed = sqlx::query(
                "INSERT INTO message_reminders (conversation_id, account_id, upto_seq, emailed_at) VALUES ($1, $2, $3, $4)
                 ON CONFLICT (conversation_id, account_id) DO UPDATE SET upto_seq = excluded.upto_seq, emailed_at = excluded.emailed_at
                 WHERE message_reminders.upto_seq < excluded.upto_seq")
                .bind(c.conversation_id).bind(c.account_id).bind(c.upto_seq).bind(now).execute(&mut *tx).await?.rows_affected();
            if claimed == 0 {
                return Ok(None);
            }
            let created = create_in!(tx, &n, now);
            tx.commit().await?;
            Ok::<_, platform_db::StoreError>(Some(created))
        }.await)?;
        if let Some(created) = created {
            done.reminded += 1;
            done.emails += created.queued.iter().filter(|ch| **ch == gigstream_domain::notifications::Channel::Email).count();
        }
    }
    Ok(done)
}
