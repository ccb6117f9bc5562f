//! Search in the store itself: full text (SQLite FTS5, PostgreSQL tsvector
//! with a GIN index) behind one query shape — `gig_fts($n)` is an FTS5
//! table-valued query on SQLite and a set-returning function on
//! PostgreSQL, both yielding `(gig_id, rank)` with lower rank better — plus
//! facets with counts, four sorts, keyset pages, autocomplete, and "did you
//! mean" when nothing matches.

use chrono::{DateTime, Utc};
use gigstream_domain::gig::SellerLevel;
use gigstream_domain::ids::GigId;
use gigstream_domain::{suggest, Currency};
use platform_db::{on_pool, Db, StoreResult};
use serde::Serialize;

platform_kernel::text_enum! {
    pub enum Sort { Relevance => "relevance", Rating => "rating", Price => "price", Newest => "newest" }
}

platform_kernel::text_enum! {
    /// Starting-price bands, in the marketplace currency.
    pub enum PriceBand { Under25 => "under_25", From25To100 => "25_100", From100To250 => "100_250", Over250 => "over_250" }
}

impl PriceBand {
    /// `[min, max)` in minor units of a two-decimal currency.
    pub fn bounds(self) -> (i64, i64) {
        match self {
            PriceBand::Under25 => (0, 2_500),
            PriceBand::From25To100 => (2_500, 10_000),
            PriceBand::From100To250 => (10_000, 25_000),
            PriceBand::Over250 => (25_000, i64::MAX),
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            PriceBand::Under25 => "Under $25",
            PriceBand::From25To100 => "$25 – $100",
            PriceBand::From100To250 => "$100 – $250",
            PriceBand::Over250 => "$250 and up",
        }
    }
}

/// Delivery-time facet values: "up to N days".
pub const DELIVERY_DAYS: [i32; 3] = [1, 3, 7];
/// Rating facet values: "N/100 stars and up".
pub const RATINGS: [i32; 2] = [450, 400];

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Filters {
    pub q: String,
    pub category: Option<String>,
    pub price: Option<PriceBand>,
    pub delivery_days: Option<i32>,
    pub rating_x100: Option<i32>,
    pub level: Option<SellerLevel>,
}

