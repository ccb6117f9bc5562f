//! Set-up shared by the store's test files: a fresh database per backend,
//! a user, a room with its owner present, whole-second time, and a store
//! error as a short code.
#![allow(dead_code)]

use chrono::{DateTime, NaiveDate, Utc};
use platform_db::testing::{backends, fresh_db};
use platform_db::{Db, StoreError};
use rooms_domain::account::{AdultBirthDate, Country, FullName, Gender, Handle, Login, PlatformRole};
use rooms_domain::ids::{AccountId, RoomId};
use rooms_domain::room::{RoomKind, RoomName, SeatCount, VisitorPermissions};
use rooms_store::{accounts, presence, rooms};

/// A fresh, migrated database on every backend under test.
pub async fn dbs() -> Vec<(platform_db::Backend, platform_db::testing::TestDb)> {
    let mut out = vec![];
    for b in backends() {
        out.push((b, fresh_db(b, &rooms_store::MIGRATIONS, "rooms_store_tpl").await));
    }
    out
}

/// A refusal's code: a guard's name, or `field:<name>`.
pub fn code(e: StoreError) -> String {
    match e {
        StoreError::Guard { code, .. } => code,
        StoreError::Refused { field, .. } => format!("field:{field}"),
        other => format!("{other:?}"),
    }
}

/// A new user with the handle (and `<handle>@example.com`).
pub async fn user(db: &Db, handle: &str) -> AccountId {
    let new = accounts::NewAccount {
        login: Login::parse(&format!("{handle}@example.com")).unwrap(),
        handle: Handle::parse(handle).unwrap(),
        full_name: FullName::parse("full_name", &format!("{handle} person")).unwrap(),
        birth_date: AdultBirthDate::parse("1990-01-01", NaiveDate::from_ymd_opt(2026, 1, 1).unwrap()).unwrap(),
        country: Country::parse("KE").unwrap(),
        gender: Gender::Unspecified,
    };
    accounts::create(db, &new, "$argon2id$fake", PlatformRole::User, Utc::now()).await.unwrap().id
}

/// A public room of `seat_count` seats, its owner present in it.
pub async fn room_of(db: &Db, owner: AccountId, seat_count: i64, now: DateTime<Utc>) -> RoomId {
    let new = rooms::NewRoom {
        name: RoomName::parse(&format!("Room {}", &owner.to_string()[..8])).unwrap(),
        kind: RoomKind::Public,
        password_hash: None,
        seat_count: SeatCount::parse(seat_count).unwrap(),
        visitors: VisitorPermissions { speak: true, text: true, pictures: false },
        apply_mode: false,
        logo_url: None,
    };
    let r = rooms::create(db, owner, &new, now).await.unwrap();
    presence::join(db, r.id, owner, now).await.unwrap();
    r.id
}

/// Whole seconds: PostgreSQL keeps microseconds.
pub fn whole_now() -> DateTime<Utc> {
    DateTime::from_timestamp(Utc::now().timestamp(), 0).unwrap()
}

/// `owner` sends agency `agency`'s application: a logo, contact details
/// and both ID sides (staff may approve it only then).
pub async fn send_details(db: &Db, owner: AccountId, agency: rooms_domain::ids::AgencyId) {
    use rooms_store::agency_details::{submit, SealedImage, Submission};
    let side = |n: u8| SealedImage { mime: "image/png".into(), sealed: vec![n; 16] };
    let s = Submission {
        logo_url: "/media/logos/agency.png".into(),
        details: rooms_domain::agency::Details {
            phone: "+2348012345678".into(),
            address: "1 Marina, Lagos".into(),
            referrer: String::new(),
        },
        front: side(1),
        back: side(2),
    };
    submit(db, owner, agency, &s, Utc::now()).await.unwrap();
}

/// Sends one gift of one to each `(sender, seated recipient, key)` in
/// `room`, all at once, through `send` (`gifts::send` or `gifts::accept`);
/// a request the database could not take in time is sent again with the
/// same key, as the page script does. Returns each result in order and how
/// many requests were sent again.
pub async fn gifts_at_once<'k, F, Fut>(
    keys: &'k [(AccountId, AccountId, String)],
    room: RoomId,
    gift: rooms_domain::ids::GiftId,
    send: F,
) -> (Vec<platform_db::StoreResult<rooms_store::gifts::Sent>>, usize)
where
    F: Fn(rooms_store::gifts::SendGift<'k>) -> Fut,
    Fut: std::future::Future<Output = platform_db::StoreResult<rooms_store::gifts::Sent>>,
{
    use rooms_store::gifts::{Recipients, SendGift};
    use std::sync::atomic::{AtomicUsize, Ordering};
    let retries = AtomicUsize::new(0);
    let (retries, send) = (&retries, &send);
    let results = futures_util::future::join_all(keys.iter().map(|(sender, to, key)| async move {
        loop {
            let one = SendGift { sender: *sender, room, gift, recipients: Recipients::Seated(vec![*to]), quantity: 1, combo: 1, key };
            match send(one).await {
                Err(e) if e.is_unavailable() => retries.fetch_add(1, Ordering::Relaxed),
                other => return other,
            };
        }
    }))
    .await;
    (results, retries.load(Ordering::Relaxed))
}
