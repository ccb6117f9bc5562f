//! VIP tiers (requirement 9.5, BR-5): tiers as data (price in coins, days
//! per purchase, the seats they add to the holder's own room, the
//! privileges they unlock), what a purchase does to the tier held, and
//! where the privileges apply — exclusive gifts, protection from room
//! admins, extra seats. Nothing here performs I/O.

use crate::limits::MAX_SEATS;
use crate::moderation::{Action, Target};
use crate::room::RoomRole;
use crate::status::{self, Privilege};
use chrono::{DateTime, Utc};
use serde::Serialize;
use std::collections::BTreeSet;

/// The highest tier (SVIP).
pub const TOP_TIER: i64 = 7;
/// Days a purchase adds by default (open value).
pub const DEFAULT_DAYS: i64 = 30;

/// One tier as staff keep it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Tier {
    pub tier: i64,
    pub name: String,
    /// Coins per purchase.
    pub price: i64,
    /// Days one purchase adds.
    pub days: i64,
    /// Seats this tier adds to the holder's own room (within [`MAX_SEATS`]).
    pub extra_seats: i64,
    /// What this tier unlocks on top of the tiers below it.
    pub privileges: Vec<Privilege>,
}

/// Every tier, 1 first: numbered 1, 2, … without gaps, at most
/// [`TOP_TIER`], prices and days positive.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Tiers(Vec<Tier>);

impl Tiers {
    pub fn new(mut tiers: Vec<Tier>) -> Result<Tiers, String> {
        tiers.sort_by_key(|t| t.tier);
        if tiers.iter().enumerate().any(|(i, t)| t.tier != i as i64 + 1) {
            return Err("tiers must be numbered 1, 2, 3, … without gaps".into());
        }
        if tiers.len() as i64 > TOP_TIER {
            return Err(format!("at most {TOP_TIER} tiers"));
        }
        if tiers.iter().any(|t| t.price < 1 || t.days < 1 || t.extra_seats < 0) {
            return Err("each tier needs a price and days of at least 1, and no negative seats".into());
        }
        Ok(Tiers(tiers))
    }

    pub fn all(&self) -> &[Tier] {
        &self.0
    }

    pub fn get(&self, tier: i64) -> Option<&Tier> {
        self.0.iter().find(|t| t.tier == tier)
    }

    /// Everything `tier` unlocks: its privileges and those of every tier
    /// below (nothing for 0, no VIP).
    pub fn unlocked(&self, tier: i64) -> BTreeSet<Privilege> {
        self.0.iter().filter(|t| t.tier <= tier).flat_map(|t| t.privileges.iter().copied()).collect()
    }

    /// The seats `tier` adds to its holder's room.
    pub fn extra_seats(&self, tier: i64) -> i64 {
        self.get(tier).map_or(0, |t| t.extra_seats)
    }

    /// The default tiers (what migration 1050 stores), after BR-5: every
    /// tier the badge, the entry notice and VIP-only gifts up to the tier;
    /// VIP 4 cannot be muted by others; VIP 5 and up cannot be forced off
    /// a seat; more seats in one's own room as the tier rises.
    pub fn defaults() -> Tiers {
        use Privilege::*;
        #[rustfmt::skip]
        let rows: [(&str, i64, i64, &[Privilege]); 7] = [
            ("VIP 1", 1_000, 1, &[EntryNotice, ExclusiveGifts, ExtraSeats]),
            ("VIP 2", 3_000, 1, &[]),
            ("VIP 3", 8_000, 2, &[ColouredName]),
            ("VIP 4", 20_000, 2, &[MuteProtection]),
            ("VIP 5", 50_000, 3, &[KickProtection]),
            ("VIP 6", 100_000, 4, &[]),
            ("SVIP", 300_000, 5, &[]),
        ];
        Tiers(
            rows.iter()
                .enumerate()
                .map(|(i, (name, price, extra, p))| Tier {
                    tier: i as i64 + 1,
                    name: name.to_string(),
                    price: *price,
                    days: DEFAULT_DAYS,
                    extra_seats: *extra,
                    privileges: p.to_vec(),
                })
                .collect(),
        )
    }
}

