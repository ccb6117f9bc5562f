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
use platform_db::{on_pool, Backend, Db, StoreResult};
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
    /// Set when the total and facet counts are estimates: the words match
    /// more gigs than a search counts one by one ([`COUNT_CAP`]), and no
    /// kept per-term summary answers exactly (several words, or a prefix
    /// of several terms).
    pub approximate: bool,
}

/// The most matches a search groups one by one for its total and facets;
/// above it, the counts are estimated from the kept per-term cells.
pub const COUNT_CAP: i64 = 5_000;

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

/// `FROM …` and the conditions of a search: active gigs matching the words
/// and, unless `skip` is [`Skip::All`], every filter.
///
/// The words reach each store's index its own way: SQLite joins its FTS5
/// table `gig_fts`; PostgreSQL matches the gigs' own `search_vector`
/// against `gig_tsquery` (joining `gig_fts` back to `gigs` fetched every
/// match twice, by the index and again by primary key).
///
/// `exact`: on PostgreSQL, the one term each word is a prefix of
/// ([`exact_terms`]), matched as itself instead of as a prefix.
fn from_and_where(sql: &mut Sql, backend: Backend, f: &Filters, skip: Skip, exact: Option<&[String]>) -> (String, String) {
    let mut from = "gigs g".to_string();
    let mut wheres = vec!["g.status = 'active'".to_string()];
    if let Some(m) = match_text(&f.q) {
        let m = match (backend, exact) {
            (Backend::Postgres, Some(terms)) => terms.join(" "),
            _ => m,
        };
        let p = sql.arg(Arg::Text(m));
        match backend {
            Backend::Sqlite => from = format!("gig_fts({p}) h JOIN gigs g ON g.id = h.gig_id"),
            Backend::Postgres => {
                from = format!("gigs g CROSS JOIN gig_tsquery({p}) AS tq(q)");
                wheres.push("g.search_vector @@ tq.q".into());
            }
        }
    }
    if skip == Skip::All {
        return (from, wheres.join(" AND "));
    }
    if let Some(c) = &f.category {
        let p = sql.arg(Arg::Text(c.clone()));
        wheres.push(format!("(g.category = {p} OR g.subcategory = {p})"));
    }
    if let Some(b) = f.price {
        let (lo, hi) = b.bounds();
        let lo = sql.arg(Arg::Int(lo));
        let hi = sql.arg(Arg::Int(hi));
        wheres.push(format!("g.min_price_minor >= {lo} AND g.min_price_minor < {hi}"));
    }
    if let Some(d) = f.delivery_days {
        let p = sql.arg(Arg::Int(d.into()));
        wheres.push(format!("g.min_delivery_days <= {p}"));
    }
    if let Some(r) = f.rating_x100 {
        let p = sql.arg(Arg::Int(r.into()));
        wheres.push(format!("g.rating_x100 >= {p}"));
    }
    if let Some(l) = f.level {
        let p = sql.arg(Arg::Text(l.as_str().into()));
        wheres.push(format!("g.seller_level = {p}"));
    }
    (from, wheres.join(" AND "))
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Skip {
    /// Words and filters: the hits.
    Nothing,
    /// Only the words: the base the facets are counted over.
    All,
}

/// The best-first rank of a hit (lower is better) on each store.
fn rank_of(backend: Backend) -> &'static str {
    match backend {
        Backend::Sqlite => "h.rank",
        Backend::Postgres => "-CAST(ts_rank(g.search_vector, tq.q) AS DOUBLE PRECISION)",
    }
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
    let backend = db.backend();
    let kept_rating = f.rating_x100.is_none_or(|r| RATINGS.contains(&r));
    let words = suggest::words(&f.q);
    // One word: the kept cells of the terms it is a prefix of. One such
    // term (the usual case) answers the facets exactly and ranks by an
    // index range over that term's gigs.
    let one_word = match words.as_slice() {
        [w] => Some(term_cells(db, &query_term(backend, w)).await?),
        _ => None,
    };
    let single_term = one_word.as_ref().and_then(|t| t.single.clone());
    let sort = if query.sort == Sort::Relevance && !fts { Sort::Newest } else { query.sort };
    let limit = query.limit.clamp(1, 60);

    // Words no kept summary answers: matched once, for the page and the
    // counts alike (up to the count cap; above it, the sample's cells).
    let mut sample = None;
    let mut exact = None;
    if fts && single_term.is_none() {
        let terms = word_terms(db, &words).await?;
        // A word no active gig holds a term of: nothing matches (a typo's
        // first search), answered without matching.
        if terms.as_ref().is_some_and(|t| t.iter().any(|set| set.is_empty())) {
            let (total, facets) = facets(db, f, &[]).await?;
            return Ok(Results { hits: vec![], total, facets, next_cursor: None, suggestion: None, corrected: false, approximate: false });
        }
        exact = terms.and_then(exact_terms);
        match matched_once(db, query, sort, limit, exact.as_deref()).await? {
            Matched::Answered(results) => return Ok(*results),
            Matched::OverCap(cells) => sample = Some(cells),
        }
    }

    let mut sql = Sql::default();
    let (from, wheres) = match &single_term {
        Some(term) => single_term_from_and_where(&mut sql, term, f),
        None => from_and_where(&mut sql, backend, f, Skip::Nothing, exact.as_deref()),
    };
    let rank = match (&single_term, fts) {
        (Some(_), _) => "CAST(-w.weight AS DOUBLE PRECISION)",
        (None, true) => rank_of(backend),
        (None, false) => "CAST(0 AS DOUBLE PRECISION)",
    };
    let relevance_order = format!("{rank} ASC, g.id ASC");
    let (order, cmp, key) = match sort {
        Sort::Relevance => (relevance_order.as_str(), ">", rank),
        Sort::Rating => ("COALESCE(g.rating_x100, -1) DESC, g.id DESC", "<", "COALESCE(g.rating_x100, -1)"),
        Sort::Price => ("g.min_price_minor ASC, g.id ASC", ">", "g.min_price_minor"),
        Sort::Newest => ("g.created_at DESC, g.id DESC", "<", "g.created_at"),
    };
    // A one-term search by relevance walks (term, weight DESC, gig_id).
    let term_order = single_term.is_some() && sort == Sort::Relevance;
    let order = if term_order { "w.weight DESC, w.gig_id ASC" } else { order };
    let mut keyset = String::new();
    if let Some((k, id)) = query.cursor.as_deref().and_then(|c| decode_cursor(sort, c)) {
        let pid = sql.arg(Arg::Gig(id));
        if term_order {
            let Arg::Float(rank) = k else { unreachable!("a relevance cursor holds a float") };
            let pw = sql.arg(Arg::Int((-rank).round() as i64));
            keyset = format!(" AND (w.weight < {pw} OR (w.weight = {pw} AND w.gig_id > {pid}))");
        } else {
            let pk = sql.arg(k);
            keyset = format!(" AND ({key}, g.id) {cmp} ({pk}, {pid})");
        }
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

    let cells = if !fts && kept_rating {
        (kept_cells(db).await?, false)
    } else if let (Some(one), true) = (&one_word, kept_rating) {
        if one.single.is_some() {
            (one.cells.clone(), false)
        } else {
            counted_or_estimated(db, f, &words, backend, sample).await?
        }
    } else {
        counted_or_estimated(db, f, &words, backend, sample).await?
    };
    let (total, facets) = facets(db, f, &cells.0).await?;
    Ok(Results { hits, total, facets, next_cursor, suggestion: None, corrected: false, approximate: cells.1 })
}

/// A query word as the kept terms spell it: PostgreSQL's 'simple'
/// configuration lowercases; FTS5 also removes diacritics.
fn query_term(backend: Backend, word: &str) -> String {
    match backend {
        Backend::Postgres => word.to_string(),
        Backend::Sqlite => suggest::index_terms(word).concat(),
    }
}

/// `FROM …` and conditions for the gigs holding one kept term (aliases `w`
/// for its `gig_words` row, `g` for the gig), with every filter.
fn single_term_from_and_where(sql: &mut Sql, term: &str, f: &Filters) -> (String, String) {
    let p = sql.arg(Arg::Text(term.to_string()));
    let (_, wheres) = from_and_where(sql, Backend::Sqlite, &Filters { q: String::new(), ..f.clone() }, Skip::Nothing, None);
    ("gig_words w JOIN gigs g ON g.id = w.gig_id".into(), format!("w.term = {p} AND {wheres}"))
}

/// The kept cells of every term a word is a prefix of.
#[derive(Debug, Clone, Default)]
struct TermCells {
    /// The term, when exactly one has active gigs.
    single: Option<String>,
    /// The cells, summed over the terms (a gig holding two of them counts twice).
    cells: Vec<Cell>,
}

impl TermCells {
    fn upper_bound(&self) -> i64 {
        self.cells.iter().map(|c| c.n).sum()
    }
}

/// A cell's category, subcategory, level, band, days and stars.
type CellKey = (String, Option<String>, &'static str, i64, i64, i64);

#[derive(sqlx::FromRow)]
struct TermCell {
    term: String,
    #[sqlx(flatten)]
    cell: Cell,
}

/// The first string after every string starting with `prefix`.
fn prefix_end(prefix: &str) -> String {
    let mut chars: Vec<char> = prefix.chars().collect();
    while let Some(last) = chars.pop() {
        if let Some(next) = (u32::from(last) + 1..=0x10FFFF).find_map(char::from_u32) {
            chars.push(next);
            return chars.into_iter().collect();
        }
    }
    char::MAX.to_string().repeat(8)
}

/// The kept cells (folded plus deltas) of the terms starting with `word`:
/// an index range of `gig_term_facets` (a few hundred rows a term).
async fn term_cells(db: &Db, word: &str) -> StoreResult<TermCells> {
    let sql = "SELECT term, category, NULLIF(subcategory, '') AS subcategory, seller_level, CAST(band AS BIGINT) AS band,
                      CAST(days AS BIGINT) AS days, CAST(stars AS BIGINT) AS stars, CAST(n AS BIGINT) AS n
               FROM (SELECT term, category, subcategory, seller_level, band, days, stars, SUM(n) AS n
                     FROM (SELECT term, category, subcategory, seller_level, band, days, stars, n FROM gig_term_facets
                           WHERE term >= $1 AND term < $2
                           UNION ALL SELECT term, category, subcategory, seller_level, band, days, stars, n FROM gig_term_facet_deltas
                           WHERE term >= $1 AND term < $2) c
                     GROUP BY term, category, subcategory, seller_level, band, days, stars) k
               WHERE n > 0";
    let end = prefix_end(word);
    let rows: Vec<TermCell> = on_pool!(db, p => sqlx::query_as::<_, TermCell>(sql).bind(word).bind(&end).fetch_all(p).await?);
    let mut terms: Vec<&str> = rows.iter().map(|r| r.term.as_str()).collect();
    terms.dedup();
    let single = (terms.len() == 1).then(|| terms[0].to_string());
    let mut by_cell: std::collections::BTreeMap<CellKey, i64> = Default::default();
    for r in rows {
        let c = r.cell;
        let stars = if c.stars == 0 { NO_STARS } else { c.stars };
        *by_cell.entry((c.category, c.subcategory, c.seller_level.as_str(), c.band, c.days, stars)).or_default() += c.n;
    }
    let cells = by_cell
        .into_iter()
        .filter_map(|((category, subcategory, level, band, days, stars), n)| {
            let seller_level = level.parse().ok()?;
            Some(Cell { category, subcategory, seller_level, band, days, stars, n })
        })
        .collect();
    Ok(TermCells { single, cells })
}

/// The cells of a search the kept summaries cannot answer exactly: counted
/// one by one up to [`COUNT_CAP`] matches (exact), else estimated (`true`):
/// the cells of the counted sample scaled to the fewest matches any of the
/// words has on its own (kept per-term counts, an upper bound).
/// `sample`: the cells of a capped match already made ([`matched_once`]).
async fn counted_or_estimated(
    db: &Db,
    f: &Filters,
    words: &[String],
    backend: Backend,
    sample: Option<Vec<Cell>>,
) -> StoreResult<(Vec<Cell>, bool)> {
    let mut cells = match sample {
        Some(cells) => cells,
        None => counted_cells(db, f, Some(COUNT_CAP + 1)).await?,
    };
    let sampled: i64 = cells.iter().map(|c| c.n).sum();
    if sampled <= COUNT_CAP {
        return Ok((cells, false));
    }
    let mut bound = i64::MAX;
    for w in words {
        bound = bound.min(term_cells(db, &query_term(backend, w)).await?.upper_bound());
    }
    let bound = bound.max(sampled);
    for c in &mut cells {
        c.n = ((c.n as f64) * (bound as f64) / (sampled as f64)).round() as i64;
    }
    Ok((cells, true))
}

/// On PostgreSQL, per query word, the terms (up to two) the active gigs
/// hold that it is a prefix of: their kept cells and deltas hold the terms
/// of every active gig's `search_vector`. `None` on SQLite.
async fn word_terms(db: &Db, words: &[String]) -> StoreResult<Option<Vec<std::collections::BTreeSet<String>>>> {
    if db.backend() != Backend::Postgres || words.is_empty() {
        return Ok(None);
    }
    let mut sql = Sql::default();
    let mut parts = vec![];
    for (k, w) in words.iter().enumerate() {
        let lo = sql.arg(Arg::Text(w.clone()));
        let hi = sql.arg(Arg::Text(prefix_end(w)));
        let first = format!("(SELECT MIN(term) FROM gig_term_facets WHERE term >= {lo} AND term < {hi})");
        parts.push(format!(
            "SELECT CAST({k} AS BIGINT) AS k, {first} AS term
             UNION ALL SELECT {k}, (SELECT MIN(term) FROM gig_term_facets WHERE term > {first} AND term < {hi})
             UNION ALL SELECT {k}, term FROM (SELECT DISTINCT term FROM gig_term_facet_deltas WHERE term >= {lo} AND term < {hi} LIMIT 2) d"
        ));
    }
    let text = parts.join(" UNION ALL ");
    let rows: Vec<(i64, Option<String>)> =
        on_pool!(db, p => bind_all!(sqlx::query_as::<_, (i64, Option<String>)>(&text), &sql.args).fetch_all(p).await?);
    let mut terms: Vec<std::collections::BTreeSet<String>> = vec![Default::default(); words.len()];
    for (k, term) in rows {
        if let (Some(set), Some(term)) = (usize::try_from(k).ok().and_then(|k| terms.get_mut(k)), term) {
            set.insert(term);
        }
    }
    Ok(Some(terms))
}

/// When every query word is the prefix of exactly one term the active
/// gigs hold ([`word_terms`]), those terms. On PostgreSQL the tsquery
/// `website & design` then matches the same gigs as
/// `website:* & design:*`, with the same `ts_rank` (no active gig holds
/// another lexeme with either prefix), but the GIN index intersects two
/// posting lists instead of collecting every entry of each prefix range
/// first (EXPLAIN ANALYZE on 100,000 gigs: 0.5 ms index scan instead of
/// 11 ms). SQLite keeps its prefix query: FTS5's bm25 weighs a term by
/// every row of its index, paused gigs too.
fn exact_terms(terms: Vec<std::collections::BTreeSet<String>>) -> Option<Vec<String>> {
    terms
        .into_iter()
        .map(|set| match set.len() {
            1 => set.into_iter().next().filter(|t| !t.is_empty() && t.chars().all(char::is_alphanumeric)),
            _ => None,
        })
        .collect()
}

/// A gig matching the words: what its page place, its filters and its
/// facet cell are decided from.
#[derive(Debug, Clone, sqlx::FromRow)]
struct Match {
    id: GigId,
    rank: f64,
    category: String,
    subcategory: Option<String>,
    seller_level: SellerLevel,
    min_price_minor: i64,
    min_delivery_days: i32,
    rating_x100: Option<i32>,
    created_at: DateTime<Utc>,
}

/// A sort key, as the page's `ORDER BY` and cursor compare it.
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd)]
enum Key {
    Rank(f64),
    Int(i64),
    Time(DateTime<Utc>),
}

