//! The books must balance. Each check is one query that lists violations;
//! an empty report means the data is consistent. Run after every load and
//! fault test, by `fantooo check`, and by admins on demand.
//!
//! The credit book's own checks come from `platform_ledger` ([`CREDITS`]),
//! then Fantooo's: chats, messages and charges, operators and the queue.

use crate::ledger::CREDITS;
use crate::{Db, StoreResult};
use platform_ledger::invariants::{run, Check};
use platform_ledger::Book;

pub use platform_ledger::invariants::{Report, Violation};

/// Fantooo's own rules, after the book's.
const PRODUCT_CHECKS: &[Check] = &[
    Check::new("chat counters equal its messages",
     "SELECT CAST(c.id AS TEXT) || ': count ' || CAST(c.message_count AS TEXT) || ' vs ' || CAST(COALESCE(m.n, 0) AS TEXT)
      FROM chats c LEFT JOIN (SELECT chat_id, COUNT(*) AS n, SUM(CASE WHEN sender_type = 'real' AND credits_charged > 0 THEN 1 ELSE 0 END) AS paid,
                                     SUM(CASE WHEN sender_type = 'real' AND credits_charged = 0 THEN 1 ELSE 0 END) AS free,
                                     CAST(SUM(credits_charged) AS BIGINT) AS spent
                              FROM messages GROUP BY chat_id) m ON m.chat_id = c.id
      WHERE c.message_count <> COALESCE(m.n, 0) OR c.paid_messages_count <> COALESCE(m.paid, 0)
         OR c.free_messages_used <> COALESCE(m.free, 0) OR c.total_credits_spent <> COALESCE(m.spent, 0)"),
    Check::new("every paid message has exactly one charge of its price",
     "SELECT CAST(m.id AS TEXT) FROM messages m
      WHERE m.credits_charged > 0 AND (SELECT COUNT(*) FROM credit_ledger l WHERE l.reference = CAST(m.id AS TEXT) AND l.reason = 'message_charge' AND l.delta = -m.credits_charged) <> 1"),
    // With the check above, equal per-user totals mean no charge lacks its message.
    Check::new("message charges add up to the paid messages, per user",
     "SELECT CAST(u.id AS TEXT) || ': charged ' || CAST(COALESCE(l.n, 0) AS TEXT) || ' for ' || CAST(COALESCE(l.total, 0) AS TEXT)
             || ', paid messages ' || CAST(COALESCE(m.n, 0) AS TEXT) || ' for ' || CAST(COALESCE(m.total, 0) AS TEXT)
      FROM real_users u
      LEFT JOIN (SELECT user_id, COUNT(*) AS n, CAST(-SUM(delta) AS BIGINT) AS total FROM credit_ledger WHERE reason = 'message_charge' GROUP BY user_id) l ON l.user_id = u.id
      LEFT JOIN (SELECT c.real_user_id, COUNT(*) AS n, CAST(SUM(m.credits_charged) AS BIGINT) AS total
                 FROM messages m JOIN chats c ON c.id = m.chat_id WHERE m.credits_charged > 0 GROUP BY c.real_user_id) m ON m.real_user_id = u.id
      WHERE COALESCE(l.n, 0) <> COALESCE(m.n, 0) OR COALESCE(l.total, 0) <> COALESCE(m.total, 0)"),
    Check::new("profile counters equal their users' messages",
     "SELECT CAST(f.id AS TEXT) || ': ' || CAST(f.total_messages + COALESCE(s.n, 0) AS TEXT) || ' vs ' || CAST(COALESCE(m.n, 0) AS TEXT)
      FROM fictional_users f
      LEFT JOIN (SELECT profile_id, SUM(messages) AS n, SUM(revenue_credits) AS credits FROM profile_message_counts GROUP BY profile_id) s ON s.profile_id = f.id
      LEFT JOIN (SELECT c.fictional_user_id, COUNT(*) AS n, CAST(SUM(m.credits_charged) AS BIGINT) AS credits
                 FROM messages m JOIN chats c ON c.id = m.chat_id WHERE m.sender_type = 'real' GROUP BY c.fictional_user_id) m ON m.fictional_user_id = f.id
      WHERE f.total_messages + COALESCE(s.n, 0) <> COALESCE(m.n, 0) OR f.total_revenue_credits + COALESCE(s.credits, 0) <> COALESCE(m.credits, 0)"),
    Check::new("operator chat counts equal their assigned chats",
     "SELECT CAST(o.id AS TEXT) || ': ' || CAST(o.current_chat_count AS TEXT) || ' vs ' || CAST(COALESCE(c.n, 0) AS TEXT)
      FROM operators o LEFT JOIN (SELECT assigned_operator_id, COUNT(*) AS n FROM chats WHERE assigned_operator_id IS NOT NULL GROUP BY assigned_operator_id) c
        ON c.assigned_operator_id = o.id
      WHERE o.current_chat_count <> COALESCE(c.n, 0)"),
    Check::new("no operator above their limit",
     "SELECT CAST(id AS TEXT) FROM operators WHERE current_chat_count > max_concurrent_chats"),
    Check::new("assigned chats are not also waiting",
     "SELECT CAST(q.chat_id AS TEXT) FROM chat_queue q JOIN chats c ON c.id = q.chat_id WHERE c.assigned_operator_id IS NOT NULL"),
];

/// The credit book's checks, under the names Fantooo's reports have always
/// given them.
fn ledger_checks() -> Vec<Check> {
    CREDITS
        .checks()
        .into_iter()
        .map(|check| {
            let rule = match check.rule {
                Book::BALANCE_IS_SUM_OF_ENTRIES => "balance equals the sum of ledger entries",
                Book::NO_NEGATIVE_BALANCE => "balances are never negative",
                Book::ENTRIES_FOLLOW_ON => "each ledger entry's balance_after follows the previous one",
                other => other,
            };
            Check { rule, ..check }
        })
        .collect()
}

/// Runs every check: the book's, then Fantooo's.
pub async fn check(db: &Db) -> StoreResult<Report> {
    let mut checks = ledger_checks();
    checks.extend_from_slice(PRODUCT_CHECKS);
    run(db, &checks).await
}
