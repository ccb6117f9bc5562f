//! The books must balance. Each check is one query that lists violations;
//! an empty report means the data is consistent. Run after every load and
//! fault test, by `fantooo check`, and by admins on demand.

use crate::{on_pool, Db, StoreResult};
use serde::Serialize;

/// One broken rule, with the rows that break it (at most 20 shown).
#[derive(Debug, Clone, Serialize)]
pub struct Violation {
    pub rule: &'static str,
    pub count: usize,
    pub examples: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub checked: Vec<&'static str>,
    pub violations: Vec<Violation>,
}

impl Report {
    pub fn is_clean(&self) -> bool {
        self.violations.is_empty()
    }
}

/// (rule, query returning one text column describing each violation)
const CHECKS: &[(&str, &str)] = &[
    ("balance equals the sum of ledger entries",
     "SELECT CAST(u.id AS TEXT) || ': balance ' || CAST(u.credits AS TEXT) || ' vs ledger ' || CAST(COALESCE(l.total, 0) AS TEXT)
      FROM real_users u LEFT JOIN (SELECT user_id, CAST(SUM(delta) AS BIGINT) AS total FROM credit_ledger GROUP BY user_id) l ON l.user_id = u.id
      WHERE u.credits <> COALESCE(l.total, 0)"),
    ("balances are never negative",
     "SELECT CAST(id AS TEXT) FROM real_users WHERE credits < 0"),
    ("each ledger entry's balance_after follows the previous one",
     "SELECT CAST(l.id AS TEXT) FROM credit_ledger l
      WHERE l.balance_after <> (SELECT CAST(SUM(l2.delta) AS BIGINT) FROM credit_ledger l2 WHERE l2.user_id = l.user_id AND l2.seq <= l.seq)"),
    ("chat counters equal its messages",
     "SELECT CAST(c.id AS TEXT) || ': count ' || CAST(c.message_count AS TEXT) || ' vs ' || CAST(COALESCE(m.n, 0) AS TEXT)
      FROM chats c LEFT JOIN (SELECT chat_id, COUNT(*) AS n, SUM(CASE WHEN sender_type = 'real' AND credits_charged > 0 THEN 1 ELSE 0 END) AS paid,
                                     SUM(CASE WHEN sender_type = 'real' AND credits_charged = 0 THEN 1 ELSE 0 END) AS free,
                                     CAST(SUM(credits_charged) AS BIGINT) AS spent
                              FROM messages GROUP BY chat_id) m ON m.chat_id = c.id
      WHERE c.message_count <> COALESCE(m.n, 0) OR c.paid_messages_count <> COALESCE(m.paid, 0)
         OR c.free_messages_used <> COALESCE(m.free, 0) OR c.total_credits_spent <> COALESCE(m.spent, 0)"),
    ("every paid message has exactly one charge of its price",
     "SELECT CAST(m.id AS TEXT) FROM messages m
      WHERE m.credits_charged > 0 AND (SELECT COUNT(*) FROM credit_ledger l WHERE l.reference = CAST(m.id AS TEXT) AND l.reason = 'message_charge' AND l.delta = -m.credits_charged) <> 1"),
    // With the check above, equal per-user totals mean no charge lacks its message.
    ("message charges add up to the paid messages, per user",
     "SELECT CAST(u.id AS TEXT) || ': charged ' || CAST(COALESCE(l.n, 0) AS TEXT) || ' for ' || CAST(COALESCE(l.total, 0) AS TEXT)
             || ', paid messages ' || CAST(COALESCE(m.n, 0) AS TEXT) || ' for ' || CAST(COALESCE(m.total, 0) AS TEXT)
      FROM real_users u
      LEFT JOIN (SELECT user_id, COUNT(*) AS n, CAST(-SUM(delta) AS BIGINT) AS total FROM credit_ledger WHERE reason = 'message_charge' GROUP BY user_id) l ON l.user_id = u.id
      LEFT JOIN (SELECT c.real_user_id, COUNT(*) AS n, CAST(SUM(m.credits_charged) AS BIGINT) AS total
                 FROM messages m JOIN chats c ON c.id = m.chat_id WHERE m.credits_charged > 0 GROUP BY c.real_user_id) m ON m.real_user_id = u.id
      WHERE COALESCE(l.n, 0) <> COALESCE(m.n, 0) OR COALESCE(l.total, 0) <> COALESCE(m.total, 0)"),
    ("operator chat counts equal their assigned chats",
     "SELECT CAST(o.id AS TEXT) || ': ' || CAST(o.current_chat_count AS TEXT) || ' vs ' || CAST(COALESCE(c.n, 0) AS TEXT)
      FROM operators o LEFT JOIN (SELECT assigned_operator_id, COUNT(*) AS n FROM chats WHERE assigned_operator_id IS NOT NULL GROUP BY assigned_operator_id) c
        ON c.assigned_operator_id = o.id
      WHERE o.current_chat_count <> COALESCE(c.n, 0)"),
    ("no operator above their limit",
     "SELECT CAST(id AS TEXT) FROM operators WHERE current_chat_count > max_concurrent_chats"),
    ("assigned chats are not also waiting",
     "SELECT CAST(q.chat_id AS TEXT) FROM chat_queue q JOIN chats c ON c.id = q.chat_id WHERE c.assigned_operator_id IS NOT NULL"),
];

/// Runs every check.
pub async fn check(db: &Db) -> StoreResult<Report> {
    let mut violations = vec![];
    for (rule, sql) in CHECKS {
        let rows: Vec<String> = on_pool!(db, p => sqlx::query_scalar(sql).fetch_all(p).await?);
        if !rows.is_empty() {
            violations.push(Violation { rule, count: rows.len(), examples: rows.into_iter().take(20).collect() });
        }
    }
    Ok(Report { checked: CHECKS.iter().map(|(r, _)| *r).collect(), violations })
}
