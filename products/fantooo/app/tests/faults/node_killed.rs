//! kill -9 of a node in the middle of load: its clients move to the other
//! node and nothing committed is lost, doubled or charged twice.

use crate::client::Follower;
use crate::cluster;
use crate::load::{self, Series};
use crate::node::Node;
use std::sync::atomic::AtomicUsize;
use std::sync::Arc;
use std::time::Duration;

const USERS: usize = 6;
const MESSAGES: usize = 40;

#[tokio::test]
async fn a_node_killed_mid_load_loses_and_doubles_nothing() {
    let Some(base) = cluster::test_database_url("a_node_killed_mid_load_loses_and_doubles_nothing") else { return };
    let (url, db) = cluster::fresh_database(&base).await;
    let mut node_a = Node::start(&url, "fault-a").await;
    let node_b = Node::start(&url, "fault-b").await;
    let profile = load::profile(&db).await;
    let users = load::chatting_users(&db, &node_a.url, &profile, USERS).await;

    // Sockets follow every chat on node A, and move to B when A goes away.
    let mut followers = vec![];
    for u in &users {
        followers.push(Follower::start(vec![node_a.url.clone(), node_b.url.clone()], u).await);
    }
    let acked = Arc::new(AtomicUsize::new(0));
    let senders: Vec<_> = users
        .iter()
        .map(|u| {
            tokio::spawn(load::send_series(Series {
                user: u.clone(),
                nodes: vec![node_a.url.clone(), node_b.url.clone()],
                count: MESSAGES,
                pace: Duration::from_millis(10),
                acked_total: acked.clone(),
            }))
        })
        .collect();

    load::until_acked(&acked, USERS * MESSAGES / 3).await;
    node_a.kill();
    eprintln!("killed {} after {} confirmed sends", node_a.name, acked.load(std::sync::atomic::Ordering::Relaxed));

    let mut logs = vec![];
    for s in senders {
        logs.push(s.await.expect("sender"));
    }
    let failed_over: usize = logs.iter().map(|l| l.failures.len()).sum();
    assert!(failed_over > 0, "sends after the kill must have failed on A and moved to B");

    for ((user, log), follower) in users.iter().zip(&logs).zip(followers) {
        let stored = load::assert_stored_once(&db, user, log).await;
        assert_eq!(stored.len(), MESSAGES);
        assert!(follower.caught_up(&stored, Duration::from_secs(10)).await, "socket of {} did not catch up on node B", user.user_id);
        let seen = follower.finish().await;
        assert!(seen.reconnects >= 1, "the socket on A must have been cut");
        load::assert_followed(&seen, &stored);
    }
    load::assert_invariants(&db, &url).await;
    db.close().await;
}
