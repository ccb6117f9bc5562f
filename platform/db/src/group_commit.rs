//! Group commit: many callers' writes in one transaction.
//!
//! A [`Batcher`] takes requests from one queue. A few worker tasks
//! ([`Options::workers`]) each take every request already waiting; when
//! another worker is writing a batch (the database is busy) a worker waits
//! up to [`Options::window`] for more, or until it holds
//! [`Options::max_batch`]. A batch of two or more goes to
//! [`GroupCommit::batch`] (one transaction, one outcome per request, in
//! order); each caller is answered only after that returns. A lone request
//! (a quiet node) goes to [`GroupCommit::single`] at once, with no wait,
//! and a batch that fails as a whole is re-run one request at a time
//! through that same path, so each caller gets its true answer. A batcher
//! made with [`Batcher::off`] sends every request through
//! [`GroupCommit::single`] on its own.
//!
//! The batcher knows nothing of what it writes: a product gives the two
//! paths as a [`GroupCommit`] implementation.

use std::fmt::Display;
use std::future::Future;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{mpsc, oneshot, Mutex};

/// The two ways a product writes its requests.
pub trait GroupCommit: Send + Sync + 'static {
    type Request: Send + Sync + 'static;
    type Outcome: Send + 'static;
    /// Why a batch failed as a whole (logged; its members are then re-run).
    type Error: Display + Send;

    /// Writes two or more requests in one transaction; one outcome per
    /// request, in order. An `Err` means nothing of the batch was written.
    fn batch(&self, requests: &[Self::Request]) -> impl Future<Output = Result<Vec<Self::Outcome>, Self::Error>> + Send;

    /// Writes one request on its own.
    fn single(&self, request: &Self::Request) -> impl Future<Output = Self::Outcome> + Send;

    /// Told the size of every batch taken (1 for a lone request), for a
    /// metric.
    fn taken(&self, _size: usize) {}
}

/// How a batcher groups.
#[derive(Debug, Clone, Copy)]
pub struct Options {
    /// Batches written at once (each holds one database connection).
    pub workers: usize,
    /// How long a worker waits for more while another batch is written.
    pub window: Duration,
    /// The most requests in one batch.
    pub max_batch: usize,
}

/// The request was taken but never answered (the runtime is shutting down).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Unanswered;

impl Display for Unanswered {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("the request was not finished; please retry")
    }
}

struct Job<H: GroupCommit> {
    request: H::Request,
    reply: oneshot::Sender<H::Outcome>,
}

/// A group-commit queue (cheap to share behind an `Arc`).
pub struct Batcher<H: GroupCommit> {
    handler: Arc<H>,
    /// None when batching is off.
    queue: Option<mpsc::UnboundedSender<Job<H>>>,
}

impl<H: GroupCommit> Batcher<H> {
    /// Starts the workers on the current Tokio runtime.
    pub fn start(handler: H, options: Options) -> Batcher<H> {
        let handler = Arc::new(handler);
        let (queue, rx) = mpsc::unbounded_channel();
        let rx = Arc::new(Mutex::new(rx));
        let busy = Arc::new(AtomicUsize::new(0));
        for _ in 0..options.workers.max(1) {
            tokio::spawn(work(Arc::clone(&handler), options, Arc::clone(&rx), Arc::clone(&busy)));
        }
        Batcher { handler, queue: Some(queue) }
    }

    /// A batcher that batches nothing: every request takes the single path.
    pub fn off(handler: H) -> Batcher<H> {
        Batcher { handler: Arc::new(handler), queue: None }
    }

    /// Whether requests are grouped.
    pub fn is_on(&self) -> bool {
        self.queue.is_some()
    }

    /// The product's paths.
    pub fn handler(&self) -> &H {
        &self.handler
    }

    /// Writes a request; answers after its transaction, with its own
    /// outcome.
    pub async fn submit(&self, request: H::Request) -> Result<H::Outcome, Unanswered> {
        let Some(queue) = &self.queue else {
            return Ok(self.handler.single(&request).await);
        };
        let (reply, answer) = oneshot::channel();
        match queue.send(Job { request, reply }) {
            Ok(()) => answer.await.map_err(|_| Unanswered),
            Err(mpsc::error::SendError(job)) => Ok(self.handler.single(&job.request).await),
        }
    }
}

async fn work<H: GroupCommit>(handler: Arc<H>, o: Options, rx: Arc<Mutex<mpsc::UnboundedReceiver<Job<H>>>>, busy: Arc<AtomicUsize>) {
    let max = o.max_batch.max(1);
    loop {
        let batch = {
            let mut rx = rx.lock().await;
            let Some(first) = rx.recv().await else { return };
            let mut batch = vec![first];
            while batch.len() < max {
                match rx.try_recv() {
                    Ok(job) => batch.push(job),
                    Err(_) => break,
                }
            }
            if busy.load(Ordering::Acquire) > 0 {
                let until = tokio::time::Instant::now() + o.window;
                while batch.len() < max {
                    match tokio::time::timeout_at(until, rx.recv()).await {
                        Ok(Some(job)) => batch.push(job),
                        _ => break,
                    }
                }
            }
            batch
        };
        busy.fetch_add(1, Ordering::AcqRel);
        write(&*handler, batch).await;
        busy.fetch_sub(1, Ordering::AcqRel);
    }
}