#[derive(Debug, Clone)]
pub struct Query {
    pub filters: Filters,
    pub sort: Sort,
    pub cursor: Option<String>,
    pub limit: i64,
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Hit {
    pub id: GigId,
    pub slug: String,
    pub title: String,
    pub seller_username: String,
    pub seller_name: String,
    pub seller_level: SellerLevel,
    pub min_price_minor: i64,
    pub currency: Currency,
    pub min_delivery_days: i32,
    pub rating_x100: Option<i32>,
    pub rating_count: i32,
    pub cover: Option<String>,
    pub created_at: DateTime<Utc>,
    #[serde(skip)]
    pub rank: f64,
}

/// A [`Hit`]'s columns but its rank, over `gigs g JOIN accounts a ON a.id = g.seller_id`.
pub(crate) const HIT_COLUMNS: &str = "g.id, g.slug, g.title, a.username AS seller_username, a.display_name AS seller_name,
    g.seller_level, g.min_price_minor, g.currency, g.min_delivery_days, g.rating_x100, g.rating_count,
    (SELECT i.media_key FROM gig_images i WHERE i.gig_id = g.id ORDER BY i.position, i.created_at LIMIT 1) AS cover, g.created_at";

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Count<T> {
    pub value: T,
    pub label: String,
    pub count: i64,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct Facets {
    pub category: Vec<Count<String>>,
    pub price: Vec<Count<PriceBand>>,
    pub delivery_days: Vec<Count<i32>>,
    pub rating: Vec<Count<i32>>,
    pub level: Vec<Count<SellerLevel>>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Results {
    pub hits: Vec<Hit>,
    pub total: i64,
    pub facets: Facets,
    /// Pass back as `cursor` for the next page; `None` on the last.
    pub next_cursor: Option<String>,
    /// A corrected query, when the given one matched nothing.
    pub suggestion: Option<String>,
    /// Set when these hits are for `suggestion` rather than the query.
    pub corrected: bool,
}

/// The query's words as an FTS5-style prefix query: `logo* desi*`.
pub fn match_text(q: &str) -> Option<String> {
    let words = suggest::words(q);
    (!words.is_empty()).then(|| words.iter().map(|w| format!("{w}*")).collect::<Vec<_>>().join(" "))
}

#[derive(Debug, Clone)]
enum Arg {
    Text(String),
    Int(i64),
    Float(f64),
    Time(DateTime<Utc>),
    Gig(GigId),
}

/// SQL text with numbered placeholders and the values they bind.
#[derive(Default)]
struct Sql {
    args: Vec<Arg>,
}

impl Sql {
    fn arg(&mut self, a: Arg) -> String {
        self.args.push(a);
        format!("${}", self.args.len())
    }
}

macro_rules! bind_all {
    ($q:expr, $args:expr) => {{
        let mut q = $q;
        for a in $args {
            q = match a {
                Arg::Text(v) => q.bind(v.clone()),
                Arg::Int(v) => q.bind(*v),
                Arg::Float(v) => q.bind(*v),
                Arg::Time(v) => q.bind(*v),
                Arg::Gig(v) => q.bind(*v),
            };
        }
        q
    }};
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Facet {
    Category,
    Price,
    Delivery,
    Rating,
    Level,
}

/// `FROM …` and `WHERE …` for the filters, leaving out `skip` (a facet
/// counts as if its own filter were not set).
fn from_where(sql: &mut Sql, f: &Filters, skip: Option<Facet>) -> String {
    let (from, wheres) = from_and_where(sql, f, skip);
    format!("FROM {from} WHERE {wheres}")
}

/// The tables and the conditions of [`from_where`], apart.
fn from_and_where(sql: &mut Sql, f: &Filters, skip: Option<Facet>) -> (String, String) {
    let mut from = "gigs g".to_string();
    if let Some(m) = match_text(&f.q) {
        let p = sql.arg(Arg::Text(m));
        from = format!("gig_fts({p}) h JOIN gigs g ON g.id = h.gig_id");
    }
    let mut wheres = vec!["g.status = 'active'".to_string()];
    if let (Some(c), true) = (&f.category, skip != Some(Facet::Category)) {
        let p = sql.arg(Arg::Text(c.clone()));
        wheres.push(format!("(g.category = {p} OR g.subcategory = {p})"));
    }
    if let (Some(b), true) = (f.price, skip != Some(Facet::Price)) {
        let (lo, hi) = b.bounds();
        let lo = sql.arg(Arg::Int(lo));
        let hi = sql.arg(Arg::Int(hi));
        wheres.push(format!("g.min_price_minor >= {lo} AND g.min_price_minor < {hi}"));
    }
    if let (Some(d), true) = (f.delivery_days, skip != Some(Facet::Delivery)) {
        let p = sql.arg(Arg::Int(d.into()));
        wheres.push(format!("g.min_delivery_days <= {p}"));
    }
    if let (Some(r), true) = (f.rating_x100, skip != Some(Facet::Rating)) {
        let p = sql.arg(Arg::Int(r.into()));
        wheres.push(format!("g.rating_x100 >= {p}"));
    }
    if let (Some(l), true) = (f.level, skip != Some(Facet::Level)) {
        let p = sql.arg(Arg::Text(l.as_str().into()));
        wheres.push(format!("g.seller_level = {p}"));
    }
    (from, wheres.join(" AND "))
}

/// A page cursor: the sort it belongs to, the last hit's sort key and id.
fn encode_cursor(sort: Sort, hit: &Hit) -> String {
    let key = match sort {
        Sort::Relevance => hit.rank.to_string(),
        Sort::Rating => hit.rating_x100.unwrap_or(-1).to_string(),
        Sort::Price => hit.min_price_minor.to_string(),
        Sort::Newest => hit.created_at.to_rfc3339(),
    };
    format!("{}~{key}~{}", sort.as_str(), hit.id)
}

fn decode_cursor(sort: Sort, cursor: &str) -> Option<(Arg, GigId)> {
    let mut parts = cursor.splitn(3, '~');
    let (s, key, id) = (parts.next()?, parts.next()?, parts.next()?);
    if s != sort.as_str() {
        return None;
    }
    let id: GigId = id.parse().ok()?;
    let key = match sort {
        Sort::Relevance => Arg::Float(key.parse().ok().filter(|f: &f64| f.is_finite())?),
        Sort::Rating | Sort::Price => Arg::Int(key.parse().ok()?),
        Sort::Newest => Arg::Time(DateTime::parse_from_rfc3339(key).ok()?.with_timezone(&Utc)),
    };
    Some((key, id))
}

/// Runs a search: one page of hits, the total, facets, and a suggestion
/// (with its hits instead) when the words matched nothing.
pub async fn search(db: &Db, query: &Query) -> StoreResult<Results> {
    let mut results = run(db, query).await?;
    if results.total == 0 && match_text(&query.filters.q).is_some() {
        if let Some(s) = did_you_mean(db, &query.filters.q).await? {
            let mut q2 = query.clone();
            q2.filters.q = s.clone();
            q2.cursor = None;
            let corrected = run(db, &q2).await?;
            if corrected.total > 0 {
                results = Results { corrected: true, ..corrected };
            }
            results.suggestion = Some(s);
        }
    }
    Ok(results)
}

async fn run(db: &Db, query: &Query) -> StoreResult<Results> {
    let f = &query.filters;
    let fts = match_text(&f.q).is_some();
    let sort = if query.sort == Sort::Relevance && !fts { Sort::Newest } else { query.sort };
    let limit = query.limit.clamp(1, 60);

    let mut sql = Sql::default();
    let (from, wheres) = from_and_where(&mut sql, f, None);
    let rank = if fts { "h.rank" } else { "CAST(0 AS DOUBLE PRECISION)" };
    let (order, cmp, key) = match sort {
        Sort::Relevance => ("h.rank ASC, g.id ASC", ">", "h.rank"),
        Sort::Rating => ("COALESCE(g.rating_x100, -1) DESC, g.id DESC", "<", "COALESCE(g.rating_x100, -1)"),
        Sort::Price => ("g.min_price_minor ASC, g.id ASC", ">", "g.min_price_minor"),
        Sort::Newest => ("g.created_at DESC, g.id DESC", "<", "g.created_at"),
    };
    let mut keyset = String::new();
    if let Some((k, id)) = query.cursor.as_deref().and_then(|c| decode_cursor(sort, c)) {
        let pk = sql.arg(k);
        let pid = sql.arg(Arg::Gig(id));
        keyset = format!(" AND ({key}, g.id) {cmp} ({pk}, {pid})");
    }
    let text = format!(
        "SELECT {HIT_COLUMNS}, {rank} AS rank
         FROM {from} JOIN accounts a ON a.id = g.seller_id WHERE {wheres}{keyset} ORDER BY {order} LIMIT {}",
        limit + 1
    );
    let mut hits: Vec<Hit> = on_pool!(db, p => bind_all!(sqlx::query_as::<_, Hit>(&text), &sql.args).fetch_all(p).await?);
    let next_cursor = if hits.len() as i64 > limit {
        hits.truncate(limit as usize);
        hits.last().map(|h| encode_cursor(sort, h))
    } else {
        None
    };

    let mut count_sql = Sql::default();
    let count_text = format!("SELECT COUNT(*) {}", from_where(&mut count_sql, f, None));
    let total: i64 = on_pool!(db, p => bind_all!(sqlx::query_scalar(&count_text), &count_sql.args).fetch_one(p).await?);
    let facets = facets(db, f).await?;
    Ok(Results { hits, total, facets, next_cursor, suggestion: None, corrected: false })
}

async fn facets(db: &Db, f: &Filters) -> StoreResult<Facets> {
    let names: std::collections::HashMap<String, String> =
        crate::gigs::categories(db).await?.into_iter().map(|c| (c.slug, c.name)).collect();

    let mut s = Sql::default();
    let text = format!(
        "SELECT g.category, COUNT(*) {} GROUP BY g.category ORDER BY COUNT(*) DESC, g.category",
        from_where(&mut s, f, Some(Facet::Category))
    );
    let rows: Vec<(String, i64)> = on_pool!(db, p => bind_all!(sqlx::query_as(&text), &s.args).fetch_all(p).await?);
    let category = rows
        .into_iter()
        .map(|(slug, count)| Count { label: names.get(&slug).cloned().unwrap_or_else(|| slug.clone()), value: slug, count })
        .collect();

    let mut s = Sql::default();
    let cases: Vec<String> = PriceBand::ALL
        .iter()
        .map(|b| {
            let (lo, hi) = b.bounds();
            format!("CAST(COALESCE(SUM(CASE WHEN g.min_price_minor >= {lo} AND g.min_price_minor < {hi} THEN 1 ELSE 0 END), 0) AS BIGINT)")
        })
        .collect();
    let text = format!("SELECT {} {}", cases.join(", "), from_where(&mut s, f, Some(Facet::Price)));
    let row: (i64, i64, i64, i64) = on_pool!(db, p => bind_all!(sqlx::query_as(&text), &s.args).fetch_one(p).await?);
    let price = PriceBand::ALL
        .iter()
        .zip([row.0, row.1, row.2, row.3])
        .map(|(b, count)| Count { value: *b, label: b.label().into(), count })
        .collect();

    let mut s = Sql::default();
    let cases: Vec<String> = DELIVERY_DAYS
        .iter()
        .map(|d| format!("CAST(COALESCE(SUM(CASE WHEN g.min_delivery_days <= {d} THEN 1 ELSE 0 END), 0) AS BIGINT)"))
        .collect();
    let text = format!("SELECT {} {}", cases.join(", "), from_where(&mut s, f, Some(Facet::Delivery)));
    let row: (i64, i64, i64) = on_pool!(db, p => bind_all!(sqlx::query_as(&text), &s.args).fetch_one(p).await?);
    let delivery_days = DELIVERY_DAYS
        .iter()
        .zip([row.0, row.1, row.2])
        .map(|(d, count)| Count { value: *d, label: if *d == 1 { "Express 24h".into() } else { format!("Up to {d} days") }, count })
        .collect();

    let mut s = Sql::default();
    let cases: Vec<String> =
        RATINGS.iter().map(|r| format!("CAST(COALESCE(SUM(CASE WHEN g.rating_x100 >= {r} THEN 1 ELSE 0 END), 0) AS BIGINT)")).collect();
    let text = format!("SELECT {} {}", cases.join(", "), from_where(&mut s, f, Some(Facet::Rating)));
    let row: (i64, i64) = on_pool!(db, p => bind_all!(sqlx::query_as(&text), &s.args).fetch_one(p).await?);
    let rating = RATINGS
        .iter()
        .zip([row.0, row.1])
        .map(|(r, count)| Count { value: *r, label: format!("{}.{}★ and up", r / 100, (r % 100) / 10), count })
        .collect();

    let mut s = Sql::default();
    let text = format!("SELECT g.seller_level, COUNT(*) {} GROUP BY g.seller_level", from_where(&mut s, f, Some(Facet::Level)));
    let rows: Vec<(SellerLevel, i64)> = on_pool!(db, p => bind_all!(sqlx::query_as(&text), &s.args).fetch_all(p).await?);
    let level = SellerLevel::ALL
        .iter()
        .filter_map(|l| rows.iter().find(|(v, _)| v == l).map(|(v, n)| Count { value: *v, label: v.label().into(), count: *n }))
        .collect();

    Ok(Facets { category, price, delivery_days, rating, level })
}

/// The closest known terms to a query that matched nothing.
pub async fn did_you_mean(db: &Db, q: &str) -> StoreResult<Option<String>> {
    let words = suggest::words(q);
    let Some(longest) = words.iter().map(|w| w.chars().count() as i64).max() else { return Ok(None) };
    let sql = "SELECT t.term, COUNT(*) FROM gig_terms t JOIN gigs g ON g.id = t.gig_id
               WHERE g.status = 'active' AND length(t.term) BETWEEN $1 AND $2 GROUP BY t.term";
    let terms: Vec<(String, i64)> = on_pool!(db, p => sqlx::query_as(sql).bind(2i64).bind(longest + 3).fetch_all(p).await?);
    Ok(suggest::did_you_mean(q, &terms))
}

/// One autocomplete entry: a known term, or a gig title with its slug.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Completion {
    pub text: String,
    pub slug: Option<String>,
}

/// Completions for what a person has typed so far.
pub async fn autocomplete(db: &Db, typed: &str) -> StoreResult<Vec<Completion>> {
    let words = suggest::words(typed);
    let Some(last) = words.last() else { return Ok(vec![]) };
    let head = words[..words.len() - 1].join(" ");
    let like = format!("{last}%");
    let sql = "SELECT t.term FROM gig_terms t JOIN gigs g ON g.id = t.gig_id WHERE g.status = 'active' AND t.term LIKE $1
               GROUP BY t.term ORDER BY COUNT(*) DESC, t.term LIMIT 5";
    let terms: Vec<String> = on_pool!(db, p => sqlx::query_scalar(sql).bind(&like).fetch_all(p).await?);
    let mut out: Vec<Completion> =
        terms.into_iter().map(|t| Completion { text: if head.is_empty() { t } else { format!("{head} {t}") }, slug: None }).collect();
    if let Some(m) = match_text(typed) {
        let sql = "SELECT g.title, g.slug FROM gig_fts($1) h JOIN gigs g ON g.id = h.gig_id WHERE g.status = 'active'
                   ORDER BY h.rank, g.id LIMIT 4";
        let gigs: Vec<(String, String)> = on_pool!(db, p => sqlx::query_as(sql).bind(&m).fetch_all(p).await?);
        out.extend(gigs.into_iter().map(|(text, slug)| Completion { text, slug: Some(slug) }));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queries_become_prefix_matches_of_plain_words() {
        assert_eq!(match_text("Logo  design!").as_deref(), Some("logo* design*"));
        assert_eq!(match_text("\"OR\" NOT) (*"), Some("or* not*".into()));
        assert_eq!(match_text("  ;; "), None);
    }

    #[test]
    fn cursors_belong_to_their_sort() {
        let hit = Hit {
            id: GigId::new(),
            slug: "x".into(),
            title: "x".into(),
            seller_username: "s".into(),
            seller_name: "S".into(),
            seller_level: SellerLevel::New,
            min_price_minor: 2500,
            currency: Currency::Usd,
            min_delivery_days: 2,
            rating_x100: None,
            rating_count: 0,
            cover: None,
            created_at: Utc::now(),
            rank: -0.123456789,
        };
        for sort in Sort::ALL {
            let c = encode_cursor(*sort, &hit);
            let (_, id) = decode_cursor(*sort, &c).unwrap();
            assert_eq!(id, hit.id);
            let other = if *sort == Sort::Price { Sort::Newest } else { Sort::Price };
            assert!(decode_cursor(other, &c).is_none(), "{sort} cursor used for {other}");
        }
        assert!(matches!(decode_cursor(Sort::Relevance, &encode_cursor(Sort::Relevance, &hit)), Some((Arg::Float(f), _)) if f == hit.rank));
        assert!(decode_cursor(Sort::Price, "price~abc~nope").is_none());
        assert!(decode_cursor(Sort::Relevance, &format!("relevance~NaN~{}", hit.id)).is_none());
    }
}
