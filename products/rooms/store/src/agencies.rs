//! Agencies (requirement 6): creating one, applying to join, the owner's
//! decisions, removal, staff approval and suspension, and the dashboard.
//!
//! A user who neither owns nor belongs to an agency creates one
//! ([`create`]); it is `pending` until staff approve it ([`set_status`],
//! with its platform-audit entry in the same transaction). Users apply to
//! one active agency at a time ([`apply`]; a unique index over pending
//! applications settles races) and the owner is told on their channel and
//! by a notice. Accepting ([`decide`]) is one transaction: the conditional
//! update that moves the application out of `pending`, then the
//! conditional update `member_count = member_count + 1 … WHERE member_count
//! < member_limit` on the agency row — two accepts racing for the last
//! place queue on that row and the second finds it full, so nothing of it
//! is written — then the member row. The applicant is told either way.
//! The dashboard reads the gift counters the split already keeps
//! (`agency` = the agency's share, `diamonds` = a member's diamonds).

use crate::economy::diamonds;
use crate::{on_pool, refused, BeginWrite, Db, StoreError, StoreResult};
use chrono::{DateTime, SubsecRound, Utc};
use platform_ledger::wallets;
use rooms_domain::agency::{self as rules, AgencyStatus, ApplicationStatus};
use rooms_domain::ids::{AccountId, AgencyApplicationId, AgencyId};
use rooms_domain::progress::{Period, RankingClock};
use serde::Serialize;
use serde_json::json;

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Agency {
    pub id: AgencyId,
    pub name: String,
    pub owner_id: AccountId,
    pub country: String,
    pub status: String,
    pub status_reason: String,
    pub member_limit: i64,
    pub member_count: i64,
    pub created_at: DateTime<Utc>,
}

impl Agency {
    pub fn is_active(&self) -> bool {
        self.status == AgencyStatus::Active.as_str()
    }
}

const COLUMNS: &str = "id, name, owner_id, country, status, status_reason, member_limit, member_count, created_at";

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Application {
    pub id: AgencyApplicationId,
    pub agency_id: AgencyId,
    pub account_id: AccountId,
    pub status: String,
    pub message: String,
    pub created_at: DateTime<Utc>,
    pub decided_at: Option<DateTime<Utc>>,
    /// The applicant's name and handle.
    #[sqlx(default)]
    pub display_name: String,
    #[sqlx(default)]
    pub handle: String,
}

const APP_COLUMNS: &str = "a.id, a.agency_id, a.account_id, a.status, a.message, a.created_at, a.decided_at, c.display_name, c.handle";

/// A field refusal from the domain's checks, naming the first field.
fn field(e: platform_kernel::FieldError) -> StoreError {
    StoreError::Refused { field: e.field, message: e.message }
}

pub async fn get(db: &Db, id: AgencyId) -> StoreResult<Agency> {
    let sql = format!("SELECT {COLUMNS} FROM agencies WHERE id = $1");
    on_pool!(db, p => sqlx::query_as::<_, Agency>(&sql).bind(id).fetch_optional(p).await?).ok_or(StoreError::NotFound)
}

/// Where someone stands: the agency they own, the one they belong to, and
/// their pending application.
#[derive(Debug, Clone, Serialize, Default)]
pub struct Standing {
    pub owns: Option<Agency>,
    pub member_of: Option<Agency>,
    pub pending: Option<Application>,
}

pub async fn standing(db: &Db, who: AccountId) -> StoreResult<Standing> {
    let owns_sql = format!("SELECT {COLUMNS} FROM agencies WHERE owner_id = $1");
    let member_sql = format!("SELECT {COLUMNS} FROM agencies WHERE id = (SELECT agency_id FROM agency_members WHERE account_id = $1)");
    let pending_sql =
        format!("SELECT {APP_COLUMNS} FROM agency_applications a JOIN accounts c ON c.id = a.account_id WHERE a.account_id = $1 AND a.status = 'pending'");
    Ok(Standing {
        owns: on_pool!(db, p => sqlx::query_as::<_, Agency>(&owns_sql).bind(who).fetch_optional(p).await?),
        member_of: on_pool!(db, p => sqlx::query_as::<_, Agency>(&member_sql).bind(who).fetch_optional(p).await?),
        pending: on_pool!(db, p => sqlx::query_as::<_, Application>(&pending_sql).bind(who).fetch_optional(p).await?),
    })
}