impl Match {
    fn key(&self, sort: Sort) -> Key {
        match sort {
            Sort::Relevance => Key::Rank(self.rank),
            Sort::Rating => Key::Int(self.rating_x100.map_or(-1, i64::from)),
            Sort::Price => Key::Int(self.min_price_minor),
            Sort::Newest => Key::Time(self.created_at),
        }
    }

    /// Whether the gig passes every filter (the page's `WHERE`).
    fn passes(&self, f: &Filters) -> bool {
        f.category.as_ref().is_none_or(|c| &self.category == c || self.subcategory.as_ref() == Some(c))
            && f.price.is_none_or(|b| {
                let (lo, hi) = b.bounds();
                self.min_price_minor >= lo && self.min_price_minor < hi
            })
            && f.delivery_days.is_none_or(|d| self.min_delivery_days <= d)
            && f.rating_x100.is_none_or(|r| self.rating_x100.is_some_and(|x| x >= r))
            && f.level.is_none_or(|l| self.seller_level == l)
    }
}

/// Where `(a, a_id)` comes relative to `(b, b_id)` on a page of `sort`:
/// best first, then by id (ascending for relevance and price, descending
/// for rating and newest, as the sorts' `ORDER BY`).
fn page_order(sort: Sort, (a, a_id): (Key, GigId), (b, b_id): (Key, GigId)) -> std::cmp::Ordering {
    let by_key = a.partial_cmp(&b).unwrap_or(std::cmp::Ordering::Equal).then(a_id.cmp(&b_id));
    match sort {
        Sort::Relevance | Sort::Price => by_key,
        Sort::Rating | Sort::Newest => by_key.reverse(),
    }
}

