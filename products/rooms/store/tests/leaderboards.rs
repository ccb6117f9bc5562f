//! The leaderboards' per-node cache on every backend under test: ranks
//! from the standings equal the SQL rank with ties, a folded gift shows in
//! the next read after the signal (page and rank), readers of an expired
//! key share one store read, and a board whose totals did not move keeps
//! its copies.

mod support;
use support::{dbs, room_of, user};

use chrono::{DateTime, Duration, Utc};
use futures_util::future::join_all;
use platform_db::Db;
use rooms_domain::ids::{AccountId, GiftId, RoomId};
use rooms_domain::progress::{Period, RankingClock};
use rooms_store::gifts::{self, NewGift, Recipients, SendGift, Settings};
use rooms_store::leaderboards::{self, Board, Cache};
use rooms_store::{economy, on_pool, presence, seats};
use std::sync::Arc;

const HOUR: std::time::Duration = std::time::Duration::from_secs(3600);

/// A board written directly: (subject, amount, seconds after t0 of its last gift).
async fn put(db: &Db, period: &str, t0: DateTime<Utc>, rows: &[(&str, i64, i64)]) {
    for (subject, amount, after) in rows {
        on_pool!(db, p => sqlx::query("INSERT INTO board_totals (board, period, subject, amount, last_at) VALUES ('wealth', $1, $2, $3, $4)")
            .bind(period).bind(*subject).bind(*amount).bind(t0 + Duration::seconds(*after)).execute(p).await.unwrap().rows_affected());
    }
}

/// What every change to the totals does after writing them.
async fn bump(db: &Db) {
    on_pool!(db, p => sqlx::query("UPDATE board_fold SET version = version + 1 WHERE id = 1").execute(p).await.unwrap().rows_affected());
}

fn subject(n: u32) -> String {
    format!("00000000-0000-4000-8000-{n:012x}")
}

#[tokio::test]
async fn standings_rank_every_subject_as_the_sql_rank_does_with_ties() {
    for (b, t) in dbs().await {
        let db = &t.db;
        let clock = RankingClock::default();
        let t0 = support::whole_now();
        let key = clock.key(Period::AllTime, t0);
        let s: Vec<String> = (0..9).map(subject).collect();
        // (subject, amount, last gift at t0 + s) → the rank the ranking gives:
        // more first; at the same amount, who reached it earlier; at the same
        // amount and time, the smaller subject.
        let table: [(&str, i64, i64, i64); 9] = [
            (&s[4], 500, 9, 1),
            (&s[8], 300, 2, 2),
            (&s[2], 300, 5, 3),
            (&s[6], 300, 5, 4),
            (&s[7], 300, 5, 5),
            (&s[0], 300, 7, 6),
            (&s[5], 100, 1, 8),
            (&s[1], 100, 1, 7),
            (&s[3], 1, 0, 9),
        ];
        let rows: Vec<(&str, i64, i64)> = table.iter().map(|(subject, amount, after, _)| (*subject, *amount, *after)).collect();
        put(db, &key, t0, &rows).await;
        let mut want: Vec<(&str, i64)> = table.iter().map(|(subject, _, _, rank)| (*subject, *rank)).collect();
        want.sort_by_key(|(_, rank)| *rank);

        let standings = leaderboards::standings(db, Board::Wealth, Period::AllTime, &clock, t0).await.unwrap();
        assert_eq!(standings.len(), 9, "{b:?}");
        let cache = Cache::new(HOUR);
        let page = leaderboards::board(db, Board::Wealth, Period::AllTime, &clock, t0, 0).await.unwrap();
        for (i, (subject, rank)) in want.iter().enumerate() {
            let amount = table.iter().find(|r| r.0 == *subject).map(|r| r.1);
            let sql = leaderboards::rank_of(db, Board::Wealth, Period::AllTime, &clock, t0, subject).await.unwrap();
            assert_eq!(sql, Some((*rank, amount.unwrap())), "{b:?}: the SQL rank of {subject}");
            assert_eq!(standings.rank(subject), sql, "{b:?}: the standings of {subject}");
            assert_eq!(cache.rank(db, Board::Wealth, Period::AllTime, &clock, t0, subject).await.unwrap(), sql, "{b:?}");
            assert_eq!((page[i].subject.as_str(), page[i].rank), (*subject, *rank), "{b:?}: the page's order");
        }
        assert_eq!(standings.rank(&subject(99)), None);
        assert_eq!(cache.rank(db, Board::Wealth, Period::AllTime, &clock, t0, &subject(99)).await.unwrap(), None);
        // Another board or period is its own standings.
        assert_eq!(cache.rank(db, Board::Charm, Period::AllTime, &clock, t0, &s[4]).await.unwrap(), None, "{b:?}");
        assert_eq!(cache.rank(db, Board::Wealth, Period::Daily, &clock, t0, &s[4]).await.unwrap(), None, "{b:?}");
        assert_eq!(cache.reads(), 3, "{b:?}: one read per board and period");
    }
}

