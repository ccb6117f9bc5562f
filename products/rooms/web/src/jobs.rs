//! Rooms' scheduled jobs on platform-jobs: the presence sweep (silent
//! participants leave, seat holds lapse, invitations expire, empty rooms
//! close) every 10 s, and housekeeping.

use crate::voice::{VoiceChange, VoiceSeam};
use chrono::{DateTime, Utc};
use platform_jobs::Runner;
use rooms_domain::progress::RankingClock;
use rooms_store::{Db, StoreResult};
use serde_json::{json, Value};
use std::sync::Arc;
use std::time::Duration;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Job {
    /// Presence and empty rooms (requirement 3.5: at least every 30 s).
    Sweep,
    /// Expired sessions and old job runs.
    Housekeeping,
    /// Lapsed avatar frames are removed (5.7).
    Frames,
    /// Lapsed VIP memberships end (9.5).
    Vip,
    /// Leaderboard totals catch up with gifts whose fold was missed (a node
    /// that stopped, a gift slow to commit).
    Boards,
    /// Agency invitations expire, memberships end after their notice (6.1,
    /// 6.5), seat sessions a crash left open are mended (mic time itself is
    /// recorded at each seat change) and last month settles (BR-6).
    Agencies,
    /// Gifts accepted but not yet credited (a node that stopped between a
    /// sender's commit and its credit batch) are credited.
    GiftCredits,
}

impl Job {
    pub const ALL: [Job; 7] = [Job::Sweep, Job::Housekeeping, Job::Frames, Job::Vip, Job::Boards, Job::Agencies, Job::GiftCredits];

    pub fn from_name(name: &str) -> Option<Job> {
        Job::ALL.into_iter().find(|j| platform_jobs::Job::name(*j) == name)
    }
}

impl platform_jobs::Job for Job {
    fn name(self) -> &'static str {
        match self {
            Job::Sweep => "sweep",
            Job::Housekeeping => "housekeeping",
            Job::Frames => "frames",
            Job::Vip => "vip",
            Job::Boards => "boards",
            Job::Agencies => "agencies",
            Job::GiftCredits => "gift_credits",
        }
    }
    fn every(self) -> Duration {
        match self {
            Job::Sweep => rooms_domain::limits::SWEEP_EVERY,
            Job::Housekeeping => Duration::from_secs(6 * 3600),
            Job::Frames => Duration::from_secs(60),
            Job::Vip => Duration::from_secs(60),
            Job::Boards => Duration::from_secs(60),
            Job::Agencies => Duration::from_secs(60),
            Job::GiftCredits => Duration::from_secs(30),
        }
    }
}

async fn run(db: Db, voice: Arc<dyn VoiceSeam>, clock: RankingClock, job: Job, now: DateTime<Utc>) -> StoreResult<Value> {
    match job {
        Job::Sweep => {
            let c = rooms_store::sweep::run(&db, now).await?;
            // Whoever the sweep took out leaves the room's audio too.
            for (room, account) in &c.gone {
                voice.apply(VoiceChange::Left { room: *room, account: *account });
            }
            for room in &c.closed {
                voice.apply(VoiceChange::RoomClosed(*room));
            }
            let requests_expired = rooms_store::coin_requests::expire_due(&db, now).await?;
            Ok(
                json!({"left": c.left, "invites_expired": c.invites_expired, "rooms_closed": c.rooms_closed, "coin_requests_expired": requests_expired}),
            )
        }
        Job::Housekeeping => {
            let day = now - chrono::Duration::days(1);
            let sessions = rooms_store::accounts::SESSIONS.purge_expired(&db, day).await?;
            let runs = platform_jobs::runs::purge(&db, now - chrono::Duration::days(7)).await?;
            Ok(json!({"sessions": sessions, "job_runs": runs}))
        }
        Job::Frames => Ok(json!({"expired": rooms_store::frames::expire(&db, now).await?})),
        Job::Vip => {
            let x = rooms_store::vip::expire(&db, now).await?;
            // Whoever sat on a VIP seat that went with the tier is off it: muted in voice.
            for u in &x.unseated {
                voice.apply(VoiceChange::Unseated { room: u.room, account: u.account });
            }
            Ok(json!({"expired": x.ended.len(), "unseated": x.unseated.len()}))
        }
        Job::Boards => {
            use rooms_store::leaderboards;
            let refreshed = leaderboards::refresh_since(&db, &clock, now - leaderboards::REFRESH_WINDOW).await?;
            Ok(json!({"refreshed": refreshed, "folded": leaderboards::fold(&db, &clock, now).await?}))
        }
        Job::GiftCredits => Ok(json!({"credited": rooms_store::gifts::credit_pending(&db, now).await?})),
        Job::Agencies => {
            let invitations_expired = rooms_store::agencies::expire_invitations(&db, now).await?;
            let memberships_ended = rooms_store::agencies::end_due(&db, now).await?;
            // Mic time is recorded with each seat change; this only mends sessions a crash left open.
            let sessions = rooms_store::seat_sessions::reconcile(&db, now).await?;
            let settled = rooms_store::agencies::settle_last_month(&db, rooms_domain::agency::DEFAULT_IECP, now).await?;
            Ok(
                json!({"invitations_expired": invitations_expired, "memberships_ended": memberships_ended, "sessions_closed": sessions.closed, "sessions_opened": sessions.opened, "months_settled": settled}),
            )
        }
    }
}

/// The runner platform-jobs calls; `voice` follows whoever the sweep takes
/// out of a room (the voice of this process: passes live in its memory);
/// `clock` is the app's ranking clock (`Economy::settings.clock`), which
/// the `boards` job keys its periods by.
pub fn runner(db: Db, voice: Arc<dyn VoiceSeam>, clock: RankingClock) -> Runner<Job> {
    Arc::new(move |job, now| {
        let db = db.clone();
        Box::pin(run(db, voice.clone(), clock, job, now))
    })
}

/// Starts the leader-elected scheduler for every job; `changed` wakes the
/// live fan-out after a job wrote events.
pub fn spawn(db: Db, node: String, voice: Arc<dyn VoiceSeam>, clock: RankingClock, changed: Arc<dyn Fn() + Send + Sync>) {
    platform_jobs::spawn_scheduler(db.clone(), node, Job::ALL.to_vec(), runner(db, voice, clock), changed);
}