/// Creates a pending agency owned by `owner`, who must neither own nor
/// belong to one (`already_in_agency`); a taken name is refused on `name`.
pub async fn create(db: &Db, owner: AccountId, name: &str, country: &str, now: DateTime<Utc>) -> StoreResult<Agency> {
    let new = rules::check_new(name, country).map_err(crate::coin_requests::field_error)?;
    // Whole microseconds on both stores, so the back office pages by it exactly.
    let now = now.trunc_subsecs(6);
    let id = AgencyId::new();
    let sql = format!(
        "INSERT INTO agencies (id, name, owner_id, created_at, country, status, member_limit, member_count)
         SELECT $1, $2, $3, $4, $5, 'pending', $6, 0
         WHERE NOT EXISTS (SELECT 1 FROM agency_members WHERE account_id = $3) RETURNING {COLUMNS}"
    );
    let done = on_pool!(db, p => async {
        let mut tx = p.begin_write().await?;
        let row = sqlx::query_as::<_, Agency>(&sql)
            .bind(id).bind(&new.name).bind(owner).bind(now).bind(new.country.as_str()).bind(rules::DEFAULT_MEMBER_LIMIT)
            .fetch_optional(&mut *tx).await?;
        let Some(row) = row else { return Ok(None) };
        // A pending application elsewhere ends: one agency at a time.
        sqlx::query("UPDATE agency_applications SET status = 'withdrawn', decided_at = $2 WHERE account_id = $1 AND status = 'pending'")
            .bind(owner).bind(now).execute(&mut *tx).await?;
        let who = owner.to_string();
        let subject = id.to_string();
        let after = json!({"name": row.name, "country": row.country, "status": row.status});
        let entry = platform_audit::Record::new("user", Some(&who), "agency.create").subject("agency", &subject).change(None, Some(&after));
        platform_audit::record_in(&mut *tx, &entry, now).await?;
        tx.commit().await?;
        Ok::<Option<Agency>, StoreError>(Some(row))
    }
    .await);
    match done {
        Ok(Some(a)) => Ok(a),
        Ok(None) => Err(refused("already_in_agency", "You belong to an agency; leave it before creating your own")),
        Err(e) if crate::conflict_on(&e, "owner_id") => Err(refused("already_in_agency", "You already own an agency")),
        Err(e) if crate::conflict_on(&e, "name") => {
            Err(StoreError::Refused { field: "name", message: "That name is taken; choose another".into() })
        }
        Err(e) => Err(e),
    }
}

/// Active agencies whose name contains `q` (at least 3 characters).
pub async fn search(db: &Db, q: &str, limit: i64) -> StoreResult<Vec<Agency>> {
    let words = rules::search_words(q).map_err(field)?;
    let like = format!("%{}%", words.replace(['%', '_'], ""));
    let sql = format!("SELECT {COLUMNS} FROM agencies WHERE status = 'active' AND LOWER(name) LIKE $1 ORDER BY name LIMIT $2");
    Ok(on_pool!(db, p => sqlx::query_as::<_, Agency>(&sql).bind(&like).bind(limit.clamp(1, 100)).fetch_all(p).await?))
}