/// A room with a seated recipient and a 10-coin gift.
struct Scene {
    recipient: AccountId,
    room: RoomId,
    gift: GiftId,
}

async fn scene(db: &Db, now: DateTime<Utc>) -> Scene {
    let owner = user(db, "owner").await;
    let recipient = user(db, "recipient").await;
    let room = room_of(db, owner, 10, now).await;
    presence::join(db, room, recipient, now).await.unwrap();
    seats::take(db, room, recipient, None, now).await.unwrap();
    let new = NewGift::plain("rose", "Rose", 10);
    Scene { recipient, room, gift: gifts::create_gift(db, &new).await.unwrap() }
}

async fn fan(db: &Db, s: &Scene, handle: &str, now: DateTime<Utc>) -> AccountId {
    let fan = user(db, handle).await;
    presence::join(db, s.room, fan, now).await.unwrap();
    economy::grant(db, fan, 1_000, handle, None, now).await.unwrap();
    fan
}

async fn give(db: &Db, s: &Scene, from: AccountId, quantity: i64, key: &str, at: DateTime<Utc>) {
    let send =
        SendGift { sender: from, room: s.room, gift: s.gift, recipients: Recipients::Seated(vec![s.recipient]), quantity, combo: 1, key };
    gifts::send(db, &send, &Settings::default(), at).await.unwrap();
}

/// How late a board shows a gift committed after a fold read past its
/// creation time: within [`leaderboards::FOLD_OVERLAP`] of it, in the
/// next fold; later, in the `boards` job's next run (every minute,
/// reading back [`leaderboards::REFRESH_WINDOW`]), even for a gift that
/// took a minute to commit.
#[tokio::test]
async fn a_gift_committed_late_shows_in_the_next_fold_within_the_overlap_else_in_the_jobs_next_run() {
    const JOB_EVERY: Duration = Duration::seconds(60);
    for (b, t) in dbs().await {
        let db = &t.db;
        let clock = RankingClock::default();
        let t0 = support::whole_now();
        let s = scene(db, t0).await;
        let x = fan(db, &s, "slowcommits", t0).await;
        let wealth = || async {
            leaderboards::rank_of(db, Board::Wealth, Period::AllTime, &clock, t0, &x.to_string()).await.unwrap().map(|(_, a)| a)
        };
        give(db, &s, x, 1, "a", t0).await;
        leaderboards::fold(db, &clock, t0 + Duration::seconds(1)).await.unwrap();
        assert_eq!(wealth().await, Some(10), "{b:?}");
        // Created just inside the overlap before the last fold, committed after it.
        leaderboards::fold(db, &clock, t0 + Duration::seconds(2)).await.unwrap();
        give(db, &s, x, 1, "b", t0 + Duration::seconds(2) - leaderboards::FOLD_OVERLAP + Duration::milliseconds(100)).await;
        leaderboards::fold(db, &clock, t0 + Duration::seconds(3)).await.unwrap();
        assert_eq!(wealth().await, Some(20), "{b:?}: the next fold");
        // Created just outside it: the folds leave it to the job.
        give(db, &s, x, 1, "c", t0 + Duration::seconds(3) - leaderboards::FOLD_OVERLAP - Duration::milliseconds(100)).await;
        leaderboards::fold(db, &clock, t0 + Duration::seconds(4)).await.unwrap();
        assert_eq!(wealth().await, Some(20), "{b:?}: outside the overlap");
        // And one that took a minute to commit (at t0 + 5 s).
        give(db, &s, x, 1, "d", t0 + Duration::seconds(5) - JOB_EVERY).await;
        leaderboards::fold(db, &clock, t0 + Duration::seconds(6)).await.unwrap();
        assert_eq!(wealth().await, Some(20), "{b:?}");
        // The job's run a minute after those commits (as `Job::Boards` runs it).
        let job = t0 + Duration::seconds(5) + JOB_EVERY;
        leaderboards::refresh_since(db, &clock, job - leaderboards::REFRESH_WINDOW).await.unwrap();
        leaderboards::fold(db, &clock, job).await.unwrap();
        assert_eq!(wealth().await, Some(40), "{b:?}: the job's run");
        assert!(rooms_store::check::run(db).await.unwrap().iter().all(|(rule, n)| !rule.starts_with("board total") || *n == 0), "{b:?}");
    }
}

