//! The SQL statements sqlx runs, as a test counts them: from sqlx's own
//! statement log, through a process-wide `tracing` subscriber installed on
//! first use (so a test binary that counts has no other global subscriber).
//!
//! Two ways to count:
//! - [`of`]: the statements of one future (and of the tasks that carry its
//!   span: sqlx carries the caller's span to SQLite's worker thread), by
//!   their summaries (first words), without the transaction's `BEGIN`,
//!   `COMMIT` or `ROLLBACK` (which sqlx logs on one store and not the
//!   other) or a new SQLite connection's `PRAGMA`s (the connection's cost,
//!   not the work's). Counts of concurrent tests do not mix.
//! - [`everything`] then [`take`]: every statement of the process since the
//!   last take, each in full where sqlx logs it so, for work that leaves
//!   the caller's task (a group-commit worker); the test then leaves out
//!   its background tasks' statements by their text, and its binary holds
//!   one test.
//!
//! sqlx's statement events are enabled only while a count runs.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, OnceLock};
use tracing::field::{Field, Visit};
use tracing::subscriber::Interest;
use tracing::{Event, Instrument, Metadata};
use tracing_subscriber::layer::{Context, SubscriberExt};
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::Layer;

/// The span [`of`] runs its future in.
const COUNTED: &str = "counted";

/// Counts running (each [`of`], and [`everything`] for good).
static ACTIVE: AtomicUsize = AtomicUsize::new(0);

#[derive(Default)]
struct Log {
    /// (the `counted` span's id, the statement's summary)
    counted: Mutex<Vec<(u64, String)>>,
    /// Every statement, in full where logged so, while [`everything`] is on.
    all: Mutex<Option<Vec<String>>>,
}

fn log() -> &'static Log {
    static LOG: OnceLock<&'static Log> = OnceLock::new();
    LOG.get_or_init(|| {
        let log: &'static Log = Box::leak(Box::default());
        let subscriber = tracing_subscriber::registry().with(Statements(log));
        tracing::subscriber::set_global_default(subscriber).expect("one global subscriber in a test binary that counts statements");
        log
    })
}

/// The statements `fut` runs, by summary, without `BEGIN`, `COMMIT`,
/// `ROLLBACK` and `PRAGMA`.
pub async fn of<T>(fut: impl std::future::Future<Output = T>) -> (T, Vec<String>) {
    let log = log();
    ACTIVE.fetch_add(1, Ordering::SeqCst);
    let span = tracing::info_span!("counted");
    let id = span.id().expect("the counting subscriber is installed").into_u64();
    let out = fut.instrument(span).await;
    ACTIVE.fetch_sub(1, Ordering::SeqCst);
    let mut counted = log.counted.lock().expect("statement log");
    let (mine, rest): (Vec<_>, Vec<_>) = std::mem::take(&mut *counted).into_iter().partition(|(span, _)| *span == id);
    *counted = rest;
    let statements = mine
        .into_iter()
        .map(|(_, sql)| sql)
        .filter(|sql| !matches!(sql.split_whitespace().next(), Some("BEGIN" | "COMMIT" | "ROLLBACK" | "PRAGMA")))
        .collect();
    (out, statements)
}

/// Logs every statement of the process from now on, for [`take`].
pub fn everything() {
    let mut all = log().all.lock().expect("statement log");
    if all.is_none() {
        *all = Some(vec![]);
        ACTIVE.fetch_add(1, Ordering::SeqCst);
    }
}

/// Every statement since [`everything`] or the last take, each in full
/// where sqlx logged it so (else its summary).
pub fn take() -> Vec<String> {
    log().all.lock().expect("statement log").as_mut().map(std::mem::take).unwrap_or_default()
}

struct Statements(&'static Log);

fn counted_span(m: &Metadata<'_>) -> bool {
    m.is_span() && m.name() == COUNTED
}

#[derive(Default)]
struct Sql {
    summary: String,
    full: String,
}

impl Visit for Sql {
    fn record_str(&mut self, field: &Field, value: &str) {
        match field.name() {
            "summary" => self.summary = value.to_string(),
            "db.statement" => self.full = value.trim().to_string(),
            _ => {}
        }
    }
    fn record_debug(&mut self, _: &Field, _: &dyn std::fmt::Debug) {}
}

impl<S: tracing::Subscriber + for<'a> LookupSpan<'a>> Layer<S> for Statements {
    fn register_callsite(&self, m: &'static Metadata<'static>) -> Interest {
        if m.target() == "sqlx::query" || counted_span(m) {
            Interest::sometimes()
        } else {
            Interest::never()
        }
    }

    fn enabled(&self, m: &Metadata<'_>, _: Context<'_, S>) -> bool {
        counted_span(m) || (m.target() == "sqlx::query" && ACTIVE.load(Ordering::SeqCst) > 0)
    }

    fn on_event(&self, event: &Event<'_>, ctx: Context<'_, S>) {
        let mut sql = Sql::default();
        event.record(&mut sql);
        if let Some(all) = self.0.all.lock().expect("statement log").as_mut() {
            all.push(if sql.full.is_empty() { sql.summary.clone() } else { sql.full });
        }
        let Some(scope) = ctx.event_scope(event) else { return };
        if let Some(span) = scope.from_root().find(|s| s.name() == COUNTED) {
            self.0.counted.lock().expect("statement log").push((span.id().into_u64(), sql.summary));
        }
    }
}
