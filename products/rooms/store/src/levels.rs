//! Levels as data (requirement 9, BR-3, BR-4): the ladders staff keep in
//! `level_steps` (the XP each level starts at, its badge, the privileges it
//! unlocks), people's levels from their all-time XP counters (maintained
//! with each gift, see [`crate::gifts`]), the badges shown next to people,
//! and what their levels let them do.

use crate::{on_pool, refused, BeginWrite, Db, StoreError, StoreResult};
use chrono::{DateTime, Utc};
use rooms_domain::ids::{AccountId, RoomId};
use rooms_domain::progress::Track;
use rooms_domain::status::{self, Ladder, Privilege, Step};
use serde::Serialize;
use serde_json::json;
use std::collections::{BTreeSet, HashMap};

/// The three ladders.
#[derive(Debug, Clone, Serialize)]
pub struct Ladders {
    pub wealth: Ladder,
    pub charm: Ladder,
    pub room: Ladder,
}

impl Ladders {
    pub fn get(&self, track: Track) -> &Ladder {
        match track {
            Track::Wealth => &self.wealth,
            Track::Charm => &self.charm,
            Track::Room => &self.room,
        }
    }
}

fn track_of(s: &str) -> Option<Track> {
    [Track::Wealth, Track::Charm, Track::Room].into_iter().find(|t| t.as_str() == s)
}

type StepRow = (String, i64, i64, String, String);

fn ladder_from(track: Track, rows: &[StepRow]) -> StoreResult<Ladder> {
    let mut steps = vec![];
    for (t, level, xp, badge, privileges) in rows {
        if t.as_str() != track.as_str() {
            continue;
        }
        let privileges = status::parse_privileges(privileges).map_err(StoreError::Invalid)?;
        steps.push(Step { level: *level, xp: *xp, badge: badge.clone(), privileges });
    }
    if steps.is_empty() {
        return Ok(Ladder::default_for(track));
    }
    Ladder::new(track, steps).map_err(StoreError::Invalid)
}

/// Every ladder, as stored (a track without rows has its default).
pub async fn ladders(db: &Db) -> StoreResult<Ladders> {
    let rows: Vec<StepRow> = on_pool!(db, p => sqlx::query_as("SELECT track, level, xp, badge, privileges FROM level_steps ORDER BY track, level").fetch_all(p).await?);
    Ok(Ladders {
        wealth: ladder_from(Track::Wealth, &rows)?,
        charm: ladder_from(Track::Charm, &rows)?,
        room: ladder_from(Track::Room, &rows)?,
    })
}

/// The ladders as of `version` (the `level_steps` row of
/// `cache_versions`, read by the caller): this node's copy when it is of
/// that version, else read again and kept.
pub async fn ladders_at(db: &Db, version: i64) -> StoreResult<std::sync::Arc<Ladders>> {
    LADDERS.at_or_read(db, version, || ladders(db)).await
}

static LADDERS: crate::node_cache::PerDb<crate::node_cache::Versioned<Ladders>> = crate::node_cache::PerDb::new();

/// Staff set one level of a track (new or changed); the whole ladder must
/// still hold (from 0, no gaps, XP increasing) or nothing is written.
pub async fn set_step(db: &Db, track: Track, step: &Step, staff: Option<AccountId>, now: DateTime<Utc>) -> StoreResult<Ladder> {
    if step.badge.trim().is_empty() || step.badge.chars().count() > 30 {
        return Err(StoreError::Refused { field: "badge", message: "Give the badge a name of 1 to 30 characters.".into() });
    }
    let privileges = status::privileges_text(&step.privileges);
    on_pool!(db, p => {
        let mut tx = p.begin_write().await?;
        sqlx::query(
            "INSERT INTO level_steps (track, level, xp, badge, privileges) VALUES ($1, $2, $3, $4, $5)
             ON CONFLICT (track, level) DO UPDATE SET xp = excluded.xp, badge = excluded.badge, privileges = excluded.privileges")
            .bind(track.as_str()).bind(step.level).bind(step.xp).bind(step.badge.trim()).bind(&privileges).execute(&mut *tx).await?;
        let rows: Vec<StepRow> = sqlx::query_as("SELECT track, level, xp, badge, privileges FROM level_steps WHERE track = $1 ORDER BY level")
            .bind(track.as_str()).fetch_all(&mut *tx).await?;
        let ladder = ladder_from(track, &rows).map_err(|e| match e {
            StoreError::Invalid(m) => StoreError::Refused { field: "xp", message: format!("That breaks the ladder: {m}.") },
            other => other,
        })?;
        audit!(tx, staff, "level_step_set", "level", format!("{}:{}", track.as_str(), step.level),
            format!("from {} XP, badge {}, unlocks [{}]", step.xp, step.badge.trim(), privileges), now);
        tx.commit().await?;
        Ok(ladder)
    })
}

/// A level on one track with its XP, badge and the next threshold.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Level {
    pub track: Track,
    pub xp: i64,
    pub level: i64,
    pub badge: String,
    pub next_at: Option<i64>,
}