#[tokio::test]
async fn a_folded_gift_shows_on_the_page_and_in_the_rank_after_the_signal() {
    for (b, t) in dbs().await {
        let db = &t.db;
        let clock = RankingClock::default();
        let t0 = Utc::now();
        let s = scene(db, t0).await;
        let (x, y) = (fan(db, &s, "early", t0).await, fan(db, &s, "late", t0).await);
        let (xs, ys) = (x.to_string(), y.to_string());
        give(db, &s, x, 2, "x1", t0).await;
        give(db, &s, y, 1, "y1", t0).await;
        leaderboards::fold(db, &clock, t0 + Duration::seconds(1)).await.unwrap();
        // Only the signal makes this cache read again within the test.
        let (cache, clock) = (&Cache::new(HOUR), &clock);
        let top = |rows: &[leaderboards::Row]| rows.iter().map(|r| (r.subject.clone(), r.amount)).collect::<Vec<_>>();
        let page = || cache.page(db, Board::Wealth, Period::Weekly, clock, t0, 0);
        let rank = |who: String| async move { cache.rank(db, Board::Wealth, Period::Weekly, clock, t0, &who).await.unwrap() };
        assert_eq!(top(&page().await.unwrap()), vec![(xs.clone(), 20), (ys.clone(), 10)], "{b:?}");
        assert_eq!(rank(ys.clone()).await, Some((2, 10)), "{b:?}");

        // y sends 20 more; folded, but until the signal the node serves what it read.
        give(db, &s, y, 2, "y2", t0 + Duration::seconds(2)).await;
        leaderboards::fold(db, clock, t0 + Duration::seconds(3)).await.unwrap();
        assert_eq!(rank(ys.clone()).await, Some((2, 10)), "{b:?}");
        assert_eq!(top(&page().await.unwrap())[0], (xs.clone(), 20), "{b:?}");
        // The signal: the next read has it, page and rank.
        cache.changed();
        assert_eq!(top(&page().await.unwrap()), vec![(ys.clone(), 30), (xs.clone(), 20)], "{b:?}");
        assert_eq!(rank(ys.clone()).await, Some((1, 30)), "{b:?}");
        assert_eq!(rank(xs.clone()).await, Some((2, 20)), "{b:?}");
        assert_eq!(top(&page().await.unwrap())[0].1, 30, "{b:?}: read again, from memory");

        // The refresher reads them again after the next signal, ahead of the readers.
        give(db, &s, x, 1, "x2", t0 + Duration::seconds(4)).await;
        leaderboards::fold(db, clock, t0 + Duration::seconds(5)).await.unwrap();
        cache.changed();
        let probes = cache.probes();
        assert_eq!(cache.refresh_due(db, clock).await.unwrap(), 2, "{b:?}: the page and the standings, both read since");
        assert_eq!(cache.probes(), probes + 1, "{b:?}: one probe of the version for both");
        let reads = cache.reads();
        // Both have 30; x reached it later.
        assert_eq!(top(&page().await.unwrap()), vec![(ys.clone(), 30), (xs.clone(), 30)], "{b:?}");
        assert_eq!(rank(xs.clone()).await, Some((2, 30)), "{b:?}");
        assert_eq!(cache.reads(), reads, "{b:?}: served from the refreshed copies");
        // Nobody read them since: nothing is due.
        assert_eq!(cache.refresh_due(db, clock).await.unwrap(), 0, "{b:?}");
    }
}

