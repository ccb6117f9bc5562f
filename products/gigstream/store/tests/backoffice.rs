//! The back office's store on both stores: standing changes with their
//! audit entries, settings, gig decisions, and account deletion.

use chrono::Utc;
use gigstream_domain::backoffice::{Settings, Standing};
use gigstream_domain::fees::FeePolicy;
use gigstream_domain::gig::{Package, Tier};
use gigstream_domain::ids::AccountId;
use gigstream_domain::names::{Tag, Title};
use gigstream_domain::Currency;
use gigstream_store::accounts::{self, NewAccount};
use gigstream_store::backoffice::{self as bo, Admin, At, UserFilter};
use gigstream_store::gigs::{self, GigInput};
use gigstream_store::videos::{self, VideoKind};
use gigstream_store::{privacy, Db, StoreError};
use platform_db::testing::{backends, fresh_db};

async fn account(db: &Db, name: &str, admin: bool) -> AccountId {
    let email = format!("{name}@example.test");
    let new = NewAccount { email: &email, username: name, display_name: name, password_hash: "x", is_admin: admin };
    accounts::create(db, &new, Utc::now()).await.unwrap().id
}

#[tokio::test]
async fn standing_changes_end_sessions_and_are_audited_in_one_transaction() {
    for backend in backends() {
        let t = fresh_db(backend, gigstream_store::migrations(), "gigstream_template").await;
        let db = &t.db;
        let ops = account(db, "ops", true).await;
        let user = account(db, "writer", false).await;
        let admin = Admin { id: ops, ip: Some("10.0.0.1") };
        let spec = platform_accounts::SessionSpec {
            account: user,
            kind: accounts::Kind::Member,
            via: platform_accounts::Via::Bearer,
            ttl: chrono::Duration::days(1),
            ip: None,
            user_agent: None,
        };
        let session = accounts::sessions().create(db, spec, Utc::now()).await.unwrap().token;
        let err = bo::set_standing(db, admin, user, Standing::Suspended, "", Utc::now()).await.unwrap_err();
        assert!(matches!(err, StoreError::Refused { field: "reason", .. }), "{err:?}");
        let u = bo::set_standing(db, admin, user, Standing::Suspended, "Spam in messages", Utc::now()).await.unwrap();
        assert_eq!((u.standing, u.standing_reason.as_str()), (Standing::Suspended, "Spam in messages"));
        let live: Option<platform_accounts::Session<AccountId, accounts::Kind>> =
            accounts::sessions().live(db, &session, Utc::now()).await.unwrap();
        assert!(live.is_none(), "the session ended");
        let log = platform_audit::list(db, &platform_audit::Filter::default(), platform_audit::Position::Newest, 10).await.unwrap();
        assert_eq!(log.entries.len(), 1);
        assert_eq!((log.entries[0].action.as_str(), log.entries[0].ip.as_deref()), ("user.suspend", Some("10.0.0.1")));
        assert!(bo::set_standing(db, admin, ops, Standing::Banned, "Not allowed", Utc::now()).await.is_err(), "not oneself");
        let found =
            bo::users(db, &UserFilter { q: Some("WRIT".into()), standing: Some(Standing::Suspended) }, &At::First, 10).await.unwrap();
        assert_eq!(found.len(), 1);
        bo::verify(db, admin, user, Utc::now()).await.unwrap();
        assert!(matches!(bo::verify(db, admin, user, Utc::now()).await, Err(StoreError::Rule(_))));
    }
}

