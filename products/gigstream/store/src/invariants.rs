//! The invariants `gigstream check` runs: the ledger's own (balances equal
//! their entries, transfers balance, nothing negative) and GigStream's:
//! payments = escrow + released + refunded; released = seller earnings +
//! fees; the orders' columns agree with the ledger; closed orders hold
//! nothing in escrow.

use platform_db::{Db, StoreResult};
use platform_ledger::invariants::{run, Check, Report};
use platform_ledger::Book;

pub const ESCROW_HOLDS_OPEN_ORDERS: &str = "escrow holds exactly what open orders hold (paid - refunded - released), per currency";
pub const PAYMENTS_ARE_ESCROW_RELEASED_REFUNDED: &str = "payments = escrow + released + refunded, per currency (ledger)";
pub const ESCROW_MOVES_ONLY_FOR_ORDERS: &str = "escrow moves only by payment, release and refund";
pub const LEDGER_MATCHES_ORDERS: &str = "payments, releases and refunds in the ledger equal the orders' totals";
pub const RELEASED_IS_EARNINGS_PLUS_FEES: &str = "released = seller earnings + platform fees, per order";
pub const EARNINGS_MATCH_WALLETS: &str = "seller pending earnings and the fee wallet received exactly the orders' earnings and fees";
pub const CLOSED_ORDERS_HOLD_NOTHING: &str = "a released, refunded or resolved order holds nothing in escrow";
pub const PAID_MEANS_PAID_AT: &str = "an order holds money exactly when it was paid";

const ESCROW_WALLET: &str = "w.owner_kind = 'system' AND w.owner_id = 'escrow'";

fn own() -> Vec<Check> {
    let by_reason = |reason: &str, sign: &str| {
        format!("CAST(COALESCE(SUM(CASE WHEN e.reason = '{reason}' THEN {sign}e.delta ELSE 0 END), 0) AS BIGINT)")
    };
    vec![
        Check::owned(
            ESCROW_HOLDS_OPEN_ORDERS,
            format!(
                "SELECT o.currency || ': orders hold ' || CAST(o.held AS TEXT) || ', escrow ' || CAST(COALESCE(w.balance, 0) AS TEXT)
                 FROM (SELECT currency, CAST(SUM(paid_minor - refunded_minor - released_minor) AS BIGINT) AS held FROM orders GROUP BY currency) o
                 LEFT JOIN wallets w ON {ESCROW_WALLET} AND w.unit = o.currency
                 WHERE o.held <> COALESCE(w.balance, 0)"
            ),
        ),
        Check::owned(
            PAYMENTS_ARE_ESCROW_RELEASED_REFUNDED,
            format!(
                "SELECT x.unit || ': payments ' || CAST(x.paid AS TEXT) || ' vs escrow ' || CAST(x.balance AS TEXT) || ' + released '
                        || CAST(x.released AS TEXT) || ' + refunded ' || CAST(x.refunded AS TEXT)
                 FROM (SELECT e.unit, MAX(w.balance) AS balance, {} AS paid, {} AS released, {} AS refunded
                       FROM ledger_entries e JOIN wallets w ON w.id = e.wallet_id WHERE {ESCROW_WALLET} GROUP BY e.unit) x
                 WHERE x.paid <> x.balance + x.released + x.refunded",
                by_reason("payment", ""),
                by_reason("release", "-"),
                by_reason("refund", "-")
            ),
        ),
        Check::owned(
            ESCROW_MOVES_ONLY_FOR_ORDERS,
            format!(
                "SELECT CAST(e.id AS TEXT) || ': ' || e.reason FROM ledger_entries e JOIN wallets w ON w.id = e.wallet_id
                 WHERE {ESCROW_WALLET} AND e.reason NOT IN ('payment', 'release', 'refund')"
            ),
        ),
        Check::owned(
            LEDGER_MATCHES_ORDERS,
            format!(
                "SELECT o.currency || ': orders paid/released/refunded ' || CAST(o.paid AS TEXT) || '/' || CAST(o.released AS TEXT) || '/'
                        || CAST(o.refunded AS TEXT) || ', ledger ' || CAST(COALESCE(l.paid, 0) AS TEXT) || '/'
                        || CAST(COALESCE(l.released, 0) AS TEXT) || '/' || CAST(COALESCE(l.refunded, 0) AS TEXT)
                 FROM (SELECT currency, CAST(SUM(paid_minor) AS BIGINT) AS paid, CAST(SUM(released_minor) AS BIGINT) AS released,
                              CAST(SUM(refunded_minor) AS BIGINT) AS refunded FROM orders GROUP BY currency) o
                 LEFT JOIN (SELECT e.unit, {} AS paid, {} AS released, {} AS refunded
                            FROM ledger_entries e JOIN wallets w ON w.id = e.wallet_id WHERE {ESCROW_WALLET} GROUP BY e.unit) l
                   ON l.unit = o.currency
                 WHERE o.paid <> COALESCE(l.paid, 0) OR o.released <> COALESCE(l.released, 0) OR o.refunded <> COALESCE(l.refunded, 0)",
                by_reason("payment", ""),
                by_reason("release", "-"),
                by_reason("refund", "-")
            ),
        ),
        Check::new(
            RELEASED_IS_EARNINGS_PLUS_FEES,
            "SELECT CAST(id AS TEXT) || ': released ' || CAST(released_minor AS TEXT) || ' vs ' || CAST(seller_earned_minor AS TEXT)
                    || ' + ' || CAST(platform_earned_minor AS TEXT)
             FROM orders WHERE released_minor <> seller_earned_minor + platform_earned_minor
                OR refunded_minor + released_minor > paid_minor",
        ),
        Check::new(
            EARNINGS_MATCH_WALLETS,
            "SELECT o.currency || ': orders earned ' || CAST(o.seller AS TEXT) || ' + fees ' || CAST(o.fees AS TEXT) || ', ledger '
                    || CAST(COALESCE(l.seller, 0) AS TEXT) || ' + ' || CAST(COALESCE(l.fees, 0) AS TEXT)
             FROM (SELECT currency, CAST(SUM(seller_earned_minor) AS BIGINT) AS seller, CAST(SUM(platform_earned_minor) AS BIGINT) AS fees
                   FROM orders GROUP BY currency) o
             LEFT JOIN (SELECT e.unit,
                          CAST(SUM(CASE WHEN w.owner_kind = 'seller_pending' THEN e.delta ELSE 0 END) AS BIGINT) AS seller,
                          CAST(SUM(CASE WHEN w.owner_kind = 'system' AND w.owner_id = 'platform_fees' THEN e.delta ELSE 0 END) AS BIGINT) AS fees
                        FROM ledger_entries e JOIN wallets w ON w.id = e.wallet_id WHERE e.reason = 'release' GROUP BY e.unit) l
               ON l.unit = o.currency
             WHERE o.seller <> COALESCE(l.seller, 0) OR o.fees <> COALESCE(l.fees, 0)",
        ),
        Check::new(
            CLOSED_ORDERS_HOLD_NOTHING,
            "SELECT CAST(id AS TEXT) || ' (' || status || '): holds ' || CAST(paid_minor - refunded_minor - released_minor AS TEXT)
             FROM orders WHERE status IN ('released', 'refunded', 'resolved') AND paid_minor - refunded_minor - released_minor <> 0",
        ),
        Check::new(
            PAID_MEANS_PAID_AT,
            "SELECT CAST(id AS TEXT) || ': paid ' || CAST(paid_minor AS TEXT)
             FROM orders WHERE (paid_minor > 0 AND paid_at IS NULL) OR (paid_minor = 0 AND paid_at IS NOT NULL)
                OR (status = 'placed' AND paid_minor <> 0)",
        ),
    ]
}

