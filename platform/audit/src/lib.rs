//! The audit log and admin notices, for every product's back office.
//!
//! **Audit.** An [`Record`] says who did what to which subject, the
//! subject's state before and after, why and from where. It is written with
//! [`record_in`] inside the transaction of the change it describes (pass
//! `&mut *tx` from an `on_pool!` body), so a change and its entry commit or
//! roll back together; [`record`] writes one on its own. [`list`] reads the
//! log newest first, narrowed by a [`Filter`] (actor, action, subject, time
//! range), a page at a time by sequence number ([`Position`]).
//!
//! [`scrub_in`] rewrites the recorded values about a subject for erasure
//! requests; [`changes`] reads an entry's before/after as field-by-field
//! [`Change`]s for people.
//!
//! **Notices.** [`notify_in`] / [`notify`] address a [`NewNotice`] to one
//! admin, every admin of a role, or everyone ([`Audience`]). Each
//! [`Reader`] has its own read state: [`notices`], [`unread_count`],
//! [`mark_read`].
//!
//! The tables are this crate's [`MIGRATIONS`] (versions 130–139):
//! `audit_entries`, `admin_notices`, `admin_notice_reads`.
//!
//! ```ignore
//! on_pool!(&db, p => {
//!     let mut tx = p.begin_write().await?;
//!     // … the change itself …
//!     let before = json!({ "status": "active" });
//!     let after = json!({ "status": "banned" });
//!     let entry = Record::new("admin", Some(&admin_id), "user.ban")
//!         .subject("user", &user_id)
//!         .change(Some(&before), Some(&after))
//!         .reason("spam")
//!         .ip(Some(ip));
//!     platform_audit::record_in(&mut *tx, &entry, Utc::now()).await?;
//!     tx.commit().await?;
//! });
//! ```

use chrono::{DateTime, Utc};
use platform_db::{on_pool, BeginWrite, Db, StoreResult};
use serde::Serialize;
use serde_json::Value;
use sqlx::types::Json;
use std::future::Future;

platform_kernel::id_type!(
    /// One notice to admins.
    NoticeId,
);

static SQLITE: sqlx::migrate::Migrator = sqlx::migrate::Migrator { ignore_missing: true, ..sqlx::migrate!("migrations/sqlite") };
static POSTGRES: sqlx::migrate::Migrator = sqlx::migrate::Migrator { ignore_missing: true, ..sqlx::migrate!("migrations/postgres") };

/// `audit_entries`, `admin_notices`, `admin_notice_reads`: versions 130–139
/// on both stores. They share the migrations table with the product's own,
/// so they ignore versions they do not know; combine them with the
/// product's through `Migrations::combine`.
pub static MIGRATIONS: platform_db::Migrations = platform_db::Migrations { sqlite: &SQLITE, postgres: &POSTGRES };

/// One audit entry to write; build it with [`Record::new`] and the setters.
#[derive(Debug, Clone, Copy)]
pub struct Record<'a> {
    /// What kind of actor: `admin`, `user`, `system`, `job`, …
    pub actor_kind: &'a str,
    pub actor_id: Option<&'a str>,
    /// What was done, e.g. `user.ban`, `package.update`.
    pub action: &'a str,
    pub subject_kind: Option<&'a str>,
    pub subject_id: Option<&'a str>,
    pub before: Option<&'a Value>,
    pub after: Option<&'a Value>,
    pub reason: Option<&'a str>,
    pub ip: Option<&'a str>,
}

impl<'a> Record<'a> {
    pub fn new(actor_kind: &'a str, actor_id: Option<&'a str>, action: &'a str) -> Self {
        Record { actor_kind, actor_id, action, subject_kind: None, subject_id: None, before: None, after: None, reason: None, ip: None }
    }
    /// What the action was done to.
    pub fn subject(self, kind: &'a str, id: &'a str) -> Self {
        Record { subject_kind: Some(kind), subject_id: Some(id), ..self }
    }
    /// The subject's state before and after.
    pub fn change(self, before: Option<&'a Value>, after: Option<&'a Value>) -> Self {
        Record { before, after, ..self }
    }
    pub fn reason(self, reason: &'a str) -> Self {
        Record { reason: Some(reason), ..self }
    }
    pub fn ip(self, ip: Option<&'a str>) -> Self {
        Record { ip, ..self }
    }
}

/// An entry of the log.
#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
pub struct Entry {
    pub seq: i64,
    pub actor_kind: String,
    pub actor_id: Option<String>,
    pub action: String,
    pub subject_kind: Option<String>,
    pub subject_id: Option<String>,
    pub before_value: Option<Json<Value>>,
    pub after_value: Option<Json<Value>>,
    pub reason: Option<String>,
    pub ip: Option<String>,
    pub at: DateTime<Utc>,
}