/// The facet cells of matched gigs, as [`counted_cells`] groups them.
fn cells_of(f: &Filters, matches: &[Match]) -> Vec<Cell> {
    let cap = DELIVERY_DAYS.iter().copied().chain(f.delivery_days).max().unwrap_or(7).clamp(0, 10_000) + 1;
    let mut thresholds: Vec<i32> = RATINGS.iter().copied().chain(f.rating_x100).collect();
    thresholds.sort_unstable_by(|a, b| b.cmp(a));
    thresholds.dedup();
    let last_band = PriceBand::ALL.len() - 1;
    let mut by_cell: std::collections::BTreeMap<CellKey, i64> = Default::default();
    for m in matches {
        let band = PriceBand::ALL[..last_band].iter().position(|b| m.min_price_minor < b.bounds().1).unwrap_or(last_band) as i64;
        let days = i64::from(m.min_delivery_days.min(cap));
        let stars = m.rating_x100.and_then(|r| thresholds.iter().find(|t| r >= **t)).map_or(NO_STARS, |t| i64::from(*t));
        *by_cell.entry((m.category.clone(), m.subcategory.clone(), m.seller_level.as_str(), band, days, stars)).or_default() += 1;
    }
    by_cell
        .into_iter()
        .filter_map(|((category, subcategory, level, band, days, stars), n)| {
            let seller_level = level.parse().ok()?;
            Some(Cell { category, subcategory, seller_level, band, days, stars, n })
        })
        .collect()
}