#[tokio::test]
async fn settings_fall_back_to_the_defaults_and_refuse_bad_values() {
    for backend in backends() {
        let t = fresh_db(backend, gigstream_store::migrations(), "gigstream_template").await;
        let db = &t.db;
        let ops = account(db, "ops", true).await;
        let defaults = Settings { fees: FeePolicy::default(), clearance_days: 14 };
        assert_eq!(bo::settings(db, defaults).await.unwrap(), defaults);
        let admin = Admin { id: ops, ip: None };
        let bad = Settings { clearance_days: 1000, ..defaults };
        assert!(matches!(
            bo::save_settings(db, admin, defaults, bad, Utc::now()).await,
            Err(StoreError::Refused { field: "clearance_days", .. })
        ));
        assert_eq!(bo::settings(db, defaults).await.unwrap(), defaults, "nothing stored");
        let new = Settings { fees: FeePolicy { platform_fee_bps: 1500, buyer_fee_bps: 0, buyer_fee_min_minor: 0 }, clearance_days: 3 };
        bo::save_settings(db, admin, defaults, new, Utc::now()).await.unwrap();
        assert_eq!(bo::settings(db, defaults).await.unwrap(), new);
    }
}

#[tokio::test]
async fn a_deleted_account_is_anonymised_and_can_be_exported_before() {
    for backend in backends() {
        let t = fresh_db(backend, gigstream_store::migrations(), "gigstream_template").await;
        let db = &t.db;
        let user = account(db, "writer", false).await;
        // A gig with a picture and two videos: one converted (its original gone), one waiting.
        let basic = Package {
            tier: Tier::Basic,
            name: "Basic".into(),
            description: String::new(),
            price_minor: 5_000,
            delivery_days: 2,
            revisions: 0,
            items: vec![],
        };
        let input = GigInput {
            title: Title::parse("I will write your product pages").unwrap(),
            category: "writing-translation".into(),
            subcategory: None,
            tags: Tag::parse_list("copy").unwrap(),
            description_html: "<p>Pages</p>".into(),
            faq: vec![],
            requirements: vec![],
            currency: Currency::Usd,
            packages: vec![basic],
        };
        let gig = gigs::create(db, user, &input, Utc::now()).await.unwrap();
        gigs::add_image(db, gig.id, user, "gigs/aa/cover.png", "image/png", Utc::now()).await.unwrap();
        let done_video = videos::add(db, gig.id, user, "videos/aa/tour.mov", "video/quicktime", Utc::now()).await.unwrap();
        videos::finished(db, VideoKind::Gig, done_video.id, "videos/aa/tour.mp4", "videos/aa/tour.jpg", Utc::now()).await.unwrap();
        videos::add(db, gig.id, user, "videos/bb/intro.webm", "video/webm", Utc::now()).await.unwrap();
        let export = privacy::export(db, user).await.unwrap();
        assert_eq!(export.data["account"]["username"], "writer");
        let mut exported: Vec<(&str, &str)> = export.files.iter().map(|f| (f.key.as_str(), f.path.as_str())).collect();
        exported.sort();
        assert_eq!(
            exported,
            [
                ("gigs/aa/cover.png", "files/gig-images/cover.png"),
                ("videos/aa/tour.jpg", "files/gig-videos/tour.jpg"),
                ("videos/aa/tour.mp4", "files/gig-videos/tour.mp4"),
                ("videos/bb/intro.webm", "files/gig-videos/intro.webm"),
            ],
            "{backend:?}"
        );
        let done = privacy::delete_account(db, user, Some("10.0.0.2"), Utc::now()).await.unwrap();
        assert_eq!(done.orders_kept, 0);
        // Every stored file of the person's is handed back for removal, and the rows are gone.
        let mut removed = done.media_keys.clone();
        removed.sort();
        assert_eq!(removed, ["gigs/aa/cover.png", "videos/aa/tour.jpg", "videos/aa/tour.mp4", "videos/bb/intro.webm"]);
        assert!(videos::of_gig(db, gig.id).await.unwrap().is_empty());
        let u = bo::user(db, user).await.unwrap();
        assert_eq!((u.standing, u.display_name.as_str()), (Standing::Deleted, "Deleted user"));
        assert!(u.email.ends_with("@deleted.invalid"));
        assert!(accounts::for_login(db, "writer").await.unwrap().is_none());
        assert!(matches!(privacy::delete_account(db, user, None, Utc::now()).await, Err(StoreError::NotFound)));
    }
}
