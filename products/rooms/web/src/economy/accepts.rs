//! Group commit for gift requests: every gift request on this node goes
//! through [`GiftAccepts::accept`], a user of the platform's group-commit
//! queue ([`platform_db::group_commit`]). A few workers ([`WORKERS`]) take
//! the requests waiting (any senders, any rooms; up to [`MAX_BATCH`], with
//! a [`WINDOW`] wait while another batch is being written) and accept them
//! in one transaction (`rooms_store::gifts::accept_many`, which also pays
//! the gifts' shares), where each keeps its own answer; a lone request,
//! and every member of a batch that fails as a whole, is a batch of one,
//! and goes through `rooms_store::gifts::accept` on its own when that
//! fails too.
//!
//! `ROOMS_GIFT_BATCH=off` turns batching off on a node: every request is
//! then accepted on its own. `ROOMS_GIFT_WORKERS=n` (1 to 16) sets the
//! number of workers (default [`WORKERS`]).
//!
//! The economy settings (split rates, ranking clock) come with each
//! request: the batcher keeps the latest it was given and every batch
//! reads them when it is written, so a change reaches the next batch, not
//! only the settings of the first request after start.

use platform_db::group_commit::{Batcher, GroupCommit, Options};
use rooms_store::gifts::{self, GiftRequest, Sent, Settings};
use rooms_store::{Db, StoreError, StoreResult};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

/// How long a worker waits for more requests while another batch is being
/// written.
pub const WINDOW: Duration = Duration::from_millis(1);

/// Batches written at once on one node (each holds one connection). Two,
/// since a batch pays its gifts' shares itself: each batch holds the
/// room's wallets from its money statement to its commit, and on a quiet
/// two-core machine two workers took 3,150 gifts/s where three took 2,731,
/// with no longer a tail at 200 and 300 gifts/s (README, Rooms benchmarks).
pub const WORKERS: usize = 2;

/// The workers of this node: `ROOMS_GIFT_WORKERS` when it is 1 to 16, else
/// [`WORKERS`].
fn workers() -> usize {
    std::env::var("ROOMS_GIFT_WORKERS").ok().and_then(|v| v.parse().ok()).filter(|n| (1..=16).contains(n)).unwrap_or(WORKERS)
}

/// The most requests in one batch.
pub const MAX_BATCH: usize = gifts::ACCEPT_BATCH;

struct Accepts {
    db: Db,
    settings: Arc<Mutex<Settings>>,
}

impl Accepts {
    fn settings(&self) -> Settings {
        *self.settings.lock().expect("gift settings")
    }
}

impl GroupCommit for Accepts {
    type Request = GiftRequest;
    type Outcome = StoreResult<Sent>;
    type Error = StoreError;

    async fn batch(&self, reqs: &[GiftRequest]) -> StoreResult<Vec<StoreResult<Sent>>> {
        let sends: Vec<_> = reqs.iter().map(GiftRequest::as_send).collect();
        gifts::accept_many(&self.db, &sends, &self.settings(), chrono::Utc::now()).await
    }

    /// A lone request takes the batch's path too (a batch of one: the
    /// batch's fewer statements and this node's caches); when that fails
    /// as a whole (a key taken by a concurrent request, a balance spent
    /// meanwhile), `gifts::accept` gives its own answer.
    async fn single(&self, r: &GiftRequest) -> StoreResult<Sent> {
        let settings = self.settings();
        let send = r.as_send();
        if let Ok(mut answers) = gifts::accept_many(&self.db, std::slice::from_ref(&send), &settings, chrono::Utc::now()).await {
            if let Some(answer) = answers.pop() {
                return answer;
            }
        }
        gifts::accept(&self.db, &send, &settings, chrono::Utc::now()).await
    }

    fn taken(&self, size: usize) {
        metrics::histogram!("rooms_gift_batch_size").record(size as f64);
    }
}

/// This node's gift batcher, started on first use.
#[derive(Default)]
pub struct GiftAccepts {
    batcher: OnceLock<Batcher<Accepts>>,
    /// The settings the latest request came with.
    settings: Arc<Mutex<Settings>>,
}

impl GiftAccepts {
    /// Accepts a gift request under `settings` (or newer ones, when a later
    /// request brings them before its batch is written); answers after its
    /// commit, with the same outcomes as `gifts::accept`.
    pub async fn accept(&self, db: &Db, settings: &Settings, r: GiftRequest) -> StoreResult<Sent> {
        *self.settings.lock().expect("gift settings") = *settings;
        let batcher = self.batcher.get_or_init(|| {
            let accepts = Accepts { db: db.clone(), settings: self.settings.clone() };
            if std::env::var("ROOMS_GIFT_BATCH").is_ok_and(|v| v == "off") {
                Batcher::off(accepts)
            } else {
                Batcher::start(accepts, Options { workers: workers(), window: WINDOW, max_batch: MAX_BATCH })
            }
        });
        match batcher.submit(r).await {
            Ok(sent) => sent,
            // The worker went away (the runtime is shutting down).
            Err(_) => Err(StoreError::Invalid("the gift was not finished; please retry".into())),
        }
    }
}
