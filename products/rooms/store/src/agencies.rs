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
use rooms_domain::agency::{self as rules, AgencyStatus, ApplicationStatus, InvitationStatus};
use rooms_domain::ids::{AccountId, AgencyApplicationId, AgencyId, AgencyInvitationId};
use rooms_domain::limits;
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
    /// The square logo sent with the application (empty until then).
    pub logo_url: String,
}

impl Agency {
    pub fn is_active(&self) -> bool {
        self.status == AgencyStatus::Active.as_str()
    }
}

const COLUMNS: &str = "id, name, owner_id, country, status, status_reason, member_limit, member_count, created_at, logo_url";

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
    /// When one's membership ends, once notice is given (6.5).
    pub leaving_at: Option<DateTime<Utc>>,
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
        leaving_at:
            on_pool!(db, p => sqlx::query_scalar::<_, Option<DateTime<Utc>>>("SELECT ends_at FROM agency_members WHERE account_id = $1")
            .bind(who).fetch_optional(p).await?)
            .flatten(),
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

/// The membership's end once notice is given (6.5).
#[derive(Debug, Clone, Serialize)]
pub struct Leaving {
    pub agency_id: AgencyId,
    pub account_id: AccountId,
    pub ends_at: DateTime<Utc>,
}

/// A member gives notice (`who == member`) or the owner removes them: the
/// membership ends `notice` later ([`end_due`] ends it). Until then the
/// member keeps the place and their gifts still credit the agency. Both
/// sides are told. A second notice finds it `already_leaving`; anyone else
/// gets `NotFound`.
pub async fn remove(db: &Db, who: AccountId, member: AccountId, notice: chrono::Duration, now: DateTime<Utc>) -> StoreResult<Leaving> {
    let ends = now + notice;
    let done = on_pool!(db, p => async {
        let mut tx = p.begin_write().await?;
        let marked: Option<AgencyId> = sqlx::query_scalar(
            "UPDATE agency_members SET leave_asked_at = $3, leave_asked_by = $2, ends_at = $4
             WHERE account_id = $1 AND ends_at IS NULL AND ($1 = $2 OR agency_id IN (SELECT id FROM agencies WHERE owner_id = $2))
             RETURNING agency_id")
            .bind(member).bind(who).bind(now).bind(ends).fetch_optional(&mut *tx).await?;
        let Some(agency) = marked else { return Ok(None) };
        let owner: AccountId = sqlx::query_scalar("SELECT owner_id FROM agencies WHERE id = $1").bind(agency).fetch_one(&mut *tx).await?;
        let how = if who == member { "left" } else { "removed" };
        let payload = json!({"agency_id": agency, "account_id": member, "status": "leaving", "how": how, "ends_at": ends});
        user_event!(tx, member, "agency_membership", payload, now);
        user_event!(tx, owner, "agency_membership", payload, now);
        let (title, told) = if who == member {
            ("A member gave notice to leave your agency", owner.to_string())
        } else {
            ("Your agency ends your membership", member.to_string())
        };
        let body = format!("The membership ends {} UTC.", ends.format("%Y-%m-%d %H:%M"));
        let notice = platform_audit::NewNotice {
            kind: "agency_membership",
            title,
            body: &body,
            link: Some("/agencies"),
            audience: platform_audit::Audience::Admin(&told),
        };
        platform_audit::notify_in(&mut *tx, &notice, now).await?;
        tx.commit().await?;
        Ok::<Option<AgencyId>, StoreError>(Some(agency))
    }
    .await)?;
    match done {
        Some(agency_id) => Ok(Leaving { agency_id, account_id: member, ends_at: ends }),
        None => {
            let row: Option<(AgencyId, Option<DateTime<Utc>>)> = on_pool!(db, p => sqlx::query_as(
                "SELECT m.agency_id, m.ends_at FROM agency_members m JOIN agencies a ON a.id = m.agency_id
                 WHERE m.account_id = $1 AND ($1 = $2 OR a.owner_id = $2)")
                .bind(member).bind(who).fetch_optional(p).await?);
            match row {
                Some((_, Some(ends))) => {
                    Err(refused("already_leaving", format!("This membership already ends {} UTC", ends.format("%Y-%m-%d %H:%M"))))
                }
                _ => Err(StoreError::NotFound),
            }
        }
    }
}

/// Ends the memberships whose notice has run out: the place frees, the row
/// moves to `agency_past_members` (kept for the dashboard), the member is
/// told, and their income up to the leaving date is settled under the
/// month's rules (6.5, [`settle_member`]). Returns how many ended.
pub async fn end_due(db: &Db, now: DateTime<Utc>) -> StoreResult<u64> {
    let ended = end_due_rows(db, now).await?;
    for (member, agency, ends) in &ended {
        settle_member(db, *agency, *member, &month_of(*ends), *ends, rules::DEFAULT_IECP, now).await?;
    }
    Ok(ended.len() as u64)
}

/// A membership whose notice ran out: member, agency, joined, ends, who gave notice.
type DueRow = (AccountId, AgencyId, DateTime<Utc>, DateTime<Utc>, Option<AccountId>);

async fn end_due_rows(db: &Db, now: DateTime<Utc>) -> StoreResult<Vec<(AccountId, AgencyId, DateTime<Utc>)>> {
    Ok(on_pool!(db, p => {
        let mut tx = p.begin_write().await?;
        let due: Vec<DueRow> = sqlx::query_as(
            "SELECT account_id, agency_id, joined_at, ends_at, leave_asked_by FROM agency_members WHERE ends_at IS NOT NULL AND ends_at <= $1
             ORDER BY ends_at LIMIT 500")
            .bind(now).fetch_all(&mut *tx).await?;
        for (member, agency, joined, ends, by) in &due {
            let how = if *by == Some(*member) { "left" } else { "removed" };
            sqlx::query("INSERT INTO agency_past_members (agency_id, account_id, joined_at, left_at, how) VALUES ($1, $2, $3, $4, $5)")
                .bind(agency).bind(member).bind(joined).bind(ends).bind(how).execute(&mut *tx).await?;
            sqlx::query("DELETE FROM agency_members WHERE account_id = $1").bind(member).execute(&mut *tx).await?;
            sqlx::query("UPDATE agencies SET member_count = member_count - 1 WHERE id = $1").bind(agency).execute(&mut *tx).await?;
            user_event!(tx, *member, "agency_membership", json!({"agency_id": agency, "status": "ended"}), now);
        }
        tx.commit().await?;
        due.into_iter().map(|(member, agency, _, ends, _)| (member, agency, ends)).collect()
    }))
}

/// A member as the dashboard shows them.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Member {
    pub account_id: AccountId,
    pub display_name: String,
    pub handle: String,
    pub public_number: i64,
    pub joined_at: DateTime<Utc>,
    /// When the membership ends, once notice is given.
    pub ends_at: Option<DateTime<Utc>>,
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
        "SELECT m.account_id, c.display_name, c.handle, c.public_number, m.joined_at, m.ends_at FROM agency_members m JOIN accounts c ON c.id = m.account_id
         WHERE m.agency_id = $1 ORDER BY m.joined_at, c.public_number")
        .bind(agency).fetch_all(p).await?);
    for m in &mut members {
        m.diamonds =
            wallets::find(db, crate::economy::ACCOUNT, &m.account_id.to_string(), &diamonds()).await?.map_or(0, |w| w.balance.get());
        m.earned = counter(db, "diamonds", &key, &m.account_id.to_string()).await?;
    }
    Ok(Dashboard { agency: a, period, period_key: key, earnings, earnings_day, earnings_week, earnings_month, balance, members })
}

/// 1 when agency `$1`'s application is complete (as
/// [`crate::agency_details::Application::is_complete`] reads it), else 0.
const COMPLETE: &str = "SELECT CAST(CASE WHEN TRIM(a.logo_url) <> ''
        AND EXISTS (SELECT 1 FROM agency_details d WHERE d.agency_id = a.id)
        AND EXISTS (SELECT 1 FROM agency_id_documents f WHERE f.agency_id = a.id AND f.side = 'front')
        AND EXISTS (SELECT 1 FROM agency_id_documents k WHERE k.agency_id = a.id AND k.side = 'back')
    THEN 1 ELSE 0 END AS BIGINT) FROM agencies a WHERE a.id = $1";