/// The tier someone holds at `now`: 0 without one, or once its end has
/// come (the end instant itself is outside it).
pub fn held(membership: Option<(i64, DateTime<Utc>)>, now: DateTime<Utc>) -> i64 {
    match membership {
        Some((tier, end)) if status::running(end, now) => tier,
        _ => 0,
    }
}

/// What a purchase is, seen from the tier held.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// No tier held (or it lapsed): the period starts now.
    New,
    /// The same tier: the days are added to the time left.
    Renewal,
    /// A higher tier: it starts now and replaces the lower one.
    Upgrade,
}

/// Why a purchase cannot be made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// A higher tier runs until then: buy that tier to extend it.
    HigherHeld { tier: i64, until: DateTime<Utc> },
    /// The period cannot be added (days not positive, or a date overflow).
    Period,
}

impl Refusal {
    pub fn code(&self) -> &'static str {
        match self {
            Refusal::HigherHeld { .. } => "higher_tier_held",
            Refusal::Period => "bad_period",
        }
    }

    pub fn message(&self) -> String {
        match self {
            Refusal::HigherHeld { tier, until } => {
                format!("You hold VIP {tier} until {}: buy that tier to extend it.", until.format("%Y-%m-%d %H:%M UTC"))
            }
            Refusal::Period => "That period cannot be added".into(),
        }
    }

    /// The code and message when the tier is given to someone else: a
    /// higher tier they hold is `recipient_higher_tier`.
    pub fn for_recipient(&self) -> (&'static str, String) {
        match self {
            Refusal::HigherHeld { tier, until } => (
                "recipient_higher_tier",
                format!("They hold VIP {tier} until {}: give VIP {tier} to add to it.", until.format("%Y-%m-%d %H:%M UTC")),
            ),
            other => (other.code(), other.message()),
        }
    }
}

/// The tier and end after buying `tier` for `days` at `now`, on top of
/// `current`: the same tier stacks on the time left, a higher one starts
/// now, a lower one is refused while the higher runs.
pub fn after_purchase(
    current: Option<(i64, DateTime<Utc>)>,
    tier: i64,
    days: i64,
    now: DateTime<Utc>,
) -> Result<(DateTime<Utc>, Kind), Refusal> {
    let held_tier = held(current, now);
    let (from, kind) = match current {
        _ if held_tier == 0 => (None, Kind::New),
        Some((t, end)) if t == tier => (Some(end), Kind::Renewal),
        Some((t, end)) if t > tier => return Err(Refusal::HigherHeld { tier: t, until: end }),
        _ => (None, Kind::Upgrade),
    };
    let end = status::extend(from, now, days).ok_or(Refusal::Period)?;
    Ok((end, kind))
}

/// Whether someone holding `tier` may send a gift that names `min_tier`
/// (0: any sender).
pub fn may_send(min_tier: i64, tier: i64) -> bool {
    min_tier <= 0 || tier >= min_tier
}

/// The seats a room has: the owner's choice plus what the owner's tier
/// adds, never above [`MAX_SEATS`] (and never below the choice).
pub fn seats_with_bonus(chosen: i64, extra: i64) -> i64 {
    chosen.max(chosen.saturating_add(extra.max(0)).min(MAX_SEATS))
}