/// What the log is narrowed to; every part is optional and they combine.
/// An actor id only counts together with its kind; a subject id alone
/// narrows to that subject under any kind (the same thing may be audited
/// as several kinds, e.g. a user and an account).
#[derive(Debug, Clone, Copy, Default)]
pub struct Filter<'a> {
    pub actor_kind: Option<&'a str>,
    pub actor_id: Option<&'a str>,
    pub action: Option<&'a str>,
    pub subject_kind: Option<&'a str>,
    pub subject_id: Option<&'a str>,
    /// From this instant on (inclusive).
    pub from: Option<DateTime<Utc>>,
    /// Before this instant (exclusive).
    pub until: Option<DateTime<Utc>>,
}

/// Where a page of the log starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Position {
    /// The newest entries.
    #[default]
    Newest,
    /// The entries just older than this seq.
    Before(i64),
    /// The entries just newer than this seq.
    After(i64),
}

/// One page of the log, newest first, with the positions of its neighbours.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Listing {
    pub entries: Vec<Entry>,
    /// `Position::After(seq)` shows the newer page, if there is one.
    pub newer: Option<i64>,
    /// `Position::Before(seq)` shows the older page, if there is one.
    pub older: Option<i64>,
}

/// Who receives a notice.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Audience<'a> {
    Everyone,
    Admin(&'a str),
    Role(&'a str),
}

/// A notice to write.
#[derive(Debug, Clone, Copy)]
pub struct NewNotice<'a> {
    /// The product's word for it: `payment_failed`, `chat_escalation`, …
    pub kind: &'a str,
    pub title: &'a str,
    pub body: &'a str,
    /// Where in the back office it leads.
    pub link: Option<&'a str>,
    pub audience: Audience<'a>,
}

/// An admin reading notices: its id and role.
#[derive(Debug, Clone, Copy)]
pub struct Reader<'a> {
    pub id: &'a str,
    pub role: Option<&'a str>,
}

/// A notice as a reader sees it.
#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
pub struct Notice {
    pub id: NoticeId,
    pub kind: String,
    pub title: String,
    pub body: String,
    pub link: Option<String>,
    pub created_at: DateTime<Utc>,
    /// Whether this reader has read it.
    pub read: bool,
}

/// An entry's seq with its before and after values.
#[doc(hidden)]
pub type Values = (i64, Option<Json<Value>>, Option<Json<Value>>);

mod sealed {
    pub trait Sealed {}
}

/// A connection of either store, usually a transaction's (`&mut *tx`
/// inside an `on_pool!` body), for the `*_in` writes. Implemented for
/// `SqliteConnection` and `PgConnection` only.
pub trait Conn: sealed::Sealed + Send {
    #[doc(hidden)]
    fn insert_entry<'a>(&'a mut self, r: &'a Record<'a>, at: DateTime<Utc>) -> impl Future<Output = StoreResult<i64>> + Send + 'a;
    #[doc(hidden)]
    fn values_about<'a>(&'a mut self, kind: &'a str, ids: &'a [&'a str]) -> impl Future<Output = StoreResult<Vec<Values>>> + Send + 'a;
    #[doc(hidden)]
    fn set_values<'a>(
        &'a mut self,
        seq: i64,
        before: Option<&'a Value>,
        after: Option<&'a Value>,
    ) -> impl Future<Output = StoreResult<()>> + Send + 'a;
    #[doc(hidden)]
    fn insert_notice<'a>(
        &'a mut self,
        id: NoticeId,
        n: &'a NewNotice<'a>,
        at: DateTime<Utc>,
    ) -> impl Future<Output = StoreResult<()>> + Send + 'a;
}

const INSERT_ENTRY: &str =
    "INSERT INTO audit_entries (actor_kind, actor_id, action, subject_kind, subject_id, before_value, after_value, reason, ip, at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING seq";
const INSERT_NOTICE: &str = "INSERT INTO admin_notices (id, kind, title, body, link, recipient_id, recipient_role, created_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8)";

