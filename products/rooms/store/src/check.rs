//! `rooms check`: invariants the data must hold whatever happened — the
//! room and seat invariants, the ledger's own checks over the coin and
//! diamond wallets, and the economy's (see [`ECONOMY`]).

use crate::{on_pool, Db, StoreResult};

/// Names of violated invariants with their counts; empty when clean.
pub async fn run(db: &Db) -> StoreResult<Vec<(String, i64)>> {
    let checks: &[(&str, &str)] = &[
        (
            "room count differs from its participants",
            "SELECT COUNT(*) FROM rooms r WHERE r.present <> (SELECT COUNT(*) FROM room_participants p WHERE p.room_id = r.id)",
        ),
        (
            "seated user not in the room",
            "SELECT COUNT(*) FROM seats s WHERE s.occupant_id IS NOT NULL
             AND NOT EXISTS (SELECT 1 FROM room_participants p WHERE p.room_id = s.room_id AND p.account_id = s.occupant_id)",
        ),
        (
            "closed room with people in it",
            "SELECT COUNT(*) FROM room_participants p JOIN rooms r ON r.id = p.room_id WHERE r.status = 'closed'",
        ),
        (
            "seats beyond the seat count",
            "SELECT COUNT(*) FROM seats s JOIN rooms r ON r.id = s.room_id WHERE s.seat_no > r.seat_count + r.bonus_seats OR s.seat_no < 1",
        ),
        ("locked seat with an occupant", "SELECT COUNT(*) FROM seats WHERE locked AND occupant_id IS NOT NULL"),
        ("seat session ending before it starts", "SELECT COUNT(*) FROM seat_sessions WHERE ended_at < started_at"),
        (
            "open seat session for a seat not held",
            "SELECT COUNT(*) FROM seat_sessions o WHERE o.ended_at IS NULL
             AND NOT EXISTS (SELECT 1 FROM seats s WHERE s.room_id = o.room_id AND s.seat_no = o.seat_no AND s.occupant_id = o.account_id)",
        ),
    ];
    let mut out = vec![];
    for (name, sql) in checks
        .iter()
        .chain(ECONOMY)
        .chain(crate::coin_requests::CHECKS)
        .chain(STANDING)
        .chain(crate::vip::CHECKS)
        .chain(AGENCIES)
        .chain(crate::leaderboards::CHECKS)
        .chain(crate::salary_exchange::CHECKS)
    {
        let n: i64 = on_pool!(db, p => sqlx::query_scalar(sql).fetch_one(p).await?);
        if n > 0 {
            out.push((name.to_string(), n));
        }
    }
    // Gifts are credited by the batched writer right after they are
    // accepted; one still waiting after a while was missed.
    let late = crate::gifts::uncredited_before(db, chrono::Utc::now() - crate::gifts::CREDIT_LATE).await?;
    if late > 0 {
        out.push(("gift not credited 5 minutes after it was accepted".to_string(), late));
    }
    let ledger = platform_ledger::invariants::run(db, &platform_ledger::Book::standard().checks()).await?;
    for v in ledger.violations {
        out.push((format!("ledger: {}", v.rule), v.count as i64));
    }
    Ok(out)
}

/// A counter board and period `all` against the gift records it sums:
/// counters minus gifts must be zero for every subject.
macro_rules! counters_match {
    ($board:literal, $subject:literal, $amount:literal) => {
        concat!(
            "SELECT COUNT(*) FROM (SELECT subject FROM (
               SELECT subject, amount FROM gift_counters WHERE board = '",
            $board,
            "' AND period = 'all'
               UNION ALL SELECT CAST(",
            $subject,
            " AS TEXT), -",
            $amount,
            " FROM gift_sends) x
             GROUP BY subject HAVING SUM(amount) <> 0) y"
        )
    };
}

