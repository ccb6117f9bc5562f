//! The binary's subcommands, run as a real process against a temp store.

use fantooo_domain::AdminRole;
use std::process::Command;

fn fantooo(dir: &std::path::Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_fantooo"));
    c.env("FANTOOO_DATA_DIR", dir).env_remove("DATABASE_URL").env("RUST_LOG", "warn");
    c
}

#[tokio::test]
async fn create_admin_migrate_seed_and_jobs_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let out = fantooo(dir.path()).arg("migrate").output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));

    let out = fantooo(dir.path())
        .args(["create-admin", "--name", "Ops Lead", "--email", "Lead@Example.com"])
        .env("FANTOOO_ADMIN_PASSWORD", "Cli!pass123")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).contains("created super_admin admin lead@example.com"));

    // Weak passwords and unknown roles are refused with a clear message and a failing exit code.
    let out = fantooo(dir.path())
        .args(["create-admin", "--name", "X", "--email", "x@example.com"])
        .env("FANTOOO_ADMIN_PASSWORD", "weak")
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("at least 8 characters"));
    let out = fantooo(dir.path())
        .args(["create-admin", "--name", "X", "--email", "x@example.com", "--role", "king"])
        .env("FANTOOO_ADMIN_PASSWORD", "Cli!pass123")
        .output()
        .unwrap();
    assert!(!out.status.success());

    let out = fantooo(dir.path()).arg("seed-demo").output().unwrap();
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains("Demo logins"));
    let out = fantooo(dir.path()).arg("seed-demo").output().unwrap();
    assert!(String::from_utf8_lossy(&out.stdout).contains("already present"), "seeding twice is a no-op");

    for job in ["partitions", "housekeeping", "assign", "idle-check", "escalate", "auto-close", "operator-stats", "daily-stats"] {
        let out = fantooo(dir.path()).args(["job", job]).output().unwrap();
        assert!(out.status.success(), "job {job}: {}", String::from_utf8_lossy(&out.stderr));
    }

    let out = fantooo(dir.path()).arg("check").output().unwrap();
    assert!(out.status.success(), "check: {}", String::from_utf8_lossy(&out.stdout));
    assert!(String::from_utf8_lossy(&out.stdout).contains("\"violations\": []"));

    let db = fantooo_store::Db::connect(&format!("sqlite://{}", dir.path().join("fantooo.db").display()), 2).await.unwrap();
    let admins = fantooo_store::admins::list(&db).await.unwrap();
    let lead = admins.iter().find(|a| a.email == "lead@example.com").expect("created");
    assert_eq!(lead.role, AdminRole::SuperAdmin);
    let runs = platform_jobs::runs::latest(&db).await.unwrap();
    assert_eq!(runs.len(), 8, "every job run is recorded: {runs:?}");
    assert!(runs.iter().all(|r| r.error.is_none()));
    assert_eq!(admins.len(), 2, "the CLI admin and the demo admin");
    assert!(fantooo_store::profiles::count_active(&db).await.unwrap() >= 12);
}
