//! Fantooo's admin activity log, kept in the platform's audit log
//! (`platform_audit`, table `audit_entries`): an admin (actor kind
//! `admin`, or `system` when no admin acted) did an action to an entity
//! (the entry's subject), with the entity's state before and after and the
//! admin's address. Writes inside a change's transaction use
//! [`Actor::record`] with `platform_audit::record_in`; [`admin_action`]
//! writes one on its own. Reads go through `platform_audit::list`, with
//! the admins' names added ([`actions`]).

use crate::{Db, StoreResult};
use chrono::{DateTime, Utc};
use fantooo_domain::ids::AdminId;
use platform_audit::{Change, Filter, Position, Record};
use serde::Serialize;
use serde_json::Value;
use sqlx::types::Json;
use std::collections::HashMap;

/// The actor kind of an admin's entries.
pub const ADMIN: &str = "admin";
/// The actor kind of entries no admin made (the command line, jobs).
pub const SYSTEM: &str = "system";

/// Who did it: an admin, or the system.
#[derive(Debug, Clone)]
pub struct Actor(Option<String>);

impl Actor {
    pub fn of(admin: Option<AdminId>) -> Actor {
        Actor(admin.map(|a| a.to_string()))
    }

    pub fn admin(admin: AdminId) -> Actor {
        Actor::of(Some(admin))
    }

    /// An entry for `action` by this actor; add its subject and values with
    /// the `platform_audit::Record` setters.
    pub fn record<'a>(&'a self, action: &'a str) -> Record<'a> {
        Record::new(if self.0.is_some() { ADMIN } else { SYSTEM }, self.0.as_deref(), action)
    }
}

/// Records an admin's action on its own (for actions whose change is
/// written elsewhere or is nothing but the entry).
pub async fn admin_action(
    db: &Db,
    admin: Option<AdminId>,
    action: &str,
    entity: Option<(&str, String)>,
    before: Option<Value>,
    after: Option<Value>,
    ip: Option<&str>,
) -> StoreResult<()> {
    let actor = Actor::of(admin);
    let mut r = actor.record(action).change(before.as_ref(), after.as_ref()).ip(ip);
    if let Some((kind, id)) = &entity {
        r = r.subject(kind, id);
    }
    platform_audit::record(db, &r).await?;
    Ok(())
}

/// An entry of the log as the back office shows it.
#[derive(Debug, Clone, Serialize)]
pub struct AdminAction {
    pub seq: i64,
    pub admin_id: Option<String>,
    /// The admin's name; `None` for the system (or an admin since removed).
    pub admin_name: Option<String>,
    pub action: String,
    pub entity_type: Option<String>,
    pub entity_id: Option<String>,
    pub before_value: Option<Json<Value>>,
    pub after_value: Option<Json<Value>>,
    /// What changed, field by field.
    pub changes: Vec<Change>,
    pub ip: Option<String>,
    pub created_at: DateTime<Utc>,
}

/// What the log is narrowed to; every part is optional and they combine
/// (an entity type alone lists every action on that kind).
#[derive(Debug, Clone, Copy, Default)]
pub struct AuditFilter<'a> {
    pub admin: Option<AdminId>,
    pub entity_type: Option<&'a str>,
    pub entity_id: Option<&'a str>,
    /// From this instant on (inclusive).
    pub from: Option<DateTime<Utc>>,
    /// Before this instant (exclusive).
    pub until: Option<DateTime<Utc>>,
}

/// One page of the log, newest first, with the seqs of its neighbours
/// (`Position::After(newer)`, `Position::Before(older)`).
#[derive(Debug, Clone, Serialize)]
pub struct AuditPage {
    pub actions: Vec<AdminAction>,
    pub newer: Option<i64>,
    pub older: Option<i64>,
}

/// A page of at most `limit` entries matching `f`, from `at`.
pub async fn actions(db: &Db, f: AuditFilter<'_>, at: Position, limit: i64) -> StoreResult<AuditPage> {
    let admin = f.admin.map(|a| a.to_string());
    let filter = Filter {
        actor_kind: admin.as_ref().map(|_| ADMIN),
        actor_id: admin.as_deref(),
        action: None,
        subject_kind: f.entity_type,
        subject_id: f.entity_id,
        from: f.from,
        until: f.until,
    };
    let listing = platform_audit::list(db, &filter, at, limit).await?;
    let names = admin_names(db).await?;
    Ok(AuditPage { actions: listing.entries.into_iter().map(|e| shown(e, &names)).collect(), newer: listing.newer, older: listing.older })
}

/// The newest `limit` entries.
pub async fn recent_admin_actions(db: &Db, limit: i64) -> StoreResult<Vec<AdminAction>> {
    Ok(actions(db, AuditFilter::default(), Position::Newest, limit).await?.actions)
}

async fn admin_names(db: &Db) -> StoreResult<HashMap<String, String>> {
    Ok(crate::admins::list(db).await?.into_iter().map(|a| (a.id.to_string(), a.name)).collect())
}

fn shown(e: platform_audit::Entry, names: &HashMap<String, String>) -> AdminAction {
    let changes = platform_audit::changes(e.before_value.as_ref().map(|j| &j.0), e.after_value.as_ref().map(|j| &j.0));
    let admin_name = e.actor_id.as_ref().filter(|_| e.actor_kind == ADMIN).and_then(|id| names.get(id).cloned());
    AdminAction {
        seq: e.seq,
        admin_id: e.actor_id,
        admin_name,
        action: e.action,
        entity_type: e.subject_kind,
        entity_id: e.subject_id,
        before_value: e.before_value,
        after_value: e.after_value,
        changes,
        ip: e.ip,
        created_at: e.at,
    }
}