/// Staff move an agency: approve or reject a pending one, suspend or
/// reactivate; a reason is kept and shown to the owner. A pending agency
/// whose owner has not sent the logo, contact details and both ID sides
/// cannot be approved (`details_missing`, read in the same transaction).
/// Audit-logged in the same transaction; the owner is told.
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
        if from == AgencyStatus::Pending && to == AgencyStatus::Active {
            let complete: i64 = sqlx::query_scalar(COMPLETE).bind(agency).fetch_one(&mut *tx).await?;
            if complete == 0 {
                return Err(refused(
                    "details_missing",
                    "This application cannot be approved yet: its owner has not sent the logo, contact details and both sides of an ID.",
                ));
            }
        }
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

// ------------------------------------------------------------ invitations

/// An owner's invitation to a user (6.1), with the agency's name and the
/// invitee's name, handle and public number.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Invitation {
    pub id: AgencyInvitationId,
    pub agency_id: AgencyId,
    pub agency_name: String,
    pub account_id: AccountId,
    pub display_name: String,
    pub handle: String,
    pub public_number: i64,
    pub status: String,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub decided_at: Option<DateTime<Utc>>,
}

const INV_SELECT: &str = "SELECT i.id, i.agency_id, g.name AS agency_name, i.account_id, c.display_name, c.handle, c.public_number,
    CASE WHEN i.withdrawn_at IS NOT NULL THEN 'withdrawn' ELSE i.status END AS status, i.created_at, i.expires_at, i.decided_at
    FROM agency_invitations i JOIN agencies g ON g.id = i.agency_id JOIN accounts c ON c.id = i.account_id";

