//! A per-node cache of live sessions, in front of a product's session
//! lookup ([`crate::session::SignIn::find`]), so a signed-in request does
//! not ask the database who is asking.
//!
//! An entry is what the lookup found, keyed by the token's hash: the
//! platform's session row (account, kind, via, CSRF token, expiry) and the
//! product's `Signed`, which must hold only what identifies the asker
//! (never a balance or a count a page shows live: handlers read those
//! fresh). It is served only
//! - before the session's `expires_at`;
//! - while the cache is *confirmed*: the last read of the product's
//!   sign-in version (`platform_accounts::SessionStore::version`, bumped by
//!   the product's triggers on every revocation and every change of an
//!   account's sign-in state) that found it unchanged began less than
//!   [`SessionCache::bound`] ago. A read that finds the version moved
//!   empties the cache.
//!
//! So a change committed at time T is refused on every node by T + bound:
//! a version read begun after T sees the change and empties the cache; an
//! entry served later than T + bound would need a confirming read begun
//! after T, which cannot be. A lookup that raced with such a read (it read
//! the session before the change, the cache was emptied before it stored
//! its entry) does not store it: entries are stored only when the cache's
//! generation is the one seen before the lookup. A node that makes the
//! change itself drops the affected entries at once
//! ([`SessionCache::forget_token`], [`SessionCache::forget_account`]).
//!
//! The cache holds at most `capacity` entries; past that the oldest stored
//! goes first.

use chrono::{DateTime, Utc};
use platform_accounts::Session;
use platform_db::Db;
use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use crate::request::SessionVia;

/// How often a node reads the sign-in version.
pub const POLL_EVERY: Duration = Duration::from_millis(50);

/// How long after its last confirming read the cache is served: the bound
/// within which a revocation is refused on every node.
pub const BOUND: Duration = Duration::from_millis(100);

struct Entry<S, I, K> {
    signed: S,
    session: Session<I, K>,
    via: SessionVia,
    /// Its place in the eviction order.
    seq: u64,
}

struct Inner<S, I, K> {
    entries: HashMap<String, Entry<S, I, K>>,
    /// Keys in the order they were stored, with the `seq` they had.
    order: VecDeque<(String, u64)>,
    seq: u64,
    /// Moves whenever the cache is emptied or entries are forgotten.
    generation: u64,
    /// The last version read, and when that read began.
    version: Option<i64>,
    confirmed_at: Option<Instant>,
}

/// A per-node cache of live sessions (see the module documentation).
pub struct SessionCache<S, I, K> {
    inner: Mutex<Inner<S, I, K>>,
    capacity: usize,
    bound: Duration,
    /// Lookups that went to the database through this cache.
    lookups: AtomicU64,
    /// Requests served from the cache.
    hits: AtomicU64,
}

/// What a lookup remembers between asking the cache and storing its answer.
#[derive(Debug, Clone, Copy)]
pub struct Ticket(u64);