enum Matched {
    /// The page, the exact total and facets.
    Answered(Box<Results>),
    /// More than [`COUNT_CAP`] gigs match: the cells of the capped sample.
    OverCap(Vec<Cell>),
}

/// Words no kept summary answers (several words, or a prefix of several
/// terms), matched once: one statement reads every match (up to the
/// count cap) with its rank, sort keys and facet columns, and the page,
/// the total and the facets are all made from those rows; a second reads
/// the page's hits by key. Before, the ranked page and the counted cells
/// each matched the words through the full-text index and its recheck.
async fn matched_once(db: &Db, query: &Query, sort: Sort, limit: i64, exact: Option<&[String]>) -> StoreResult<Matched> {
    let f = &query.filters;
    let mut sql = Sql::default();
    let (from, wheres) = from_and_where(&mut sql, db.backend(), f, Skip::All, exact);
    let text = format!(
        "SELECT g.id, {rank} AS rank, g.category, g.subcategory, g.seller_level, g.min_price_minor, g.min_delivery_days,
                g.rating_x100, g.created_at
         FROM {from} WHERE {wheres} LIMIT {}",
        COUNT_CAP + 1,
        rank = rank_of(db.backend()),
    );
    let matches: Vec<Match> = on_pool!(db, p => bind_all!(sqlx::query_as::<_, Match>(&text), &sql.args).fetch_all(p).await?);
    let cells = cells_of(f, &matches);
    if matches.len() as i64 > COUNT_CAP {
        return Ok(Matched::OverCap(cells));
    }
    let after = query.cursor.as_deref().and_then(|c| decode_cursor(sort, c)).map(|(k, id)| {
        let key = match k {
            Arg::Float(v) => Key::Rank(v),
            Arg::Int(v) => Key::Int(v),
            Arg::Time(v) => Key::Time(v),
            Arg::Text(_) | Arg::Gig(_) => unreachable!("a cursor's key is a number or a time"),
        };
        (key, id)
    });
    let mut page: Vec<&Match> =
        matches.iter().filter(|m| m.passes(f)).filter(|m| after.is_none_or(|a| page_order(sort, (m.key(sort), m.id), a).is_gt())).collect();
    page.sort_by(|a, b| page_order(sort, (a.key(sort), a.id), (b.key(sort), b.id)));
    page.truncate(limit as usize + 1);

    let mut hits = Vec::with_capacity(page.len());
    if !page.is_empty() {
        let list: Vec<String> = (1..=page.len()).map(|i| format!("${i}")).collect();
        let text = format!(
            "SELECT {HIT_COLUMNS}, CAST(0 AS DOUBLE PRECISION) AS rank
             FROM gigs g JOIN accounts a ON a.id = g.seller_id WHERE g.id IN ({})",
            list.join(", ")
        );
        let rows: Vec<Hit> = on_pool!(db, p => {
            let mut q = sqlx::query_as::<_, Hit>(&text);
            for m in &page {
                q = q.bind(m.id);
            }
            q.fetch_all(p).await?
        });
        let mut by_id: std::collections::HashMap<GigId, Hit> = rows.into_iter().map(|h| (h.id, h)).collect();
        for m in &page {
            if let Some(mut hit) = by_id.remove(&m.id) {
                hit.rank = m.rank;
                hits.push(hit);
            }
        }
    }
    let next_cursor = if hits.len() as i64 > limit {
        hits.truncate(limit as usize);
        hits.last().map(|h| encode_cursor(sort, h))
    } else {
        None
    };
    let (total, facets) = facets(db, f, &cells).await?;
    Ok(Matched::Answered(Box::new(Results { hits, total, facets, next_cursor, suggestion: None, corrected: false, approximate: false })))
}