/// The economy's invariants.
pub const ECONOMY: &[(&str, &str)] = &[
    ("gift shares do not add up to the gift's cost", "SELECT COUNT(*) FROM gift_sends WHERE owner_share + receiver_share + agency_share + platform_share <> cost"),
    (
        "gift without its ledger posting",
        "SELECT COUNT(*) FROM gift_sends s WHERE (s.escrow_posting IS NULL
           AND NOT EXISTS (SELECT 1 FROM ledger_entries e WHERE e.reference = CAST(s.id AS TEXT) AND e.reason = 'gift'))
           OR (s.escrow_posting IS NOT NULL AND NOT EXISTS (SELECT 1 FROM ledger_entries e WHERE e.idempotency_key = s.escrow_posting AND e.reason = 'gift'))",
    ),
    (
        "a batch's escrow transfer moved other than its gifts' costs (per sender and into the shard)",
        "SELECT COUNT(*) FROM (SELECT k, who FROM (
           SELECT escrow_posting AS k, CAST(sender_id AS TEXT) AS who, cost AS amount FROM gift_sends WHERE escrow_posting IS NOT NULL
           UNION ALL SELECT escrow_posting, 'escrow', -cost FROM gift_sends WHERE escrow_posting IS NOT NULL
           UNION ALL SELECT e.idempotency_key, CASE WHEN w.owner_kind = 'account' THEN w.owner_id ELSE 'escrow' END, e.delta
             FROM ledger_entries e JOIN wallets w ON w.id = e.wallet_id
             WHERE e.reason = 'gift' AND e.idempotency_key IN (SELECT escrow_posting FROM gift_sends WHERE escrow_posting IS NOT NULL)
         ) x GROUP BY k, who HAVING SUM(amount) <> 0) y",
    ),
    (
        "gift naming an account, room or gift that does not exist",
        "SELECT COUNT(*) FROM gift_sends s WHERE NOT EXISTS (SELECT 1 FROM accounts a WHERE a.id = s.sender_id)
           OR NOT EXISTS (SELECT 1 FROM accounts a WHERE a.id = s.recipient_id)
           OR NOT EXISTS (SELECT 1 FROM rooms r WHERE r.id = s.room_id)
           OR NOT EXISTS (SELECT 1 FROM gifts g WHERE g.id = s.gift_id)",
    ),
    (
        "gift marked credited with a batch that does not exist",
        "SELECT COUNT(*) FROM gift_sends s WHERE s.credit_batch IS NOT NULL AND NOT EXISTS (SELECT 1 FROM gift_credit_batches b WHERE b.id = s.credit_batch)",
    ),
    (
        "gift credit batch differs from the gifts marked with it",
        "SELECT COUNT(*) FROM gift_credit_batches b WHERE NOT EXISTS (SELECT 1 FROM (SELECT COUNT(*) AS n, COALESCE(SUM(s.cost), 0) AS coins,
           COALESCE(SUM(CASE WHEN s.receiver_unit = 'diamonds' THEN s.receiver_share ELSE 0 END), 0) AS diamonds
           FROM gift_sends s WHERE s.credit_batch = b.id) x WHERE x.n = b.gifts AND x.coins = b.coins AND x.diamonds = b.diamonds)",
    ),
    (
        "gift credit batch posted other than its gifts' costs and diamonds (or more than once)",
        "SELECT COUNT(*) FROM gift_credit_batches b WHERE b.coins <> COALESCE((SELECT -SUM(e.delta) FROM ledger_entries e
           WHERE e.idempotency_key = 'gift_credit:' || CAST(b.id AS TEXT) AND e.reason = 'gift' AND e.delta < 0), 0)
           OR b.diamonds <> COALESCE((SELECT SUM(e.delta) FROM ledger_entries e
           WHERE e.idempotency_key = 'gift_credit_diamonds:' || CAST(b.id AS TEXT) AND e.reason = 'gift_diamonds' AND e.delta > 0), 0)",
    ),
    (
        "an owner or receiver was credited other than the shares of the gifts in a batch",
        "SELECT COUNT(*) FROM (SELECT b, who, unit FROM (
           SELECT CAST(credit_batch AS TEXT) AS b, CAST(owner_id AS TEXT) AS who, 'coins' AS unit, owner_share AS amount
             FROM gift_sends WHERE credit_batch IS NOT NULL
           UNION ALL SELECT CAST(credit_batch AS TEXT), CAST(recipient_id AS TEXT), receiver_unit, receiver_share
             FROM gift_sends WHERE credit_batch IS NOT NULL
           UNION ALL SELECT CAST(b.id AS TEXT), w.owner_id, w.unit, -e.delta FROM gift_credit_batches b
             JOIN ledger_entries e ON e.idempotency_key IN ('gift_credit:' || CAST(b.id AS TEXT), 'gift_credit_diamonds:' || CAST(b.id AS TEXT))
             JOIN wallets w ON w.id = e.wallet_id WHERE w.owner_kind = 'account'
         ) x GROUP BY b, who, unit HAVING SUM(amount) <> 0) y",
    ),
    (
        "gift escrow differs from the costs of the gifts waiting for their credit",
        "SELECT COUNT(*) FROM (SELECT (SELECT COALESCE(SUM(balance), 0) FROM wallets WHERE owner_kind = 'system' AND owner_id LIKE 'gift_escrow:%'
                AND unit = 'coins') AS held,
                (SELECT COALESCE(SUM(cost), 0) FROM gift_sends WHERE credited_at IS NULL) AS waiting) x WHERE held <> waiting",
    ),
    ("room counters differ from the room's gifts", counters_match!("room", "room_id", "cost")),
    ("wealth counters differ from the sender's gifts", counters_match!("wealth", "sender_id", "cost")),
    ("charm counters differ from the receiver's gifts", counters_match!("charm", "recipient_id", "cost")),
    ("charm XP counters differ from the gifts' XP", counters_match!("charm_xp", "recipient_id", "charm_xp")),
    (
        "coins were made or lost: all coin balances differ from the opening stock",
        "SELECT COUNT(*) FROM (SELECT (SELECT COALESCE(SUM(balance), 0) FROM wallets WHERE unit = 'coins') AS held,
                (SELECT COALESCE(SUM(delta), 0) FROM ledger_entries WHERE unit = 'coins' AND reason = 'opening_stock') AS made) x WHERE held <> made",
    ),
    (
        "diamonds were made or lost: all diamond balances differ from the opening stock",
        "SELECT COUNT(*) FROM (SELECT (SELECT COALESCE(SUM(balance), 0) FROM wallets WHERE unit = 'diamonds') AS held,
                (SELECT COALESCE(SUM(delta), 0) FROM ledger_entries WHERE unit = 'diamonds' AND reason = 'opening_stock') AS made) x WHERE held <> made",
    ),
    (
        "credited purchase without exactly one ledger credit",
        "SELECT COUNT(*) FROM coin_purchases p WHERE (p.status = 'credited') <> EXISTS
           (SELECT 1 FROM ledger_entries e WHERE e.idempotency_key = 'purchase:' || p.reference AND e.delta > 0)",
    ),
    (
        "payout hold differs from the diamonds of open payouts",
        "SELECT COUNT(*) FROM (SELECT (SELECT COALESCE(SUM(balance), 0) FROM wallets WHERE owner_kind = 'system' AND owner_id = 'payout_hold'
                AND unit = 'diamonds') AS held,
                (SELECT COALESCE(SUM(diamonds), 0) FROM diamond_payouts WHERE status IN ('requested', 'approved')) AS open) x WHERE held <> open",
    ),
    (
        "paid payout without exactly one payment of its diamonds (or paid without being marked)",
        "SELECT COUNT(*) FROM diamond_payouts p WHERE (p.status = 'paid') <> (1 = (SELECT COUNT(*) FROM ledger_entries e
           WHERE e.idempotency_key = 'payout_paid:' || CAST(p.id AS TEXT) AND e.delta = p.diamonds))",
    ),
];

