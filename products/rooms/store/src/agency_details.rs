//! An agency application's details (6.1): the square logo's URL, phone,
//! address and referrer ID, and the owner's ID images, kept sealed. The
//! store never sees the key: the web layer seals the images before they
//! come here and opens them only for staff who approve agencies.

use crate::{on_pool, refused, BeginWrite, Db, StoreError, StoreResult};
use chrono::{DateTime, Utc};
use rooms_domain::agency::Details;
use rooms_domain::ids::{AccountId, AgencyId};
use serde::Serialize;
use serde_json::json;

/// One side of an ID document, sealed.
#[derive(Debug, Clone)]
pub struct SealedImage {
    pub mime: String,
    pub sealed: Vec<u8>,
}

/// An application as the owner sends it: the stored logo's URL, the
/// checked details and both ID sides, sealed.
#[derive(Debug, Clone)]
pub struct Submission {
    pub logo_url: String,
    pub details: Details,
    pub front: SealedImage,
    pub back: SealedImage,
}

/// What staff see of an application (the images only as present or not).
#[derive(Debug, Clone, Serialize, Default)]
pub struct Application {
    pub details: Option<Details>,
    pub id_front: bool,
    pub id_back: bool,
}

impl Application {
    /// Whether the owner sent everything an approval needs: the details,
    /// both ID sides and (`logo_url`, the agency's) the logo.
    pub fn is_complete(&self, logo_url: &str) -> bool {
        self.details.is_some() && self.id_front && self.id_back && !logo_url.trim().is_empty()
    }
}

/// The owner of a pending (or rejected) agency sets its application's
/// details: logo URL, contact details and both ID sides, in one
/// transaction (the name stays as created). Anyone else: `not_agency_owner`;
/// an active or suspended agency: `details_fixed`.
pub async fn submit(db: &Db, owner: AccountId, agency: AgencyId, s: &Submission, now: DateTime<Utc>) -> StoreResult<()> {
    let Submission { logo_url, details, front, back } = s;
    let logo_url = logo_url.as_str();
    let done = on_pool!(db, p => async {
        let mut tx = p.begin_write().await?;
        let status: Option<(AccountId, String)> = sqlx::query_as("SELECT owner_id, status FROM agencies WHERE id = $1")
            .bind(agency).fetch_optional(&mut *tx).await?;
        let Some((owner_id, status)) = status else { return Ok(Err(StoreError::NotFound)) };
        if owner_id != owner {
            return Ok(Err(refused("not_agency_owner", "Only the agency's owner completes its application")));
        }
        if status != "pending" && status != "rejected" {
            return Ok(Err(refused("details_fixed", "An approved agency's application can no longer change")));
        }
        sqlx::query("UPDATE agencies SET logo_url = $2 WHERE id = $1").bind(agency).bind(logo_url).execute(&mut *tx).await?;
        sqlx::query(
            "INSERT INTO agency_details (agency_id, phone, address, referrer, updated_at) VALUES ($1, $2, $3, $4, $5)
             ON CONFLICT (agency_id) DO UPDATE SET phone = excluded.phone, address = excluded.address, referrer = excluded.referrer, updated_at = excluded.updated_at")
            .bind(agency).bind(&details.phone).bind(&details.address).bind(&details.referrer).bind(now).execute(&mut *tx).await?;
        for (side, img) in [("front", front), ("back", back)] {
            sqlx::query(
                "INSERT INTO agency_id_documents (agency_id, side, mime, sealed, created_at) VALUES ($1, $2, $3, $4, $5)
                 ON CONFLICT (agency_id, side) DO UPDATE SET mime = excluded.mime, sealed = excluded.sealed, created_at = excluded.created_at")
                .bind(agency).bind(side).bind(&img.mime).bind(&img.sealed).bind(now).execute(&mut *tx).await?;
        }
        let (who, subject) = (owner.to_string(), agency.to_string());
        let after = json!({"logo_url": logo_url, "id_documents": 2});
        let entry = platform_audit::Record::new("user", Some(&who), "agency.details").subject("agency", &subject).change(None, Some(&after));
        platform_audit::record_in(&mut *tx, &entry, now).await?;
        tx.commit().await?;
        Ok::<Result<(), StoreError>, StoreError>(Ok(()))
    }
    .await)?;
    done
}

/// The application as staff see it.
pub async fn application(db: &Db, agency: AgencyId) -> StoreResult<Application> {
    let details: Option<(String, String, String)> = on_pool!(db, p => sqlx::query_as(
        "SELECT phone, address, referrer FROM agency_details WHERE agency_id = $1").bind(agency).fetch_optional(p).await?);
    let sides: Vec<String> =
        on_pool!(db, p => sqlx::query_scalar("SELECT side FROM agency_id_documents WHERE agency_id = $1").bind(agency).fetch_all(p).await?);
    Ok(Application {
        details: details.map(|(phone, address, referrer)| Details { phone, address, referrer }),
        id_front: sides.iter().any(|s| s == "front"),
        id_back: sides.iter().any(|s| s == "back"),
    })
}

/// One sealed ID side; the caller opens it for staff only, and the viewing
/// is audit-logged here.
pub async fn id_document(db: &Db, staff: AccountId, agency: AgencyId, side: &str, now: DateTime<Utc>) -> StoreResult<SealedImage> {
    let row: Option<(String, Vec<u8>)> = on_pool!(db, p => sqlx::query_as(
        "SELECT mime, sealed FROM agency_id_documents WHERE agency_id = $1 AND side = $2").bind(agency).bind(side).fetch_optional(p).await?);
    let (mime, sealed) = row.ok_or(StoreError::NotFound)?;
    let (who, subject) = (staff.to_string(), agency.to_string());
    let action = format!("agency.id_{side}_viewed");
    let entry = platform_audit::Record::new("staff", Some(&who), &action).subject("agency", &subject);
    on_pool!(db, p => async {
        let mut tx = p.begin_write().await?;
        platform_audit::record_in(&mut *tx, &entry, now).await?;
        tx.commit().await?;
        Ok::<(), StoreError>(())
    }
    .await)?;
    Ok(SealedImage { mime, sealed })
}
