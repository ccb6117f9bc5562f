//! Persistence for Fantooo on PostgreSQL (production) or SQLite (embedded
//! default). One set of SQL texts serves both: sqlx's SQLite driver accepts
//! `$N` placeholders, ids bind as `uuid`/TEXT through the domain newtypes,
//! and the few dialect differences live in the two migration folders.

mod db;
mod error;
pub mod accounts;
pub mod admins;
pub mod analytics;
pub mod audit;
pub mod chat_admin;
pub mod chats;
pub mod events;
pub mod ledger;
pub mod messages;
pub mod notifications;
pub mod operations;
pub mod favorites;
pub mod invariants;
pub mod jobs;
pub mod leader;
pub mod operator_admin;
pub mod operators;
pub mod packages;
pub mod partitions;
pub mod payments;
pub mod profile_admin;
pub mod profiles;
pub mod queue;
pub mod refunds;
pub mod rewards;
pub mod settings;
pub mod stats;
pub mod user_admin;
pub mod users;
pub mod wakeup;

pub use db::{Backend, BeginWrite, Db};
pub use error::{StoreError, StoreResult};

/// A SQL list of sequence numbers for `seq IN (…)`. They are integers, so
/// inlining them is safe.
pub(crate) fn seq_list(seqs: &[i64]) -> String {
    seqs.iter().map(i64::to_string).collect::<Vec<_>>().join(", ")
}

/// Runs `$body` with `$p` bound to the concrete pool of either backend. The
/// body is compiled once per backend, so it can use fully typed sqlx calls.
#[macro_export]
macro_rules! on_pool {
    ($db:expr, $p:ident => $body:expr) => {
        match $db {
            $crate::Db::Sqlite($p) => $body,
            $crate::Db::Postgres($p) => $body,
        }
    };
}
