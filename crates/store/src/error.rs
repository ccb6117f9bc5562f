use thiserror::Error;

#[derive(Debug, Error)]
pub enum StoreError {
    #[error("not found")]
    NotFound,
    /// A unique constraint refused the write; names the constraint or column.
    #[error("already exists: {0}")]
    Conflict(String),
    /// The write would leave the platform without an active super admin.
    #[error("the last active super admin cannot be removed")]
    LastSuperAdmin,
    /// A debit larger than the balance; nothing was written.
    #[error("insufficient credits: {required} required, {available} available")]
    InsufficientCredits { required: fantooo_domain::Credits, available: fantooo_domain::Credits },
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
            sqlx::Error::Io(_) | sqlx::Error::Tls(_) | sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::WorkerCrashed => true,
            // Class 08: connection exception; 57P0x: admin/crash shutdown, cannot connect now.
            sqlx::Error::Database(db) => db.code().is_some_and(|c| c.starts_with("08") || c.starts_with("57P")),
            _ => false,
        }
    }
}

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        if let sqlx::Error::RowNotFound = e {
            return StoreError::NotFound;
        }
        if let Some(db) = e.as_database_error() {
            if db.message().contains("last_super_admin") {
                return StoreError::LastSuperAdmin;
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
