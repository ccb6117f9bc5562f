//! Keyset pagination for back-office lists: a page starts after or before
//! a row, named by an opaque cursor of the row's (sort key, id), so pages
//! stay stable while rows are added and cost the same however deep.
//!
//! A handler reads `?before=` / `?after=` into [`Page`], turns it into a
//! [`Direction`], fetches `limit + 1` rows in the direction's order (newest
//! first for `First` and `Before`, oldest first for `After`, by `(key, id)`),
//! and hands them to [`KeysetPage::from_rows`], which trims, orders newest
//! first and finds the neighbours; [`KeysetPage::pager`] makes the
//! "newer"/"older" links.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use platform_web::error::{AppError, AppResult};
use serde::{Deserialize, Serialize};

/// Where a row sits in a list: its sort key and its id, both as text (a
/// timestamp in RFC 3339, a number, a name…). Opaque to clients.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cursor {
    pub key: String,
    pub id: String,
}

impl Cursor {
    pub fn new(key: impl ToString, id: impl ToString) -> Self {
        Cursor { key: key.to_string(), id: id.to_string() }
    }

    /// URL-safe base64 of the pair.
    pub fn encode(&self) -> String {
        URL_SAFE_NO_PAD.encode(serde_json::to_vec(&(&self.key, &self.id)).unwrap_or_default())
    }

    /// Reads a cursor a client sent back; `field` names the parameter in
    /// the error.
    pub fn decode(text: &str, field: &'static str) -> AppResult<Cursor> {
        let bad = || AppError::field(field, "This page link is not valid; start from the first page.");
        let bytes = URL_SAFE_NO_PAD.decode(text.trim()).map_err(|_| bad())?;
        let (key, id): (String, String) = serde_json::from_slice(&bytes).map_err(|_| bad())?;
        Ok(Cursor { key, id })
    }

    /// The key read as a number, timestamp, … (a bad one names `field`).
    pub fn key_as<T: std::str::FromStr>(&self, field: &'static str) -> AppResult<T> {
        self.key.parse().map_err(|_| AppError::field(field, "This page link is not valid; start from the first page."))
    }
}

/// The query parameters of a paged list.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Page {
    #[serde(default)]
    pub before: Option<String>,
    #[serde(default)]
    pub after: Option<String>,
}

/// Which rows a page shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Direction {
    /// The newest rows.
    First,
    /// Rows older than the cursor (the "older" link).
    Before(Cursor),
    /// Rows newer than the cursor (the "newer" link).
    After(Cursor),
}

impl Page {
    pub fn direction(&self) -> AppResult<Direction> {
        let given = |s: &Option<String>| s.as_deref().filter(|s| !s.trim().is_empty()).map(str::to_string);
        match (given(&self.before), given(&self.after)) {
            (None, None) => Ok(Direction::First),
            (Some(b), None) => Ok(Direction::Before(Cursor::decode(&b, "before")?)),
            (None, Some(a)) => Ok(Direction::After(Cursor::decode(&a, "after")?)),
            (Some(_), Some(_)) => Err(AppError::field("after", "Give either before or after, not both.")),
        }
    }
}

/// One page of rows, newest first, with the cursors of its neighbours.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct KeysetPage<T> {
    pub items: Vec<T>,
    /// Shows the newer rows (`?after=`), if there are any.
    pub newer: Option<Cursor>,
    /// Shows the older rows (`?before=`), if there are any.
    pub older: Option<Cursor>,
}

impl<T> KeysetPage<T> {
    /// `rows` as fetched for `direction`: at most `limit + 1`, newest first
    /// for `First`/`Before`, oldest first for `After`.
    pub fn from_rows(mut rows: Vec<T>, direction: &Direction, limit: usize, cursor_of: impl Fn(&T) -> Cursor) -> Self {
        let more = rows.len() > limit;
        rows.truncate(limit);
        if let Direction::After(_) = direction {
            rows.reverse();
        }
        let first = rows.first().map(&cursor_of);
        let last = rows.last().map(&cursor_of);
        let (newer, older) = match direction {
            Direction::First => (None, last.filter(|_| more)),
            Direction::Before(_) => (first, last.filter(|_| more)),
            Direction::After(_) => (first.filter(|_| more), last),
        };
        KeysetPage { items: rows, newer, older }
    }

    /// The "newer"/"older" links for this page at `path`, keeping the
    /// list's other parameters (its filters).
    pub fn pager(&self, path: &str, keep: &[(&str, &str)]) -> Pager {
        let link = |param: &str, c: &Cursor| {
            let mut pairs: Vec<(&str, &str)> =
                keep.iter().copied().filter(|(k, v)| !v.is_empty() && *k != "before" && *k != "after").collect();
            let cursor = c.encode();
            pairs.push((param, &cursor));
            format!("{path}?{}", serde_urlencoded::to_string(&pairs).unwrap_or_default())
        };
        Pager { newer: self.newer.as_ref().map(|c| link("after", c)), older: self.older.as_ref().map(|c| link("before", c)) }
    }
}