impl Level {
    pub fn on(ladder: &Ladder, xp: i64) -> Level {
        let level = ladder.level(xp);
        Level {
            track: ladder.track,
            xp,
            level,
            badge: ladder.step(level).map(|s| s.badge.clone()).unwrap_or_default(),
            next_at: ladder.thresholds().next_at(xp),
        }
    }

    /// Percent of the way to the next level (100 at the top).
    pub fn progress(&self, ladder: &Ladder) -> i64 {
        let start = ladder.step(self.level).map_or(0, |s| s.xp);
        match self.next_at {
            Some(next) if next > start => ((self.xp - start) * 100 / (next - start)).clamp(0, 100),
            _ => 100,
        }
    }
}

/// The counter board holding a track's XP.
pub fn xp_board(track: Track) -> &'static str {
    match track {
        Track::Wealth => "wealth_xp",
        Track::Charm => "charm_xp",
        Track::Room => "room",
    }
}

/// All-time XP of `subjects` on a track's board (absent: 0).
pub async fn xp_of(db: &Db, track: Track, subjects: &[String]) -> StoreResult<HashMap<String, i64>> {
    let mut out = HashMap::new();
    for chunk in subjects.chunks(100) {
        let marks = platform_db::placeholders(2, chunk.len());
        let sql = format!(
            "SELECT subject, CAST(SUM(amount) AS BIGINT) FROM gift_counters WHERE board = $1 AND period = 'all' AND subject IN ({marks}) GROUP BY subject"
        );
        let rows: Vec<(String, i64)> = on_pool!(db, p => {
            let mut q = sqlx::query_as(&sql).bind(xp_board(track));
            for s in chunk {
                q = q.bind(s.as_str());
            }
            q.fetch_all(p).await?
        });
        out.extend(rows);
    }
    Ok(out)
}

/// `subject`'s level on a track.
pub async fn level(db: &Db, track: Track, subject: &str) -> StoreResult<Level> {
    let ladders = ladders(db).await?;
    let xp = xp_of(db, track, &[subject.to_string()]).await?.get(subject).copied().unwrap_or(0);
    Ok(Level::on(ladders.get(track), xp))
}

/// A room's level (BR-3: coins ever spent in it).
pub async fn room_level(db: &Db, room: RoomId) -> StoreResult<Level> {
    level(db, Track::Room, &room.to_string()).await
}

/// What is shown next to a person wherever they appear: their wealth and
/// charm levels with badges, whether their name is highlighted.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Badge {
    pub account_id: AccountId,
    pub wealth: i64,
    pub wealth_badge: String,
    pub charm: i64,
    pub charm_badge: String,
    pub coloured: bool,
    pub privileges: BTreeSet<Privilege>,
    /// The code of the frame worn around the avatar.
    pub frame: Option<String>,
    /// The VIP tier held (0: none) and its name.
    pub vip: i64,
    pub vip_name: Option<String>,
}

impl Badge {
    pub fn has(&self, p: Privilege) -> bool {
        self.privileges.contains(&p)
    }
}

