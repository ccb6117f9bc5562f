//! PostgreSQL restarted under load: requests fail cleanly while it is down,
//! and the nodes recover by themselves, without a restart of their own.
//! The test runs its own cluster so the restart cannot hit other tests.

use crate::client::{self, Follower};
use crate::cluster::{self, ThrowawayCluster};
use crate::load::{self, Series};
use crate::node::Node;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const USERS: usize = 3;
const MESSAGES: usize = 60;
const OUTAGE: Duration = Duration::from_secs(3);

#[tokio::test]
async fn a_database_restart_fails_requests_cleanly_and_the_node_recovers() {
    if cluster::test_database_url("a_database_restart_fails_requests_cleanly_and_the_node_recovers").is_none() {
        return;
    }
    let pg = ThrowawayCluster::start();
    let (url, db) = cluster::fresh_database(&pg.url).await;
    let mut node = Node::start(&url, "restart-a").await;
    // A second node, to prove cross-node wake-ups (LISTEN) come back too.
    let mut peer = Node::start(&url, "restart-b").await;
    let profile = load::profile(&db).await;
    let users = load::chatting_users(&db, &node.url, &profile, USERS).await;
    let mut followers = vec![];
    for u in &users {
        followers.push(Follower::start(vec![node.url.clone()], u).await);
    }

    let acked = Arc::new(AtomicUsize::new(0));
    let senders: Vec<_> = users
        .iter()
        .map(|u| {
            tokio::spawn(load::send_series(Series {
                user: u.clone(),
                nodes: vec![node.url.clone()],
                count: MESSAGES,
                pace: Duration::from_millis(40),
                acked_total: acked.clone(),
            }))
        })
        .collect();
    let health = HealthProbe::start(node.url.clone());

    load::until_acked(&acked, USERS * MESSAGES / 4).await;
    let restart = {
        let pg_restart = move || {
            pg.restart(OUTAGE);
            pg
        };
        tokio::task::spawn_blocking(pg_restart)
    };
    let pg = restart.await.expect("restart");
    let back_at = Instant::now();
    assert!(node.healthy_within(Duration::from_secs(20)).await, "the node must recover without a restart");
    assert!(peer.healthy_within(Duration::from_secs(20)).await, "the peer must recover without a restart");
    eprintln!("healthy again {:?} after the database came back", back_at.elapsed());

    let mut logs = vec![];
    for s in senders {
        logs.push(s.await.expect("sender"));
    }
    // While the database is down a request either waits for it (the pool
    // keeps reconnecting until its acquire timeout) or fails with a 5xx.
    let probes = health.finish().await;
    assert!(
        probes.iter().any(|(status, took)| *status != Some(200) || *took > Duration::from_secs(1)),
        "the node never noticed the outage: {probes:?}"
    );
    assert!(probes.iter().all(|(status, _)| matches!(status, Some(200 | 503))), "health answers 200 or 503 only: {probes:?}");
    assert!(node.is_running() && peer.is_running(), "no node may exit");

    for f in logs.iter().flat_map(|l| &l.failures) {
        let status = f
            .status
            .unwrap_or_else(|| panic!("no HTTP answer during the outage (crash or hang) after {:?}: {:?}", f.took, f.transport_error));
        assert!((500..600).contains(&status), "an outage is a server-side failure (5xx), never {status}: {:?}", f.body);
        assert!(f.took < Duration::from_secs(31), "a request hung for {:?}", f.took);
    }

    for ((user, log), follower) in users.iter().zip(&logs).zip(followers) {
        let stored = load::assert_stored_once(&db, user, log).await;
        assert_eq!(stored.len(), MESSAGES);
        assert!(follower.caught_up(&stored, Duration::from_secs(10)).await, "delivery to the socket of {} did not resume", user.user_id);
        let seen = follower.finish().await;
        load::assert_followed(&seen, &stored);
    }
    assert_peer_wakeups_resumed(&node.url, &peer.url, &users[0]).await;
    load::assert_invariants(&db, &url).await;
    db.close().await;
    drop(pg);
}

/// Messages sent through `send_node` reach a socket on `socket_node`
/// promptly. A tailer woken by NOTIFY delivers in milliseconds; one left to
/// its 500 ms poll (LISTEN never came back) takes 250 ms in the median.
async fn assert_peer_wakeups_resumed(socket_node: &str, send_node: &str, user: &client::ChatUser) {
    let http = client::http();
    let follower = Follower::start(vec![socket_node.to_string()], user).await;
    let mut took = vec![];
    for n in 0..9 {
        let content = format!("across nodes {n}");
        let sent = Instant::now();
        let r = client::send_message(&http, send_node, user, &content, &format!("across-{n}")).await;
        assert!(r.ok(), "send through the peer after recovery: {r:?}");
        let seq = r.body["message"]["seq"].as_i64().expect("seq");
        assert!(follower.caught_up(&[seq], Duration::from_secs(3)).await, "a message sent on the peer never reached the socket");
        let arrived = follower.seen.lock().unwrap().arrivals.iter().find(|(c, _)| *c == content).map(|(_, at)| *at).expect("arrival");
        took.push(arrived.saturating_duration_since(sent));
    }
    follower.finish().await;
    took.sort();
    assert!(took[took.len() / 2] < Duration::from_millis(150), "cross-node delivery fell back to polling: {took:?}");
}

/// Polls /api/health every 50 ms and keeps every answer (None: no HTTP
/// response at all) with how long it took.
struct HealthProbe {
    stop: Arc<AtomicBool>,
    probes: Arc<Mutex<Vec<Probe>>>,
    task: tokio::task::JoinHandle<()>,
}

impl HealthProbe {
    fn start(base: String) -> HealthProbe {
        let stop = Arc::new(AtomicBool::new(false));
        let probes = Arc::new(Mutex::new(vec![]));
        let (s, p) = (stop.clone(), probes.clone());
        let task = tokio::spawn(async move {
            let http = client::http();
            while !s.load(Ordering::Relaxed) {
                let started = Instant::now();
                let status = client::get_status(&http, format!("{base}/api/health")).await;
                p.lock().unwrap().push((status, started.elapsed()));
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        });
        HealthProbe { stop, probes, task }
    }

    async fn finish(self) -> Vec<(Option<u16>, Duration)> {
        self.stop.store(true, Ordering::Relaxed);
        let _ = self.task.await;
        let probes = self.probes.lock().unwrap().clone();
        probes
    }
}

/// A probe's status (none when the request failed outright) and latency.
type Probe = (Option<u16>, Duration);