macro_rules! conn_impl {
    ($conn:ty) => {
        impl sealed::Sealed for $conn {}

        impl Conn for $conn {
            async fn insert_entry<'a>(&'a mut self, r: &'a Record<'a>, at: DateTime<Utc>) -> StoreResult<i64> {
                Ok(sqlx::query_scalar(INSERT_ENTRY)
                    .bind(r.actor_kind)
                    .bind(r.actor_id)
                    .bind(r.action)
                    .bind(r.subject_kind)
                    .bind(r.subject_id)
                    .bind(r.before.map(Json))
                    .bind(r.after.map(Json))
                    .bind(r.reason)
                    .bind(r.ip)
                    .bind(at)
                    .fetch_one(&mut *self)
                    .await?)
            }

            async fn values_about<'a>(
                &'a mut self,
                kind: &'a str,
                ids: &'a [&'a str],
            ) -> StoreResult<Vec<Values>> {
                let sql = format!(
                    "SELECT seq, before_value, after_value FROM audit_entries WHERE subject_kind = $1 AND subject_id IN ({}) ORDER BY seq",
                    platform_db::placeholders(2, ids.len())
                );
                let mut q = sqlx::query_as(&sql).bind(kind);
                for id in ids {
                    q = q.bind(*id);
                }
                Ok(q.fetch_all(&mut *self).await?)
            }

            async fn set_values<'a>(&'a mut self, seq: i64, before: Option<&'a Value>, after: Option<&'a Value>) -> StoreResult<()> {
                sqlx::query("UPDATE audit_entries SET before_value = $2, after_value = $3 WHERE seq = $1")
                    .bind(seq)
                    .bind(before.map(Json))
                    .bind(after.map(Json))
                    .execute(&mut *self)
                    .await?;
                Ok(())
            }

            async fn insert_notice<'a>(&'a mut self, id: NoticeId, n: &'a NewNotice<'a>, at: DateTime<Utc>) -> StoreResult<()> {
                let (recipient, role) = match n.audience {
                    Audience::Everyone => (None, None),
                    Audience::Admin(a) => (Some(a), None),
                    Audience::Role(r) => (None, Some(r)),
                };
                sqlx::query(INSERT_NOTICE)
                    .bind(id)
                    .bind(n.kind)
                    .bind(n.title)
                    .bind(n.body)
                    .bind(n.link)
                    .bind(recipient)
                    .bind(role)
                    .bind(at)
                    .execute(&mut *self)
                    .await?;
                Ok(())
            }
        }
    };
}

conn_impl!(sqlx::SqliteConnection);
conn_impl!(sqlx::PgConnection);

/// Writes an audit entry inside the caller's transaction; returns its seq.
pub async fn record_in<C: Conn>(conn: &mut C, r: &Record<'_>, at: DateTime<Utc>) -> StoreResult<i64> {
    conn.insert_entry(r, at).await
}

/// Writes an audit entry on its own (for actions that change nothing else).
pub async fn record(db: &Db, r: &Record<'_>) -> StoreResult<i64> {
    on_pool!(db, p => {
        let mut tx = p.begin_write().await?;
        let seq = record_in(&mut *tx, r, Utc::now()).await?;
        tx.commit().await?;
        Ok(seq)
    })
}

/// Erasure (e.g. a person's right to be forgotten): passes the before and
/// after values of every entry about the subjects `kind`/`ids` through
/// `scrub`, which rewrites a value in place and says whether it changed
/// it, and stores the changed ones, inside the caller's transaction.
/// Returns how many entries changed. This is the one change the log
/// allows to an entry; who did what, and when, stays.
pub async fn scrub_in<C: Conn>(conn: &mut C, kind: &str, ids: &[String], mut scrub: impl FnMut(&mut Value) -> bool) -> StoreResult<u64> {
    let mut changed = 0;
    for chunk in ids.chunks(200) {
        let chunk: Vec<&str> = chunk.iter().map(String::as_str).collect();
        for (seq, mut before, mut after) in conn.values_about(kind, &chunk).await? {
            let mut touched = false;
            for v in [&mut before, &mut after].into_iter().flatten() {
                touched |= scrub(&mut v.0);
            }
            if touched {
                conn.set_values(seq, before.as_ref().map(|j| &j.0), after.as_ref().map(|j| &j.0)).await?;
                changed += 1;
            }
        }
    }
    Ok(changed)
}

const ENTRY_COLUMNS: &str = "seq, actor_kind, actor_id, action, subject_kind, subject_id, before_value, after_value, reason, ip, at";
const ENTRY_FILTER: &str = "($1 IS NULL OR actor_kind = $1) AND ($2 IS NULL OR actor_id = $2) AND ($3 IS NULL OR action = $3)
     AND ($4 IS NULL OR subject_kind = $4) AND ($5 IS NULL OR subject_id = $5) AND ($6 IS NULL OR at >= $6) AND ($7 IS NULL OR at < $7)";

