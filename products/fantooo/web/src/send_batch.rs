//! The send batcher: group commit for users' paid messages.
//!
//! Every user's send on this node goes through [`SendBatcher::send`]. A few
//! worker tasks ([`WORKERS`]) take sends from one queue; a worker takes
//! every send already waiting, and when the database is busy with another
//! batch (another worker is writing) it waits up to [`WINDOW`] for more, or
//! until the batch holds [`MAX_BATCH`] sends. The batch is written by
//! [`fantooo_store::send_batch::send_as_users`] in one transaction, where
//! each send keeps its own outcome (one user's 402 never fails another's
//! send; a retried `client_id` is stored and charged once); each sender is
//! answered only after that commit. A lone send (a quiet node) goes
//! through [`messages::send_as_user`] at once, with no wait, and a batch
//! whose transaction fails as a whole is re-run one send at a time through
//! that same path, so each sender gets its true answer.
//!
//! `FANTOOO_SEND_BATCH=off` turns batching off on a node: every send then
//! goes through [`messages::send_as_user`] on its own (the bench's "before").

use fantooo_domain::ids::{ChatId, UserId};
use fantooo_domain::pricing::PricingConfig;
use fantooo_store::messages::{self, Body, Sent};
pub use fantooo_store::send_batch::MAX_BATCH;
use fantooo_store::send_batch::{send_as_users, UserSend};
use fantooo_store::settings::Cached;
use fantooo_store::{Db, StoreResult};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{mpsc, oneshot, Mutex};

/// How long a worker waits for more sends while another batch is being
/// written.
pub const WINDOW: Duration = Duration::from_millis(1);

/// Batches written at once on one node (each holds one database connection
/// while it runs).
pub const WORKERS: usize = 4;

struct Job {
    send: UserSend,
    reply: oneshot::Sender<StoreResult<Sent>>,
}

/// This node's send batcher (cheap to share).
pub struct SendBatcher {
    db: Db,
    pricing: Arc<Cached<PricingConfig>>,
    /// None when batching is off.
    queue: Option<mpsc::UnboundedSender<Job>>,
}

impl SendBatcher {
    /// Starts the workers on the current Tokio runtime.
    pub fn start(db: Db, pricing: Arc<Cached<PricingConfig>>) -> Arc<SendBatcher> {
        if std::env::var("FANTOOO_SEND_BATCH").is_ok_and(|v| v == "off") {
            return Arc::new(SendBatcher { db, pricing, queue: None });
        }
        let (queue, rx) = mpsc::unbounded_channel();
        let rx = Arc::new(Mutex::new(rx));
        let busy = Arc::new(AtomicUsize::new(0));
        for _ in 0..WORKERS {
            tokio::spawn(work(db.clone(), pricing.clone(), rx.clone(), busy.clone()));
        }
        Arc::new(SendBatcher { db, pricing, queue: Some(queue) })
    }

    /// Sends a user's message; answers after the message's commit, with
    /// the same outcomes as [`messages::send_as_user`].
    pub async fn send(&self, chat: ChatId, user: UserId, body: Body) -> StoreResult<Sent> {
        let Some(queue) = &self.queue else {
            return messages::send_as_user(&self.db, chat, user, &body, &self.pricing).await;
        };
        let (reply, answer) = oneshot::channel();
        let job = Job { send: UserSend { chat, user, body }, reply };
        match queue.send(job) {
            Ok(()) => match answer.await {
                Ok(sent) => sent,
                // The worker went away (the runtime is shutting down).
                Err(_) => Err(fantooo_store::StoreError::Invalid("the send was not finished; please retry".into())),
            },
            Err(mpsc::error::SendError(job)) => {
                messages::send_as_user(&self.db, job.send.chat, job.send.user, &job.send.body, &self.pricing).await
            }
        }
    }
}

async fn work(db: Db, pricing: Arc<Cached<PricingConfig>>, rx: Arc<Mutex<mpsc::UnboundedReceiver<Job>>>, busy: Arc<AtomicUsize>) {
    loop {
        let batch = {
            let mut rx = rx.lock().await;
            let Some(first) = rx.recv().await else { return };
            let mut batch = vec![first];
            while batch.len() < MAX_BATCH {
                match rx.try_recv() {
                    Ok(job) => batch.push(job),
                    Err(_) => break,
                }
            }
            if busy.load(Ordering::Acquire) > 0 {
                let until = tokio::time::Instant::now() + WINDOW;
                while batch.len() < MAX_BATCH {
                    match tokio::time::timeout_at(until, rx.recv()).await {
                        Ok(Some(job)) => batch.push(job),
                        _ => break,
                    }
                }
            }
            batch
        };
        busy.fetch_add(1, Ordering::AcqRel);
        write(&db, &pricing, batch).await;
        busy.fetch_sub(1, Ordering::AcqRel);
    }
}

/// Writes one batch and answers its senders.
async fn write(db: &Db, pricing: &Cached<PricingConfig>, batch: Vec<Job>) {
    metrics::histogram!("fantooo_send_batch_size").record(batch.len() as f64);
    if batch.len() > 1 {
        let sends: Vec<UserSend> = batch.iter().map(|j| j.send.clone()).collect();
        match send_as_users(db, &sends, pricing).await {
            Ok(answers) => {
                for (job, answer) in batch.into_iter().zip(answers) {
                    let _ = job.reply.send(answer);
                }
                return;
            }
            Err(e) => {
                tracing::warn!(error = %e, sends = batch.len(), "send batch failed as a whole; sending one at a time");
            }
        }
    }
    for job in batch {
        let s = &job.send;
        let answer = messages::send_as_user(db, s.chat, s.user, &s.body, pricing).await;
        let _ = job.reply.send(answer);
    }
}