/// Below every rating threshold an `i32` filter can name (unrated gigs too).
const NO_STARS: i64 = i32::MIN as i64 - 1;

/// One group of matching gigs alike in everything a filter or facet looks at.
#[derive(Debug, Clone, sqlx::FromRow)]
struct Cell {
    category: String,
    subcategory: Option<String>,
    seller_level: SellerLevel,
    /// Index into [`PriceBand::ALL`].
    band: i64,
    /// Days, capped just above the largest number any facet or filter asks about.
    days: i64,
    /// The highest rating threshold (of the facet's and the filter's) met; [`NO_STARS`] for none.
    stars: i64,
    n: i64,
}

impl Cell {
    /// Whether the gigs of this cell pass the filters, leaving out `skip`.
    fn passes(&self, f: &Filters, skip: Option<Facet>) -> bool {
        let on = |facet| skip != Some(facet);
        (!on(Facet::Category) || f.category.as_ref().is_none_or(|c| &self.category == c || self.subcategory.as_ref() == Some(c)))
            && (!on(Facet::Price) || f.price.is_none_or(|b| PriceBand::ALL.get(self.band as usize) == Some(&b)))
            && (!on(Facet::Delivery) || f.delivery_days.is_none_or(|d| self.days <= i64::from(d)))
            && (!on(Facet::Rating) || f.rating_x100.is_none_or(|r| self.stars >= i64::from(r)))
            && (!on(Facet::Level) || f.level.is_none_or(|l| self.seller_level == l))
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Facet {
    Category,
    Price,
    Delivery,
    Rating,
    Level,
}

/// The total and every facet, from one grouped pass over the gigs that
/// match the words: each facet counts the cells that pass every filter but
/// its own (as if its own filter were not set), the total those that pass
/// them all.
async fn facets(db: &Db, f: &Filters, cells: &[Cell]) -> StoreResult<(i64, Facets)> {
    let names = category_names(db, cells).await?;

    let count = |skip: Option<Facet>, pick: &dyn Fn(&Cell) -> bool| -> i64 {
        cells.iter().filter(|c| c.passes(f, skip) && pick(c)).map(|c| c.n).sum()
    };
    let total = count(None, &|_| true);

    let mut by_category: std::collections::BTreeMap<&str, i64> = Default::default();
    for c in cells.iter().filter(|c| c.passes(f, Some(Facet::Category))) {
        *by_category.entry(c.category.as_str()).or_default() += c.n;
    }
    let mut category: Vec<Count<String>> = by_category
        .into_iter()
        .map(|(slug, count)| Count { label: names.get(slug).cloned().unwrap_or_else(|| slug.to_string()), value: slug.to_string(), count })
        .collect();
    category.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.value.cmp(&b.value)));

