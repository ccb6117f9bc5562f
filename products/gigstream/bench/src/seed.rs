//! Fills a migrated store with sellers and gigs in a few set-based
//! statements (a recursive row counter joined to small word lists), so
//! 100,000 gigs take seconds, not an API call each. The words are chosen by
//! the row number, so every run has the same gigs: "logo" is in 1 title of
//! 13, "minimalist logo" in 1 of 143, and so on.

use crate::Fail;
use platform_db::{on_pool, Db};
use std::time::Instant;

const VERBS: [&str; 7] = ["design", "build", "write", "edit", "create", "optimize", "translate"];
const ADJECTIVES: [&str; 11] =
    ["modern", "minimalist", "professional", "creative", "responsive", "unique", "elegant", "custom", "clean", "bold", "vintage"];
const NOUNS: [&str; 13] = [
    "logo",
    "website",
    "app",
    "article",
    "video",
    "podcast",
    "banner",
    "brochure",
    "resume",
    "newsletter",
    "illustration",
    "mascot",
    "ebook",
];
const OBJECTS: [&str; 9] = ["business", "brand", "startup", "shop", "blog", "channel", "restaurant", "agency", "book"];

/// `WITH`-list entry `name(k, w) AS (VALUES (0, 'a'), …)`.
fn words(name: &str, list: &[&str]) -> String {
    let rows: Vec<String> = list.iter().enumerate().map(|(k, w)| format!("({k}, '{w}')")).collect();
    format!("{name}(k, w) AS (VALUES {})", rows.join(", "))
}

/// The SQL that differs between the stores.
struct Dialect {
    sqlite: bool,
}

impl Dialect {
    /// A UUID from a prefix and a row number: `prefix-0000-4000-8000-000000000042`.
    fn id(&self, prefix: &str, n: &str) -> String {
        let text = if self.sqlite {
            format!("'{prefix}-0000-4000-8000-' || printf('%012d', {n})")
        } else {
            format!("'{prefix}-0000-4000-8000-' || lpad(CAST({n} AS TEXT), 12, '0')")
        };
        if self.sqlite {
            text
        } else {
            format!("CAST({text} AS UUID)")
        }
    }

    /// `minutes` before a fixed moment, as each store keeps times.
    fn minutes_ago(&self, minutes: &str) -> String {
        if self.sqlite {
            format!("strftime('%Y-%m-%dT%H:%M:%f+00:00', '2026-11-01 12:00:00', '-' || ({minutes}) || ' minutes')")
        } else {
            format!("CAST('2026-11-01 12:00:00+00' AS TIMESTAMPTZ) - ({minutes}) * INTERVAL '1 minute'")
        }
    }
}

pub const SELLER_PREFIX: &str = "1be0c400";
const GIG_PREFIX: &str = "2be0c400";

