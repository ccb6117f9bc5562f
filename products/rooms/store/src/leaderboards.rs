//! Rankings (requirement 9.3). Each gift adds to per-period counters
//! (`gift_counters`, sharded so gifts into one room do not queue on one
//! row; see [`crate::gifts`]); [`fold`] copies the sums of the subjects
//! recent gifts touched into `board_totals`, whose index is the ranking,
//! so a page is its first rows and a rank one index range, whatever the
//! volume. A period's key comes from the ranking clock, so a new day, week
//! or month starts a fresh board at once and no one sees a half-reset one.
//! Ties go to whoever reached the amount first (earlier last gift).
//!
//! A node keeps the pages it read, and each board's [`Standings`] (every
//! subject's rank, so a reader's rank is a lookup, not a count of the
//! places above them), in a [`Cache`]: a read is memory while the totals
//! have not changed, and the database only when a fold on the node (or
//! [`CACHE_FOR`]) says they may have — one read per key at a time, mostly
//! made ahead of the readers by [`Cache::refresh_due`]. Before reading a
//! key again the cache reads the totals' [`version`] (one row): a board
//! whose totals did not move keeps its copy, so a quiet board costs the
//! store one small read a second per node, not its standings.

use crate::{on_pool, BeginWrite, Db, StoreResult};
use chrono::{DateTime, Duration, Utc};
use rooms_domain::ids::AccountId;
use rooms_domain::progress::{Period, RankingClock};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Instant;

/// Which board.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Board {
    /// Users by coins sent.
    Wealth,
    /// Users by coins received.
    Charm,
    /// Rooms by coins spent in them.
    Rooms,
    /// Agencies by income (their shares).
    Agencies,
}

impl Board {
    pub const ALL: [Board; 4] = [Board::Wealth, Board::Charm, Board::Rooms, Board::Agencies];

    pub fn as_str(self) -> &'static str {
        match self {
            Board::Wealth => "wealth",
            Board::Charm => "charm",
            Board::Rooms => "rooms",
            Board::Agencies => "agencies",
        }
    }

    pub fn parse(s: &str) -> Option<Board> {
        Board::ALL.into_iter().find(|b| b.as_str() == s)
    }

    /// The counter board it reads.
    fn counter(self) -> &'static str {
        match self {
            Board::Wealth => "wealth",
            Board::Charm => "charm",
            Board::Rooms => "room",
            Board::Agencies => "agency",
        }
    }

    /// The SQL giving a subject's display name.
    /// The table and column naming a subject.
    fn names_from(self) -> (&'static str, &'static str) {
        match self {
            Board::Wealth | Board::Charm => ("accounts", "display_name"),
            Board::Rooms => ("rooms", "name"),
            Board::Agencies => ("agencies", "name"),
        }
    }
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Row {
    pub rank: i64,
    pub subject: String,
    pub name: Option<String>,
    pub amount: i64,
    pub last_at: DateTime<Utc>,
}

pub const PAGE: i64 = 20;

/// One page of a board for the period containing `now`, as last folded.
pub async fn board(db: &Db, board: Board, period: Period, clock: &RankingClock, now: DateTime<Utc>, page: i64) -> StoreResult<Vec<Row>> {
    let key = clock.key(period, now);
    let offset = page.max(0) * PAGE;
    let sql = "SELECT CAST(ROW_NUMBER() OVER (ORDER BY x.amount DESC, x.last_at ASC, x.subject) AS BIGINT) + $3 AS rank, x.subject, CAST(NULL AS TEXT) AS name, x.amount, x.last_at
         FROM (SELECT subject, amount, last_at FROM board_totals WHERE board = $1 AND period = $2
               ORDER BY amount DESC, last_at ASC, subject LIMIT $4 OFFSET $3) x
         ORDER BY x.amount DESC, x.last_at ASC, x.subject";
    let mut rows: Vec<Row> =
        on_pool!(db, p => sqlx::query_as::<_, Row>(sql).bind(board.counter()).bind(&key).bind(offset).bind(PAGE).fetch_all(p).await?);
    // Names by primary key, in one statement (a subject is a UUID's text;
    // comparing the key as text would read the whole table for each row).
    let ids: Vec<AccountId> = rows.iter().filter_map(|r| r.subject.parse().ok()).collect();
    if !ids.is_empty() {
        let (table, column) = board.names_from();
        let sql = format!("SELECT id, {column} FROM {table} WHERE id IN ({})", platform_db::placeholders(1, ids.len()));
        // Every kind of id binds as the UUID it is.
        let names: Vec<(AccountId, String)> = on_pool!(db, p => {
            let mut q = sqlx::query_as(&sql);
            for id in &ids {
                q = q.bind(*id);
            }
            q.fetch_all(p).await?
        });
        let names: HashMap<String, String> = names.into_iter().map(|(id, n)| (id.to_string(), n)).collect();
        for r in &mut rows {
            r.name = names.get(&r.subject).cloned();
        }
    }
    Ok(rows)
}