pub async fn invitation(db: &Db, id: AgencyInvitationId) -> StoreResult<Invitation> {
    let sql = format!("{INV_SELECT} WHERE i.id = $1");
    on_pool!(db, p => sqlx::query_as::<_, Invitation>(&sql).bind(id).fetch_optional(p).await?).ok_or(StoreError::NotFound)
}

/// The invitations waiting for `who`'s answer (pending, not yet expired),
/// newest first.
pub async fn invitations_for(db: &Db, who: AccountId, now: DateTime<Utc>) -> StoreResult<Vec<Invitation>> {
    let sql = format!(
        "{INV_SELECT} WHERE i.account_id = $1 AND i.status = 'pending' AND i.expires_at > $2 ORDER BY i.created_at DESC, i.id LIMIT 50"
    );
    Ok(on_pool!(db, p => sqlx::query_as::<_, Invitation>(&sql).bind(who).bind(now).fetch_all(p).await?))
}

/// The agency's invitations still waiting for an answer, oldest first.
pub async fn invitations_sent(db: &Db, agency: AgencyId, now: DateTime<Utc>) -> StoreResult<Vec<Invitation>> {
    let sql =
        format!("{INV_SELECT} WHERE i.agency_id = $1 AND i.status = 'pending' AND i.expires_at > $2 ORDER BY i.created_at, i.id LIMIT 200");
    Ok(on_pool!(db, p => sqlx::query_as::<_, Invitation>(&sql).bind(agency).bind(now).fetch_all(p).await?))
}

/// The owner of an active agency invites the user with public number
/// `number`. Refused when the agency is at its member limit
/// (`agency_full`, 6.6), when the user owns or belongs to an agency
/// (`already_in_agency`), and when an invitation to them is already
/// waiting (`invitation_pending`). The user is told live and by a notice;
/// unanswered, the invitation expires after
/// [`limits::AGENCY_INVITATION_EXPIRY`].
pub async fn invite(db: &Db, owner: AccountId, number: i64, now: DateTime<Utc>) -> StoreResult<Invitation> {
    let Some(a) = standing(db, owner).await?.owns else {
        return Err(refused("not_agency_owner", "Only an agency's owner invites members"));
    };
    if !a.is_active() {
        return Err(refused("agency_not_active", "Your agency takes members once staff approve it"));
    }
    let target: Option<AccountId> =
        on_pool!(db, p => sqlx::query_scalar("SELECT id FROM accounts WHERE public_number = $1").bind(number).fetch_optional(p).await?);
    let Some(target) = target else {
        return Err(StoreError::Refused { field: "number", message: "No user has that number".into() });
    };
    let id = AgencyInvitationId::new();
    let expires = now + limits::chrono(limits::AGENCY_INVITATION_EXPIRY);
    let done = on_pool!(db, p => async {
        let mut tx = p.begin_write().await?;
        let busy: i64 = sqlx::query_scalar(
            "SELECT (SELECT COUNT(*) FROM agency_members WHERE account_id = $1) + (SELECT COUNT(*) FROM agencies WHERE owner_id = $1)")
            .bind(target).fetch_one(&mut *tx).await?;
        if busy > 0 {
            return Ok(Err(refused("already_in_agency", "This user already owns or belongs to an agency")));
        }
        let room: bool = sqlx::query_scalar("SELECT member_count < member_limit FROM agencies WHERE id = $1")
            .bind(a.id).fetch_one(&mut *tx).await?;
        if !room {
            return Ok(Err(full()));
        }
        sqlx::query(
            "INSERT INTO agency_invitations (id, agency_id, account_id, invited_by, status, created_at, expires_at) VALUES ($1, $2, $3, $4, 'pending', $5, $6)")
            .bind(id).bind(a.id).bind(target).bind(owner).bind(now).bind(expires).execute(&mut *tx).await?;
        user_event!(tx, target, "agency_invitation", json!({"id": id, "agency_id": a.id, "agency_name": a.name, "status": "pending"}), now);
        let who = target.to_string();
        let title = format!("{} invites you to join", a.name);
        let link = format!("/agencies?invitation={id}");
        let notice = platform_audit::NewNotice {
            kind: "agency_invitation",
            title: &title,
            body: "Accept or decline it on the agencies page within 7 days.",
            link: Some(&link),
            audience: platform_audit::Audience::Admin(&who),
        };
        platform_audit::notify_in(&mut *tx, &notice, now).await?;
        tx.commit().await?;
        Ok::<Result<(), StoreError>, StoreError>(Ok(()))
    }
    .await);
    match done {
        Ok(Ok(())) => invitation(db, id).await,
        Ok(Err(e)) => Err(e),
        Err(e) if crate::conflict_on(&e, "one_pending_invitation") || crate::conflict_on(&e, "agency_invitations") => {
            Err(refused("invitation_pending", "This user already has your invitation; wait for the answer"))
        }
        Err(e) => Err(e),
    }
}