    let price = PriceBand::ALL
        .iter()
        .enumerate()
        .map(|(i, b)| Count { value: *b, label: b.label().into(), count: count(Some(Facet::Price), &|c| c.band == i as i64) })
        .collect();
    let delivery_days = DELIVERY_DAYS
        .iter()
        .map(|d| Count {
            value: *d,
            label: if *d == 1 { "Express 24h".into() } else { format!("Up to {d} days") },
            count: count(Some(Facet::Delivery), &|c| c.days <= i64::from(*d)),
        })
        .collect();
    let rating = RATINGS
        .iter()
        .map(|r| Count {
            value: *r,
            label: format!("{}.{}★ and up", r / 100, (r % 100) / 10),
            count: count(Some(Facet::Rating), &|c| c.stars >= i64::from(*r)),
        })
        .collect();
    let level = SellerLevel::ALL
        .iter()
        .map(|l| (l, count(Some(Facet::Level), &|c| c.seller_level == *l)))
        .filter(|(_, n)| *n > 0)
        .map(|(l, n)| Count { value: *l, label: l.label().into(), count: n })
        .collect();
    Ok((total, Facets { category, price, delivery_days, rating, level }))
}

/// Category names by slug, per database (its host, port and name, or its file).
type Names = std::sync::Arc<std::collections::HashMap<String, String>>;
static CATEGORY_NAMES: std::sync::Mutex<Vec<(String, Names)>> = std::sync::Mutex::new(Vec::new());

fn database_key(db: &Db) -> String {
    match db {
        Db::Postgres(p) => {
            let o = p.connect_options();
            format!("postgres://{}:{}/{}", o.get_host(), o.get_port(), o.get_database().unwrap_or_default())
        }
        Db::Sqlite(p) => format!("sqlite://{}", p.connect_options().get_filename().display()),
    }
}

/// The names of the categories the cells are in. Only migrations write
/// the taxonomy, so a process reads it once per database, not once per
/// search, and again when a cell is in a category it has not read.
async fn category_names(db: &Db, cells: &[Cell]) -> StoreResult<Names> {
    let key = database_key(db);
    let known = |names: &Names| cells.iter().all(|c| names.contains_key(&c.category));
    let cached = CATEGORY_NAMES.lock().unwrap_or_else(|e| e.into_inner()).iter().find(|(k, _)| *k == key).map(|(_, n)| n.clone());
    if let Some(names) = cached.filter(known) {
        return Ok(names);
    }
    let names: Names = std::sync::Arc::new(crate::gigs::categories(db).await?.into_iter().map(|c| (c.slug, c.name)).collect());
    let mut all = CATEGORY_NAMES.lock().unwrap_or_else(|e| e.into_inner());
    all.retain(|(k, _)| *k != key);
    all.push((key, names.clone()));
    Ok(names)
}