/// Every check, the ledger's first.
pub fn checks() -> Vec<Check> {
    let mut all = Book::standard().checks();
    all.extend(own());
    all.extend(crate::invoices::checks());
    all.push(facets_match_gigs());
    all.push(term_facets_match_words());
    all
}

pub const TERM_FACETS_MATCH_WORDS: &str =
    "the search's kept per-term facet counts (gig_term_facets) equal a fresh count of the active gigs' words";
pub const WORDS_MATCH_VECTORS: &str = "the kept words of every gig (gig_words) are its search_vector's terms and weights";

/// Every kept per-term cell (folded plus deltas) against a fresh count of
/// `gig_words` over the active gigs, both ways.
fn term_facets_match_words() -> Check {
    use crate::search::{band_case, stars_case};
    let fresh = format!(
        "SELECT w.term, g.category, COALESCE(g.subcategory, '') AS subcategory, g.seller_level, {} AS band,
                g.min_delivery_days AS days, {} AS stars, COUNT(*) AS n
         FROM gig_words w JOIN gigs g ON g.id = w.gig_id WHERE g.status = 'active' GROUP BY 1, 2, 3, 4, 5, 6, 7",
        band_case("g.min_price_minor"),
        stars_case("g.rating_x100")
    );
    let kept = "SELECT term, category, subcategory, seller_level, band, days, stars, SUM(n) AS n
         FROM (SELECT term, category, subcategory, seller_level, band, days, stars, n FROM gig_term_facets
               UNION ALL SELECT term, category, subcategory, seller_level, band, days, stars, n FROM gig_term_facet_deltas) c
         GROUP BY term, category, subcategory, seller_level, band, days, stars";
    let on = "x.term = f.term AND x.category = f.category AND x.subcategory = f.subcategory AND x.seller_level = f.seller_level
              AND x.band = f.band AND x.days = f.days AND x.stars = f.stars";
    let cell = |a: &str| {
        format!(
            "'\"' || {a}.term || '\" in ' || {a}.category || '/' || {a}.subcategory || '/' || {a}.seller_level || ' band '
             || CAST({a}.band AS TEXT) || ', ' || CAST({a}.days AS TEXT) || ' days, ' || CAST({a}.stars AS TEXT) || ' stars: '"
        )
    };
    counted_both_ways(TERM_FACETS_MATCH_WORDS, &fresh, kept, on, cell)
}