fn full() -> StoreError {
    refused("agency_full", "The agency is at its member limit; a place must free or staff must raise the limit")
}

/// The invitee accepts or declines a pending invitation. Accepting takes a
/// place under the member limit (`agency_full` when none is left; nothing
/// written), makes them a member, withdraws their pending application and
/// ends their other invitations. The owner is told either way. A second
/// answer finds it `already_processed`; a lapsed one `invitation_expired`.
pub async fn answer_invitation(
    db: &Db,
    who: AccountId,
    id: AgencyInvitationId,
    accept: bool,
    now: DateTime<Utc>,
) -> StoreResult<Invitation> {
    let status = if accept { InvitationStatus::Accepted } else { InvitationStatus::Declined };
    let done = on_pool!(db, p => async {
        let mut tx = p.begin_write().await?;
        let moved: Option<(AgencyId, AccountId)> = sqlx::query_as(
            "UPDATE agency_invitations SET status = $2, decided_at = $3
             WHERE id = $1 AND account_id = $4 AND status = 'pending' AND expires_at > $3 RETURNING agency_id, invited_by")
            .bind(id).bind(status.as_str()).bind(now).bind(who).fetch_optional(&mut *tx).await?;
        let Some((agency, owner)) = moved else { return Ok(Err(None)) };
        if accept {
            let took = sqlx::query(
                "UPDATE agencies SET member_count = member_count + 1 WHERE id = $1 AND status = 'active' AND member_count < member_limit")
                .bind(agency).execute(&mut *tx).await?.rows_affected();
            if took == 0 {
                return Ok(Err(Some(full())));
            }
            let joined = sqlx::query(
                "INSERT INTO agency_members (account_id, agency_id, joined_at) SELECT $1, $2, $3
                 WHERE NOT EXISTS (SELECT 1 FROM agency_members WHERE account_id = $1) AND NOT EXISTS (SELECT 1 FROM agencies WHERE owner_id = $1)")
                .bind(who).bind(agency).bind(now).execute(&mut *tx).await?.rows_affected();
            if joined == 0 {
                return Ok(Err(Some(refused("already_in_agency", "You already own or belong to an agency"))));
            }
            sqlx::query("UPDATE agency_applications SET status = 'withdrawn', decided_at = $2 WHERE account_id = $1 AND status = 'pending'")
                .bind(who).bind(now).execute(&mut *tx).await?;
            sqlx::query("UPDATE agency_invitations SET status = 'cancelled', decided_at = $2 WHERE account_id = $1 AND status = 'pending'")
                .bind(who).bind(now).execute(&mut *tx).await?;
        }
        user_event!(tx, owner, "agency_invitation", json!({"id": id, "agency_id": agency, "account_id": who, "status": status.as_str()}), now);
        let title = if accept { "Your agency invitation was accepted" } else { "Your agency invitation was declined" };
        let owner_s = owner.to_string();
        let notice = platform_audit::NewNotice {
            kind: "agency_invitation",
            title,
            body: "",
            link: Some("/agency"),
            audience: platform_audit::Audience::Admin(&owner_s),
        };
        platform_audit::notify_in(&mut *tx, &notice, now).await?;
        tx.commit().await?;
        Ok::<Result<(), Option<StoreError>>, StoreError>(Ok(()))
    }
    .await)?;
    match done {
        Ok(()) => invitation(db, id).await,
        Err(Some(e)) => Err(e),
        Err(None) => {
            let i = invitation(db, id).await?;
            if i.account_id != who {
                Err(StoreError::NotFound)
            } else if i.status == InvitationStatus::Withdrawn.as_str() {
                Err(refused("invitation_withdrawn", format!("{} withdrew this invitation", i.agency_name)))
            } else if i.status == InvitationStatus::Pending.as_str() || i.status == InvitationStatus::Expired.as_str() {
                Err(refused("invitation_expired", "This invitation has expired; ask the agency to invite you again"))
            } else {
                Err(refused("already_processed", format!("This invitation was already answered ({})", i.status)))
            }
        }
    }
}

/// The owner of the inviting agency withdraws a pending invitation: it
/// reads as `withdrawn` from then on (answering it is refused with
/// `invitation_withdrawn`), and the invitee is told live and by a notice
/// whose link says so. Someone else's invitation: not found; one already
/// answered, expired or withdrawn: `already_processed`.
pub async fn withdraw_invitation(db: &Db, owner: AccountId, id: AgencyInvitationId, now: DateTime<Utc>) -> StoreResult<Invitation> {
    let i = invitation(db, id).await?;
    let a = get(db, i.agency_id).await?;
    if a.owner_id != owner {
        return Err(StoreError::NotFound);
    }
    let done = on_pool!(db, p => async {
        let mut tx = p.begin_write().await?;
        let n = sqlx::query(
            "UPDATE agency_invitations SET status = 'cancelled', withdrawn_at = $2, decided_at = $2 WHERE id = $1 AND status = 'pending'")
            .bind(id).bind(now).execute(&mut *tx).await?.rows_affected();
        if n == 0 {
            return Ok(false);
        }
        user_event!(tx, i.account_id, "agency_invitation", json!({"id": id, "agency_id": a.id, "agency_name": a.name, "status": "withdrawn"}), now);
        let (who, title, link) = (i.account_id.to_string(), format!("{} withdrew its invitation", a.name), format!("/agencies?invitation={id}"));
        let notice = platform_audit::NewNotice {
            kind: "agency_invitation",
            title: &title,
            body: "",
            link: Some(&link),
            audience: platform_audit::Audience::Admin(&who),
        };
        platform_audit::notify_in(&mut *tx, &notice, now).await?;
        tx.commit().await?;
        Ok::<bool, StoreError>(true)
    }
    .await)?;
    if !done {
        let now_status = invitation(db, id).await?.status;
        return Err(refused("already_processed", format!("This invitation is no longer pending ({now_status})")));
    }
    invitation(db, id).await
}

/// Pending invitations past their expiry become `expired`; the invitee's
/// list no longer shows them. Returns how many.
pub async fn expire_invitations(db: &Db, now: DateTime<Utc>) -> StoreResult<u64> {
    Ok(on_pool!(db, p => sqlx::query(
        "UPDATE agency_invitations SET status = 'expired', decided_at = $1 WHERE status = 'pending' AND expires_at <= $1")
        .bind(now).execute(p).await?.rows_affected()))
}

// ------------------------------------------------ income targets (BR-6, 6.3)

/// The ledger unit of salaries: US cents.
pub const SALARY_UNIT: &str = "USD";
/// The system wallet salaries are paid from, and its opening stock.
pub const SALARY_FUND: &str = "agency_salary_fund";
pub const SALARY_FUND_OPENING: i64 = 100_000_000_000;
/// Ledger reasons.
pub const SALARY: &str = "agency_salary";
pub const EXCESS: &str = "agency_excess";

fn usd() -> platform_ledger::Unit {
    platform_ledger::Unit::parse(SALARY_UNIT).expect("a unit name")
}

/// The first instant of the month `YYYY-MM` (UTC) and of the next.
pub fn month_bounds(month: &str) -> Result<(DateTime<Utc>, DateTime<Utc>), StoreError> {
    let bad = || StoreError::Refused { field: "month", message: "Choose a month as YYYY-MM".into() };
    let first = chrono::NaiveDate::parse_from_str(&format!("{}-01", month.trim()), "%Y-%m-%d").map_err(|_| bad())?;
    let next = first.checked_add_months(chrono::Months::new(1)).ok_or_else(bad)?;
    Ok((first.and_time(chrono::NaiveTime::MIN).and_utc(), next.and_time(chrono::NaiveTime::MIN).and_utc()))
}

/// The month `YYYY-MM` containing `at` (UTC).
pub fn month_of(at: DateTime<Utc>) -> String {
    at.format("%Y-%m").to_string()
}

/// One member's month as the dashboard shows it (6.3).
#[derive(Debug, Clone, Serialize)]
pub struct MemberMonth {
    pub account_id: AccountId,
    pub display_name: String,
    pub handle: String,
    pub public_number: i64,
    /// Coins (the receiver's share, as diamonds) received as a member in the month.
    pub coins: i64,
    /// The agency's share of those gifts.
    pub agency_share: i64,
    /// Days with mic time.
    pub active_days: i64,
    /// Mic seconds, each day capped at 5 h.
    pub valid_mic_seconds: i64,
    /// The salary of the highest target reached (US cents).
    pub estimated_salary_cents: i64,
    /// Salary already paid ahead for the month (claimed targets).
    pub advances_cents: i64,
    /// The member's salary balance now (US cents).
    pub balance_cents: i64,
    /// Whether the month is settled.
    pub settled: bool,
    /// Until when the membership ran or runs, if it ends.
    pub until: Option<DateTime<Utc>>,
}

/// Who was a member of `agency` at some time in [start, end), with the
/// time the membership ended (or ends) if it did.
async fn members_in(
    db: &Db,
    agency: AgencyId,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
) -> StoreResult<Vec<(AccountId, DateTime<Utc>, Option<DateTime<Utc>>)>> {
    Ok(on_pool!(db, p => sqlx::query_as(
        "SELECT account_id, joined_at, ends_at FROM agency_members WHERE agency_id = $1 AND joined_at < $3
         UNION ALL
         SELECT account_id, joined_at, left_at FROM agency_past_members WHERE agency_id = $1 AND joined_at < $3 AND left_at >= $2")
        .bind(agency).bind(start).bind(end).fetch_all(p).await?))
}

async fn month_sums(db: &Db, agency: AgencyId, who: AccountId, start: DateTime<Utc>, end: DateTime<Utc>) -> StoreResult<(i64, i64)> {
    let (coins, share): (Option<i64>, Option<i64>) = on_pool!(db, p => sqlx::query_as(
        "SELECT CAST(SUM(receiver_share) AS BIGINT), CAST(SUM(agency_share) AS BIGINT) FROM gift_sends
         WHERE recipient_id = $1 AND agency_id = $2 AND receiver_unit = 'diamonds' AND created_at >= $3 AND created_at < $4")
        .bind(who).bind(agency).bind(start).bind(end).fetch_one(p).await?);
    Ok((coins.unwrap_or(0), share.unwrap_or(0)))
}

/// Salary paid to `who` for `month` by `agency` so far (advances and settlement).
async fn salary_paid(db: &Db, agency: AgencyId, who: AccountId, month: &str) -> StoreResult<i64> {
    let like = format!("{SALARY}:{agency}:{who}:{month}:%");
    let n: Option<i64> = on_pool!(db, p => sqlx::query_scalar(
        "SELECT CAST(SUM(delta) AS BIGINT) FROM ledger_entries WHERE idempotency_key LIKE $1 AND delta > 0")
        .bind(&like).fetch_one(p).await?);
    Ok(n.unwrap_or(0))
}

/// A member's mic seconds per day in [`from`, `to`): their seat sessions
/// as a member (exact intervals, `crate::seat_sessions`), plus what the
/// sampling job recorded in `agency_mic_days` before sessions were kept.
async fn mic_days(db: &Db, agency: AgencyId, who: AccountId, from: DateTime<Utc>, to: DateTime<Utc>) -> StoreResult<Vec<i64>> {
    let mut days: std::collections::BTreeMap<String, i64> = Default::default();
    if from < to {
        let sessions: Vec<_> = crate::seat_sessions::of(db, who, from, to).await?.into_iter().map(|s| (s.started_at, s.ended_at)).collect();
        for (day, secs) in rules::mic_seconds_by_day(&sessions, from, to) {
            *days.entry(day.format("%Y-%m-%d").to_string()).or_default() += secs;
        }
    }
    let sampled: Vec<(String, i64)> = on_pool!(db, p => sqlx::query_as(
        "SELECT day, seconds FROM agency_mic_days WHERE account_id = $1 AND agency_id = $2 AND day >= $3 AND day < $4")
        .bind(who).bind(agency).bind(from.format("%Y-%m-%d").to_string()).bind(to.format("%Y-%m-%d").to_string()).fetch_all(p).await?);
    for (day, secs) in sampled {
        *days.entry(day).or_default() += secs;
    }
    Ok(days.into_values().collect())
}

/// The agency's members in `month` (`YYYY-MM`), each with their figures as
/// of `now` (a seat held now counts up to `now`).
pub async fn month_dashboard(db: &Db, agency: AgencyId, month: &str, now: DateTime<Utc>) -> StoreResult<Vec<MemberMonth>> {
    let (start, end) = month_bounds(month)?;
    let mut out = vec![];
    for (who, joined, until) in members_in(db, agency, start, end).await? {
        let (coins, agency_share) = month_sums(db, agency, who, start, end).await?;
        let mic_to = until.map_or(end, |u| u.min(end)).min(now);
        let days = mic_days(db, agency, who, start.max(joined), mic_to).await?;
        let settled: Option<i64> = on_pool!(db, p => sqlx::query_scalar(
            "SELECT advances_cents FROM agency_settlements WHERE agency_id = $1 AND account_id = $2 AND month = $3")
            .bind(agency).bind(who).bind(month).fetch_optional(p).await?);
        let paid = salary_paid(db, agency, who, month).await?;
        let estimated = rules::salary_cents(&rules::DEFAULT_TARGETS, coins);
        let balance = wallets::find(db, crate::economy::ACCOUNT, &who.to_string(), &usd()).await?.map_or(0, |w| w.balance.get());
        let (display_name, handle, public_number): (String, String, i64) = on_pool!(db, p => sqlx::query_as(
            "SELECT display_name, handle, public_number FROM accounts WHERE id = $1").bind(who).fetch_one(p).await?);
        out.push(MemberMonth {
            account_id: who,
            display_name,
            handle,
            public_number,
            coins,
            agency_share,
            active_days: days.iter().filter(|s| **s > 0).count() as i64,
            valid_mic_seconds: rules::valid_mic_seconds(&days),
            estimated_salary_cents: estimated,
            advances_cents: settled.unwrap_or(paid),
            balance_cents: balance,
            settled: settled.is_some(),
            until,
        });
    }
    out.sort_by(|a, b| b.coins.cmp(&a.coins).then(a.public_number.cmp(&b.public_number)));
    Ok(out)
}

/// Pays `cents` of salary to `who` inside `tx`, once per key.
async fn pay_salary<C: platform_ledger::Conn>(
    conn: &mut C,
    fund: platform_ledger::WalletId,
    who: AccountId,
    cents: i64,
    key: &str,
    now: DateTime<Utc>,
) -> StoreResult<bool> {
    if cents <= 0 {
        return Ok(false);
    }
    let to = crate::economy::account_wallet_in(conn, who, &usd(), now).await?;
    let reference = who.to_string();
    let t = platform_ledger::Transfer {
        legs: vec![
            platform_ledger::Leg { wallet: fund, unit: usd(), delta: platform_ledger::Amount(-cents) },
            platform_ledger::Leg { wallet: to, unit: usd(), delta: platform_ledger::Amount(cents) },
        ],
        reason: SALARY,
        reference: Some(&reference),
        idempotency_key: key,
        created_by: None,
    };
    Ok(matches!(crate::economy::book().transfer_in(conn, &t, now).await?, platform_ledger::Transferred::Applied { .. }))
}

/// A member claims the salary of the target reached so far this month, ahead
/// of the month's end (an advance): each target's reward is paid once, and
/// a higher target pays only its difference (BR-6). `nothing_to_claim` when
/// no new target is reached.
pub async fn claim_salary(db: &Db, who: AccountId, now: DateTime<Utc>) -> StoreResult<i64> {
    let Some(a) = standing(db, who).await?.member_of else {
        return Err(refused("not_agency_member", "Only an agency's members claim salary"));
    };
    let month = month_of(now);
    let (start, _) = month_bounds(&month)?;
    let (coins, _) = month_sums(db, a.id, who, start, now + chrono::Duration::seconds(1)).await?;
    let Some(target) = rules::reached(&rules::DEFAULT_TARGETS, coins) else {
        return Err(refused(
            "nothing_to_claim",
            format!("No target reached yet this month: {coins} coins of {}", rules::DEFAULT_TARGETS[0].coins),
        ));
    };
    let paid = salary_paid(db, a.id, who, &month).await?;
    let due = rules::salary_due(&rules::DEFAULT_TARGETS, coins, paid);
    if due == 0 {
        return Err(refused("nothing_to_claim", "This target's reward was already claimed"));
    }
    let fund = crate::economy::system_wallet(db, SALARY_FUND, &usd(), SALARY_FUND_OPENING).await?;
    let key = format!("{SALARY}:{}:{who}:{month}:{}", a.id, target.coins);
    let paid_now = on_pool!(db, p => async {
        let mut tx = p.begin_write().await?;
        let done = pay_salary(&mut *tx, fund, who, due, &key, now).await?;
        tx.commit().await?;
        Ok::<bool, StoreError>(done)
    }
    .await);
    match paid_now {
        Ok(true) => Ok(due),
        Ok(false) => Err(refused("nothing_to_claim", "This target's reward was already claimed")),
        Err(StoreError::Conflict(_)) => Err(refused("nothing_to_claim", "This target's reward was already claimed")),
        Err(e) => Err(e),
    }
}

/// Settles one member's month with `agency` up to `until` (the month's end,
/// or the leaving date): the salary still due for the highest target
/// reached, and the coins beyond it × `iecp` as diamonds; one row per
/// agency, member and month, so a second run settles nothing. Returns
/// whether it settled now.
pub async fn settle_member(
    db: &Db,
    agency: AgencyId,
    who: AccountId,
    month: &str,
    until: DateTime<Utc>,
    iecp: i64,
    now: DateTime<Utc>,
) -> StoreResult<bool> {
    let (start, end) = month_bounds(month)?;
    let until = until.min(end);
    let (coins, _) = month_sums(db, agency, who, start, until).await?;
    let s = rules::settle_month(&rules::DEFAULT_TARGETS, coins, iecp);
    let paid = salary_paid(db, agency, who, month).await?;
    let due = (s.salary_cents - paid).max(0);
    let fund = crate::economy::system_wallet(db, SALARY_FUND, &usd(), SALARY_FUND_OPENING).await?;
    let issuer_key = format!("{EXCESS}:{agency}:{who}:{month}");
    let issuer = crate::economy::system(db, &crate::economy::issuer_shard(&issuer_key)).await?;
    let done = on_pool!(db, p => async {
        let mut tx = p.begin_write().await?;
        let fresh = sqlx::query(
            "INSERT INTO agency_settlements (agency_id, account_id, month, coins, target_coins, salary_cents, advances_cents, excess_diamonds, until_at, settled_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT (agency_id, account_id, month) DO NOTHING")
            .bind(agency).bind(who).bind(month).bind(s.coins).bind(s.target_coins).bind(s.salary_cents).bind(paid.min(s.salary_cents).max(0))
            .bind(s.excess_diamonds).bind(until).bind(now).execute(&mut *tx).await?.rows_affected();
        if fresh == 0 {
            return Ok(false);
        }
        pay_salary(&mut *tx, fund, who, due, &format!("{SALARY}:{agency}:{who}:{month}:{}", s.target_coins), now).await?;
        if s.excess_diamonds > 0 {
            let to = crate::economy::account_wallet_in(&mut *tx, who, &diamonds(), now).await?;
            let reference = who.to_string();
            let t = platform_ledger::Transfer {
                legs: vec![
                    platform_ledger::Leg { wallet: issuer, unit: diamonds(), delta: platform_ledger::Amount(-s.excess_diamonds) },
                    platform_ledger::Leg { wallet: to, unit: diamonds(), delta: platform_ledger::Amount(s.excess_diamonds) },
                ],
                reason: EXCESS,
                reference: Some(&reference),
                idempotency_key: &issuer_key,
                created_by: None,
            };
            crate::economy::book().transfer_in(&mut *tx, &t, now).await?;
        }
        user_event!(tx, who, "agency_settlement", json!({"agency_id": agency, "month": month, "salary_cents": s.salary_cents, "excess_diamonds": s.excess_diamonds}), now);
        tx.commit().await?;
        Ok::<bool, StoreError>(true)
    }
    .await);
    match done {
        Err(StoreError::Conflict(_)) => Ok(false),
        other => other,
    }
}

/// Month-end settlement: every member of every agency in the month before
/// `now` who is not settled yet. Idempotent. Returns how many it settled.
pub async fn settle_last_month(db: &Db, iecp: i64, now: DateTime<Utc>) -> StoreResult<u64> {
    let (this_start, _) = month_bounds(&month_of(now))?;
    let month = month_of(this_start - chrono::Duration::days(1));
    let (start, end) = month_bounds(&month)?;
    let due: Vec<(AgencyId, AccountId, Option<DateTime<Utc>>)> = on_pool!(db, p => sqlx::query_as(
        "SELECT m.agency_id, m.account_id, m.ends_at FROM agency_members m WHERE m.joined_at < $2
           AND NOT EXISTS (SELECT 1 FROM agency_settlements s WHERE s.agency_id = m.agency_id AND s.account_id = m.account_id AND s.month = $3)
         UNION ALL
         SELECT m.agency_id, m.account_id, m.left_at FROM agency_past_members m WHERE m.joined_at < $2 AND m.left_at >= $1
           AND NOT EXISTS (SELECT 1 FROM agency_settlements s WHERE s.agency_id = m.agency_id AND s.account_id = m.account_id AND s.month = $3)")
        .bind(start).bind(end).bind(&month).fetch_all(p).await?);
    let mut n = 0;
    for (agency, who, until) in due {
        let until = until.map_or(end, |u| u.min(end));
        if settle_member(db, agency, who, &month, until, iecp, now).await? {
            n += 1;
        }
    }
    Ok(n)
}