/// A page of at most `limit` entries matching `f`, newest first.
pub async fn list(db: &Db, f: &Filter<'_>, at: Position, limit: i64) -> StoreResult<Listing> {
    let limit = limit.clamp(1, 500);
    // An actor id means nothing without its kind.
    let actor_id = f.actor_kind.and(f.actor_id);
    let subject_id = f.subject_id;
    let (cond, order, key) = match at {
        Position::Newest => ("TRUE", "DESC", None),
        Position::Before(seq) => ("seq < $8", "DESC", Some(seq)),
        Position::After(seq) => ("seq > $8", "ASC", Some(seq)),
    };
    let sql =
        format!("SELECT {ENTRY_COLUMNS} FROM audit_entries WHERE {ENTRY_FILTER} AND ($8 IS NULL OR {cond}) ORDER BY seq {order} LIMIT $9");
    let mut rows: Vec<Entry> = on_pool!(db, p => sqlx::query_as(&sql)
        .bind(f.actor_kind).bind(actor_id).bind(f.action).bind(f.subject_kind).bind(subject_id).bind(f.from).bind(f.until)
        .bind(key).bind(limit + 1)
        .fetch_all(p).await?);
    let more = rows.len() as i64 > limit;
    rows.truncate(limit as usize);
    if let Position::After(_) = at {
        rows.reverse();
    }
    let (first, last) = (rows.first().map(|e| e.seq), rows.last().map(|e| e.seq));
    let (newer, older) = match at {
        Position::Newest => (None, if more { last } else { None }),
        Position::Before(_) => (first, if more { last } else { None }),
        Position::After(_) => (if more { first } else { None }, last),
    };
    Ok(Listing { entries: rows, newer, older })
}

/// Writes a notice inside the caller's transaction.
pub async fn notify_in<C: Conn>(conn: &mut C, n: &NewNotice<'_>, at: DateTime<Utc>) -> StoreResult<NoticeId> {
    let id = NoticeId::new();
    conn.insert_notice(id, n, at).await?;
    Ok(id)
}

/// Writes a notice on its own.
pub async fn notify(db: &Db, n: &NewNotice<'_>) -> StoreResult<NoticeId> {
    on_pool!(db, p => {
        let mut tx = p.begin_write().await?;
        let id = notify_in(&mut *tx, n, Utc::now()).await?;
        tx.commit().await?;
        Ok(id)
    })
}

/// The notices `$1`/`$2` (reader id, role) receives.
const VISIBLE: &str = "((n.recipient_id IS NULL AND n.recipient_role IS NULL) OR n.recipient_id = $1 OR n.recipient_role = $2)";
const UNREAD: &str = "NOT EXISTS (SELECT 1 FROM admin_notice_reads r WHERE r.notice_id = n.id AND r.reader_id = $1)";

/// The reader's notices, newest first, `limit` of them older than `before`.
pub async fn notices(db: &Db, reader: Reader<'_>, unread_only: bool, before: Option<NoticeId>, limit: i64) -> StoreResult<Vec<Notice>> {
    let sql = format!(
        "SELECT n.id, n.kind, n.title, n.body, n.link, n.created_at, NOT {UNREAD} AS read FROM admin_notices n
         WHERE {VISIBLE} AND ($3 = FALSE OR {UNREAD}) AND ($4 IS NULL OR n.id < $4) ORDER BY n.id DESC LIMIT $5"
    );
    Ok(on_pool!(db, p => sqlx::query_as(&sql)
        .bind(reader.id).bind(reader.role).bind(unread_only).bind(before).bind(limit.clamp(1, 500))
        .fetch_all(p).await?))
}

pub async fn unread_count(db: &Db, reader: Reader<'_>) -> StoreResult<i64> {
    let sql = format!("SELECT COUNT(*) FROM admin_notices n WHERE {VISIBLE} AND {UNREAD}");
    Ok(on_pool!(db, p => sqlx::query_scalar(&sql).bind(reader.id).bind(reader.role).fetch_one(p).await?))
}

/// Marks one notice (or, with `None`, every notice) the reader receives as
/// read for that reader; returns how many were unread. Notices addressed to
/// someone else are left alone.
pub async fn mark_read(db: &Db, reader: Reader<'_>, notice: Option<NoticeId>) -> StoreResult<u64> {
    let sql = format!(
        "INSERT INTO admin_notice_reads (notice_id, reader_id, read_at)
         SELECT n.id, $1, $3 FROM admin_notices n WHERE {VISIBLE} AND {UNREAD} AND ($4 IS NULL OR n.id = $4)
         ON CONFLICT DO NOTHING"
    );
    Ok(
        on_pool!(db, p => sqlx::query(&sql).bind(reader.id).bind(reader.role).bind(Utc::now()).bind(notice).execute(p).await?.rows_affected()),
    )
}