/// Agencies: member counts that match their members, within the limit;
/// members' payouts confirmed by the agency before staff approve them, and
/// every rejected payout returned once.
pub const AGENCIES: &[(&str, &str)] = &[
    (
        "an agency's member count differs from its members",
        "SELECT COUNT(*) FROM agencies a WHERE a.member_count <> (SELECT COUNT(*) FROM agency_members m WHERE m.agency_id = a.id)",
    ),
    ("an agency has more members than its limit", "SELECT COUNT(*) FROM agencies WHERE member_count > member_limit"),
    (
        "an agency member's payout approved or paid without the agency's confirmation",
        "SELECT COUNT(*) FROM diamond_payouts WHERE status IN ('approved', 'paid') AND agency_id IS NOT NULL AND agency_confirmed_at IS NULL",
    ),
    (
        "rejected payout without exactly one return of its diamonds (or returned without being rejected)",
        "SELECT COUNT(*) FROM diamond_payouts p WHERE (p.status = 'rejected') <> (1 = (SELECT COUNT(*) FROM ledger_entries e
           WHERE e.idempotency_key = 'payout_returned:' || CAST(p.id AS TEXT) AND e.delta = p.diamonds))",
    ),
    (
        "an agency owner is a member of an agency",
        "SELECT COUNT(*) FROM agencies a WHERE EXISTS (SELECT 1 FROM agency_members m WHERE m.account_id = a.owner_id)",
    ),
];

/// Levels, frames and VIP: ladders that hold, periods that make sense.
pub const STANDING: &[(&str, &str)] = &[
    ("a level ladder does not start at 0 XP", "SELECT COUNT(*) FROM level_steps WHERE level = 1 AND xp <> 0"),
    (
        "a level ladder has a gap or XP that does not increase",
        "SELECT COUNT(*) FROM level_steps a WHERE a.level > 1 AND NOT EXISTS
           (SELECT 1 FROM level_steps b WHERE b.track = a.track AND b.level = a.level - 1 AND b.xp < a.xp)",
    ),
    (
        "frame purchase without its ledger debit of its price",
        "SELECT COUNT(*) FROM frame_purchases p WHERE p.price <> COALESCE((SELECT -SUM(e.delta) FROM ledger_entries e
           WHERE e.reference = CAST(p.id AS TEXT) AND e.reason = 'frame_purchase' AND e.delta < 0), 0)",
    ),
    (
        "owned frame ending after its purchases' days allow",
        "SELECT COUNT(*) FROM owned_frames o WHERE o.expires_at > (SELECT MAX(p.expires_at) FROM frame_purchases p
           WHERE p.account_id = o.account_id AND p.frame_id = o.frame_id)",
    ),
];