/// `subject`'s rank on a board (1-based) and amount, if on it: one
/// statement, two counts along the ranking index (those with more, and
/// those with as much who reached it earlier).
pub async fn rank_of(
    db: &Db,
    board: Board,
    period: Period,
    clock: &RankingClock,
    now: DateTime<Utc>,
    subject: &str,
) -> StoreResult<Option<(i64, i64)>> {
    let key = clock.key(period, now);
    let mine: Option<(i64, i64)> = on_pool!(db, p => sqlx::query_as(
        "SELECT t.amount,
           (SELECT COUNT(*) FROM board_totals o WHERE o.board = t.board AND o.period = t.period AND o.amount > t.amount)
           + (SELECT COUNT(*) FROM board_totals o WHERE o.board = t.board AND o.period = t.period AND o.amount = t.amount
                AND (o.last_at < t.last_at OR (o.last_at = t.last_at AND o.subject < t.subject)))
         FROM board_totals t WHERE t.board = $1 AND t.period = $2 AND t.subject = $3")
        .bind(board.counter()).bind(&key).bind(subject).fetch_optional(p).await?);
    Ok(mine.map(|(amount, ahead)| (ahead + 1, amount)))
}

/// Every subject on a board's period in ranking order, read in one
/// statement with the ranking's own `ORDER BY` (so ties fall exactly as in
/// [`board`] and [`rank_of`]): a subject's rank is its place in that order,
/// found by key in memory whatever the places above it.
#[derive(Debug, Default)]
pub struct Standings {
    /// Subject → (rank, amount).
    by_subject: HashMap<Box<str>, (i64, i64)>,
}

impl Standings {
    /// Standings from subjects and amounts already in ranking order.
    pub fn from_ordered<S: Into<Box<str>>>(ordered: impl IntoIterator<Item = (S, i64)>) -> Standings {
        let by_subject = ordered.into_iter().zip(1..).map(|((subject, amount), rank)| (subject.into(), (rank, amount))).collect();
        Standings { by_subject }
    }

    /// `subject`'s rank (1-based) and amount, as [`rank_of`] gives them.
    pub fn rank(&self, subject: &str) -> Option<(i64, i64)> {
        self.by_subject.get(subject).copied()
    }

    /// How many subjects are on the board.
    pub fn len(&self) -> usize {
        self.by_subject.len()
    }

    pub fn is_empty(&self) -> bool {
        self.by_subject.is_empty()
    }
}

/// A board's [`Standings`] for the period containing `now`, as last folded:
/// one range of the ranking index, read in order.
pub async fn standings(db: &Db, board: Board, period: Period, clock: &RankingClock, now: DateTime<Utc>) -> StoreResult<Standings> {
    let key = clock.key(period, now);
    let rows: Vec<(String, i64)> = on_pool!(db, p => sqlx::query_as(
        "SELECT subject, amount FROM board_totals WHERE board = $1 AND period = $2 ORDER BY amount DESC, last_at ASC, subject")
        .bind(board.counter()).bind(&key).fetch_all(p).await?);
    Ok(Standings::from_ordered(rows))
}

/// How long [`Cache`] serves a copy it read when no fold on its node said
/// the totals changed: changes made elsewhere (the `boards` job on another
/// node, a rebuild) show within this, as open pages move at most once a
/// second anyway.
pub const CACHE_FOR: std::time::Duration = std::time::Duration::from_secs(1);

/// Pages below this (the first 500 places) are cached; deeper ones are
/// read each time.
pub const CACHED_PAGES: i64 = 25;

/// [`Cache::refresh_due`] re-reads a copy somebody read once it is this
/// share (in thousandths) of the cache's time old, spread over the range by
/// key so the copies do not all fall due in the same moment; the earliest
/// leaves a refresh 15 % of the time to finish before readers would wait.
const REFRESH_FROM: (u32, u32) = (700, 850);

/// A copy nobody read for this long is dropped (a board no one looks at
/// keeps no memory).
const FORGET_AFTER: std::time::Duration = std::time::Duration::from_secs(60);

/// What a node keeps of a board and period.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Part {
    /// One page of rows with their names.
    Page(i64),
    /// Every subject's rank.
    Standings,
}

