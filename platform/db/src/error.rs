//! The store layer's one error type, shared by every product. Database
//! errors are classified once here: unique violations name their
//! constraint, schema guards (triggers) carry their code, outages are told
//! apart from faults, and text a store cannot hold is the client's input.

use thiserror::Error;

#[derive(Debug, Error)]
pub enum StoreError {
    #[error("not found")]
    NotFound,
    /// A unique constraint refused the write; names the constraint or column.
    #[error("already exists: {0}")]
    Conflict(String),
    /// A guard in the schema (a trigger) refused the write. Guards raise
    /// `"<code>: <words>"`; the product's web layer maps the code to words
    /// for people.
    #[error("{code}: {message}")]
    Guard { code: String, message: String },
    /// A debit larger than the balance of a wallet; nothing was written.
    /// Amounts are in the wallet's own unit.
    #[error("insufficient balance: {required} required, {available} available")]
    Insufficient { required: i64, available: i64 },
    /// A business rule refused the change; the message says which and why.
    #[error("{0}")]
    Rule(String),
    /// A business rule refused the write; names the input at fault.
    #[error("{field}: {message}")]
    Refused { field: &'static str, message: String },
    #[error("invalid data: {0}")]
    Invalid(String),
    #[error("database error: {0}")]
    Database(#[source] sqlx::Error),
    #[error("migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
}

pub type StoreResult<T> = Result<T, StoreError>;

impl StoreError {
    /// The database could not be reached, or is shutting down or starting
    /// up: the request itself is fine and may succeed when retried shortly.
    pub fn is_unavailable(&self) -> bool {
        let StoreError::Database(e) = self else { return false };
        match e {
            sqlx::Error::Io(_) | sqlx::Error::Tls(_) | sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::WorkerCrashed => {
                true
            }
            // Class 08: connection exception; 57P0x: admin/crash shutdown, cannot connect now.
            sqlx::Error::Database(db) => db.code().is_some_and(|c| c.starts_with("08") || c.starts_with("57P")),
            _ => false,
        }
    }

    /// Whether this is the guard `code` of the schema.
    pub fn is_guard(&self, code: &str) -> bool {
        matches!(self, StoreError::Guard { code: c, .. } if c == code)
    }
}

/// A guard's words: `RAISE EXCEPTION` on PostgreSQL (SQLSTATE P0001) or
/// `RAISE(ABORT, …)` in a SQLite trigger (extended code 1811), worded
/// `"<code>: <words>"` with a snake_case code.
fn guard(db: &dyn sqlx::error::DatabaseError) -> Option<StoreError> {
    if !matches!(db.code().as_deref(), Some("P0001" | "1811")) {
        return None;
    }
    let (code, message) = db.message().split_once(": ")?;
    let is_code = !code.is_empty() && code.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    is_code.then(|| StoreError::Guard { code: code.to_string(), message: message.to_string() })
}

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        if let sqlx::Error::RowNotFound = e {
            return StoreError::NotFound;
        }
        if let Some(db) = e.as_database_error() {
            if let Some(g) = guard(db) {
                return g;
            }
            // PostgreSQL text cannot hold NUL (22021) and jsonb refuses
            // \u0000 (22P05); that is the client's input, not a fault here.
            if matches!(db.code().as_deref(), Some("22021" | "22P05")) {
                return StoreError::Invalid("Text must not contain NUL characters".into());
            }
            if db.is_unique_violation() {
                let what = db.constraint().map(str::to_string).unwrap_or_else(|| db.message().to_string());
                return StoreError::Conflict(what);
            }
        }
        StoreError::Database(e)
    }
}