/// Adds `sellers` seller accounts and `gigs` gigs (one in 50 paused, the
/// rest active), each with a basic package, then refreshes the planner's
/// statistics. Returns the seconds it took.
pub async fn gigs(db: &Db, sellers: u32, gigs: u32) -> Result<f64, Fail> {
    let started = Instant::now();
    let d = Dialect { sqlite: matches!(db, Db::Sqlite(_)) };
    let cats: Vec<(String, String)> = on_pool!(db, p => sqlx::query_as(
        "SELECT parent, slug FROM categories WHERE parent IS NOT NULL ORDER BY parent, position").fetch_all(p).await?);
    if cats.is_empty() {
        return Err("no categories: is the store migrated?".into());
    }
    let cat_rows: Vec<String> = cats.iter().enumerate().map(|(k, (c, s))| format!("({k}, '{c}', '{s}')")).collect();

    let accounts = format!(
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {sellers})
         INSERT INTO accounts (id, email, username, display_name, password_hash, created_at)
         SELECT {id}, 'seller' || i || '@bench.test', 'benchseller' || i, 'Bench Seller ' || i, 'not-a-hash', {at} FROM n",
        id = d.id(SELLER_PREFIX, "i"),
        at = d.minutes_ago("i"),
    );
    on_pool!(db, p => { sqlx::query(&accounts).execute(p).await?; });

    let gigs_sql = format!(
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {gigs}),
         {verbs}, {adjectives}, {nouns}, {objects}, cats(k, cat, sub) AS (VALUES {cats})
         INSERT INTO gigs (id, seller_id, slug, title, category, subcategory, tags_text, description_html, description_text,
                           currency, status, min_price_minor, min_delivery_days, rating_x100, rating_count, seller_level,
                           orders_completed, created_at, updated_at)
         SELECT {gig_id}, {seller_id}, 'bench-gig-' || i,
                'I will ' || v.w || ' a ' || a.w || ' ' || nn.w || ' for your ' || o.w, c.cat, c.sub,
                nn.w || ' ' || v.w || ' ' || o.w,
                '<p>A ' || a.w || ' ' || nn.w || ', made by hand for your ' || o.w || ', with ' || (1 + i % 15) || ' years of experience.</p>',
                'A ' || a.w || ' ' || nn.w || ', made by hand for your ' || o.w || ', with ' || (1 + i % 15) || ' years of experience.',
                'USD', CASE WHEN i % 50 = 0 THEN 'paused' ELSE 'active' END,
                500 + (i * 7919) % 50000, 1 + (i * 31) % 10,
                CASE WHEN i % 5 = 0 THEN NULL ELSE 300 + (i * 17) % 201 END, CASE WHEN i % 5 = 0 THEN 0 ELSE 1 + i % 90 END,
                CASE (i / 3) % 4 WHEN 0 THEN 'new' WHEN 1 THEN 'level_one' WHEN 2 THEN 'level_two' ELSE 'top_rated' END,
                i % 40, {at}, {at}
         FROM n JOIN verbs v ON v.k = i % 7 JOIN adjectives a ON a.k = (i / 7) % 11 JOIN nouns nn ON nn.k = (i / 77) % 13
                JOIN objects o ON o.k = (i / 1001) % 9 JOIN cats c ON c.k = i % {ncats}",
        verbs = words("verbs", &VERBS),
        adjectives = words("adjectives", &ADJECTIVES),
        nouns = words("nouns", &NOUNS),
        objects = words("objects", &OBJECTS),
        cats = cat_rows.join(", "),
        ncats = cats.len(),
        gig_id = d.id(GIG_PREFIX, "i"),
        seller_id = d.id(SELLER_PREFIX, &format!("1 + i % {sellers}")),
        at = d.minutes_ago("i"),
    );
    on_pool!(db, p => { sqlx::query(&gigs_sql).execute(p).await?; });

    // The words of titles and tags, as the store keeps them for "did you
    // mean" and autocomplete (three letters or more, once per gig).
    let n = |list: &str, key: &str| format!("SELECT {gig}, x.w FROM n JOIN {list} x ON x.k = {key}", gig = d.id(GIG_PREFIX, "i"));
    let terms_sql = format!(
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {gigs}),
         {verbs}, {adjectives}, {nouns}, {objects}, {fixed}
         INSERT INTO gig_terms (gig_id, term)
         {a} UNION ALL {b} UNION ALL {c} UNION ALL {e} UNION ALL SELECT {gig}, x.w FROM n CROSS JOIN fixed x",
        verbs = words("verbs", &VERBS),
        adjectives = words("adjectives", &ADJECTIVES),
        nouns = words("nouns", &NOUNS),
        objects = words("objects", &OBJECTS),
        fixed = words("fixed", &["will", "for", "your"]),
        a = n("verbs", "i % 7"),
        b = n("adjectives", "(i / 7) % 11"),
        c = n("nouns", "(i / 77) % 13"),
        e = n("objects", "(i / 1001) % 9"),
        gig = d.id(GIG_PREFIX, "i"),
    );
    on_pool!(db, p => { sqlx::query(&terms_sql).execute(p).await?; });

    // The words each gig is searched by, weighted (gig_words): PostgreSQL's
    // trigger keeps them from the search_vector; on SQLite the store
    // writes them with a gig's text, here from FTS5's own index at once.
    if d.sqlite {
        let words = "INSERT INTO gig_words (term, gig_id, weight)
                     SELECT v.term, g.id, MAX(CASE WHEN v.col = 'title' THEN 10 ELSE 0 END) + MAX(CASE WHEN v.col = 'tags' THEN 5 ELSE 0 END)
                                          + MAX(CASE WHEN v.col = 'body' THEN 1 ELSE 0 END)
                     FROM gig_fts_terms v JOIN gigs g ON g.rowid = v.doc GROUP BY v.term, g.id";
        on_pool!(db, p => { sqlx::query(words).execute(p).await?; });
    }

    let packages = "INSERT INTO gig_packages (gig_id, tier, name, price_minor, delivery_days, revisions)
                    SELECT g.id, 'basic', 'Basic', g.min_price_minor, g.min_delivery_days, 1 FROM gigs g
                    WHERE NOT EXISTS (SELECT 1 FROM gig_packages p WHERE p.gig_id = g.id)";
    on_pool!(db, p => { sqlx::query(packages).execute(p).await?; });
    db.refresh_statistics("gigs").await?;
    db.refresh_statistics("accounts").await?;
    db.refresh_statistics("gig_terms").await?;
    db.refresh_statistics("gig_words").await?;
    Ok(started.elapsed().as_secs_f64())
}