/// The cells of the gigs matching the words, counted now (with words no
/// kept summary answers, or a rating filter other than the facet's); with
/// `cap`, of at most that many matches.
async fn counted_cells(db: &Db, f: &Filters, most: Option<i64>) -> StoreResult<Vec<Cell>> {
    let mut s = Sql::default();
    let (from, wheres) = from_and_where(&mut s, db.backend(), f, Skip::All, None);
    let cap = DELIVERY_DAYS.iter().copied().chain(f.delivery_days).max().unwrap_or(7).clamp(0, 10_000) + 1;
    let mut thresholds: Vec<i32> = RATINGS.iter().copied().chain(f.rating_x100).collect();
    thresholds.sort_unstable_by(|a, b| b.cmp(a));
    thresholds.dedup();
    let stars: Vec<String> = thresholds.iter().map(|t| format!("WHEN g.rating_x100 >= {t} THEN {t}")).collect();
    let text = format!(
        "SELECT g.category, g.subcategory, g.seller_level,
                CAST({band} AS BIGINT) AS band,
                CAST(CASE WHEN g.min_delivery_days > {cap} THEN {cap} ELSE g.min_delivery_days END AS BIGINT) AS days,
                CAST(CASE {stars} ELSE {none} END AS BIGINT) AS stars, COUNT(*) AS n
         FROM (SELECT g.category, g.subcategory, g.seller_level, g.min_price_minor, g.min_delivery_days, g.rating_x100
               FROM {from} WHERE {wheres}{limit}) g
         GROUP BY 1, 2, 3, 4, 5, 6",
        limit = most.map(|c| format!(" LIMIT {c}")).unwrap_or_default(),
        band = band_case("g.min_price_minor"),
        stars = stars.join(" "),
        none = NO_STARS,
    );
    let cells: Vec<Cell> = on_pool!(db, p => bind_all!(sqlx::query_as::<_, Cell>(&text), &s.args).fetch_all(p).await?);
    Ok(cells)
}

/// Every active gig's cell with its count: the folded cells plus the
/// deltas not folded yet (PostgreSQL's triggers append deltas, migration
/// 1082; SQLite's keep the cells themselves). Columns: `category`,
/// `subcategory` ('' for none), `seller_level`, `band`, `days`, `stars`, `n`.
pub(crate) const KEPT_CELLS: &str = "SELECT category, subcategory, seller_level, band, days, stars, SUM(n) AS n
     FROM (SELECT category, subcategory, seller_level, band, days, stars, n FROM gig_facets
           UNION ALL SELECT category, subcategory, seller_level, band, days, stars, n FROM gig_facet_deltas) c
     GROUP BY category, subcategory, seller_level, band, days, stars";

/// The cells of every active gig, as the `gig_facets` triggers keep them.
async fn kept_cells(db: &Db) -> StoreResult<Vec<Cell>> {
    let sql = format!(
        "SELECT category, NULLIF(subcategory, '') AS subcategory, seller_level, CAST(band AS BIGINT) AS band,
                CAST(days AS BIGINT) AS days, CAST(stars AS BIGINT) AS stars, CAST(n AS BIGINT) AS n
         FROM ({KEPT_CELLS}) k WHERE n > 0"
    );
    let mut cells: Vec<Cell> = on_pool!(db, p => sqlx::query_as::<_, Cell>(&sql).fetch_all(p).await?);
    for c in &mut cells {
        if c.stars == 0 {
            c.stars = NO_STARS;
        }
    }
    Ok(cells)
}

/// Adds the facet deltas (of `gig_facets` and of the per-term
/// `gig_term_facets`) appended since the last fold into their cells, in
/// key order, and returns how many deltas it folded. Deltas appended while
/// it runs stay for the next fold; two folds at once never fold one twice
/// (each takes the rows it deletes). The deltas tables are vacuumed after
/// a fold that moved any, so the searches reading them do not wade through
/// the deleted rows. On SQLite there are never deltas.
pub async fn fold_facets(db: &Db) -> StoreResult<u64> {
    const MOVED: &str = "DELETE FROM gig_facet_deltas RETURNING category, subcategory, seller_level, band, days, stars, n";
    const INTO_CELLS: &str = "INSERT INTO gig_facets (category, subcategory, seller_level, band, days, stars, n)
         SELECT category, subcategory, seller_level, band, days, stars, SUM(n) FROM moved
         GROUP BY category, subcategory, seller_level, band, days, stars
         ORDER BY category, subcategory, seller_level, band, days, stars
         ON CONFLICT (category, subcategory, seller_level, band, days, stars) DO UPDATE SET n = gig_facets.n + excluded.n";
    const MOVED_TERMS: &str = "DELETE FROM gig_term_facet_deltas RETURNING term, category, subcategory, seller_level, band, days, stars, n";
    const INTO_TERM_CELLS: &str = "INSERT INTO gig_term_facets (term, category, subcategory, seller_level, band, days, stars, n)
         SELECT term, category, subcategory, seller_level, band, days, stars, SUM(n) FROM moved
         GROUP BY term, category, subcategory, seller_level, band, days, stars
         ORDER BY term, category, subcategory, seller_level, band, days, stars
         ON CONFLICT (term, category, subcategory, seller_level, band, days, stars) DO UPDATE SET n = gig_term_facets.n + excluded.n";
    match db {
        Db::Postgres(p) => {
            let sql = format!("WITH moved AS ({MOVED}), folded AS ({INTO_CELLS}) SELECT COUNT(*) FROM moved");
            let n: i64 = sqlx::query_scalar(&sql).fetch_one(p).await?;
            let terms = format!("WITH moved AS ({MOVED_TERMS}), folded AS ({INTO_TERM_CELLS}) SELECT COUNT(*) FROM moved");
            let t: i64 = sqlx::query_scalar(&terms).fetch_one(p).await?;
            // Every search reads the deltas by an index range; the rows
            // just deleted stay in it, read and skipped by each search,
            // until they are vacuumed (after the seeded 100,000 gigs' fold,
            // 1.7 million: the term cells took 59 ms a search instead of 6).
            if n + t > 0 {
                sqlx::raw_sql("VACUUM (ANALYZE) gig_facet_deltas, gig_term_facet_deltas").execute(p).await?;
            }
            Ok((n + t) as u64)
        }
        Db::Sqlite(_) => Ok(0),
    }
}