/// One field an entry's change touched, as people read it:
/// `field: old → new` (`—` where the field was absent or empty).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Change {
    /// The field's path: `status`, `address.city`; `value` when the
    /// subject's state is a single value rather than fields.
    pub field: String,
    pub old: Option<String>,
    pub new: Option<String>,
}

impl std::fmt::Display for Change {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let show = |v: &Option<String>| v.clone().unwrap_or_else(|| "—".into());
        write!(f, "{}: {} → {}", self.field, show(&self.old), show(&self.new))
    }
}

/// The fields that differ between an entry's before and after values,
/// in field order; nested objects are followed (`address.city`), lists and
/// plain values compared whole. Unchanged fields are left out.
pub fn changes(before: Option<&Value>, after: Option<&Value>) -> Vec<Change> {
    let mut old = std::collections::BTreeMap::new();
    let mut new = std::collections::BTreeMap::new();
    flatten(before, "", &mut old);
    flatten(after, "", &mut new);
    let fields: std::collections::BTreeSet<&String> = old.keys().chain(new.keys()).collect();
    fields
        .into_iter()
        .filter_map(|field| {
            let (o, n) = (old.get(field).cloned().flatten(), new.get(field).cloned().flatten());
            (o != n).then(|| Change { field: field.clone(), old: o, new: n })
        })
        .collect()
}

/// `path → readable value` for each leaf of `v` (`None` for JSON null).
fn flatten(v: Option<&Value>, path: &str, out: &mut std::collections::BTreeMap<String, Option<String>>) {
    let Some(v) = v else { return };
    let here = || if path.is_empty() { "value".to_string() } else { path.to_string() };
    match v {
        Value::Object(fields) => {
            for (k, v) in fields {
                let p = if path.is_empty() { k.clone() } else { format!("{path}.{k}") };
                flatten(Some(v), &p, out);
            }
        }
        Value::Null => {
            out.insert(here(), None);
        }
        Value::String(s) => {
            out.insert(here(), Some(s.clone()));
        }
        other => {
            out.insert(here(), Some(other.to_string()));
        }
    }
}

#[cfg(test)]
mod change_tests {
    use super::*;
    use serde_json::json;

    fn shown(before: Option<Value>, after: Option<Value>) -> Vec<String> {
        changes(before.as_ref(), after.as_ref()).iter().map(ToString::to_string).collect()
    }

    #[test]
    fn each_changed_field_reads_old_to_new() {
        let cases: Vec<(Option<Value>, Option<Value>, Vec<&str>)> = vec![
            // A field changed, one unchanged (left out), one added, one removed.
            (
                Some(json!({ "status": "active", "credits": 10, "note": "x" })),
                Some(json!({ "status": "banned", "credits": 10, "reason": "spam" })),
                vec!["note: x → —", "reason: — → spam", "status: active → banned"],
            ),
            // Only an after value: everything is new.
            (None, Some(json!({ "price": 250, "active": true })), vec!["active: — → true", "price: — → 250"]),
            // Only a before value: everything went.
            (Some(json!({ "name": "Ann" })), None, vec!["name: Ann → —"]),
            // Nested objects are followed; lists compared whole.
            (
                Some(json!({ "address": { "city": "Nairobi", "zip": "00100" }, "tags": ["a"] })),
                Some(json!({ "address": { "city": "Mombasa", "zip": "00100" }, "tags": ["a", "b"] })),
                vec!["address.city: Nairobi → Mombasa", r#"tags: ["a"] → ["a","b"]"#],
            ),
            // A plain value, and null as absent.
            (Some(json!("Hi thre!")), Some(json!("Hi there!")), vec!["value: Hi thre! → Hi there!"]),
            (Some(json!({ "bio": null })), Some(json!({ "bio": "hello" })), vec!["bio: — → hello"]),
            (Some(json!({ "bio": null })), Some(json!({})), vec![]),
            (Some(json!({})), Some(json!({ "pinned": true })), vec!["pinned: — → true"]),
            // Nothing changed, or nothing recorded.
            (Some(json!({ "a": 1 })), Some(json!({ "a": 1 })), vec![]),
            (None, None, vec![]),
        ];
        for (before, after, want) in cases {
            assert_eq!(shown(before.clone(), after.clone()), want, "{before:?} → {after:?}");
        }
    }
}
