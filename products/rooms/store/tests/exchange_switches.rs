//! Staff switches for the exchanges on every backend under test: without a
//! row a switch follows the configuration; switching off and on is stored
//! with the reason and audited in the same transaction; the same state
//! again writes nothing.

mod support;
use support::{dbs, user};

use chrono::Utc;
use rooms_store::exchange_switches::{get, set, Exchange};

async fn audit_actions(db: &platform_db::Db, subject: &str) -> Vec<(String, Option<String>)> {
    let f = platform_audit::Filter { subject_kind: Some("exchange"), subject_id: Some(subject), ..Default::default() };
    platform_audit::list(db, &f, platform_audit::Position::Newest, 50)
        .await
        .unwrap()
        .entries
        .into_iter()
        .map(|e| (e.action, e.reason))
        .collect()
}

#[tokio::test]
async fn switches_follow_configuration_until_staff_change_them_and_every_change_is_audited() {
    for (_b, t) in dbs().await {
        let db = &t.db;
        let staff = user(db, "staffer").await;
        // No row: configuration.
        assert!(get(db, Exchange::Diamonds, true).await.unwrap().open);
        assert!(!get(db, Exchange::Salary, false).await.unwrap().open);
        assert!(get(db, Exchange::Salary, true).await.unwrap().changed_at.is_none());

        assert!(set(db, staff, Exchange::Diamonds, false, "  Rates under review ", true, Utc::now()).await.unwrap());
        let s = get(db, Exchange::Diamonds, true).await.unwrap();
        assert!(!s.open);
        assert_eq!(s.reason, "Rates under review");
        assert_eq!(s.changed_by, Some(staff));
        assert_eq!(s.closed_message(), "Diamond exchange is switched off for now: Rates under review");
        // The other switch is untouched.
        assert!(get(db, Exchange::Salary, true).await.unwrap().open);
        // The stored row wins over the configuration.
        assert!(!get(db, Exchange::Diamonds, true).await.unwrap().open);

        // The same again: nothing written.
        assert!(!set(db, staff, Exchange::Diamonds, false, "Rates under review", true, Utc::now()).await.unwrap());
        assert_eq!(audit_actions(db, "diamonds").await, vec![("exchange.close".to_string(), Some("Rates under review".to_string()))]);

        assert!(set(db, staff, Exchange::Diamonds, true, "", true, Utc::now()).await.unwrap());
        assert!(get(db, Exchange::Diamonds, false).await.unwrap().open);
        let actions: Vec<String> = audit_actions(db, "diamonds").await.into_iter().map(|a| a.0).collect();
        assert_eq!(actions, vec!["exchange.open", "exchange.close"]);
        assert!(audit_actions(db, "salary").await.is_empty());

        // Switching salary off while the configuration says on.
        assert!(set(db, staff, Exchange::Salary, false, "", true, Utc::now()).await.unwrap());
        let s = get(db, Exchange::Salary, true).await.unwrap();
        assert_eq!(s.closed_message(), "Salary exchange is switched off for now.");
    }
}