/// The badges of `who` (each once, in the order given).
pub async fn badges(db: &Db, who: &[AccountId]) -> StoreResult<Vec<Badge>> {
    let mut ids: Vec<AccountId> = vec![];
    for a in who {
        if !ids.contains(a) {
            ids.push(*a);
        }
    }
    let subjects: Vec<String> = ids.iter().map(AccountId::to_string).collect();
    let ladders = ladders(db).await?;
    let wealth = xp_of(db, Track::Wealth, &subjects).await?;
    let charm = xp_of(db, Track::Charm, &subjects).await?;
    let now = Utc::now();
    let frames = crate::frames::worn(db, &ids, now).await?;
    let vips = crate::vip::held(db, &ids, now).await?;
    let tiers = if vips.is_empty() { None } else { Some(crate::vip::tiers(db).await?) };
    Ok(ids
        .iter()
        .zip(&subjects)
        .map(|(id, s)| {
            let w = Level::on(&ladders.wealth, wealth.get(s).copied().unwrap_or(0));
            let c = Level::on(&ladders.charm, charm.get(s).copied().unwrap_or(0));
            let mut privileges = ladders.wealth.unlocked(w.level);
            privileges.extend(ladders.charm.unlocked(c.level));
            let vip = vips.iter().find(|(a, _, _)| a == id).map_or(0, |(_, t, _)| *t);
            let vip_name = tiers.as_ref().and_then(|t| t.get(vip)).map(|t| t.name.clone());
            if let Some(t) = &tiers {
                privileges.extend(t.unlocked(vip));
            }
            Badge {
                account_id: *id,
                wealth: w.level,
                wealth_badge: w.badge,
                charm: c.level,
                charm_badge: c.badge,
                coloured: privileges.contains(&Privilege::ColouredName),
                privileges,
                frame: frames.iter().find(|(a, _)| a == id).map(|(_, c)| c.clone()),
                vip,
                vip_name,
            }
        })
        .collect())
}

/// One person's badge.
pub async fn badge(db: &Db, who: AccountId) -> StoreResult<Badge> {
    badges(db, &[who]).await?.pop().ok_or(StoreError::NotFound)
}

/// Refuses with `level_required` unless `who` has `privilege`.
pub async fn require(db: &Db, who: AccountId, privilege: Privilege, message: &str) -> StoreResult<Badge> {
    let b = badge(db, who).await?;
    if b.has(privilege) {
        Ok(b)
    } else {
        Err(refused("level_required", message))
    }
}

/// Announces `who` entering `room` when a level or a VIP tier lets them
/// ([`Privilege::EntryNotice`]): an `entry_notice` room event. Returns
/// whether one was written.
pub async fn announce_entry(db: &Db, room: RoomId, who: AccountId, now: DateTime<Utc>) -> StoreResult<bool> {
    let b = badge(db, who).await?;
    if !b.has(Privilege::EntryNotice) {
        return Ok(false);
    }
    on_pool!(db, p => {
        let mut tx = p.begin_write().await?;
        let name: String = sqlx::query_scalar("SELECT display_name FROM accounts WHERE id = $1").bind(who).fetch_one(&mut *tx).await?;
        room_event!(tx, room, "entry_notice", json!({"account": who, "name": name, "wealth": b.wealth, "badge": b.wealth_badge, "vip": b.vip, "vip_name": b.vip_name}), now);
        tx.commit().await?;
    });
    Ok(true)
}

/// The levels reached on a track by a subject, with when (newest first).
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Reached {
    pub track: String,
    pub level: i64,
    pub reached_at: DateTime<Utc>,
}

pub async fn reached(db: &Db, subject: &str) -> StoreResult<Vec<Reached>> {
    Ok(on_pool!(db, p => sqlx::query_as::<_, Reached>(
        "SELECT track, level, reached_at FROM level_events WHERE subject = $1 ORDER BY reached_at DESC, level DESC LIMIT 50")
        .bind(subject).fetch_all(p).await?))
}

/// Parses a track's name.
pub fn parse_track(s: &str) -> Option<Track> {
    track_of(s)
}