/// `who` applies to join `agency`, which must be active; someone who owns
/// or belongs to an agency is refused (`already_in_agency`), as is a second
/// pending application (`application_pending`). The owner is told.
pub async fn apply(db: &Db, agency: AgencyId, who: AccountId, message: &str, now: DateTime<Utc>) -> StoreResult<Application> {
    if message.chars().count() > 500 {
        return Err(StoreError::Refused { field: "message", message: "A message has at most 500 characters".into() });
    }
    let a = get(db, agency).await?;
    if !a.is_active() {
        return Err(refused("agency_not_active", "This agency does not take members now"));
    }
    let id = AgencyApplicationId::new();
    let done = on_pool!(db, p => async {
        let mut tx = p.begin_write().await?;
        let busy: i64 = sqlx::query_scalar(
            "SELECT (SELECT COUNT(*) FROM agency_members WHERE account_id = $1) + (SELECT COUNT(*) FROM agencies WHERE owner_id = $1)")
            .bind(who).fetch_one(&mut *tx).await?;
        if busy > 0 {
            return Ok(None);
        }
        sqlx::query("INSERT INTO agency_applications (id, agency_id, account_id, status, message, created_at) VALUES ($1, $2, $3, 'pending', $4, $5)")
            .bind(id).bind(agency).bind(who).bind(message.trim()).bind(now).execute(&mut *tx).await?;
        user_event!(tx, a.owner_id, "agency_application", json!({"id": id, "agency_id": agency, "from": who, "status": "pending"}), now);
        let owner = a.owner_id.to_string();
        let title = "New application to your agency".to_string();
        let notice = platform_audit::NewNotice {
            kind: "agency_application",
            title: &title,
            body: message.trim(),
            link: Some("/agency"),
            audience: platform_audit::Audience::Admin(&owner),
        };
        platform_audit::notify_in(&mut *tx, &notice, now).await?;
        tx.commit().await?;
        Ok::<Option<()>, StoreError>(Some(()))
    }
    .await);
    match done {
        Ok(Some(())) => application(db, id).await,
        Ok(None) => Err(refused("already_in_agency", "You already own or belong to an agency")),
        Err(e) if crate::conflict_on(&e, "account_id") || crate::conflict_on(&e, "one_pending") => {
            Err(refused("application_pending", "You already applied to an agency; wait for its answer or withdraw it"))
        }
        Err(e) => Err(e),
    }
}

pub async fn application(db: &Db, id: AgencyApplicationId) -> StoreResult<Application> {
    let sql = format!("SELECT {APP_COLUMNS} FROM agency_applications a JOIN accounts c ON c.id = a.account_id WHERE a.id = $1");
    on_pool!(db, p => sqlx::query_as::<_, Application>(&sql).bind(id).fetch_optional(p).await?).ok_or(StoreError::NotFound)
}

/// An agency's pending applications, oldest first.
pub async fn pending(db: &Db, agency: AgencyId) -> StoreResult<Vec<Application>> {
    let sql = format!(
        "SELECT {APP_COLUMNS} FROM agency_applications a JOIN accounts c ON c.id = a.account_id
         WHERE a.agency_id = $1 AND a.status = 'pending' ORDER BY a.created_at, a.id LIMIT 200"
    );
    Ok(on_pool!(db, p => sqlx::query_as::<_, Application>(&sql).bind(agency).fetch_all(p).await?))
}

/// The applicant withdraws their pending application.
pub async fn withdraw(db: &Db, who: AccountId, id: AgencyApplicationId, now: DateTime<Utc>) -> StoreResult<()> {
    let n = on_pool!(db, p => sqlx::query(
        "UPDATE agency_applications SET status = 'withdrawn', decided_at = $3 WHERE id = $1 AND account_id = $2 AND status = 'pending'")
        .bind(id).bind(who).bind(now).execute(p).await?.rows_affected());
    if n == 0 {
        let a = application(db, id).await?;
        if a.account_id != who {
            return Err(StoreError::NotFound);
        }
        return Err(refused("already_processed", format!("This application was already answered ({})", a.status)));
    }
    Ok(())
}