/// A cached key: a board, a period and the part of it.
type Key = (Board, Period, Part);

/// Held while a key is read from the store.
type ReadLock = Arc<tokio::sync::Mutex<()>>;

#[derive(Clone)]
enum Value {
    Page(Arc<Vec<Row>>),
    Standings(Arc<Standings>),
}

/// A node's boards as last read: pages (with their names) and standings
/// (every subject's rank). Every reader on the node gets the same copy,
/// read once, until [`Cache::changed`] (the node folded new gifts into the
/// totals) or [`CACHE_FOR`] passed.
///
/// **One read per key at a time.** Readers that find a key's copy unusable
/// queue on the key: the first reads the store, the others take its copy.
/// **Off the request path.** [`Cache::refresh_due`] (a task per node calls
/// it a few times a second) re-reads each copy that somebody read, before
/// it is [`CACHE_FOR`] old and right after a signal, so readers of a busy
/// board find a fresh copy. A copy is never served older than
/// [`CACHE_FOR`] nor read before the last signal.
///
/// Memory: at most 4 boards × 4 periods × ([`CACHED_PAGES`] pages of 20
/// rows + one [`Standings`], about 100 bytes a subject); a new period's
/// key is a new read, and keys nobody reads for a minute are dropped.
pub struct Cache {
    /// Bumped by [`Cache::changed`]; a copy read before the last bump is not served.
    generation: AtomicU64,
    ttl: std::time::Duration,
    /// Store reads made for the cache (pages and standings).
    reads: AtomicU64,
    /// Reads of the totals' [`version`] made for the cache.
    probes: AtomicU64,
    slots: Mutex<HashMap<Key, Slot>>,
}

struct Slot {
    /// Held while the key is read from the store: one read at a time.
    reading: ReadLock,
    copy: Option<Copy>,
    /// When a reader last asked for the key.
    wanted_at: Instant,
    /// The age (in thousandths of the cache's time) at which the refresher reads it again.
    refresh_at: u32,
}

/// What [`Cache::probe`] saw: a copy read (or kept) on it is as of `read_at`.
#[derive(Clone, Copy)]
struct Probe {
    generation: u64,
    read_at: Instant,
    version: i64,
}

struct Copy {
    key: String,
    generation: u64,
    /// The totals' [`version`] read before this copy was.
    version: i64,
    /// Taken before the read began.
    read_at: Instant,
    value: Value,
}

impl Default for Cache {
    fn default() -> Self {
        Cache::new(CACHE_FOR)
    }
}

impl Cache {
    /// A cache serving a copy for at most `ttl` without a [`Cache::changed`].
    pub fn new(ttl: std::time::Duration) -> Self {
        Cache { generation: AtomicU64::new(0), ttl, reads: AtomicU64::new(0), probes: AtomicU64::new(0), slots: Mutex::new(HashMap::new()) }
    }

    /// The totals changed (a fold ran): every copy is read again.
    pub fn changed(&self) {
        self.generation.fetch_add(1, Ordering::AcqRel);
    }

    /// How many store reads the cache has made (pages and standings).
    pub fn reads(&self) -> u64 {
        self.reads.load(Ordering::Relaxed)
    }

    /// How many times the cache read the totals' [`version`] to see
    /// whether a copy could stay.
    pub fn probes(&self) -> u64 {
        self.probes.load(Ordering::Relaxed)
    }

    fn servable(&self, c: &Copy, key: &str, generation: u64) -> bool {
        c.generation >= generation && c.key == key && c.read_at.elapsed() < self.ttl
    }

    /// The key's copy if it may be served to a reader who came at
    /// `generation`, else the key's read lock.
    fn lookup(&self, slot: Key, key: &str, generation: u64) -> Result<Value, ReadLock> {
        let mut slots = self.slots.lock().unwrap_or_else(PoisonError::into_inner);
        let s = slots.entry(slot).or_insert_with(|| Slot {
            reading: Arc::default(),
            copy: None,
            wanted_at: Instant::now(),
            refresh_at: spread(slot),
        });
        s.wanted_at = Instant::now();
        match &s.copy {
            Some(c) if self.servable(c, key, generation) => Ok(c.value.clone()),
            _ => Err(s.reading.clone()),
        }
    }