#[tokio::test]
async fn readers_of_an_expired_key_share_one_store_read() {
    for (b, t) in dbs().await {
        let db = &t.db;
        let clock = RankingClock::default();
        let t0 = support::whole_now();
        let key = clock.key(Period::AllTime, t0);
        let rows: Vec<(String, i64, i64)> = (0..50).map(|n| (subject(n), 1_000 - i64::from(n), 0)).collect();
        put(db, &key, t0, &rows.iter().map(|(s, a, at)| (s.as_str(), *a, *at)).collect::<Vec<_>>()).await;
        let (cache, clock) = (&Cache::new(HOUR), &clock);
        let page = || cache.page(db, Board::Wealth, Period::AllTime, clock, t0, 1);
        let rank = |n: u32| async move { cache.rank(db, Board::Wealth, Period::AllTime, clock, t0, &subject(n)).await.unwrap() };

        // Fifty readers at once of a key nobody read: one read for the page, one for the ranks.
        let (pages, ranks) = tokio::join!(join_all((0..50).map(|_| page())), join_all((0..50).map(rank)));
        assert_eq!(cache.reads(), 2, "{b:?}");
        let pages: Vec<Arc<Vec<leaderboards::Row>>> = pages.into_iter().map(Result::unwrap).collect();
        assert!(pages.iter().all(|p| Arc::ptr_eq(p, &pages[0])), "{b:?}: one copy for all");
        assert_eq!(pages[0].first().map(|r| (r.rank, r.amount)), Some((21, 980)), "{b:?}");
        assert_eq!(ranks, (0..50).map(|n| Some((i64::from(n) + 1, 1_000 - i64::from(n)))).collect::<Vec<_>>(), "{b:?}");

        // Expired by a signal while the totals did not move: fifty more
        // readers, one probe of the version per key and no read.
        cache.changed();
        let (pages, ranks) = tokio::join!(join_all((0..50).map(|_| page())), join_all((0..50).map(rank)));
        assert_eq!((cache.reads(), cache.probes()), (2, 4), "{b:?}: the copies stay");
        assert!(pages.iter().all(|p| p.as_ref().is_ok_and(|p| p.len() == 20)) && ranks.iter().all(Option::is_some), "{b:?}");
        // Expired by a signal after the totals moved: one read each.
        put(db, &key, t0, &[(&subject(99), 5_000, 0)]).await;
        bump(db).await;
        cache.changed();
        let (pages, ranks) = tokio::join!(join_all((0..50).map(|_| page())), join_all((0..50).map(rank)));
        assert_eq!((cache.reads(), cache.probes()), (4, 6), "{b:?}");
        assert_eq!(pages[0].as_ref().unwrap().first().map(|r| (r.rank, r.amount)), Some((21, 981)), "{b:?}: one place down");
        assert_eq!(ranks[0], Some((2, 1_000)), "{b:?}");

        // Expired by age: the same, unchanged then changed.
        let short = Cache::new(std::time::Duration::from_millis(50));
        short.page(db, Board::Wealth, Period::AllTime, clock, t0, 1).await.unwrap();
        tokio::time::sleep(std::time::Duration::from_millis(60)).await;
        join_all((0..50).map(|_| short.page(db, Board::Wealth, Period::AllTime, clock, t0, 1))).await;
        assert_eq!((short.reads(), short.probes()), (1, 2), "{b:?}");
        bump(db).await;
        tokio::time::sleep(std::time::Duration::from_millis(60)).await;
        join_all((0..50).map(|_| short.page(db, Board::Wealth, Period::AllTime, clock, t0, 1))).await;
        assert_eq!((short.reads(), short.probes()), (2, 3), "{b:?}");
        // Pages past the cached ones are read each time.
        short.page(db, Board::Wealth, Period::AllTime, clock, t0, leaderboards::CACHED_PAGES).await.unwrap();
        assert_eq!(short.reads(), 2, "{b:?}: not through the cache");
    }
}
