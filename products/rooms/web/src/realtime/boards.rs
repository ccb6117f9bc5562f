//! Live leaderboards: open `/leaderboards` pages follow a board and period
//! over a public socket (`GET /api/v1/ws/boards`, no sign-in needed) and
//! get `{"t":"leaderboard","board","period","key","rows"}` — the board's
//! first page as `GET /api/v1/leaderboards/{board}` gives it — whenever it
//! changed.
//!
//! **Coalescing.** The signal is the room outbox: every node's tailer sees
//! each committed `gift` row ([`Wake::touch`] from `Events::publish`), so a
//! gift on any node moves the boards open on every node. [`Wake`] is one
//! flag and a [`Notify`] permit, so a storm of gifts is one wake-up; the
//! task then reads, for each board and period somebody follows on this node
//! (and only those), the first page once, pushes it to every follower if it
//! differs from what was pushed last, and sleeps [`MIN_GAP`] before
//! looking at the flag again. So the first gift after a quiet spell shows at
//! once, a storm gives each open board at most one push a second, and the
//! database sees one read per followed board per second per node however
//! many people watch.
//!
//! **Folding.** Boards are read from `board_totals`, which
//! [`leaderboards::fold`] brings up to the gift counters. [`Wake::catch_up`]
//! folds when a gift was committed since the last fold (seen by this node's
//! tailer, or sent through this node), one fold at a time per node: the
//! pusher calls it before reading, and so do the board API and page, so a
//! board read after a gift shows it.
//!
//! **Reading.** The pusher, the board API and the page read through the
//! node's [`leaderboards::Cache`] ([`Wake::pages`]): each page of each
//! board and period, and each board's standings (every subject's rank), is
//! read from the store once and served from memory until a fold on this
//! node ends ([`Wake::catch_up`] tells the cache) or
//! [`leaderboards::CACHE_FOR`] (1 s) passes, for totals written without a
//! fold here (another node's `boards` job, a rebuild). Readers of a key that
//! must be read again share one read. A reader's own rank is a lookup in
//! the standings. A refresher task per node ([`REFRESH_EVERY`]) re-reads
//! the copies people are reading before they expire and right after a
//! fold, so requests seldom wait for the store.

use super::{Ends, Hub, Push, PushKind, Realtime, Topic, EPHEMERAL};
use crate::error::{AppError, WebResult};
use crate::AppState;
use axum::extract::ws::{Utf8Bytes, WebSocketUpgrade};
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::Response;
use chrono::Utc;
use platform_realtime::socket::{self, Closed, Conn, Endpoint, NoCommand, Row, Settings};
use rooms_domain::progress::{Period, RankingClock};
use rooms_store::leaderboards::{self, Board};
use rooms_store::{Db, StoreResult};
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Weak};
use std::time::Duration;
use tokio::sync::Notify;

/// At most one push per board and period in this long.
pub const MIN_GAP: Duration = Duration::from_secs(1);

/// How often the refresher looks for board copies due to be read again.
pub const REFRESH_EVERY: Duration = Duration::from_millis(50);

/// "Some board may have changed", coalesced.
#[derive(Default)]
pub struct Wake {
    dirty: AtomicBool,
    notify: Notify,
    /// Gifts committed, as counted by [`Wake::touch`].
    gifts: AtomicU64,
    /// `gifts` when the last finished fold began.
    folded: AtomicU64,
    /// One fold at a time on this node.
    folding: tokio::sync::Mutex<()>,
    /// The boards' pages as this node last read them.
    pub pages: leaderboards::Cache,
}

impl Wake {
    /// A gift was committed.
    pub fn touch(&self) {
        self.gifts.fetch_add(1, Ordering::AcqRel);
        if !self.dirty.swap(true, Ordering::AcqRel) {
            self.notify.notify_one();
        }
    }

    /// Folds the gifts committed since the last fold into the boards' totals,
    /// unless no gift was; waits for a fold already running instead of
    /// starting a second. A failed fold is logged and the boards read as
    /// they were (the next call, or the `boards` job, folds again).
    pub async fn catch_up(&self, db: &Db, clock: &RankingClock) {
        let seen = self.gifts.load(Ordering::Acquire);
        if self.folded.load(Ordering::Acquire) >= seen {
            return;
        }
        let _one = self.folding.lock().await;
        let seen = self.gifts.load(Ordering::Acquire);
        if self.folded.load(Ordering::Acquire) >= seen {
            return;
        }
        let folded = leaderboards::fold(db, clock, Utc::now()).await;
        // Even a failed fold may have written some totals.
        self.pages.changed();
        match folded {
            Ok(_) => self.folded.fetch_max(seen, Ordering::AcqRel),
            Err(e) => {
                tracing::warn!(error = %e, "folding the leaderboards failed");
                0
            }
        };
    }
}

/// Starts this node's board pusher; it ends with the node's fan-out.
pub fn spawn(state: &AppState) {
    let realtime = Arc::downgrade(&state.realtime);
    let (db, wake, clock) = (state.db.clone(), state.boards.clone(), state.economy.settings.clock);
    tokio::spawn(refresh(db.clone(), realtime.clone(), wake.clone(), clock));
    tokio::spawn(run(db, realtime, wake, clock));
}

/// Keeps the boards people read fresh off their requests; ends with the node's fan-out.
async fn refresh(db: Db, realtime: Weak<Realtime>, wake: Arc<Wake>, clock: RankingClock) {
    let mut tick = tokio::time::interval(REFRESH_EVERY);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        if realtime.strong_count() == 0 {
            return;
        }
        if let Err(e) = wake.pages.refresh_due(&db, &clock).await {
            tracing::warn!(error = %e, "refreshing the leaderboards failed");
        }
    }
}

