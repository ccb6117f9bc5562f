//! The send batcher: group commit for users' paid messages.
//!
//! Every user's send on this node goes through [`SendBatcher::send`], a
//! user of the platform's group-commit queue
//! ([`platform_db::group_commit`]): a few worker tasks ([`WORKERS`]) take
//! sends from one queue; a worker takes every send already waiting, and
//! when the database is busy with another batch (another worker is
//! writing) it waits up to [`WINDOW`] for more, or until the batch holds
//! [`MAX_BATCH`] sends. The batch is written by
//! [`fantooo_store::send_batch::send_as_users`] in one transaction, where
//! each send keeps its own outcome (one user's 402 never fails another's
//! send; a retried `client_id` is stored and charged once); each sender is
//! answered only after that commit. A lone send (a quiet node) is written
//! at once, with no wait, and a batch whose transaction fails as a whole is
//! re-run one send at a time, so each sender gets its true answer. Both
//! write one send through the batch's statements too, as a batch of one:
//! the same outcomes as [`messages::send_as_user`] in fewer round trips
//! (a paid send is nine or ten round trips with its BEGIN and COMMIT,
//! where that one takes ten to twelve, and the chat's row is written once
//! rather than twice): on a quiet node that is the way every message
//! travels before anyone sees it.
//!
//! `FANTOOO_SEND_BATCH=off` turns batching off on a node: every send then
//! goes through [`messages::send_as_user`] on its own (the bench's "before").

use fantooo_domain::ids::{ChatId, UserId};
use fantooo_domain::pricing::PricingConfig;
use fantooo_store::messages::{self, Body, Sent};
pub use fantooo_store::send_batch::MAX_BATCH;
use fantooo_store::send_batch::{send_as_users, UserSend};
use fantooo_store::settings::Cached;
use fantooo_store::{Db, StoreError, StoreResult};
use platform_db::group_commit::{Batcher, GroupCommit, Options};
use std::sync::Arc;
use std::time::Duration;

/// How long a worker waits for more sends while another batch is being
/// written.
pub const WINDOW: Duration = Duration::from_millis(1);

/// Batches written at once on one node (each holds one database connection
/// while it runs).
pub const WORKERS: usize = 4;

/// The two write paths of a send.
struct Sends {
    db: Db,
    pricing: Arc<Cached<PricingConfig>>,
    /// One send is written as a batch of one (off: through
    /// [`messages::send_as_user`], batching's "before").
    alone_as_batch: bool,
}

impl GroupCommit for Sends {
    type Request = UserSend;
    type Outcome = StoreResult<Sent>;
    type Error = StoreError;

    async fn batch(&self, sends: &[UserSend]) -> StoreResult<Vec<StoreResult<Sent>>> {
        let outcomes = send_as_users(&self.db, sends, &self.pricing).await?;
        trace_commits(&outcomes);
        // Counted after the commit, so the counters hold only what was
        // written: a batch that fails as a whole is counted by its re-run.
        if outcomes.len() == sends.len() {
            count_sends(PATH_BATCHED, &outcomes);
            metrics::counter!(SEND_BATCHES).increment(1);
            metrics::counter!(SEND_BATCH_MEMBERS).increment(outcomes.len() as u64);
        }
        Ok(outcomes)
    }

    async fn single(&self, s: &UserSend) -> StoreResult<Sent> {
        let outcome = if self.alone_as_batch {
            // A transaction that fails as a whole is this send's own
            // failure: nothing of it was written.
            match send_as_users(&self.db, std::slice::from_ref(s), &self.pricing).await {
                Ok(mut outcomes) if outcomes.len() == 1 => outcomes.remove(0),
                Ok(outcomes) => Err(StoreError::Invalid(format!("a batch of one answered {} sends", outcomes.len()))),
                Err(e) => Err(e),
            }
        } else {
            messages::send_as_user(&self.db, s.chat, s.user, &s.body, &self.pricing).await
        };
        trace_commits(std::slice::from_ref(&outcome));
        count_sends(PATH_SINGLE, std::slice::from_ref(&outcome));
        outcome
    }

    fn taken(&self, size: usize) {
        metrics::histogram!("fantooo_send_batch_size").record(size as f64);
    }
}

/// Users' sends answered, by how: `path="batched"` (stored by a batch's
/// transaction), `path="single"` (stored on its own: a lone send, a
/// batch's re-run, or batching off) and `path="refused"` (answered with an
/// error by either path, nothing stored), and `path="repeated"` (a
/// retried `client_id`, answered with the message stored before). Exact counters, unlike the batch
/// size summary: the bench compares them with the rows it finds stored.
pub const SENDS: &str = "fantooo_sends_total";
/// Batches committed (each of two sends or more).
pub const SEND_BATCHES: &str = "fantooo_send_batches_total";
/// Sends answered by committed batches, stored or refused: divided by
/// [`SEND_BATCHES`], the exact mean batch size.
pub const SEND_BATCH_MEMBERS: &str = "fantooo_send_batch_members_total";
const PATH_BATCHED: &str = "batched";
const PATH_SINGLE: &str = "single";
const PATH_REFUSED: &str = "refused";
const PATH_REPEATED: &str = "repeated";

/// The delivery trace's first step: the batch's commit has returned.
fn trace_commits(outcomes: &[StoreResult<Sent>]) {
    if platform_realtime::trace::on() {
        let now = platform_realtime::trace::now();
        for sent in outcomes.iter().flatten().filter(|s| !s.duplicate) {
            let m = &sent.message;
            platform_realtime::trace::step(
                "commit",
                format_args!("{} {} {now} {}", m.seq, m.created_at.timestamp_micros(), outcomes.len()),
            );
        }
    }
}

fn count_sends(path: &'static str, outcomes: &[StoreResult<Sent>]) {
    let (mut stored, mut repeated, mut refused) = (0u64, 0u64, 0u64);
    for o in outcomes {
        match o {
            Ok(sent) if sent.duplicate => repeated += 1,
            Ok(_) => stored += 1,
            Err(_) => refused += 1,
        }
    }
    for (path, n) in [(path, stored), (PATH_REPEATED, repeated), (PATH_REFUSED, refused)] {
        if n > 0 {
            metrics::counter!(SENDS, "path" => path).increment(n);
        }
    }
}

/// This node's send batcher (cheap to share).
pub struct SendBatcher {
    batcher: Batcher<Sends>,
}

impl SendBatcher {
    /// Starts the workers on the current Tokio runtime.
    pub fn start(db: Db, pricing: Arc<Cached<PricingConfig>>) -> Arc<SendBatcher> {
        let batcher = if std::env::var("FANTOOO_SEND_BATCH").is_ok_and(|v| v == "off") {
            Batcher::off(Sends { db, pricing, alone_as_batch: false })
        } else {
            let sends = Sends { db, pricing, alone_as_batch: true };
            Batcher::start(sends, Options { workers: WORKERS, window: WINDOW, max_batch: MAX_BATCH })
        };
        Arc::new(SendBatcher { batcher })
    }

    /// Sends a user's message; answers after the message's commit, with
    /// the same outcomes as [`messages::send_as_user`].
    pub async fn send(&self, chat: ChatId, user: UserId, body: Body) -> StoreResult<Sent> {
        match self.batcher.submit(UserSend { chat, user, body }).await {
            Ok(sent) => sent,
            // The worker went away (the runtime is shutting down).
            Err(_) => Err(StoreError::Invalid("the send was not finished; please retry".into())),
        }
    }
}
