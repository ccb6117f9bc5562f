//! The batched gift writer of this node, for gifts accepted on their own:
//! a gift accepted in a batch is credited in the batch's own transaction
//! (`rooms_store::gifts::accept_many`), but one accepted alone
//! (`rooms_store::gifts::accept`, when its batch failed as a whole) commits
//! the sender's side only, then waits here until a credit batch that
//! started after its commit has finished, so the answer still comes after
//! the owner's and receivers' shares are credited. One writer task per node
//! runs `rooms_store::gifts::credit_pending` whenever a request asks, so all
//! the gifts accepted alone while a batch runs are credited by the next one.
//! The `gift_credits` job credits whatever a stopped node left.

use chrono::Utc;
use rooms_store::Db;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;
use tokio::sync::Notify;

/// How long a request waits for its batch before it answers anyway (its
/// gift stays accepted and is credited by a later batch or the job).
const WAIT: Duration = Duration::from_secs(5);

#[derive(Default)]
pub struct GiftCredits {
    /// Tickets handed out and tickets whose batch has finished.
    tickets: Mutex<(u64, u64)>,
    wake: Notify,
    done: Notify,
    started: OnceLock<()>,
}

impl GiftCredits {
    /// Waits until the gifts committed before this call are credited (or
    /// [`WAIT`] has passed); starts the writer on first use.
    pub async fn settle(self: &Arc<Self>, db: &Db) {
        self.started.get_or_init(|| {
            tokio::spawn(writer(self.clone(), db.clone()));
        });
        let ticket = {
            let mut t = self.tickets.lock().expect("tickets");
            t.0 += 1;
            t.0
        };
        self.wake.notify_one();
        let _ = tokio::time::timeout(WAIT, async {
            loop {
                let done = self.done.notified();
                tokio::pin!(done);
                done.as_mut().enable();
                if self.tickets.lock().expect("tickets").1 >= ticket {
                    return;
                }
                done.await;
            }
        })
        .await;
    }
}

async fn writer(this: Arc<GiftCredits>, db: Db) {
    loop {
        this.wake.notified().await;
        // Every ticket up to here was taken after its gift committed, so
        // the batch that starts now sees it.
        let target = this.tickets.lock().expect("tickets").0;
        if let Err(e) = rooms_store::gifts::credit_pending(&db, Utc::now()).await {
            tracing::warn!(error = %e, "gift credits failed; the next batch or the gift_credits job retries");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        this.tickets.lock().expect("tickets").1 = target;
        this.done.notify_waiters();
    }
}
