//! What a gift batch reads but (almost) never changes, kept per node and
//! per database: the system wallets' ids (a wallet, once opened, keeps its
//! id for good), the gift catalogue and the level ladders.
//!
//! The catalogue and the ladders are kept with their version from
//! `cache_versions` (migration 1153: a trigger moves a table's version on
//! every insert, update or delete of `gifts` or `level_steps`, whoever
//! writes it). A gift batch reads the versions in a statement it sends
//! anyway ([`VERSIONS`]), and reads the catalogue or a ladder again only
//! when its version moved: every node sees an admin's change from its
//! commit on, with no extra round trip while nothing changes.
//!
//! A cache belongs to one database: each slot is tagged with its pool's
//! connect options (a weak reference, so the tag's address cannot be taken
//! by another pool while the slot lives), so the many databases of one
//! test process never share a slot.

use crate::Db;
use std::sync::{Arc, Mutex, Weak};

/// The versions' rows as `(name, '', version)`, for a `UNION ALL` with a
/// statement of three columns (text, text, integer).
pub const VERSIONS: &str = "SELECT name, '', version FROM cache_versions";

/// The catalogue's version name (the table's).
pub const GIFTS: &str = "gifts";
/// The ladders' version name (the table's).
pub const LADDERS: &str = "level_steps";

enum Tag {
    Sqlite(Weak<sqlx::sqlite::SqliteConnectOptions>),
    Postgres(Weak<sqlx::postgres::PgConnectOptions>),
}

impl Tag {
    fn of(db: &Db) -> Tag {
        match db {
            Db::Sqlite(p) => Tag::Sqlite(Arc::downgrade(&p.connect_options())),
            Db::Postgres(p) => Tag::Postgres(Arc::downgrade(&p.connect_options())),
        }
    }

    fn is(&self, db: &Db) -> bool {
        match (self, db) {
            (Tag::Sqlite(w), Db::Sqlite(p)) => std::ptr::eq(w.as_ptr(), Arc::as_ptr(&p.connect_options())),
            (Tag::Postgres(w), Db::Postgres(p)) => std::ptr::eq(w.as_ptr(), Arc::as_ptr(&p.connect_options())),
            _ => false,
        }
    }

    fn live(&self) -> bool {
        match self {
            Tag::Sqlite(w) => w.strong_count() > 0,
            Tag::Postgres(w) => w.strong_count() > 0,
        }
    }
}

/// One value per database.
pub struct PerDb<T> {
    slots: Mutex<Vec<(Tag, T)>>,
}

impl<T: Default> PerDb<T> {
    pub const fn new() -> Self {
        PerDb { slots: Mutex::new(Vec::new()) }
    }

    /// Runs `f` on `db`'s value (a default one the first time); slots of
    /// pools that are gone are dropped on the way.
    pub fn with<R>(&self, db: &Db, f: impl FnOnce(&mut T) -> R) -> R {
        let mut slots = self.slots.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(i) = slots.iter().position(|(t, _)| t.is(db)) {
            return f(&mut slots[i].1);
        }
        slots.retain(|(t, _)| t.live());
        slots.push((Tag::of(db), T::default()));
        let last = slots.len() - 1;
        f(&mut slots[last].1)
    }
}

impl<T: Default> Default for PerDb<T> {
    fn default() -> Self {
        Self::new()
    }
}

/// A value read from the store with the version it was read at.
pub type Versioned<T> = Option<(i64, Arc<T>)>;

impl<T> PerDb<Versioned<T>> {
    /// `db`'s value as of `version` (read by the caller from
    /// `cache_versions`): the copy kept when it is of that version, else
    /// `read` again and kept. A copy is tagged with a version read before
    /// it, never after, so a change made meanwhile costs one more read at
    /// most and never leaves a stale copy.
    pub async fn at_or_read<F, Fut>(&self, db: &Db, version: i64, read: F) -> crate::StoreResult<Arc<T>>
    where
        F: FnOnce() -> Fut,
        Fut: std::future::Future<Output = crate::StoreResult<T>>,
    {
        let kept = self.with(db, |slot| slot.as_ref().filter(|(v, _)| *v == version).map(|(_, t)| t.clone()));
        if let Some(t) = kept {
            return Ok(t);
        }
        let t = Arc::new(read().await?);
        self.with(db, |slot| *slot = Some((version, t.clone())));
        Ok(t)
    }
}