    /// The key's copy, read (once for every reader waiting) if this node
    /// has none that may be served.
    async fn get(&self, db: &Db, board: Board, period: Period, part: Part, clock: &RankingClock, now: DateTime<Utc>) -> StoreResult<Value> {
        let key = clock.key(period, now);
        // The generation is taken before any read: a fold finishing during
        // it leaves the copy stale at once.
        let generation = self.generation.load(Ordering::Acquire);
        let reading = match self.lookup((board, period, part), &key, generation) {
            Ok(v) => return Ok(v),
            Err(reading) => reading,
        };
        let _one = reading.lock().await;
        // Whoever held the lock may have read it for us.
        if let Ok(v) = self.lookup((board, period, part), &key, generation) {
            return Ok(v);
        }
        self.read(db, (board, period, part), clock, now, None).await
    }

    /// The totals' version, with the generation and instant taken before
    /// it: a change committed after the probe moves the version after it,
    /// and the next probe sees it.
    async fn probe(&self, db: &Db) -> StoreResult<Probe> {
        let generation = self.generation.load(Ordering::Acquire);
        let read_at = Instant::now();
        self.probes.fetch_add(1, Ordering::Relaxed);
        Ok(Probe { generation, read_at, version: version(db).await? })
    }

    /// Reads the key from the store and keeps it (the caller holds its read
    /// lock) — unless the totals' [`version`] is the one the key's copy was
    /// read at, when the copy is kept as if read now.
    async fn read(&self, db: &Db, slot: Key, clock: &RankingClock, now: DateTime<Utc>, probed: Option<Probe>) -> StoreResult<Value> {
        let (board, period, part) = slot;
        let key = clock.key(period, now);
        let Probe { generation, read_at, version } = match probed {
            Some(p) => p,
            None => self.probe(db).await?,
        };
        {
            let mut slots = self.slots.lock().unwrap_or_else(PoisonError::into_inner);
            if let Some(c) = slots.get_mut(&(board, period, part)).and_then(|s| s.copy.as_mut()) {
                if c.key == key && c.version == version {
                    c.generation = c.generation.max(generation);
                    c.read_at = read_at;
                    return Ok(c.value.clone());
                }
            }
        }
        self.reads.fetch_add(1, Ordering::Relaxed);
        let value = match part {
            Part::Page(page) => Value::Page(Arc::new(self::board(db, board, period, clock, now, page).await?)),
            Part::Standings => Value::Standings(Arc::new(standings(db, board, period, clock, now).await?)),
        };
        let mut slots = self.slots.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(s) = slots.get_mut(&(board, period, part)) {
            s.copy = Some(Copy { key, generation, version, read_at, value: value.clone() });
        }
        Ok(value)
    }

    /// One page of a board, as [`board`] reads it, from memory when this
    /// node read it since the totals last changed.
    pub async fn page(
        &self,
        db: &Db,
        board: Board,
        period: Period,
        clock: &RankingClock,
        now: DateTime<Utc>,
        page: i64,
    ) -> StoreResult<Arc<Vec<Row>>> {
        let page = page.max(0);
        if page >= CACHED_PAGES {
            return Ok(Arc::new(self::board(db, board, period, clock, now, page).await?));
        }
        match self.get(db, board, period, Part::Page(page), clock, now).await? {
            Value::Page(rows) => Ok(rows),
            Value::Standings(_) => unreachable!("a page slot holds a page"),
        }
    }

    /// `subject`'s rank and amount as [`rank_of`] gives them, found in the
    /// board's [`Standings`] (read once for every reader on the node).
    pub async fn rank(
        &self,
        db: &Db,
        board: Board,
        period: Period,
        clock: &RankingClock,
        now: DateTime<Utc>,
        subject: &str,
    ) -> StoreResult<Option<(i64, i64)>> {
        match self.get(db, board, period, Part::Standings, clock, now).await? {
            Value::Standings(s) => Ok(s.rank(subject)),
            Value::Page(_) => unreachable!("a standings slot holds standings"),
        }
    }

