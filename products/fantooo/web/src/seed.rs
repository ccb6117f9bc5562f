//! Demo data: credit packages, profiles with generated portraits, staff and a
//! demo user, so a fresh embedded install is explorable at once.

use crate::auth::hash_password;
use crate::error::AppResult;
use fantooo_domain::{AdminRole, Gender, Kes, LookingFor, Permissions};
use fantooo_store::{admins, operators, packages, profiles, users, Db};

/// A login created by the seed, printed for the person running the demo.
pub struct DemoLogin {
    pub role: &'static str,
    pub url: &'static str,
    pub login: String,
    pub password: &'static str,
}

pub const DEMO_PASSWORD: &str = "Demo!pass1";

struct P {
    name: &'static str,
    age: i64,
    gender: Gender,
    location: &'static str,
    occupation: &'static str,
    style: &'static str,
    bio: &'static str,
    interests: &'static [&'static str],
    traits: &'static [&'static str],
    featured: bool,
    popularity: i64,
}

const PROFILES: &[P] = &[
    P {
        name: "Amara",
        age: 24,
        gender: Gender::Female,
        location: "Nairobi, Kenya",
        occupation: "Fashion designer",
        style: "flirty",
        bio: "Sketching dresses by day, dancing to Afrobeats by night. Tell me your favourite song.",
        interests: &["fashion", "dancing", "travel"],
        traits: &["flirty", "creative"],
        featured: true,
        popularity: 980,
    },
    P {
        name: "Wanjiru",
        age: 27,
        gender: Gender::Female,
        location: "Mombasa, Kenya",
        occupation: "Marine biologist",
        style: "intellectual",
        bio: "Ocean lover who can talk about coral reefs for hours. Sunset walks on the beach are my therapy.",
        interests: &["ocean", "science", "books"],
        traits: &["intellectual", "calm"],
        featured: true,
        popularity: 910,
    },
    P {
        name: "Zuri",
        age: 22,
        gender: Gender::Female,
        location: "Kisumu, Kenya",
        occupation: "Photography student",
        style: "playful",
        bio: "I see the world through a lens. Let's swap stories and silly memes.",
        interests: &["photography", "memes", "music"],
        traits: &["playful", "curious"],
        featured: false,
        popularity: 860,
    },
    P {
        name: "Nia",
        age: 29,
        gender: Gender::Female,
        location: "Lagos, Nigeria",
        occupation: "Chef",
        style: "romantic",
        bio: "I believe the way to the heart is jollof rice. Candlelit dinners are my love language.",
        interests: &["cooking", "wine", "poetry"],
        traits: &["romantic", "warm"],
        featured: false,
        popularity: 820,
    },
    P {
        name: "Imani",
        age: 31,
        gender: Gender::Female,
        location: "Kampala, Uganda",
        occupation: "Yoga instructor",
        style: "friendly",
        bio: "Good vibes, deep breaths and long conversations. What keeps you grounded?",
        interests: &["yoga", "hiking", "meditation"],
        traits: &["friendly", "mindful"],
        featured: false,
        popularity: 790,
    },
    P {
        name: "Layla",
        age: 26,
        gender: Gender::Female,
        location: "Dar es Salaam, Tanzania",
        occupation: "Radio host",
        style: "flirty",
        bio: "My voice is on the radio every evening — now let me hear yours. Bold questions welcome.",
        interests: &["radio", "music", "nightlife"],
        traits: &["flirty", "outgoing"],
        featured: true,
        popularity: 760,
    },
    P {
        name: "Kendi",
        age: 23,
        gender: Gender::Female,
        location: "Nakuru, Kenya",
        occupation: "Nurse",
        style: "friendly",
        bio: "Caring by nature, funny by accident. Let's make each other laugh.",
        interests: &["movies", "volunteering", "food"],
        traits: &["kind", "funny"],
        featured: false,
        popularity: 700,
    },
    P {
        name: "Sade",
        age: 34,
        gender: Gender::Female,
        location: "Accra, Ghana",
        occupation: "Architect",
        style: "intellectual",
        bio: "I design buildings and daydream about Paris. Convince me of your favourite city.",
        interests: &["architecture", "art", "travel"],
        traits: &["intellectual", "elegant"],
        featured: false,
        popularity: 650,
    },
    P {
        name: "Brian",
        age: 28,
        gender: Gender::Male,
        location: "Nairobi, Kenya",
        occupation: "Software engineer",
        style: "playful",
        bio: "Coder, gamer and terrible at cooking. Teach me a recipe and I'll teach you a game.",
        interests: &["gaming", "tech", "football"],
        traits: &["playful", "smart"],
        featured: true,
        popularity: 720,
    },
    P {
        name: "Tariq",
        age: 32,
        gender: Gender::Male,
        location: "Johannesburg, South Africa",
        occupation: "Personal trainer",
        style: "flirty",
        bio: "Gym in the morning, braai in the evening. Looking for someone to keep up.",
        interests: &["fitness", "barbecue", "rugby"],
        traits: &["confident", "flirty"],
        featured: false,
        popularity: 640,
    },
    P {
        name: "Kofi",
        age: 30,
        gender: Gender::Male,
        location: "Kigali, Rwanda",
        occupation: "Musician",
        style: "romantic",
        bio: "I write love songs for a living. Maybe the next one is about you.",
        interests: &["guitar", "poetry", "coffee"],
        traits: &["romantic", "soulful"],
        featured: false,
        popularity: 610,
    },
    P {
        name: "Alex",
        age: 25,
        gender: Gender::Other,
        location: "Cape Town, South Africa",
        occupation: "Illustrator",
        style: "friendly",
        bio: "Drawing comics and climbing Table Mountain. Always up for a good chat.",
        interests: &["comics", "climbing", "indie music"],
        traits: &["creative", "easygoing"],
        featured: false,
        popularity: 580,
    },
];