/// Writes one batch and answers its callers.
async fn write<H: GroupCommit>(handler: &H, batch: Vec<Job<H>>) {
    handler.taken(batch.len());
    let (requests, replies): (Vec<H::Request>, Vec<oneshot::Sender<H::Outcome>>) = batch.into_iter().map(|j| (j.request, j.reply)).unzip();
    if requests.len() > 1 {
        match handler.batch(&requests).await {
            Ok(outcomes) if outcomes.len() == requests.len() => {
                for (reply, outcome) in replies.into_iter().zip(outcomes) {
                    let _ = reply.send(outcome);
                }
                return;
            }
            Ok(outcomes) => {
                tracing::error!(
                    requests = requests.len(),
                    outcomes = outcomes.len(),
                    "a batch answered the wrong number of requests; writing one at a time"
                );
            }
            Err(e) => {
                tracing::warn!(error = %e, requests = requests.len(), "a batch failed as a whole; writing one at a time");
            }
        }
    }
    for (request, reply) in requests.iter().zip(replies) {
        let _ = reply.send(handler.single(request).await);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex as StdMutex;

    /// Records how each request was written; a batch holding `fail` fails
    /// as a whole.
    #[derive(Default)]
    struct Recorder {
        batches: StdMutex<Vec<Vec<u32>>>,
        singles: StdMutex<Vec<u32>>,
        fail: Option<u32>,
        /// Each batch takes this long (to let others queue meanwhile).
        slow: Duration,
    }

    impl GroupCommit for Recorder {
        type Request = u32;
        type Outcome = (u32, &'static str);
        type Error = String;

        async fn batch(&self, requests: &[u32]) -> Result<Vec<(u32, &'static str)>, String> {
            tokio::time::sleep(self.slow).await;
            if self.fail.is_some_and(|f| requests.contains(&f)) {
                return Err(format!("{} in the batch", self.fail.unwrap_or_default()));
            }
            self.batches.lock().expect("lock").push(requests.to_vec());
            Ok(requests.iter().map(|r| (r * 10, "batch")).collect())
        }

        async fn single(&self, request: &u32) -> (u32, &'static str) {
            self.singles.lock().expect("lock").push(*request);
            (request * 10, "single")
        }
    }

    fn options() -> Options {
        Options { workers: 1, window: Duration::from_millis(5), max_batch: 50 }
    }

    /// Submits `n` requests at once and returns their answers in order.
    async fn many(b: &Arc<Batcher<Recorder>>, n: u32) -> Vec<(u32, &'static str)> {
        let tasks: Vec<_> = (1..=n)
            .map(|i| {
                let b = Arc::clone(b);
                tokio::spawn(async move { b.submit(i).await })
            })
            .collect();
        let mut out = vec![];
        for t in tasks {
            out.push(t.await.expect("task").expect("answered"));
        }
        out
    }

    #[tokio::test]
    async fn a_lone_request_takes_the_single_path() {
        let b = Batcher::start(Recorder::default(), options());
        assert_eq!(b.submit(7).await, Ok((70, "single")));
        assert_eq!(*b.handler().singles.lock().expect("lock"), vec![7]);
        assert!(b.handler().batches.lock().expect("lock").is_empty());
    }

    #[tokio::test]
    async fn a_batch_answers_each_member_with_its_own_outcome() {
        let b = Arc::new(Batcher::start(Recorder { slow: Duration::from_millis(20), ..Default::default() }, options()));
        let answers = many(&b, 40).await;
        for (i, a) in answers.iter().enumerate() {
            assert_eq!(a.0, (i as u32 + 1) * 10, "each caller gets its own answer");
        }
        let batches = b.handler().batches.lock().expect("lock").clone();
        assert!(!batches.is_empty(), "waiting requests were grouped");
        let batched: usize = batches.iter().map(Vec::len).sum();
        let singles = b.handler().singles.lock().expect("lock").len();
        assert_eq!(batched + singles, 40, "every request written exactly once");
        assert!(batches.iter().all(|m| m.len() > 1 && m.len() <= 50));
    }

    #[tokio::test]
    async fn a_failed_batch_re_runs_its_members_one_at_a_time() {
        let b = Arc::new(Batcher::start(Recorder { slow: Duration::from_millis(20), fail: Some(3), ..Default::default() }, options()));
        let answers = many(&b, 20).await;
        assert_eq!(answers.iter().map(|a| a.0).collect::<Vec<_>>(), (1..=20).map(|i| i * 10).collect::<Vec<_>>());
        assert_eq!(answers[2].1, "single", "the failing batch's member was written on its own");
        let singles = b.handler().singles.lock().expect("lock").clone();
        let batches = b.handler().batches.lock().expect("lock").clone();
        assert!(batches.iter().all(|m| !m.contains(&3)));
        let batched: usize = batches.iter().map(Vec::len).sum();
        assert_eq!(batched + singles.len(), 20, "each written once: the failed batch wrote nothing");
    }

    #[tokio::test]
    async fn off_writes_every_request_on_its_own() {
        let b = Arc::new(Batcher::off(Recorder { slow: Duration::from_millis(20), ..Default::default() }));
        assert!(!b.is_on());
        let answers = many(&b, 10).await;
        assert!(answers.iter().all(|a| a.1 == "single"));
        assert!(b.handler().batches.lock().expect("lock").is_empty());
        assert_eq!(b.handler().singles.lock().expect("lock").len(), 10);
    }
}