/// `CASE …` giving the index in [`PriceBand::ALL`] of the price in `column`
/// (as the `gig_facets` triggers compute it).
pub(crate) fn band_case(column: &str) -> String {
    let whens: Vec<String> = PriceBand::ALL
        .iter()
        .enumerate()
        .take(PriceBand::ALL.len() - 1)
        .map(|(i, b)| format!("WHEN {column} < {} THEN {i}", b.bounds().1))
        .collect();
    format!("CASE {} ELSE {} END", whens.join(" "), PriceBand::ALL.len() - 1)
}

/// `CASE …` giving the highest of [`RATINGS`] the rating in `column` meets,
/// else 0 (as the `gig_facets` triggers compute it).
pub(crate) fn stars_case(column: &str) -> String {
    let whens: Vec<String> = RATINGS.iter().map(|r| format!("WHEN {column} >= {r} THEN {r}")).collect();
    format!("CASE {} ELSE 0 END", whens.join(" "))
}

/// The closest known terms to a query that matched nothing.
///
/// The known terms are those of the kept per-term cells, read by a skip
/// scan of their index (one probe per distinct term, not a row per gig and
/// term); counts, which only break ties between equally similar terms, are
/// summed for the tied candidates alone.
pub async fn did_you_mean(db: &Db, q: &str) -> StoreResult<Option<String>> {
    let words: Vec<String> = suggest::words(q).iter().map(|w| query_term(db.backend(), w)).collect();
    let Some(longest) = words.iter().map(|w| w.chars().count()).max() else { return Ok(None) };
    let sql = "WITH RECURSIVE t(term) AS (
                 SELECT MIN(term) FROM gig_term_facets
                 UNION ALL
                 SELECT (SELECT MIN(f.term) FROM gig_term_facets f WHERE f.term > t.term) FROM t WHERE t.term IS NOT NULL)
               SELECT term FROM t WHERE term IS NOT NULL
               UNION SELECT DISTINCT term FROM gig_term_facet_deltas";
    let all: Vec<String> = on_pool!(db, p => sqlx::query_scalar(sql).fetch_all(p).await?);
    let all: Vec<String> = all.into_iter().filter(|t| (2..=longest + 3).contains(&t.chars().count())).collect();
    // The query's own words and, per word, the terms most similar to it.
    let mut candidates: std::collections::BTreeSet<String> = words.iter().cloned().collect();
    for w in &words {
        let best = all.iter().map(|t| suggest::similarity(w, t)).fold(0.0, f64::max);
        if best >= suggest::THRESHOLD {
            candidates.extend(all.iter().filter(|t| suggest::similarity(w, t) == best).cloned());
        }
    }
    let candidates: Vec<String> = candidates.into_iter().collect();
    let counts = term_counts(db, &candidates).await?;
    let terms: Vec<(String, i64)> =
        candidates.into_iter().filter_map(|t| counts.get(&t).copied().filter(|n| *n > 0).map(|n| (t, n))).collect();
    Ok(suggest::did_you_mean(&words.join(" "), &terms))
}

/// How many active gigs hold exactly each of `terms` (kept cells plus
/// deltas), in one statement; a term held by none may be missing.
async fn term_counts(db: &Db, terms: &[String]) -> StoreResult<std::collections::HashMap<String, i64>> {
    if terms.is_empty() {
        return Ok(Default::default());
    }
    let list: Vec<String> = (1..=terms.len()).map(|i| format!("${i}")).collect();
    let list = list.join(", ");
    let sql = format!(
        "SELECT term, CAST(SUM(n) AS BIGINT) AS n FROM (SELECT term, n FROM gig_term_facets WHERE term IN ({list})
         UNION ALL SELECT term, n FROM gig_term_facet_deltas WHERE term IN ({list})) c GROUP BY term"
    );
    let rows: Vec<(String, i64)> = on_pool!(db, p => {
        let mut q = sqlx::query_as::<_, (String, i64)>(&sql);
        for t in terms {
            q = q.bind(t.as_str());
        }
        q.fetch_all(p).await?
    });
    Ok(rows.into_iter().collect())
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