/// The links of the shell's pager (`backoffice/macros.html`, `pager`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Pager {
    pub newer: Option<String>,
    pub older: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn a_cursor_survives_the_round_trip_and_junk_names_its_field() {
        let c = Cursor::new("2026-01-02T03:04:05Z", "0193c1a2-…");
        let text = c.encode();
        assert!(text.chars().all(|ch| ch.is_ascii_alphanumeric() || ch == '-' || ch == '_'), "{text}");
        assert_eq!(Cursor::decode(&text, "before").unwrap(), c);
        for junk in ["", "!!!", "bm90IGpzb24", &URL_SAFE_NO_PAD.encode(b"[1,2]")] {
            match Cursor::decode(junk, "before") {
                Err(AppError::Validation(e)) => assert!(e.for_field("before").is_some(), "{junk}"),
                other => panic!("{junk}: {other:?}"),
            }
        }
        assert_eq!(Cursor::new(42, "x").key_as::<i64>("after").unwrap(), 42);
        assert!(Cursor::new("x", "x").key_as::<i64>("after").is_err());
    }

    #[test]
    fn a_page_reads_one_direction() {
        let c = Cursor::new(7, "a").encode();
        assert_eq!(Page::default().direction().unwrap(), Direction::First);
        assert_eq!(
            Page { before: Some(c.clone()), after: Some(String::new()) }.direction().unwrap(),
            Direction::Before(Cursor::new(7, "a"))
        );
        assert_eq!(Page { before: None, after: Some(c.clone()) }.direction().unwrap(), Direction::After(Cursor::new(7, "a")));
        assert!(Page { before: Some(c.clone()), after: Some(c) }.direction().is_err());
    }

    /// A list of rows (key = id = n), paged as a store would answer.
    fn fetch(all: &[i64], d: &Direction, limit: usize) -> Vec<i64> {
        let n = |c: &Cursor| c.key.parse::<i64>().unwrap();
        let mut rows: Vec<i64> = match d {
            Direction::First => all.iter().rev().copied().collect(),
            Direction::Before(c) => all.iter().rev().copied().filter(|r| *r < n(c)).collect(),
            Direction::After(c) => all.iter().copied().filter(|r| *r > n(c)).collect(),
        };
        rows.truncate(limit + 1);
        rows
    }

    proptest! {
        #[test]
        fn walking_older_then_newer_visits_every_row_once(len in 0usize..40, limit in 1usize..9) {
            let all: Vec<i64> = (1..=len as i64).map(|n| n * 10).collect();
            let cursor = |r: &i64| Cursor::new(r, r);
            let mut pages = vec![];
            let mut d = Direction::First;
            loop {
                let page = KeysetPage::from_rows(fetch(&all, &d, limit), &d, limit, cursor);
                prop_assert!(page.items.len() <= limit);
                prop_assert!(page.items.windows(2).all(|w| w[0] > w[1]), "newest first");
                prop_assert_eq!(page.newer.is_some(), !pages.is_empty() && !page.items.is_empty());
                let older = page.older.clone();
                pages.push(page);
                match older { Some(c) => d = Direction::Before(c), None => break }
            }
            let walked: Vec<i64> = pages.iter().flat_map(|p| p.items.iter().copied()).collect();
            prop_assert_eq!(walked, all.iter().rev().copied().collect::<Vec<_>>());
            // Back up: each "newer" link shows the page before it.
            for i in (1..pages.len()).rev() {
                let Some(c) = pages[i].newer.clone() else { continue };
                let d = Direction::After(c);
                let back = KeysetPage::from_rows(fetch(&all, &d, limit), &d, limit, cursor);
                prop_assert_eq!(&back.items, &pages[i - 1].items);
                prop_assert_eq!(back.newer.is_some(), i > 1);
            }
        }
    }

    #[test]
    fn pager_links_keep_the_filters_and_drop_old_cursors() {
        let d = Direction::Before(Cursor::new(50, 50));
        let page = KeysetPage::from_rows(vec![40, 30, 20], &d, 2, |r: &i64| Cursor::new(r, r));
        let pager = page.pager("/admin/audit", &[("action", "user.ban"), ("before", "stale"), ("actor", "")]);
        let newer = pager.newer.unwrap();
        let older = pager.older.unwrap();
        assert_eq!(newer, format!("/admin/audit?action=user.ban&after={}", Cursor::new(40, 40).encode()));
        assert_eq!(older, format!("/admin/audit?action=user.ban&before={}", Cursor::new(30, 30).encode()));
    }
}