/// Seeds demo data into an empty store. Returns the demo logins, or none if
/// the store already had packages (seeding twice is a no-op).
pub async fn seed_demo(db: &Db, fast_hash: bool, email_domain: &str) -> AppResult<Vec<DemoLogin>> {
    if !packages::list_active(db).await?.is_empty() {
        return Ok(vec![]);
    }
    let pkgs = [
        ("Starter", 10, 100, 0, None, false),
        ("Popular", 50, 400, 0, Some("POPULAR"), true),
        ("Best value", 100, 700, 10, Some("BEST VALUE"), false),
        ("VIP", 500, 3000, 100, Some("VIP"), false),
    ];
    for (i, (name, credits, kes, bonus, badge, featured)) in pkgs.into_iter().enumerate() {
        packages::create(
            db,
            &packages::NewPackage {
                name,
                credits,
                price_cents: Kes::from_shillings(kes).cents(),
                bonus_credits: bonus,
                badge,
                is_featured: featured,
                sort_order: i as i64,
                valid_from: None,
                valid_until: None,
                variant: None,
            },
        )
        .await?;
    }
    for p in PROFILES {
        let slug = p.name.to_lowercase();
        let pictures = (1..=4).map(|n| format!("/media/generated/{slug}-{n}.svg")).collect();
        profiles::create(
            db,
            &profiles::NewProfile {
                name: p.name.into(),
                age: p.age,
                gender: p.gender,
                location: p.location.into(),
                bio: p.bio.into(),
                personality_traits: p.traits.iter().map(|s| s.to_string()).collect(),
                interests: p.interests.iter().map(|s| s.to_string()).collect(),
                occupation: Some(p.occupation.into()),
                profile_pictures: pictures,
                response_style: Some(p.style.into()),
                response_templates: vec![
                    format!("Hey you! {} here — how's your day going?", p.name),
                    "Tell me something that made you smile today.".into(),
                ],
                personality_guidelines: Some(format!(
                    "Voice {} as {} and {}; keep replies short, warm and curious; ask a question back.",
                    p.name,
                    p.traits.join(", "),
                    p.style
                )),
                is_featured: p.featured,
                featured_until: None,
                tags: p.interests.iter().chain(p.traits.iter()).map(|s| s.to_string()).collect(),
                category: Some("lifestyle".into()),
                popularity_score: p.popularity,
            },
            None,
        )
        .await?;
    }
    let hash = hash_password(DEMO_PASSWORD.to_string(), fast_hash).await?;
    let mut logins = vec![];
    let staff = [
        ("Grace Mwangi", "grace", &["flirty", "romantic"][..]),
        ("Daniel Otieno", "daniel", &["playful", "friendly"][..]),
        ("Faith Achieng", "faith", &["intellectual", "friendly"][..]),
    ];
    for (name, handle, spec) in staff {
        let email = format!("{handle}.ops@{email_domain}");
        operators::create(
            db,
            &operators::NewOperator {
                name: name.into(),
                email: email.clone(),
                specializations: spec.iter().map(|s| s.to_string()).collect(),
                languages: vec!["en".into(), "sw".into()],
                skill_level: "mid".into(),
                max_concurrent_chats: 5,
            },
            &hash,
            None,
        )
        .await?;
        logins.push(DemoLogin { role: "operator", url: "/op-login", login: email, password: DEMO_PASSWORD });
    }
    let admin_email = format!("admin@{email_domain}");
    admins::create(
        db,
        &admins::NewAdmin {
            name: "Demo Admin".into(),
            email: admin_email.clone(),
            role: AdminRole::SuperAdmin,
            permissions: Permissions::for_role(AdminRole::SuperAdmin),
        },
        &hash,
        None,
        false,
    )
    .await?;
    logins.push(DemoLogin { role: "super_admin", url: "/admin-login", login: admin_email, password: DEMO_PASSWORD });
    users::create(
        db,
        &users::NewUser {
            username: "demo".into(),
            display_name: "Demo".into(),
            email: format!("demo@{email_domain}"),
            age: 30,
            gender: Gender::Male,
            looking_for: LookingFor::Both,
            location: "Nairobi, Kenya".into(),
            latitude: Some(-1.28333),
            longitude: Some(36.81667),
            corrected_location: None,
            geocoding_service: "seed".into(),
            ip: None,
            accepted_terms: true,
            review: None,
        },
        &hash,
    )
    .await?;
    logins.insert(0, DemoLogin { role: "user", url: "/login", login: "demo".into(), password: DEMO_PASSWORD });
    Ok(logins)
}
