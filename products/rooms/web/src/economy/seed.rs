//! Demo data for the economy: recharge packages (everywhere, and per
//! country), the gift catalogue with our own animations, a demo agency
//! with one member, and a starting balance for the demo people.

use chrono::Utc;
use rooms_domain::ids::AccountId;
use rooms_store::economy::{self, NewPackage};
use rooms_store::gifts::{self, NewGift};
use rooms_store::{Db, StoreResult};

/// A demo gift: code, name, category, rarity, price, wealth %, charm %, animation.
pub type DemoGift = (&'static str, &'static str, &'static str, &'static str, i64, i64, i64, &'static str);
/// A demo package: name, coins, bonus, price (minor units), currency, countries.
type DemoPackage = (&'static str, i64, i64, i64, &'static str, &'static [&'static str]);

/// The demo catalogue.
pub const GIFTS: &[DemoGift] = &[
    ("rose", "Rose", "classic", "common", 10, 100, 100, "rose"),
    ("heart", "Heart", "classic", "common", 50, 100, 100, "heart"),
    ("star", "Shooting star", "classic", "rare", 200, 100, 120, "star"),
    ("crown", "Crown", "luxury", "epic", 1_000, 110, 110, "crown"),
    ("rocket", "Rocket", "luxury", "legendary", 5_000, 125, 125, "rocket"),
];

/// Loads packages and gifts; `funded` get 5,000 coins each, `member`
/// joins an agency owned by `agency_owner`.
pub async fn seed_demo(db: &Db, funded: &[AccountId], member: AccountId, agency_owner: AccountId) -> StoreResult<()> {
    let now = Utc::now();
    #[rustfmt::skip]
    let packages: &[DemoPackage] = &[
        ("Starter", 1_700, 0, 99, "USD", &[]),
        ("Popular", 9_000, 900, 499, "USD", &[]),
        ("Big", 19_000, 2_500, 999, "USD", &[]),
        ("Kenya small", 1_700, 100, 13_000, "KES", &["KE"]),
        ("Kenya large", 9_000, 1_000, 65_000, "KES", &["KE"]),
        ("Nigeria", 1_700, 100, 150_000, "NGN", &["NG"]),
    ];
    for (i, (name, coins, bonus, price, currency, countries)) in packages.iter().enumerate() {
        let p = NewPackage { name, coins: *coins, bonus_coins: *bonus, price_minor: *price, currency, countries, sort: i as i64 };
        economy::create_package(db, &p, now).await?;
    }
    for (i, (code, name, category, rarity, price, wealth_pct, charm_pct, animation)) in GIFTS.iter().enumerate() {
        let g = NewGift {
            code,
            name,
            category,
            rarity,
            price: *price,
            wealth_pct: *wealth_pct,
            charm_pct: *charm_pct,
            animation,
            sort: i as i64,
            min_vip: 0,
        };
        gifts::create_gift(db, &g).await?;
    }
    let agency = gifts::create_agency(db, "Demo Stars", agency_owner, now).await?;
    gifts::join_agency(db, agency, member, now).await?;
    for who in funded {
        economy::grant(db, *who, 5_000, &format!("demo:{who}"), None, now).await?;
    }
    Ok(())
}