    /// Re-reads (or keeps, when the totals' [`version`] has not moved: one
    /// probe of it per pass), one after another, the copies that somebody
    /// read and that are due (older than their share of [`CACHE_FOR`], or
    /// read before the last signal), and drops the keys nobody read for a
    /// minute. A key being read by a reader is left to it. Returns the
    /// keys read or kept.
    pub async fn refresh_due(&self, db: &Db, clock: &RankingClock) -> StoreResult<usize> {
        let generation = self.generation.load(Ordering::Acquire);
        let due: Vec<(Key, ReadLock)> = {
            let mut slots = self.slots.lock().unwrap_or_else(PoisonError::into_inner);
            slots.retain(|_, s| s.wanted_at.elapsed() < FORGET_AFTER);
            let mut due: Vec<_> = slots
                .iter()
                .filter_map(|(k, s)| {
                    let c = s.copy.as_ref()?;
                    let age = c.read_at.elapsed();
                    let wanted = s.wanted_at > c.read_at;
                    let old = age.as_millis() * 1000 >= self.ttl.as_millis() * u128::from(s.refresh_at);
                    (wanted && (old || c.generation < generation)).then(|| (c.read_at, *k, s.reading.clone()))
                })
                .collect();
            // The oldest first.
            due.sort_by_key(|(read_at, _, _)| *read_at);
            due.into_iter().map(|(_, k, r)| (k, r)).collect()
        };
        if due.is_empty() {
            return Ok(0);
        }
        // One probe for every key due in this pass.
        let probe = self.probe(db).await?;
        let mut n = 0;
        for (slot, reading) in due {
            let Ok(_one) = reading.try_lock() else { continue };
            self.read(db, slot, clock, Utc::now(), Some(probe)).await?;
            n += 1;
        }
        Ok(n)
    }
}

/// A key's refresh age within [`REFRESH_FROM`], spread by the key.
fn spread((board, period, part): Key) -> u32 {
    let page = match part {
        Part::Page(p) => p.unsigned_abs() as u32,
        Part::Standings => CACHED_PAGES.unsigned_abs() as u32,
    };
    let n = (board as u32) * 7919 + (period as u32) * 104_729 + page * 31;
    let (lo, hi) = REFRESH_FROM;
    lo + (n.wrapping_mul(2_654_435_761) >> 7) % (hi - lo)
}

/// How far back each [`fold`] reads gifts again before where the last one
/// stopped, for gifts created earlier but committed after it read; the
/// `boards` job's [`refresh_since`] reaches further back for slower ones.
///
/// A gift's `created_at` is the start of its batch's transaction, so a
/// gift commits late by that transaction's time (milliseconds; well under
/// a second with the store saturated). One second keeps every subject
/// recomputed about twice a second (each fold reads the last second or
/// so, plus this), where five had it recomputed about six times.
///
/// **How late a board shows a gift:** one committed within this of its
/// creation is in the next fold after its commit (at most a second on a
/// node that folds, and the job's minute anywhere else); a slower one is
/// in the `boards` job's next run (every minute, reading back
/// [`REFRESH_WINDOW`]), so within a minute of its commit if it committed
/// within a minute of its creation. A total never leads its counters
/// either way, and the clocks of the nodes must agree within this.
pub const FOLD_OVERLAP: Duration = Duration::seconds(1);

/// Brings `board_totals` up to the counters for every subject a gift
/// created since the last fold (less [`FOLD_OVERLAP`]) touched, and moves
/// the mark to `now`. Any node may fold at any time: each total is set to
/// its counters' sum, and only ever raised, so folds running at once or
/// again agree. Returns the totals written.
pub async fn fold(db: &Db, clock: &RankingClock, now: DateTime<Utc>) -> StoreResult<u64> {
    let from: Option<DateTime<Utc>> =
        on_pool!(db, p => sqlx::query_scalar("SELECT folded_to FROM board_fold WHERE id = 1").fetch_optional(p).await?).flatten();
    // The first fold after the totals were built reads a wider window.
    let since = from.map_or(now - REFRESH_WINDOW, |t| t - FOLD_OVERLAP);
    let n = refresh_since(db, clock, since).await?;
    on_pool!(db, p => {
        sqlx::query("UPDATE board_fold SET folded_to = $1 WHERE id = 1 AND (folded_to IS NULL OR folded_to < $1)")
            .bind(now)
            .execute(p)
            .await?;
    });
    Ok(n)
}

/// How far back the `boards` job refreshes (gifts slower than this to
/// commit after their creation are not expected).
pub const REFRESH_WINDOW: Duration = Duration::minutes(2);

