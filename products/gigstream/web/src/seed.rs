//! Demo data for an empty store: sellers with profiles and gigs in several
//! categories, a buyer with an order under way, and an admin.

use crate::forms::{GigForm, PackageForm};
use chrono::Utc;
use gigstream_domain::gig::{Faq, Requirement, Tier};
use gigstream_domain::{Currency, FeePolicy};
use gigstream_store::accounts::{self, NewAccount};
use gigstream_store::profiles::{self, PortfolioItem, Profile};
use gigstream_store::{gigs, orders, Db, StoreError};
use platform_accounts::password::{self, Cost};
use sqlx::types::Json;

pub const DEMO_PASSWORD: &str = "Demo!pass1";

/// A demo login to print.
pub struct DemoLogin {
    pub role: &'static str,
    pub login: String,
}

type Gig = (&'static str, &'static str, &'static str, &'static str, &'static str, [(i64, i32, i32); 3]);

/// Username, name, headline, skills, gigs.
type Seller = (&'static str, &'static str, &'static str, &'static [&'static str], &'static [Gig]);

const SELLERS: &[Seller] = &[
    ("amara", "Amara Okafor", "Brand designer for start-ups", &["Logo design", "Branding", "Illustrator"], &[
        ("I will design a minimalist logo for your brand", "graphics-design", "logo-design", "logo, minimalist, branding", "<p>A <b>clean, memorable logo</b> in vector form, with a colour and a one-colour version.</p><ul><li>Vector files</li><li>Social media kit</li></ul>", [(3000, 3, 2), (6000, 4, 3), (12000, 5, 5)]),
        ("I will create a complete brand style guide", "graphics-design", "brand-style-guides", "brand guide, branding, style guide", "<p>Fonts, colours, logo rules and examples in one PDF your team can follow.</p>", [(8000, 5, 1), (15000, 7, 2), (25000, 10, 3)]),
    ]),
    ("diego", "Diego Ramírez", "WordPress and web developer", &["WordPress", "PHP", "JavaScript"], &[
        ("I will build a fast responsive WordPress website", "programming-tech", "wordpress", "wordpress, website, responsive", "<p>A fast, responsive WordPress site with your content, contact form and SEO basics.</p>", [(12000, 5, 2), (25000, 8, 3), (45000, 12, 5)]),
        ("I will fix bugs and speed up your WordPress site", "programming-tech", "wordpress", "wordpress, speed, bug fix", "<p>Slow pages, broken plugins, white screens: I find the cause and fix it.</p>", [(2500, 1, 1), (5000, 2, 2), (9000, 3, 3)]),
    ]),
    ("mei", "Mei Chen", "Video editor and motion designer", &["Premiere Pro", "After Effects"], &[
        ("I will edit your youtube videos professionally", "video-animation", "video-editing", "video editing, youtube, subtitles", "<p>Cuts, colour, sound clean-up, captions and a thumbnail for your channel.</p>", [(4000, 2, 2), (8000, 3, 3), (15000, 4, 4)]),
        ("I will animate your logo with sound effects", "video-animation", "logo-animation", "logo animation, intro, motion", "<p>A five-second animated intro of your logo, with sound.</p>", [(3500, 2, 1), (6000, 3, 2), (9000, 4, 3)]),
    ]),
    ("sam", "Sam Mwangi", "Copywriter and translator (EN/SW/FR)", &["Copywriting", "Translation", "SEO writing"], &[
        ("I will write SEO blog posts that rank", "writing-translation", "articles-blog-posts", "blog, seo, articles", "<p>Researched, original articles of 1,000 words, optimised for your keywords.</p>", [(5000, 3, 1), (9000, 4, 2), (16000, 6, 3)]),
        ("I will translate english to swahili or french", "writing-translation", "translation", "translation, swahili, french", "<p>Natural, accurate translation by a native speaker, proofread twice.</p>", [(1500, 1, 1), (3000, 2, 1), (6000, 3, 2)]),
    ]),
];

fn form_of(g: &Gig) -> GigForm {
    let (title, category, sub, tags, description, prices) = g;
    let tiers = [Tier::Basic, Tier::Standard, Tier::Premium];
    let packages = tiers
        .iter()
        .zip(prices.iter())
        .map(|(tier, (price, days, revisions))| PackageForm {
            tier: *tier,
            name: format!("{} package", tier.label()),
            description: String::new(),
            price: gigstream_domain::Money::new(*price, Currency::Usd).decimal(),
            delivery_days: *days,
            revisions: *revisions,
            items: vec!["Source files".into(), format!("{revisions} revision(s)")],
        })
        .collect();
    GigForm {
        title: title.to_string(),
        category: category.to_string(),
        subcategory: Some(sub.to_string()),
        tags: tags.to_string(),
        description: description.to_string(),
        packages,
        faq: vec![Faq { question: "Can I ask for changes?".into(), answer: "Yes, within the revisions of your package.".into() }],
        requirements: vec![Requirement { question: "What should I know about your project?".into(), required: true }],
    }
}

/// Loads demo data unless the store already has accounts; returns the logins.
pub async fn seed_demo(db: &Db) -> Result<Vec<DemoLogin>, StoreError> {
    if accounts::any(db).await? {
        return Ok(vec![]);
    }
    let now = Utc::now();
    let hash = password::hash(DEMO_PASSWORD.into(), Cost::Fast).await.map_err(|e| StoreError::Invalid(e.to_string()))?;
    let mut logins = vec![];
    let mut first_gig = None;
    for (username, name, headline, skills, gig_list) in SELLERS {
        let email = format!("{username}@demo.gigstream.test");
        let a =
            accounts::create(db, &NewAccount { email: &email, username, display_name: name, password_hash: &hash, is_admin: false }, now)
                .await?;
        let profile = Profile {
            headline: headline.to_string(),
            bio: format!("{headline}. I answer within a day and deliver on time."),
            skills: Json(skills.iter().map(|s| s.to_string()).collect()),
            languages: Json(vec!["English".into()]),
            portfolio: Json(vec![PortfolioItem {
                title: "Recent work".into(),
                url: format!("https://example.com/{username}"),
                description: String::new(),
            }]),
            response_hours: 6,
        };
        profiles::save(db, a.id, &profile, now).await?;
        for g in gig_list.iter() {
            let input = form_of(g).check(Currency::Usd).map_err(|e| StoreError::Invalid(e.to_string()))?;
            let gig = gigs::create(db, a.id, &input, now).await?;
            first_gig.get_or_insert(gig.id);
        }
        logins.push(DemoLogin { role: "seller", login: email });
    }
    let buyer = accounts::create(
        db,
        &NewAccount {
            email: "buyer@demo.gigstream.test",
            username: "buyer",
            display_name: "Demo Buyer",
            password_hash: &hash,
            is_admin: false,
        },
        now,
    )
    .await?;
    logins.push(DemoLogin { role: "buyer", login: "buyer@demo.gigstream.test".into() });
    accounts::create(
        db,
        &NewAccount {
            email: "admin@demo.gigstream.test",
            username: "admin_demo",
            display_name: "Demo Admin",
            password_hash: &hash,
            is_admin: true,
        },
        now,
    )
    .await?;
    logins.push(DemoLogin { role: "admin", login: "admin@demo.gigstream.test".into() });
    // One order under way, so the order pages have something to show.
    if let Some(gig) = first_gig {
        let o = orders::place(db, buyer.id, gig, Tier::Basic, FeePolicy::default(), now).await?;
        orders::confirm_payment(db, "demo", &o.payment_reference, "evt_demo_1", o.total_minor, o.currency, now).await?;
        orders::submit_requirements(db, o.id, buyer.id, vec!["A logo for my bakery, Sunrise Loaves.".into()], now).await?;
    }
    Ok(logins)
}
