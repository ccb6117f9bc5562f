//! Standing: what levels (requirement 9, BR-3, BR-4), VIP tiers (BR-5) and
//! owned props (5.5, 5.7) give a person. Each level step is data — the XP
//! it starts at, its badge, the privileges it unlocks — and a person's
//! privileges are the union of every step reached on each track; periods
//! bought (frames, VIP) stack on the time left. Nothing here performs I/O.

use crate::progress::{Thresholds, Track};
use chrono::{DateTime, Duration, Utc};
use serde::Serialize;
use std::collections::BTreeSet;

platform_kernel::text_enum! {
    /// Something a level or a VIP tier unlocks, checked where it applies.
    pub enum Privilege {
        /// The name is shown highlighted in seats, lists and chat.
        ColouredName => "coloured_name",
        /// Entering a room is announced to everyone in it.
        EntryNotice => "entry_notice",
        /// Frames marked premium may be bought.
        PremiumFrames => "premium_frames",
        /// Gifts that name a VIP tier may be sent (up to the tier).
        ExclusiveGifts => "exclusive_gifts",
        /// Room admins cannot kick or block this person; only the owner can.
        KickProtection => "kick_protection",
        /// Others cannot mute this person (BR-5, VIP 4+).
        MuteProtection => "mute_protection",
        /// The person's own room gets the seats their VIP tier adds (within 15).
        ExtraSeats => "extra_seats"
    }
}

impl PartialOrd for Privilege {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Privilege {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.as_str().cmp(other.as_str())
    }
}

/// Privileges stored as a comma-separated list (`''` for none); an unknown
/// name is refused with its text.
pub fn parse_privileges(s: &str) -> Result<Vec<Privilege>, String> {
    s.split(',')
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(|p| p.parse::<Privilege>().map_err(|_| format!("unknown privilege `{p}`")))
        .collect()
}

/// The stored form of a privilege list.
pub fn privileges_text(list: &[Privilege]) -> String {
    list.iter().map(|p| p.as_str()).collect::<Vec<_>>().join(",")
}

/// One level of a track, as staff keep it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Step {
    pub level: i64,
    /// The XP the level starts at.
    pub xp: i64,
    /// The badge's name shown next to the person.
    pub badge: String,
    pub privileges: Vec<Privilege>,
}

/// A track's levels, level 1 first: checked to start at 0 XP, with levels
/// numbered 1, 2, … and XP strictly increasing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Ladder {
    pub track: Track,
    pub steps: Vec<Step>,
}

impl Ladder {
    pub fn new(track: Track, mut steps: Vec<Step>) -> Result<Ladder, String> {
        steps.sort_by_key(|s| s.level);
        if steps.iter().enumerate().any(|(i, s)| s.level != i as i64 + 1) {
            return Err("levels must be numbered 1, 2, 3, … without gaps".into());
        }
        Thresholds::new(steps.iter().map(|s| s.xp).collect())?;
        Ok(Ladder { track, steps })
    }

    /// The thresholds alone.
    pub fn thresholds(&self) -> Thresholds {
        Thresholds::new(self.steps.iter().map(|s| s.xp).collect()).expect("checked in new")
    }

    /// The level at `xp`, 1 for an empty ladder.
    pub fn level(&self, xp: i64) -> i64 {
        self.thresholds().level(xp)
    }

    /// The step of `level` (the top one beyond it).
    pub fn step(&self, level: i64) -> Option<&Step> {
        self.steps.iter().rev().find(|s| s.level <= level)
    }

    /// Everything unlocked at `level`: the union of its step and all below.
    pub fn unlocked(&self, level: i64) -> BTreeSet<Privilege> {
        self.steps.iter().filter(|s| s.level <= level).flat_map(|s| s.privileges.iter().copied()).collect()
    }

    /// The default ladder of a track (what migration 1030 stores): the
    /// thresholds of BR-3/BR-4 with a badge per level and privileges from
    /// level 3 up.
    pub fn default_for(track: Track) -> Ladder {
        let names: &[&str] = match track {
            Track::Wealth => &["Copper", "Bronze", "Silver", "Gold", "Platinum", "Emerald", "Ruby", "Sapphire", "Diamond", "Legend"],
            Track::Charm => &["Spark", "Glow", "Shine", "Star", "Radiant", "Dazzle", "Idol", "Icon", "Superstar", "Muse"],
            Track::Room => &["Cozy", "Lively", "Popular", "Famous", "Legendary"],
        };
        let xps = match track {
            Track::Wealth | Track::Charm => Thresholds::wealth_and_charm(),
            Track::Room => Thresholds::room(),
        };
        let steps = names
            .iter()
            .enumerate()
            .map(|(i, badge)| {
                let level = i as i64 + 1;
                Step { level, xp: xps.start_of(level).unwrap_or(0), badge: badge.to_string(), privileges: default_privileges(track, level) }
            })
            .collect();
        Ladder { track, steps }
    }
}

/// Which privileges a default ladder's step unlocks.
fn default_privileges(track: Track, level: i64) -> Vec<Privilege> {
    match (track, level) {
        (Track::Wealth, 3) | (Track::Charm, 3) => vec![Privilege::ColouredName],
        (Track::Wealth, 4) => vec![Privilege::PremiumFrames],
        (Track::Wealth, 5) => vec![Privilege::EntryNotice],
        _ => vec![],
    }
}

/// Whether a period ending at `expires_at` still runs at `now` (the end
/// itself is outside it).
pub fn running(expires_at: DateTime<Utc>, now: DateTime<Utc>) -> bool {
    now < expires_at
}

