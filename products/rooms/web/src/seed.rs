//! Demo data for a fresh embedded store: a few people, a staff account and
//! two live rooms with seats taken and chat.

use crate::auth::hash_password;
use chrono::{NaiveDate, Utc};
use rooms_domain::account::{AdultBirthDate, Country, FullName, Gender, Handle, Login, PlatformRole};
use rooms_domain::room::{RoomKind, RoomName, SeatCount, VisitorPermissions};
use rooms_store::accounts::{self, NewAccount};
use rooms_store::{chat, presence, rooms, seats, Db, StoreResult};

pub const DEMO_PASSWORD: &str = "Demo!pass1";

pub struct DemoLogin {
    pub role: &'static str,
    pub login: String,
}

async fn person(
    db: &Db,
    hash: &str,
    login: &str,
    handle: &str,
    name: &str,
    role: PlatformRole,
) -> StoreResult<rooms_domain::ids::AccountId> {
    let new = NewAccount {
        login: Login::parse(login).expect("demo login"),
        handle: Handle::parse(handle).expect("demo handle"),
        full_name: FullName::parse("full_name", name).expect("demo name"),
        birth_date: AdultBirthDate::parse("1995-05-05", NaiveDate::from_ymd_opt(2026, 1, 1).expect("date")).expect("adult"),
        country: Country::parse("KE").expect("country"),
        gender: Gender::Unspecified,
    };
    Ok(accounts::create(db, &new, hash, role, Utc::now()).await?.id)
}

/// Loads the demo into an empty store; returns the logins (nothing when
/// accounts already exist).
pub async fn seed_demo(db: &Db, fast: bool) -> Result<Vec<DemoLogin>, Box<dyn std::error::Error + Send + Sync>> {
    if accounts::count(db).await? > 0 {
        return Ok(vec![]);
    }
    let hash = hash_password(DEMO_PASSWORD.into(), fast).await?;
    let now = Utc::now();
    let demo = person(db, &hash, "demo@rooms.test", "demo", "Demo Host", PlatformRole::User).await?;
    let amara = person(db, &hash, "+254700000001", "amara", "Amara Njeri", PlatformRole::User).await?;
    let tunde = person(db, &hash, "tunde@rooms.test", "tunde", "Tunde Bello", PlatformRole::User).await?;
    let zawadi = person(db, &hash, "+254700000002", "zawadi", "Zawadi Achieng", PlatformRole::User).await?;
    person(db, &hash, "staff@rooms.test", "staff", "Rooms Staff", PlatformRole::SuperAdmin).await?;
    let open = VisitorPermissions { speak: true, text: true, pictures: false };
    let lounge = rooms::NewRoom {
        name: RoomName::parse("Nairobi Night Lounge").expect("name"),
        kind: RoomKind::Public,
        password_hash: None,
        seat_count: SeatCount::parse(8).expect("seats"),
        visitors: open,
        apply_mode: false,
        logo_url: None,
    };
    let lounge = rooms::create(db, demo, &lounge, now).await?.id;
    for p in [demo, amara, tunde] {
        presence::join(db, lounge, p, now).await?;
    }
    seats::take(db, lounge, demo, Some(1), now).await?;
    seats::take(db, lounge, amara, Some(2), now).await?;
    chat::post(db, lounge, demo, "Karibu! Take a seat and say hi.", now).await?;
    chat::post(db, lounge, tunde, "Evening all", now).await?;
    let study = rooms::NewRoom {
        name: RoomName::parse("Quiet Study Hall").expect("name"),
        kind: RoomKind::Public,
        password_hash: None,
        seat_count: SeatCount::default(),
        visitors: VisitorPermissions::default(),
        apply_mode: true,
        logo_url: None,
    };
    let study = rooms::create(db, zawadi, &study, now).await?.id;
    presence::join(db, study, zawadi, now).await?;
    seats::take(db, study, zawadi, None, now).await?;
    crate::economy::seed::seed_demo(db, &[demo, amara, tunde], amara, demo).await?;
    Ok(vec![
        DemoLogin { role: "user", login: "demo@rooms.test".into() },
        DemoLogin { role: "user", login: "+254700000001".into() },
        DemoLogin { role: "user", login: "tunde@rooms.test".into() },
        DemoLogin { role: "staff", login: "staff@rooms.test".into() },
    ])
}

/// The demo's own people, kept present while the process runs (they have
/// no browser sending heartbeats).
const DEMO_HANDLES: [&str; 4] = ["demo", "amara", "tunde", "zawadi"];

/// Whether this store holds the demo data.
pub async fn has_demo(db: &Db) -> StoreResult<bool> {
    rooms_store::accounts::handle_exists(db, "demo").await
}

/// Heartbeats for the demo people in their rooms every 10 s, so the demo
/// rooms stay live on a local run. Real users are never touched.
pub fn keep_demo_present(db: Db) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(rooms_domain::limits::HEARTBEAT_EVERY);
        loop {
            tick.tick().await;
            if let Err(e) = rooms_store::presence::heartbeat_handles(&db, &DEMO_HANDLES, Utc::now()).await {
                tracing::warn!(error = %e, "demo presence not refreshed");
            }
        }
    });
}