/// The owner accepts or rejects a pending application. Accepting takes a
/// place under the member limit (`agency_full` when none is left, nothing
/// written) and makes the applicant a member; either way the applicant is
/// told. A second decision finds it `already_processed`.
pub async fn decide(db: &Db, owner: AccountId, id: AgencyApplicationId, accept: bool, now: DateTime<Utc>) -> StoreResult<Application> {
    let status = if accept { ApplicationStatus::Accepted } else { ApplicationStatus::Rejected };
    let done = on_pool!(db, p => async {
        let mut tx = p.begin_write().await?;
        let moved: Option<(AgencyId, AccountId)> = sqlx::query_as(
            "UPDATE agency_applications SET status = $2, decided_at = $3
             WHERE id = $1 AND status = 'pending' AND agency_id IN (SELECT id FROM agencies WHERE owner_id = $4)
             RETURNING agency_id, account_id")
            .bind(id).bind(status.as_str()).bind(now).bind(owner).fetch_optional(&mut *tx).await?;
        let Some((agency, applicant)) = moved else { return Ok(Err(None)) };
        if accept {
            let took = sqlx::query(
                "UPDATE agencies SET member_count = member_count + 1 WHERE id = $1 AND status = 'active' AND member_count < member_limit")
                .bind(agency).execute(&mut *tx).await?.rows_affected();
            if took == 0 {
                return Ok(Err(Some(refused("agency_full", "Your agency is at its member limit; remove a member or ask staff to raise it"))));
            }
            let joined = sqlx::query(
                "INSERT INTO agency_members (account_id, agency_id, joined_at) SELECT $1, $2, $3
                 WHERE NOT EXISTS (SELECT 1 FROM agency_members WHERE account_id = $1) AND NOT EXISTS (SELECT 1 FROM agencies WHERE owner_id = $1)")
                .bind(applicant).bind(agency).bind(now).execute(&mut *tx).await?.rows_affected();
            if joined == 0 {
                return Ok(Err(Some(refused("already_in_agency", "This user joined or created another agency meanwhile"))));
            }
        }
        let payload = json!({"id": id, "agency_id": agency, "status": status.as_str()});
        user_event!(tx, applicant, "agency_application", payload, now);
        let title = if accept { "Your agency application was accepted" } else { "Your agency application was declined" };
        let who = applicant.to_string();
        let notice = platform_audit::NewNotice {
            kind: "agency_application",
            title,
            body: "",
            link: Some("/agencies"),
            audience: platform_audit::Audience::Admin(&who),
        };
        platform_audit::notify_in(&mut *tx, &notice, now).await?;
        tx.commit().await?;
        Ok::<Result<(), Option<StoreError>>, StoreError>(Ok(()))
    }
    .await)?;
    match done {
        Ok(()) => application(db, id).await,
        Err(Some(e)) => Err(e),
        Err(None) => {
            let a = application(db, id).await?;
            let mine = get(db, a.agency_id).await?.owner_id == owner;
            if !mine {
                Err(refused("not_agency_owner", "Only the agency's owner answers its applications"))
            } else {
                Err(refused("already_processed", format!("This application was already answered ({})", a.status)))
            }
        }
    }
}

/// The owner removes a member (or a member leaves: `who == member`); the
/// place frees at once and later gifts no longer credit the agency.
pub async fn remove(db: &Db, who: AccountId, member: AccountId, now: DateTime<Utc>) -> StoreResult<AgencyId> {
    let done = on_pool!(db, p => async {
        let mut tx = p.begin_write().await?;
        let gone: Option<AgencyId> = sqlx::query_scalar(
            "DELETE FROM agency_members WHERE account_id = $1 AND ($1 = $2 OR agency_id IN (SELECT id FROM agencies WHERE owner_id = $2))
             RETURNING agency_id")
            .bind(member).bind(who).fetch_optional(&mut *tx).await?;
        let Some(agency) = gone else { return Ok(None) };
        sqlx::query("UPDATE agencies SET member_count = member_count - 1 WHERE id = $1").bind(agency).execute(&mut *tx).await?;
        user_event!(tx, member, "agency_membership", json!({"agency_id": agency, "status": "removed"}), now);
        tx.commit().await?;
        Ok::<Option<AgencyId>, StoreError>(Some(agency))
    }
    .await)?;
    done.ok_or(StoreError::NotFound)
}

/// A member as the dashboard shows them.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Member {
    pub account_id: AccountId,
    pub display_name: String,
    pub handle: String,
    pub public_number: i64,
    pub joined_at: DateTime<Utc>,
    /// Diamonds held now.
    #[sqlx(skip)]
    pub diamonds: i64,
    /// Diamonds earned from gifts in the period.
    #[sqlx(skip)]
    pub earned: i64,
}

/// The agency's figures for one period.
#[derive(Debug, Clone, Serialize)]
pub struct Dashboard {
    pub agency: Agency,
    pub period: Period,
    /// The counter key of the period (`d:…`, `w:…`, `m:…`).
    pub period_key: String,
    /// The agency's share of its members' gifts in the period.
    pub earnings: i64,
    /// Its share in the day, week and month containing now.
    pub earnings_day: i64,
    pub earnings_week: i64,
    pub earnings_month: i64,
    /// Coins in the agency's wallet.
    pub balance: i64,
    pub members: Vec<Member>,
}

async fn counter(db: &Db, board: &str, key: &str, subject: &str) -> StoreResult<i64> {
    let n: Option<i64> = on_pool!(db, p => sqlx::query_scalar(
        "SELECT CAST(SUM(amount) AS BIGINT) FROM gift_counters WHERE board = $1 AND period = $2 AND subject = $3")
        .bind(board).bind(key).bind(subject).fetch_one(p).await?);
    Ok(n.unwrap_or(0))
}

pub async fn dashboard(db: &Db, agency: AgencyId, period: Period, clock: &RankingClock, now: DateTime<Utc>) -> StoreResult<Dashboard> {
    let a = get(db, agency).await?;
    let subject = agency.to_string();
    let key = clock.key(period, now);
    let earnings = counter(db, "agency", &key, &subject).await?;
    let earnings_day = counter(db, "agency", &clock.key(Period::Daily, now), &subject).await?;
    let earnings_week = counter(db, "agency", &clock.key(Period::Weekly, now), &subject).await?;
    let earnings_month = counter(db, "agency", &clock.key(Period::Monthly, now), &subject).await?;
    let balance = wallets::find(db, crate::economy::AGENCY, &subject, &crate::economy::coins()).await?.map_or(0, |w| w.balance.get());
    let mut members: Vec<Member> = on_pool!(db, p => sqlx::query_as::<_, Member>(
        "SELECT m.account_id, c.display_name, c.handle, c.public_number, m.joined_at FROM agency_members m JOIN accounts c ON c.id = m.account_id
         WHERE m.agency_id = $1 ORDER BY m.joined_at, c.public_number")
        .bind(agency).fetch_all(p).await?);
    for m in &mut members {
        m.diamonds =
            wallets::find(db, crate::economy::ACCOUNT, &m.account_id.to_string(), &diamonds()).await?.map_or(0, |w| w.balance.get());
        m.earned = counter(db, "diamonds", &key, &m.account_id.to_string()).await?;
    }
    Ok(Dashboard { agency: a, period, period_key: key, earnings, earnings_day, earnings_week, earnings_month, balance, members })
}

/// Staff move an agency: approve or reject a pending one, suspend or
/// reactivate; a reason is kept and shown to the owner. Audit-logged in
/// the same transaction; the owner is told.
pub async fn set_status(
    db: &Db,
    staff: AccountId,
    agency: AgencyId,
    to: AgencyStatus,
    reason: &str,
    now: DateTime<Utc>,
) -> StoreResult<Agency> {
    let a = get(db, agency).await?;
    let from: AgencyStatus = a.status.parse().map_err(|_| StoreError::Invalid(format!("agency status {}", a.status)))?;
    if !rules::staff_move(from, to) {
        return Err(refused("bad_transition", format!("An agency that is {from} cannot become {to}")));
    }
    let sql = format!("UPDATE agencies SET status = $2, status_reason = $3 WHERE id = $1 AND status = $4 RETURNING {COLUMNS}");
    let done = on_pool!(db, p => async {
        let mut tx = p.begin_write().await?;
        let row = sqlx::query_as::<_, Agency>(&sql).bind(agency).bind(to.as_str()).bind(reason.trim()).bind(from.as_str())
            .fetch_optional(&mut *tx).await?;
        let Some(row) = row else { return Ok(None) };
        let (actor, subject) = (staff.to_string(), agency.to_string());
        let (before, after) = (json!({"status": from.as_str()}), json!({"status": to.as_str()}));
        let action = format!("agency.{to}");
        let entry = platform_audit::Record::new("staff", Some(&actor), &action)
            .subject("agency", &subject)
            .change(Some(&before), Some(&after))
            .reason(reason.trim());
        platform_audit::record_in(&mut *tx, &entry, now).await?;
        user_event!(tx, row.owner_id, "agency_status", json!({"agency_id": agency, "status": to.as_str(), "reason": reason.trim()}), now);
        tx.commit().await?;
        Ok::<Option<Agency>, StoreError>(Some(row))
    }
    .await)?;
    done.ok_or_else(|| refused("already_processed", "The agency changed meanwhile; reload and try again"))
}

/// Staff set an agency's member limit (never below its members now).
pub async fn set_member_limit(db: &Db, staff: AccountId, agency: AgencyId, limit: i64, now: DateTime<Utc>) -> StoreResult<Agency> {
    let a = get(db, agency).await?;
    rules::check_member_limit(limit, a.member_count).map_err(field)?;
    let sql = format!("UPDATE agencies SET member_limit = $2 WHERE id = $1 AND member_count <= $2 RETURNING {COLUMNS}");
    let done = on_pool!(db, p => async {
        let mut tx = p.begin_write().await?;
        let Some(row) = sqlx::query_as::<_, Agency>(&sql).bind(agency).bind(limit).fetch_optional(&mut *tx).await? else { return Ok(None) };
        let (actor, subject) = (staff.to_string(), agency.to_string());
        let (before, after) = (json!({"member_limit": a.member_limit}), json!({"member_limit": limit}));
        let entry = platform_audit::Record::new("staff", Some(&actor), "agency.member_limit").subject("agency", &subject).change(Some(&before), Some(&after));
        platform_audit::record_in(&mut *tx, &entry, now).await?;
        tx.commit().await?;
        Ok::<Option<Agency>, StoreError>(Some(row))
    }
    .await)?;
    done.ok_or(StoreError::Refused { field: "member_limit", message: "Members joined meanwhile; choose a higher limit".into() })
}

/// Agencies for the back office, newest first, optionally in one status;
/// paged by creation time (microseconds), `limit + 1` rows in the page's
/// order.
pub async fn list(db: &Db, status: Option<AgencyStatus>, at: crate::backoffice::At, limit: i64) -> StoreResult<Vec<Agency>> {
    use crate::backoffice::At;
    let far = |us: i64| DateTime::<Utc>::from_timestamp_micros(us).unwrap_or_default();
    let (lo, hi, order) = match at {
        At::First => (None, None, "DESC"),
        At::Before(k) => (None, Some(far(k)), "DESC"),
        At::After(k) => (Some(far(k)), None, "ASC"),
    };
    let status = status.map(|s| s.as_str().to_string()).unwrap_or_default();
    let sql = format!(
        "SELECT {COLUMNS} FROM agencies WHERE ($1 = '' OR status = $1) AND ($2 IS NULL OR created_at > $2) AND ($3 IS NULL OR created_at < $3)
         ORDER BY created_at {order}, id {order} LIMIT $4"
    );
    Ok(on_pool!(db, p => sqlx::query_as::<_, Agency>(&sql).bind(&status).bind(lo).bind(hi).bind(limit + 1).fetch_all(p).await?))
}