/// The new end of a period of `days` bought at `now` on top of one ending
/// at `current` (none, or lapsed: from now; running: added to what is
/// left). `None` when `days` is not positive or the date overflows.
pub fn extend(current: Option<DateTime<Utc>>, now: DateTime<Utc>, days: i64) -> Option<DateTime<Utc>> {
    if days < 1 {
        return None;
    }
    let from = match current {
        Some(end) if running(end, now) => end,
        _ => now,
    };
    from.checked_add_signed(Duration::try_days(days)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    fn step(level: i64, xp: i64, p: &[Privilege]) -> Step {
        Step { level, xp, badge: format!("L{level}"), privileges: p.to_vec() }
    }

    #[test]
    fn ladders_are_checked() {
        use Privilege::*;
        assert!(Ladder::new(Track::Wealth, vec![step(1, 0, &[]), step(2, 10, &[ColouredName])]).is_ok());
        // Given out of order, sorted by level.
        let l = Ladder::new(Track::Wealth, vec![step(2, 10, &[]), step(1, 0, &[])]).unwrap();
        assert_eq!(l.steps[0].level, 1);
        #[rustfmt::skip]
        let bad: &[(&str, Vec<Step>)] = &[
            ("empty", vec![]),
            ("not from 0", vec![step(1, 5, &[])]),
            ("a gap", vec![step(1, 0, &[]), step(3, 10, &[])]),
            ("two level 1", vec![step(1, 0, &[]), step(1, 10, &[])]),
            ("xp not increasing", vec![step(1, 0, &[]), step(2, 10, &[]), step(3, 10, &[])]),
            ("xp decreasing", vec![step(1, 0, &[]), step(2, 10, &[]), step(3, 9, &[])]),
        ];
        for (what, steps) in bad {
            assert!(Ladder::new(Track::Charm, steps.clone()).is_err(), "{what}");
        }
    }

    #[test]
    fn levels_and_privileges_at_the_boundaries() {
        use Privilege::*;
        let w = Ladder::default_for(Track::Wealth);
        #[rustfmt::skip]
        let table: &[(i64, i64, &str, &[Privilege])] = &[
            (0, 1, "Copper", &[]),
            (10_855, 1, "Copper", &[]),
            (10_856, 2, "Bronze", &[]),
            (20_000, 2, "Bronze", &[]),
            (20_001, 3, "Silver", &[ColouredName]),
            (49_999, 3, "Silver", &[ColouredName]),
            (50_000, 4, "Gold", &[ColouredName, PremiumFrames]),
            (99_999, 4, "Gold", &[ColouredName, PremiumFrames]),
            (100_000, 5, "Platinum", &[ColouredName, EntryNotice, PremiumFrames]),
            (i64::MAX, 10, "Legend", &[ColouredName, EntryNotice, PremiumFrames]),
        ];
        for (xp, level, badge, privileges) in table {
            let l = w.level(*xp);
            assert_eq!(l, *level, "xp {xp}");
            assert_eq!(w.step(l).unwrap().badge, *badge, "xp {xp}");
            assert_eq!(w.unlocked(l).into_iter().collect::<Vec<_>>(), privileges.to_vec(), "xp {xp}");
        }
        let c = Ladder::default_for(Track::Charm);
        assert_eq!(c.unlocked(c.level(20_001)).into_iter().collect::<Vec<_>>(), vec![ColouredName]);
        assert!(c.unlocked(10).iter().all(|p| *p == ColouredName), "charm unlocks no purchases");
        let r = Ladder::default_for(Track::Room);
        assert_eq!((r.level(500_000), r.level(500_001)), (1, 2));
        assert_eq!(r.step(2).unwrap().badge, "Lively");
        for track in [Track::Wealth, Track::Charm, Track::Room] {
            let d = Ladder::default_for(track);
            assert_eq!(Ladder::new(track, d.steps.clone()).unwrap(), d, "{track:?} default is valid");
        }
    }

    #[test]
    fn privilege_lists_round_trip() {
        use Privilege::*;
        assert_eq!(parse_privileges("").unwrap(), vec![]);
        assert_eq!(parse_privileges("coloured_name, entry_notice").unwrap(), vec![ColouredName, EntryNotice]);
        assert_eq!(parse_privileges("flying").unwrap_err(), "unknown privilege `flying`");
        assert_eq!(privileges_text(&[PremiumFrames, KickProtection]), "premium_frames,kick_protection");
    }

    #[test]
    fn periods_stack_on_the_time_left() {
        let now = at("2026-11-30T12:00:00Z");
        #[rustfmt::skip]
        let table: &[(Option<&str>, i64, Option<&str>)] = &[
            (None, 30, Some("2026-12-30T12:00:00Z")),
            // Lapsed, or ending right now: a fresh period from now.
            (Some("2026-11-01T00:00:00Z"), 30, Some("2026-12-30T12:00:00Z")),
            (Some("2026-11-30T12:00:00Z"), 30, Some("2026-12-30T12:00:00Z")),
            // Still running by a second: added on top.
            (Some("2026-11-30T12:00:01Z"), 30, Some("2026-12-30T12:00:01Z")),
            (Some("2026-12-10T00:00:00Z"), 7, Some("2026-12-17T00:00:00Z")),
            // Over the month and the year end, and February of a leap year.
            (Some("2026-12-31T23:00:00Z"), 1, Some("2027-01-01T23:00:00Z")),
            (Some("2028-02-28T10:00:00Z"), 1, Some("2028-02-29T10:00:00Z")),
            (None, 0, None),
            (None, -3, None),
            (None, i64::MAX, None),
        ];
        for (current, days, end) in table {
            assert_eq!(extend(current.map(at), now, *days), end.map(at), "{current:?} + {days}");
        }
        assert!(running(at("2026-11-30T12:00:01Z"), now));
        assert!(!running(now, now), "the end instant is outside the period");
    }
}
