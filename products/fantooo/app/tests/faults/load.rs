//! The load the faults hit, and what must hold afterwards: users sending
//! paid messages with client ids (retrying failures with the same id, as
//! the page script does), then the database and the sockets checked
//! against what the clients were told.

use crate::client::{self, ChatUser, Reply, Seen};
use fantooo_domain::ids::{ChatId, UserId};
use fantooo_store::Db;
use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// One active profile to chat with, straight into the store.
pub async fn profile(db: &Db) -> String {
    let id = fantooo_store::profiles::create(
        db,
        &fantooo_store::profiles::NewProfile {
            name: "Wanjiru".into(),
            age: 27,
            gender: fantooo_domain::Gender::Female,
            location: "Nairobi".into(),
            bio: "Likes music and long walks".into(),
            personality_traits: vec!["warm".into()],
            interests: vec!["music".into()],
            occupation: None,
            profile_pictures: (0..3).map(|k| format!("/media/generated/fault-{k}.svg")).collect(),
            response_style: Some("friendly".into()),
            response_templates: vec![],
            personality_guidelines: None,
            is_featured: false,
            featured_until: None,
            tags: vec![],
            category: None,
            popularity_score: 1,
        },
        None,
    )
    .await
    .expect("create profile");
    id.to_string()
}

/// Users with credits enough for every message, each in a chat with `profile`.
pub async fn chatting_users(db: &Db, base: &str, profile: &str, n: usize) -> Vec<ChatUser> {
    let http = client::http();
    let mut users = vec![];
    for i in 0..n {
        let user = client::user_with_chat(&http, base, &format!("fault{i}x{:x}", rand::random::<u16>()), profile).await;
        let id: UserId = user.user_id.parse().expect("user id");
        fantooo_store::ledger::post(
            db,
            &fantooo_store::ledger::Movement {
                user: id,
                delta: fantooo_domain::Credits(100_000),
                reason: fantooo_domain::ledger::LedgerReason::Bonus,
                reference: None,
                idempotency_key: &format!("fault-grant:{}", user.user_id),
                created_by: None,
            },
        )
        .await
        .expect("grant credits");
        users.push(user);
    }
    users
}

/// A send the server confirmed (2xx), with the message it confirmed.
#[derive(Debug, Clone)]
pub struct Acked {
    pub client_id: String,
    pub seq: i64,
}

#[derive(Debug, Default)]
pub struct SendLog {
    pub acked: Vec<Acked>,
    /// Every attempt that did not get a 2xx, in order.
    pub failures: Vec<Reply>,
    /// Client ids given up on (never confirmed before the deadline).
    pub abandoned: Vec<String>,
}

pub struct Series {
    pub user: ChatUser,
    /// Base URLs; message n goes first to `nodes[n % len]`.
    pub nodes: Vec<String>,
    pub count: usize,
    /// Pause between two messages.
    pub pace: Duration,
    /// Confirmed sends across all series (what fault triggers wait for).
    pub acked_total: Arc<AtomicUsize>,
}

/// Sends `count` paid messages with client ids "<user>-<n>". A failed
/// attempt is retried with the same client id on the next node, so a send
/// whose response was lost cannot be stored twice.
pub async fn send_series(s: Series) -> SendLog {
    let http = client::http();
    let mut log = SendLog::default();
    for n in 0..s.count {
        let client_id = format!("{}-{n}", &s.user.user_id[..8]);
        let content = format!("paid message {n} from {}", s.user.user_id);
        let give_up = Instant::now() + Duration::from_secs(45);
        let mut attempt = 0usize;
        loop {
            let base = &s.nodes[(n + attempt) % s.nodes.len()];
            let r = client::send_message(&http, base, &s.user, &content, &client_id).await;
            if r.ok() {
                log.acked.push(Acked { client_id: client_id.clone(), seq: r.body["message"]["seq"].as_i64().expect("seq in reply") });
                s.acked_total.fetch_add(1, Ordering::Relaxed);
                break;
            }
            log.failures.push(r);
            attempt += 1;
            if Instant::now() > give_up {
                log.abandoned.push(client_id.clone());
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        tokio::time::sleep(s.pace).await;
    }
    log
}

/// Waits until at least `n` sends were confirmed.
pub async fn until_acked(total: &AtomicUsize, n: usize) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while total.load(Ordering::Relaxed) < n {
        assert!(Instant::now() < deadline, "the load stalled at {} confirmed sends", total.load(Ordering::Relaxed));
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// Every confirmed send is stored exactly once, as the message it was
/// confirmed as, and nothing else is stored. Returns the chat's seqs.
pub async fn assert_stored_once(db: &Db, user: &ChatUser, log: &SendLog) -> Vec<i64> {
    assert!(log.abandoned.is_empty(), "sends never confirmed: {:?}", log.abandoned);
    let chat: ChatId = user.chat.parse().expect("chat id");
    let stored = fantooo_store::messages::since(db, chat, 0, 100_000).await.expect("read messages");
    let mut by_client_id: HashMap<String, Vec<i64>> = HashMap::new();
    for m in &stored {
        let id = m.client_id.clone().unwrap_or_else(|| panic!("message {} has no client id", m.seq));
        by_client_id.entry(id).or_default().push(m.seq);
    }
    let duplicated: Vec<_> = by_client_id.iter().filter(|(_, seqs)| seqs.len() > 1).collect();
    assert!(duplicated.is_empty(), "client ids stored more than once: {duplicated:?}");
    for a in &log.acked {
        assert_eq!(
            by_client_id.get(&a.client_id),
            Some(&vec![a.seq]),
            "confirmed send {} must be stored once, as seq {}",
            a.client_id,
            a.seq
        );
    }
    assert_eq!(stored.len(), log.acked.len(), "only confirmed sends are stored");
    stored.iter().map(|m| m.seq).collect()
}

/// The follower got every stored message once, in order, and was never
/// refused or told to reload.
pub fn assert_followed(seen: &Seen, stored: &[i64]) {
    assert!(seen.seqs.windows(2).all(|w| w[0] < w[1]), "socket saw duplicates or went back: {:?}", seen.seqs);
    assert_eq!(seen.seqs, stored, "socket must see every stored message (reconnects: {})", seen.reconnects);
    assert!(seen.complaints.is_empty(), "the socket was refused: {:?}", seen.complaints);
}

/// Balances = ledger, one charge per paid message, counters = messages:
/// through the library and through `fantooo check`, as an admin would.
pub async fn assert_invariants(db: &Db, database_url: &str) {
    let report = fantooo_store::invariants::check(db).await.expect("invariant check");
    assert!(report.is_clean(), "invariants broken: {:?}", report.violations);
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_fantooo"))
        .arg("check")
        .env("DATABASE_URL", database_url)
        .env("RUST_LOG", "warn")
        .output()
        .expect("run fantooo check");
    assert!(out.status.success(), "fantooo check: {}", String::from_utf8_lossy(&out.stdout));
}