/// PostgreSQL keeps `gig_words` from each gig's `search_vector` (migration
/// 1095): every term of the vector with its weight, and no other.
fn words_match_vectors() -> Check {
    Check::new(
        WORDS_MATCH_VECTORS,
        "SELECT 'gig ' || CAST(g.id AS TEXT) || ': \"' || t.lexeme || '\" kept with weight '
                || COALESCE(CAST(w.weight AS TEXT), 'none') || ', its text gives ' || CAST(gig_word_weight(t.weights) AS TEXT)
         FROM gigs g CROSS JOIN unnest(g.search_vector) t LEFT JOIN gig_words w ON w.term = t.lexeme AND w.gig_id = g.id
         WHERE w.weight IS DISTINCT FROM gig_word_weight(t.weights)
         UNION ALL
         SELECT 'gig ' || CAST(c.gig_id AS TEXT) || ': ' || CAST(c.n AS TEXT) || ' words kept, its text has '
                || CAST(COALESCE(length(g.search_vector), 0) AS TEXT)
         FROM (SELECT gig_id, COUNT(*) AS n FROM gig_words GROUP BY gig_id) c LEFT JOIN gigs g ON g.id = c.gig_id
         WHERE c.n <> COALESCE(length(g.search_vector), 0)",
    )
}

/// Kept cells (`kept`, columns as `f`) against a fresh count (`fresh`, as
/// `x`) joined `on`, both ways: a cell counted differently, and a kept cell
/// with no gig left in it; `cell` names a cell in the message.
fn counted_both_ways(name: &'static str, fresh: &str, kept: &str, on: &str, cell: impl Fn(&str) -> String) -> Check {
    Check::owned(
        name,
        format!(
            "SELECT {cx} || 'counted ' || CAST(x.n AS TEXT) || ', kept ' || CAST(COALESCE(f.n, 0) AS TEXT)
             FROM ({fresh}) x LEFT JOIN ({kept}) f ON {on} WHERE COALESCE(f.n, 0) <> x.n
             UNION ALL
             SELECT {cf} || 'counted 0, kept ' || CAST(f.n AS TEXT)
             FROM ({kept}) f WHERE f.n <> 0 AND NOT EXISTS (SELECT 1 FROM ({fresh}) x WHERE {on})",
            cx = cell("x"),
            cf = cell("f"),
        ),
    )
}

pub const FACETS_MATCH_GIGS: &str = "the search's kept facet counts (gig_facets) equal a fresh count of the active gigs";

/// Every kept cell (folded plus deltas) against a fresh count, both ways.
fn facets_match_gigs() -> Check {
    use crate::search::{band_case, stars_case};
    let fresh = format!(
        "SELECT g.category, COALESCE(g.subcategory, '') AS subcategory, g.seller_level, {} AS band, g.min_delivery_days AS days,
                {} AS stars, COUNT(*) AS n
         FROM gigs g WHERE g.status = 'active' GROUP BY 1, 2, 3, 4, 5, 6",
        band_case("g.min_price_minor"),
        stars_case("g.rating_x100")
    );
    let same = |a: &str, b: &str| {
        format!(
            "{a}.category = {b}.category AND {a}.subcategory = {b}.subcategory AND {a}.seller_level = {b}.seller_level
             AND {a}.band = {b}.band AND {a}.days = {b}.days AND {a}.stars = {b}.stars"
        )
    };
    let cell = |a: &str| {
        format!(
            "{a}.category || '/' || {a}.subcategory || '/' || {a}.seller_level || ' band ' || CAST({a}.band AS TEXT) || ', '
             || CAST({a}.days AS TEXT) || ' days, ' || CAST({a}.stars AS TEXT) || ' stars: '"
        )
    };
    counted_both_ways(FACETS_MATCH_GIGS, &fresh, crate::search::KEPT_CELLS, &same("x", "f"), cell)
}

pub async fn check(db: &Db) -> StoreResult<Report> {
    let mut all = checks();
    if db.backend() == platform_db::Backend::Postgres {
        all.push(words_match_vectors());
    }
    run(db, &all).await
}