impl<S, I, K> SessionCache<S, I, K> {
    fn lock(&self) -> MutexGuard<'_, Inner<S, I, K>> {
        // A panic while holding the lock leaves plain data behind; serve on.
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl<S: Clone, I: Clone, K: Clone> SessionCache<S, I, K> {
    /// An empty cache of at most `capacity` sessions, served within
    /// [`BOUND`] of a confirming version read.
    pub fn new(capacity: usize) -> Self {
        Self::with_bound(capacity, BOUND)
    }

    /// An empty cache served within `bound` of a confirming version read.
    pub fn with_bound(capacity: usize, bound: Duration) -> Self {
        SessionCache {
            inner: Mutex::new(Inner {
                entries: HashMap::new(),
                order: VecDeque::new(),
                seq: 0,
                generation: 0,
                version: None,
                confirmed_at: None,
            }),
            capacity: capacity.max(1),
            bound,
            lookups: AtomicU64::new(0),
            hits: AtomicU64::new(0),
        }
    }

    /// The bound within which a change is refused on this node.
    pub fn bound(&self) -> Duration {
        self.bound
    }

    /// The session of `key` (a token's hash) presented by `via`, if cached,
    /// unexpired at `now` and confirmed at `at`; otherwise a ticket to
    /// store the database's answer with.
    pub fn get(&self, key: &str, via: SessionVia, now: DateTime<Utc>, at: Instant) -> Result<(S, Session<I, K>), Ticket> {
        let g = self.lock();
        let confirmed = g.confirmed_at.is_some_and(|c| at.saturating_duration_since(c) < self.bound);
        match g.entries.get(key) {
            Some(e) if confirmed && e.via == via && now < e.session.expires_at => {
                self.hits.fetch_add(1, Ordering::Relaxed);
                Ok((e.signed.clone(), e.session.clone()))
            }
            _ => {
                self.lookups.fetch_add(1, Ordering::Relaxed);
                Err(Ticket(g.generation))
            }
        }
    }

    /// Stores what the database answered for `key`, unless the cache was
    /// emptied or entries forgotten since `ticket` was taken.
    pub fn put(&self, ticket: Ticket, key: String, via: SessionVia, signed: S, session: Session<I, K>) {
        let mut g = self.lock();
        if g.generation != ticket.0 {
            return;
        }
        g.seq += 1;
        let seq = g.seq;
        g.entries.insert(key.clone(), Entry { signed, session, via, seq });
        g.order.push_back((key, seq));
        while g.entries.len() > self.capacity {
            let Some((old, old_seq)) = g.order.pop_front() else { break };
            if g.entries.get(&old).is_some_and(|e| e.seq == old_seq) {
                g.entries.remove(&old);
            }
        }
        // Keys replaced or forgotten leave stale places behind; keep them few.
        if g.order.len() > 2 * self.capacity {
            let Inner { entries, order, .. } = &mut *g;
            order.retain(|(k, s)| entries.get(k).is_some_and(|e| e.seq == *s));
        }
    }

    /// Notes the session of `key` as seen at `now` (after the caller
    /// touched it in the database).
    pub fn seen(&self, key: &str, now: DateTime<Utc>) {
        if let Some(e) = self.lock().entries.get_mut(key) {
            e.session.last_seen_at = now;
        }
    }

    /// Drops the session of `key` (signed out on this node).
    pub fn forget_token(&self, key: &str) {
        let mut g = self.lock();
        g.generation += 1;
        g.entries.remove(key);
    }

    /// Drops everything.
    pub fn clear(&self) {
        let mut g = self.lock();
        g.generation += 1;
        g.entries.clear();
        g.order.clear();
    }

    /// Records a version read begun at `began`: a moved version empties the
    /// cache; either way the cache is confirmed as of `began`.
    pub fn confirm(&self, version: i64, began: Instant) {
        let mut g = self.lock();
        if g.version != Some(version) {
            g.generation += 1;
            g.entries.clear();
            g.order.clear();
            g.version = Some(version);
        }
        if g.confirmed_at.is_none_or(|c| c < began) {
            g.confirmed_at = Some(began);
        }
    }

    /// Whether a version read begun after `t` confirmed the cache: a
    /// change committed before `t` is then seen by this node (its entries
    /// from before the change are gone). Tests wait on this after writing
    /// behind the node's back.
    pub fn confirmed_after(&self, t: Instant) -> bool {
        self.lock().confirmed_at.is_some_and(|c| c > t)
    }

    /// How many sessions are cached.
    pub fn len(&self) -> usize {
        self.lock().entries.len()
    }

    /// Whether none is.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Lookups that went to the database through this cache.
    pub fn lookups(&self) -> u64 {
        self.lookups.load(Ordering::Relaxed)
    }

    /// Requests served from the cache.
    pub fn hits(&self) -> u64 {
        self.hits.load(Ordering::Relaxed)
    }
}

impl<S, I: PartialEq, K> SessionCache<S, I, K> {
    /// Drops every session of `account` (its sign-in changed on this node).
    pub fn forget_account(&self, account: &I) {
        let mut g = self.lock();
        g.generation += 1;
        g.entries.retain(|_, e| e.session.account_id != *account);
    }
}

impl<S, I, K> SessionCache<S, I, K>
where
    S: Clone + Send + 'static,
    I: Clone + Send + 'static,
    K: Clone + Send + 'static,
{
    /// Reads the product's sign-in version in `table` every `every` for as
    /// long as the cache is alive (one indexed one-row read per node, not
    /// per request). A failed read confirms nothing, so after [`BOUND`]
    /// the cache stops serving until a read succeeds again. On PostgreSQL
    /// the reads have a connection of their own ([`Db::own_connection`]):
    /// on the request pool they queued behind a busy node's requests,
    /// confirmed the cache late and left it unserved just when it saves
    /// most.
    pub fn watch(self: &Arc<Self>, db: Db, table: &'static str, every: Duration) {
        let db = db.own_connection();
        let weak = Arc::downgrade(self);
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(every);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tick.tick().await;
                let began = Instant::now();
                let read = platform_accounts::SessionStore::version(&db, table).await;
                let Some(cache) = weak.upgrade() else { return };
                match read {
                    Ok(v) => cache.confirm(v, began),
                    Err(e) => tracing::warn!(error = %e, "sign-in version read failed"),
                }
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Duration as Span;

    fn session(account: u32, expires_at: DateTime<Utc>) -> Session<u32, &'static str> {
        let t = expires_at - Span::hours(1);
        Session {
            account_id: account,
            kind: "user",
            via: platform_accounts::Via::Cookie,
            csrf_token: "c".into(),
            created_at: t,
            last_seen_at: t,
            expires_at,
        }
    }

    type Cache = SessionCache<u32, u32, &'static str>;

    fn put(c: &Cache, key: &str, account: u32, expires_at: DateTime<Utc>, now: DateTime<Utc>, at: Instant) {
        let t = c.get(key, SessionVia::Cookie, now, at).expect_err("a miss");
        c.put(t, key.into(), SessionVia::Cookie, account, session(account, expires_at));
    }

    #[test]
    fn nothing_is_served_before_a_version_read_confirms_the_cache() {
        let c = Cache::new(10);
        let now = Utc::now();
        let at = Instant::now();
        put(&c, "a", 1, now + Span::hours(1), now, at);
        assert!(c.get("a", SessionVia::Cookie, now, at).is_err());
        c.confirm(7, at);
        // The first read empties what was stored before it.
        assert!(c.get("a", SessionVia::Cookie, now, at).is_err());
        put(&c, "a", 1, now + Span::hours(1), now, at);
        assert_eq!(c.get("a", SessionVia::Cookie, now, at).map(|(s, _)| s).ok(), Some(1));
        assert_eq!((c.hits(), c.lookups()), (1, 4));
    }

    #[test]
    fn an_entry_is_served_only_until_its_session_expires() {
        let c = Cache::new(10);
        let now = Utc::now();
        let at = Instant::now();
        c.confirm(1, at);
        put(&c, "a", 1, now + Span::seconds(30), now, at);
        assert!(c.get("a", SessionVia::Cookie, now + Span::seconds(29), at).is_ok());
        assert!(c.get("a", SessionVia::Cookie, now + Span::seconds(30), at).is_err());
        assert!(c.get("a", SessionVia::Cookie, now + Span::seconds(31), at).is_err());
    }

    #[test]
    fn the_cache_holds_at_most_its_capacity_oldest_first_out() {
        let c = Cache::new(3);
        let now = Utc::now();
        let at = Instant::now();
        c.confirm(1, at);
        for (i, k) in ["a", "b", "c", "d", "e"].iter().enumerate() {
            put(&c, k, i as u32, now + Span::hours(1), now, at);
            assert!(c.len() <= 3);
        }
        assert_eq!(c.len(), 3);
        assert!(c.get("a", SessionVia::Cookie, now, at).is_err());
        assert!(c.get("b", SessionVia::Cookie, now, at).is_err());
        for k in ["c", "d", "e"] {
            assert!(c.get(k, SessionVia::Cookie, now, at).is_ok(), "{k}");
        }
        // Storing the same key again many times keeps the bound.
        for _ in 0..20 {
            let t = Ticket(c.lock().generation);
            c.put(t, "e".into(), SessionVia::Cookie, 9, session(9, now + Span::hours(1)));
        }
        assert_eq!(c.len(), 3);
        assert!(c.inner.lock().map(|g| g.order.len() <= 6).unwrap_or(false));
    }

    #[test]
    fn a_moved_version_empties_the_cache_and_an_unchanged_one_does_not() {
        let c = Cache::new(10);
        let now = Utc::now();
        let at = Instant::now();
        c.confirm(1, at);
        put(&c, "a", 1, now + Span::hours(1), now, at);
        c.confirm(1, at);
        assert!(c.get("a", SessionVia::Cookie, now, at).is_ok());
        c.confirm(2, at);
        assert!(c.get("a", SessionVia::Cookie, now, at).is_err());
        assert!(c.is_empty());
    }

    #[test]
    fn the_cache_is_not_served_past_the_bound_after_its_last_confirmation() {
        let c = Cache::with_bound(10, Duration::from_millis(100));
        let now = Utc::now();
        let at = Instant::now();
        c.confirm(1, at);
        put(&c, "a", 1, now + Span::hours(1), now, at);
        assert!(c.get("a", SessionVia::Cookie, now, at + Duration::from_millis(99)).is_ok());
        assert!(c.get("a", SessionVia::Cookie, now, at + Duration::from_millis(100)).is_err());
        c.confirm(1, at + Duration::from_millis(100));
        assert!(c.get("a", SessionVia::Cookie, now, at + Duration::from_millis(150)).is_ok());
    }

    #[test]
    fn a_lookup_that_raced_with_a_change_does_not_store_its_answer() {
        let c = Cache::new(10);
        let now = Utc::now();
        let at = Instant::now();
        c.confirm(1, at);
        let t = c.get("a", SessionVia::Cookie, now, at).expect_err("a miss");
        c.confirm(2, at);
        c.put(t, "a".into(), SessionVia::Cookie, 1, session(1, now + Span::hours(1)));
        assert!(c.is_empty());
        let t = c.get("b", SessionVia::Cookie, now, at).expect_err("a miss");
        c.forget_account(&5);
        c.put(t, "b".into(), SessionVia::Cookie, 1, session(1, now + Span::hours(1)));
        assert!(c.is_empty());
    }

    #[test]
    fn forgetting_drops_a_token_or_every_session_of_an_account() {
        let c = Cache::new(10);
        let now = Utc::now();
        let at = Instant::now();
        c.confirm(1, at);
        put(&c, "a", 1, now + Span::hours(1), now, at);
        put(&c, "b", 1, now + Span::hours(1), now, at);
        put(&c, "c", 2, now + Span::hours(1), now, at);
        c.forget_token("c");
        assert!(c.get("c", SessionVia::Cookie, now, at).is_err());
        assert!(c.get("a", SessionVia::Cookie, now, at).is_ok());
        c.forget_account(&1);
        assert!(c.is_empty());
    }

    #[test]
    fn a_read_begun_after_an_instant_is_what_confirms_after_it() {
        let c = Cache::new(10);
        let t = Instant::now();
        assert!(!c.confirmed_after(t));
        c.confirm(1, t);
        assert!(!c.confirmed_after(t), "a read begun at the instant itself may have missed a change just before it");
        c.confirm(1, t + Duration::from_millis(1));
        assert!(c.confirmed_after(t));
    }

    #[test]
    fn a_token_presented_another_way_is_looked_up() {
        let c = Cache::new(10);
        let now = Utc::now();
        let at = Instant::now();
        c.confirm(1, at);
        put(&c, "a", 1, now + Span::hours(1), now, at);
        assert!(c.get("a", SessionVia::Bearer, now, at).is_err());
    }
}