/// Whether a VIP's privileges shield `target` from `action` by `actor`:
/// nobody but the room owner mutes someone with [`Privilege::MuteProtection`]
/// or forces someone with [`Privilege::KickProtection`] off a seat or out
/// of the room. Acting on oneself is never shielded. `Err` carries the
/// refusal's message (code `vip_protected`).
pub fn shield(action: Action, actor: Option<RoomRole>, target: Target, privileges: &BTreeSet<Privilege>) -> Result<(), &'static str> {
    if !matches!(target, Target::Other(_)) || actor == Some(RoomRole::Owner) {
        return Ok(());
    }
    match action {
        Action::Mute if privileges.contains(&Privilege::MuteProtection) => Err("This VIP cannot be muted by anyone but the room owner"),
        Action::Kick | Action::Block | Action::RemoveFromSeat if privileges.contains(&Privilege::KickProtection) => {
            Err("This VIP cannot be removed by anyone but the room owner")
        }
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn refusals_for_a_recipient_speak_of_them() {
        let until = at("2026-03-01T10:00:00Z");
        for (r, code, words) in [
            (Refusal::HigherHeld { tier: 5, until }, "recipient_higher_tier", "They hold VIP 5 until 2026-03-01 10:00 UTC: give VIP 5"),
            (Refusal::Period, "bad_period", "That period cannot be added"),
        ] {
            let (c, m) = r.for_recipient();
            assert_eq!(c, code);
            assert!(m.starts_with(words), "{m}");
        }
        assert_eq!(Refusal::HigherHeld { tier: 5, until }.code(), "higher_tier_held");
    }

    /// A membership as written in a table: tier and end.
    type Held = Option<(i64, &'static str)>;
    type Want = Result<(&'static str, Kind), &'static str>;
    type ShieldRow<'a> = (Action, Option<RoomRole>, Target, &'a BTreeSet<Privilege>, bool);

    #[test]
    fn tiers_are_checked() {
        let d = Tiers::defaults();
        assert_eq!(Tiers::new(d.all().to_vec()).unwrap(), d, "the defaults hold");
        let t = |tier, price, days, extra| Tier { tier, name: format!("T{tier}"), price, days, extra_seats: extra, privileges: vec![] };
        #[rustfmt::skip]
        let bad: &[(&str, Vec<Tier>)] = &[
            ("a gap", vec![t(1, 10, 30, 0), t(3, 10, 30, 0)]),
            ("not from 1", vec![t(2, 10, 30, 0)]),
            ("free", vec![t(1, 0, 30, 0)]),
            ("no days", vec![t(1, 10, 0, 0)]),
            ("negative seats", vec![t(1, 10, 30, -1)]),
            ("eight tiers", (1..=8).map(|i| t(i, 10, 30, 0)).collect()),
        ];
        for (what, tiers) in bad {
            assert!(Tiers::new(tiers.clone()).is_err(), "{what}");
        }
        assert!(Tiers::new(vec![t(2, 10, 30, 0), t(1, 10, 30, 0)]).is_ok(), "sorted by tier");
    }

    #[test]
    fn privileges_follow_br5() {
        use Privilege::*;
        let d = Tiers::defaults();
        #[rustfmt::skip]
        let table: &[(i64, &[Privilege], i64)] = &[
            (0, &[], 0),
            (1, &[EntryNotice, ExclusiveGifts, ExtraSeats], 1),
            (3, &[ColouredName, EntryNotice, ExclusiveGifts, ExtraSeats], 2),
            (4, &[ColouredName, EntryNotice, ExclusiveGifts, ExtraSeats, MuteProtection], 2),
            (5, &[ColouredName, EntryNotice, ExclusiveGifts, ExtraSeats, KickProtection, MuteProtection], 3),
            (7, &[ColouredName, EntryNotice, ExclusiveGifts, ExtraSeats, KickProtection, MuteProtection], 5),
        ];
        for (tier, privileges, seats) in table {
            let mut want = privileges.to_vec();
            want.sort();
            assert_eq!(d.unlocked(*tier).into_iter().collect::<Vec<_>>(), want, "tier {tier}");
            assert_eq!(d.extra_seats(*tier), *seats, "tier {tier}");
        }
    }

    #[test]
    fn the_tier_held_ends_at_the_exact_instant() {
        let end = at("2026-12-30T12:00:00Z");
        #[rustfmt::skip]
        let table: &[(Held, &str, i64)] = &[
            (None, "2026-11-30T12:00:00Z", 0),
            (Some((3, "2026-12-30T12:00:00Z")), "2026-12-30T11:59:59Z", 3),
            (Some((3, "2026-12-30T12:00:00Z")), "2026-12-30T12:00:00Z", 0),
            (Some((3, "2026-12-30T12:00:00Z")), "2026-12-30T12:00:01Z", 0),
        ];
        for (m, now, tier) in table {
            assert_eq!(held(m.map(|(t, e)| (t, at(e))), at(now)), *tier, "{m:?} at {now}");
        }
        assert_eq!(held(Some((7, end)), end - chrono::Duration::nanoseconds(1)), 7);
    }

    #[test]
    fn purchases_stack_upgrade_or_are_refused() {
        let now = at("2026-11-30T12:00:00Z");
        #[rustfmt::skip]
        let table: &[(Held, i64, i64, Want)] = &[
            (None, 1, 30, Ok(("2026-12-30T12:00:00Z", Kind::New))),
            // Same tier, running: added to the time left.
            (Some((2, "2026-12-10T00:00:00Z")), 2, 30, Ok(("2027-01-09T00:00:00Z", Kind::Renewal))),
            (Some((2, "2026-11-30T12:00:01Z")), 2, 30, Ok(("2026-12-30T12:00:01Z", Kind::Renewal))),
            // Lapsed, or ending right now: a fresh period whatever the tier.
            (Some((2, "2026-11-30T12:00:00Z")), 2, 30, Ok(("2026-12-30T12:00:00Z", Kind::New))),
            (Some((5, "2026-11-01T00:00:00Z")), 1, 30, Ok(("2026-12-30T12:00:00Z", Kind::New))),
            // Higher: starts now.
            (Some((2, "2027-03-01T00:00:00Z")), 4, 30, Ok(("2026-12-30T12:00:00Z", Kind::Upgrade))),
            // Lower while a higher runs: refused.
            (Some((4, "2026-12-10T00:00:00Z")), 2, 30, Err("higher_tier_held")),
            (None, 1, 0, Err("bad_period")),
            (None, 1, i64::MAX, Err("bad_period")),
        ];
        for (current, tier, days, want) in table {
            let got = after_purchase(current.map(|(t, e)| (t, at(e))), *tier, *days, now);
            match want {
                Ok((end, kind)) => assert_eq!(got, Ok((at(end), *kind)), "{current:?} + VIP {tier}"),
                Err(code) => assert_eq!(got.unwrap_err().code(), *code, "{current:?} + VIP {tier}"),
            }
        }
        let r = after_purchase(Some((4, at("2026-12-10T00:00:00Z"))), 2, 30, now).unwrap_err();
        assert_eq!(r.message(), "You hold VIP 4 until 2026-12-10 00:00 UTC: buy that tier to extend it.");
    }

    #[test]
    fn exclusive_gifts_and_seats() {
        for (min, tier, ok) in [(0, 0, true), (1, 0, false), (3, 2, false), (3, 3, true), (3, 7, true), (7, 6, false)] {
            assert_eq!(may_send(min, tier), ok, "gift for VIP {min}, sender VIP {tier}");
        }
        for (chosen, extra, seats) in [(5, 0, 5), (5, 3, 8), (14, 3, 15), (15, 5, 15), (1, 5, 6), (5, -2, 5)] {
            assert_eq!(seats_with_bonus(chosen, extra), seats, "{chosen} + {extra}");
        }
    }

    #[test]
    fn room_admins_cannot_touch_a_protected_vip() {
        use Privilege::*;
        use RoomRole::*;
        let none = BTreeSet::new();
        let vip4: BTreeSet<Privilege> = [MuteProtection].into();
        let vip5: BTreeSet<Privilege> = [MuteProtection, KickProtection].into();
        let other = Target::Other(Member);
        #[rustfmt::skip]
        let table: &[ShieldRow<'_>] = &[
            (Action::Mute, Some(Admin), other, &none, true),
            (Action::Mute, Some(Admin), other, &vip4, false),
            (Action::Mute, Some(Owner), other, &vip4, true),
            (Action::Mute, Some(Admin), Target::Myself, &vip4, true),
            (Action::Unmute, Some(Admin), other, &vip4, true),
            // VIP 4 may still be kicked; VIP 5 may not, by anyone but the owner.
            (Action::Kick, Some(Admin), other, &vip4, true),
            (Action::Kick, Some(Admin), other, &vip5, false),
            (Action::Block, Some(Admin), other, &vip5, false),
            (Action::RemoveFromSeat, Some(Admin), other, &vip5, false),
            (Action::RemoveFromSeat, Some(Admin), Target::Myself, &vip5, true),
            (Action::Kick, Some(Owner), other, &vip5, true),
            (Action::Kick, None, other, &vip5, false),
            (Action::MoveSeat, Some(Admin), other, &vip5, true),
        ];
        for (action, actor, target, privileges, ok) in table {
            assert_eq!(
                shield(*action, *actor, *target, privileges).is_ok(),
                *ok,
                "{action:?} by {actor:?} on {target:?} with {privileges:?}"
            );
        }
    }
}