async fn run(db: Db, realtime: Weak<Realtime>, wake: Arc<Wake>, clock: RankingClock) {
    let mut last: HashMap<(Board, Period), Utf8Bytes> = HashMap::new();
    loop {
        // Wake up now and then even without gifts, to notice the fan-out ending.
        let _ = tokio::time::timeout(Duration::from_secs(30), wake.notify.notified()).await;
        let Some(rt) = realtime.upgrade() else { return };
        if wake.dirty.swap(false, Ordering::AcqRel) {
            wake.catch_up(&db, &clock).await;
            push_changed(&db, &rt.hub, &wake.pages, &clock, &mut last).await;
            drop(rt);
            tokio::time::sleep(MIN_GAP).await;
        }
    }
}

/// Pushes every followed board whose first page changed since its last push.
async fn push_changed(
    db: &Db,
    hub: &Hub,
    pages: &leaderboards::Cache,
    clock: &RankingClock,
    last: &mut HashMap<(Board, Period), Utf8Bytes>,
) {
    let now = Utc::now();
    for board in Board::ALL {
        for period in Period::ALL {
            let topic = Topic::Board(board, period);
            if !hub.has_listeners(topic) {
                last.remove(&(board, period));
                continue;
            }
            let rows = match pages.page(db, board, period, clock, now, 0).await {
                Ok(rows) => rows,
                Err(e) => {
                    tracing::warn!(error = %e, board = board.as_str(), "leaderboard read failed");
                    continue;
                }
            };
            let json = Utf8Bytes::from(
                json!({"t": "leaderboard", "board": board.as_str(), "period": period.as_str(), "key": clock.key(period, now), "rows": *rows})
                    .to_string(),
            );
            if last.get(&(board, period)) == Some(&json) {
                continue;
            }
            last.insert((board, period), json.clone());
            hub.publish(Arc::new(Push { topic, json, user_json: None, kind: PushKind { seq: EPHEMERAL, ends: Ends::Nobody } }));
        }
    }
}

#[utoipa::path(get, path = "/api/v1/ws/boards", tag = "live", security(()), description = "The public leaderboard socket (WebSocket, JSON text frames with a field `t`; no sign-in): `{\"t\":\"subscribe\",\"board\":\"wealth\",\"period\":\"daily\"}` follows a board (up to 8), answered `subscribed`; then `{\"t\":\"leaderboard\",\"board\",\"period\",\"key\",\"rows\"}` whenever its first page changed, at most once a second; `{\"t\":\"ping\"}` every ≤ 60 s.", responses((status = 101, description = "Switching protocols to WebSocket"), (status = 400, description = "Not a WebSocket upgrade"), (status = 403, description = "Cross-origin upgrade refused")))]
pub async fn upgrade(State(state): State<AppState>, headers: HeaderMap, ws: WebSocketUpgrade) -> WebResult<Response> {
    Ok(socket::upgrade(Arc::new(BoardSocket { state }), (), &headers, ws).map_err(|_| AppError::Forbidden)?)
}

/// The public socket's side of the platform endpoint.
pub struct BoardSocket {
    state: AppState,
}

/// A board and period, as clients name them: `{"board":"wealth","period":"daily"}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "BoardNames", into = "BoardNames")]
pub struct BoardRef {
    pub board: Board,
    pub period: Period,
}

#[derive(Serialize, Deserialize)]
struct BoardNames {
    board: String,
    period: String,
}

impl TryFrom<BoardNames> for BoardRef {
    type Error = String;
    fn try_from(n: BoardNames) -> Result<Self, String> {
        let board = Board::parse(&n.board).ok_or("board: wealth, charm, rooms or agencies")?;
        let period = Period::parse(&n.period).ok_or("period: daily, weekly, monthly or all")?;
        Ok(BoardRef { board, period })
    }
}

impl From<BoardRef> for BoardNames {
    fn from(r: BoardRef) -> Self {
        BoardNames { board: r.board.as_str().into(), period: r.period.as_str().into() }
    }
}

impl Endpoint for BoardSocket {
    type Topic = Topic;
    type Kind = PushKind;
    type Viewer = ();
    type Channel = BoardRef;
    type Access = ();
    type Command = NoCommand;
    type State = ();

    const SETTINGS: Settings = Settings { metrics_prefix: "rooms_board_ws", max_subscriptions: 8, max_message: 1024, ..Settings::DEFAULT };

    fn hub(&self) -> &Hub {
        &self.state.realtime.hub
    }

    fn topic(c: BoardRef) -> Topic {
        Topic::Board(c.board, c.period)
    }

    fn channel(topic: Topic) -> Option<BoardRef> {
        match topic {
            Topic::Board(board, period) => Some(BoardRef { board, period }),
            _ => None,
        }
    }

    fn own_topics(&self, _viewer: &()) -> Vec<Topic> {
        vec![]
    }

    async fn access(&self, _viewer: &(), _c: BoardRef) -> StoreResult<Option<()>> {
        Ok(Some(()))
    }

    async fn head(&self, _c: BoardRef) -> StoreResult<i64> {
        Ok(0)
    }

    /// Boards are not replayed: a client reads the board once it is subscribed.
    async fn replay(&self, _viewer: &(), _c: BoardRef, _after: i64, _limit: i64) -> StoreResult<Vec<Row<PushKind>>> {
        Ok(vec![])
    }

    fn seq(_kind: &PushKind) -> Option<i64> {
        None
    }

    async fn command(&self, _conn: &mut Conn<Self>, command: NoCommand) -> Result<(), Closed> {
        match command {}
    }
}