/// Brings `board_totals` up to the counters for every subject of the gifts
/// created since `since`, in each period those gifts counted in.
pub async fn refresh_since(db: &Db, clock: &RankingClock, since: DateTime<Utc>) -> StoreResult<u64> {
    type Touched = (String, String, String, Option<String>, DateTime<Utc>);
    let gifts: Vec<Touched> = on_pool!(db, p => sqlx::query_as(
        "SELECT CAST(sender_id AS TEXT), CAST(recipient_id AS TEXT), CAST(room_id AS TEXT), CAST(agency_id AS TEXT), created_at
         FROM gift_sends WHERE created_at >= $1")
        .bind(since).fetch_all(p).await?);
    let mut keys: BTreeMap<(Board, String), BTreeSet<String>> = BTreeMap::new();
    for (sender, recipient, room, agency, at) in gifts {
        let subjects =
            [(Board::Wealth, Some(sender)), (Board::Charm, Some(recipient)), (Board::Rooms, Some(room)), (Board::Agencies, agency)];
        for (board, subject) in subjects {
            let Some(subject) = subject else { continue };
            for period in Period::ALL {
                keys.entry((board, clock.key(period, at))).or_default().insert(subject.clone());
            }
        }
    }
    let mut written = 0;
    for ((board, period), subjects) in keys {
        let subjects: Vec<String> = subjects.into_iter().collect();
        for chunk in subjects.chunks(500) {
            written += refresh(db, board, &period, chunk).await?;
        }
    }
    if written > 0 {
        // After the totals: whoever reads the new version reads them too.
        on_pool!(db, p => sqlx::query("UPDATE board_fold SET version = version + 1 WHERE id = 1").execute(p).await?.rows_affected());
    }
    Ok(written)
}

/// The totals' version: moved on after every change to `board_totals`
/// (a fold that wrote a total, a rebuild), so an unchanged version means
/// a copy read at it is still the board.
pub async fn version(db: &Db) -> StoreResult<i64> {
    Ok(on_pool!(db, p => sqlx::query_scalar("SELECT version FROM board_fold WHERE id = 1").fetch_one(p).await?))
}

/// Sets the totals of `subjects` on a board's period to their counters'
/// sums (raising only; in key order, the order every fold locks in).
async fn refresh(db: &Db, board: Board, period: &str, subjects: &[String]) -> StoreResult<u64> {
    let list = platform_db::placeholders(3, subjects.len());
    let sql = format!(
        "INSERT INTO board_totals (board, period, subject, amount, last_at)
         SELECT board, period, subject, SUM(amount), MAX(last_at) FROM gift_counters
         WHERE board = $1 AND period = $2 AND subject IN ({list})
         GROUP BY board, period, subject ORDER BY subject
         ON CONFLICT (board, period, subject) DO UPDATE SET amount = excluded.amount, last_at = excluded.last_at
         WHERE excluded.amount > board_totals.amount"
    );
    Ok(on_pool!(db, p => {
        let mut q = sqlx::query(&sql).bind(board.counter()).bind(period);
        for s in subjects {
            q = q.bind(s);
        }
        q.execute(p).await?.rows_affected()
    }))
}

/// Rebuilds every total from the counters (repairs, and stores filled in
/// bulk), and marks everything folded up to `now`. Safe beside folds that
/// run meanwhile (a node's `boards` job): a total one of them wrote after
/// the delete is overwritten with the same sums.
pub async fn rebuild(db: &Db, now: DateTime<Utc>) -> StoreResult<u64> {
    on_pool!(db, p => {
        let mut tx = p.begin_write().await?;
        sqlx::query("DELETE FROM board_totals").execute(&mut *tx).await?;
        let n = sqlx::query(
            "INSERT INTO board_totals (board, period, subject, amount, last_at)
             SELECT board, period, subject, SUM(amount), MAX(last_at) FROM gift_counters
             WHERE board IN ('wealth', 'charm', 'room', 'agency')
             GROUP BY board, period, subject
             ON CONFLICT (board, period, subject) DO UPDATE SET amount = excluded.amount, last_at = excluded.last_at",
        )
        .execute(&mut *tx)
        .await?
        .rows_affected();
        sqlx::query("UPDATE board_fold SET folded_to = $1, version = version + 1 WHERE id = 1").bind(now).execute(&mut *tx).await?;
        tx.commit().await?;
        Ok(n)
    })
}

/// `rooms check`: a board shows no more than its counters hold (a total
/// may lag its counters until the next fold, never lead them).
pub const CHECKS: &[(&str, &str)] = &[(
    "board total above its counters",
    "SELECT COUNT(*) FROM board_totals t WHERE t.amount >
       (SELECT COALESCE(SUM(c.amount), 0) FROM gift_counters c WHERE c.board = t.board AND c.period = t.period AND c.subject = t.subject)",
)];

/// Levels live in [`crate::levels`] (ladders as data).
pub use crate::levels::{level, Level};
