//! Levels and ranking periods (requirement 9, BR-3, BR-4): thresholds are
//! data (a sorted list of the XP each level starts at), progression is a
//! pure function of XP, and a ranking period is a pure function of an
//! instant, the ranking time zone and the week start.

use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveTime, TimeZone, Utc, Weekday};
use chrono_tz::Tz;
use serde::Serialize;

/// What a level measures.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Track {
    /// Coins spent (BR-4).
    Wealth,
    /// Coins received (BR-4).
    Charm,
    /// Coins spent in a room (BR-3).
    Room,
}

impl Track {
    pub fn as_str(self) -> &'static str {
        match self {
            Track::Wealth => "wealth",
            Track::Charm => "charm",
            Track::Room => "room",
        }
    }
}

/// The XP at which each level starts, level 1 first (always 0); strictly
/// increasing. Staff data; these are the defaults of BR-3 and BR-4 with
/// further levels extending them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Thresholds(Vec<i64>);

impl Thresholds {
    /// Thresholds from data: must start at 0 and increase strictly.
    pub fn new(starts: Vec<i64>) -> Result<Thresholds, String> {
        if starts.first() != Some(&0) {
            return Err("level 1 starts at 0".into());
        }
        if starts.windows(2).any(|w| w[1] <= w[0]) {
            return Err("thresholds must increase".into());
        }
        Ok(Thresholds(starts))
    }

    /// BR-4: level 2 from 10,856 XP, then further steps.
    pub fn wealth_and_charm() -> Thresholds {
        Thresholds(vec![0, 10_856, 20_001, 50_000, 100_000, 250_000, 500_000, 1_000_000, 2_500_000, 5_000_000])
    }

    /// BR-3: level 2 after 500,000 coins spent in the room.
    pub fn room() -> Thresholds {
        Thresholds(vec![0, 500_001, 1_500_000, 5_000_000, 15_000_000])
    }

    pub fn for_track(track: Track) -> Thresholds {
        match track {
            Track::Wealth | Track::Charm => Self::wealth_and_charm(),
            Track::Room => Self::room(),
        }
    }

    /// The level at `xp` (1-based).
    pub fn level(&self, xp: i64) -> i64 {
        self.0.iter().take_while(|&&start| start <= xp).count().max(1) as i64
    }

    /// The XP `level` starts at, `None` beyond the top.
    pub fn start_of(&self, level: i64) -> Option<i64> {
        usize::try_from(level - 1).ok().and_then(|i| self.0.get(i).copied())
    }

    /// XP where the next level starts, `None` at the top.
    pub fn next_at(&self, xp: i64) -> Option<i64> {
        self.0.iter().copied().find(|&start| start > xp)
    }

    /// The levels reached by going from `before` to `after` XP, in order
    /// (empty when none): each is announced once.
    pub fn crossed(&self, before: i64, after: i64) -> Vec<i64> {
        let (from, to) = (self.level(before), self.level(after));
        ((from + 1)..=to).collect()
    }
}

/// The ranking periods (requirement 9.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Period {
    Daily,
    Weekly,
    Monthly,
    AllTime,
}

impl Period {
    pub const ALL: [Period; 4] = [Period::Daily, Period::Weekly, Period::Monthly, Period::AllTime];

    pub fn as_str(self) -> &'static str {
        match self {
            Period::Daily => "daily",
            Period::Weekly => "weekly",
            Period::Monthly => "monthly",
            Period::AllTime => "all",
        }
    }

    pub fn parse(s: &str) -> Option<Period> {
        Period::ALL.into_iter().find(|p| p.as_str() == s)
    }
}

/// The ranking clock: a time zone and the first day of the week.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RankingClock {
    pub zone: Tz,
    pub week_start: Weekday,
}

impl Default for RankingClock {
    /// The open values' defaults: UTC, Monday.
    fn default() -> Self {
        RankingClock { zone: chrono_tz::UTC, week_start: Weekday::Mon }
    }
}

impl RankingClock {
    /// The local date of `at` in the ranking zone.
    pub fn local_date(&self, at: DateTime<Utc>) -> NaiveDate {
        at.with_timezone(&self.zone).date_naive()
    }

    /// The first local day of the period containing `at` (the all-time
    /// period has none).
    pub fn period_day(&self, period: Period, at: DateTime<Utc>) -> Option<NaiveDate> {
        let d = self.local_date(at);
        match period {
            Period::Daily => Some(d),
            Period::Weekly => {
                let back = (7 + d.weekday().num_days_from_monday() - self.week_start.num_days_from_monday()) % 7;
                Some(d - Duration::days(i64::from(back)))
            }
            Period::Monthly => d.with_day(1),
            Period::AllTime => None,
        }
    }

    /// The counter key of the period containing `at`: `d:2026-11-30`,
    /// `w:2026-11-30`, `m:2026-11`, `all`. A new period is a new key, so a
    /// board never shows a half-reset state.
    pub fn key(&self, period: Period, at: DateTime<Utc>) -> String {
        match (period, self.period_day(period, at)) {
            (Period::Daily, Some(d)) => format!("d:{d}"),
            (Period::Weekly, Some(d)) => format!("w:{d}"),
            (Period::Monthly, Some(d)) => format!("m:{}", d.format("%Y-%m")),
            _ => "all".to_string(),
        }
    }

    /// When the period containing `at` started, as an instant (local
    /// midnight of its first day; the earliest instant when midnight does
    /// not exist or is repeated).
    pub fn period_start(&self, period: Period, at: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let day = self.period_day(period, at)?;
        let local = day.and_time(NaiveTime::MIN);
        self.zone.from_local_datetime(&local).earliest().map(|t| t.with_timezone(&Utc))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn levels_follow_thresholds() {
        let t = Thresholds::wealth_and_charm();
        #[rustfmt::skip]
        let table = [(0, 1), (10_855, 1), (10_856, 2), (20_000, 2), (20_001, 3), (4_999_999, 9), (5_000_000, 10), (i64::MAX, 10)];
        for (xp, level) in table {
            assert_eq!(t.level(xp), level, "xp {xp}");
        }
        assert_eq!(t.next_at(0), Some(10_856));
        assert_eq!(t.next_at(5_000_000), None);
        assert_eq!(Thresholds::room().level(500_000), 1);
        assert_eq!(Thresholds::room().level(500_001), 2);
    }

    #[test]
    fn crossing_announces_each_level_once() {
        let t = Thresholds::wealth_and_charm();
        assert_eq!(t.crossed(0, 10_855), Vec::<i64>::new());
        assert_eq!(t.crossed(10_800, 10_856), vec![2]);
        assert_eq!(t.crossed(0, 60_000), vec![2, 3, 4]);
        assert_eq!(t.crossed(10_856, 10_900), Vec::<i64>::new());
    }

    #[test]
    fn thresholds_are_checked() {
        assert!(Thresholds::new(vec![0, 10, 20]).is_ok());
        assert!(Thresholds::new(vec![1, 10]).is_err());
        assert!(Thresholds::new(vec![0, 10, 10]).is_err());
        assert!(Thresholds::new(vec![]).is_err());
    }

    #[test]
    fn period_boundaries_in_the_zone() {
        let utc = RankingClock::default();
        let lagos = RankingClock { zone: chrono_tz::Africa::Lagos, week_start: Weekday::Mon };
        let ny_sunday = RankingClock { zone: chrono_tz::America::New_York, week_start: Weekday::Sun };
        #[rustfmt::skip]
        let table: &[(&RankingClock, &str, Period, &str)] = &[
            // midnight in the zone
            (&utc, "2026-11-30T23:59:59Z", Period::Daily, "d:2026-11-30"),
            (&utc, "2026-12-01T00:00:00Z", Period::Daily, "d:2026-12-01"),
            (&lagos, "2026-11-30T22:59:59Z", Period::Daily, "d:2026-11-30"),
            (&lagos, "2026-11-30T23:00:00Z", Period::Daily, "d:2026-12-01"),
            // week start (Monday 2026-11-30; Sunday 2026-11-29)
            (&utc, "2026-11-29T23:59:59Z", Period::Weekly, "w:2026-11-23"),
            (&utc, "2026-11-30T00:00:00Z", Period::Weekly, "w:2026-11-30"),
            (&utc, "2026-12-06T23:59:59Z", Period::Weekly, "w:2026-11-30"),
            (&ny_sunday, "2026-11-29T04:59:59Z", Period::Weekly, "w:2026-11-22"),
            (&ny_sunday, "2026-11-29T05:00:00Z", Period::Weekly, "w:2026-11-29"),
            // month end, leap February, year end
            (&utc, "2026-11-30T23:59:59Z", Period::Monthly, "m:2026-11"),
            (&utc, "2026-12-01T00:00:00Z", Period::Monthly, "m:2026-12"),
            (&utc, "2028-02-29T12:00:00Z", Period::Monthly, "m:2028-02"),
            (&lagos, "2026-12-31T23:00:00Z", Period::Monthly, "m:2027-01"),
            (&lagos, "2026-12-31T22:59:59Z", Period::Daily, "d:2026-12-31"),
            (&utc, "2026-12-31T23:59:59Z", Period::AllTime, "all"),
        ];
        for (clock, t, period, key) in table {
            assert_eq!(clock.key(*period, at(t)), *key, "{t} {period:?} {:?}", clock.zone);
        }
    }

    #[test]
    fn period_start_instants() {
        let ny = RankingClock { zone: chrono_tz::America::New_York, week_start: Weekday::Mon };
        assert_eq!(ny.period_start(Period::Daily, at("2026-11-30T12:00:00Z")), Some(at("2026-11-30T05:00:00Z")));
        // The day DST starts: midnight is EST.
        assert_eq!(ny.period_start(Period::Daily, at("2026-03-08T12:00:00Z")), Some(at("2026-03-08T05:00:00Z")));
        assert_eq!(ny.period_start(Period::Monthly, at("2026-07-15T12:00:00Z")), Some(at("2026-07-01T04:00:00Z")));
        assert_eq!(ny.period_start(Period::AllTime, at("2026-07-15T12:00:00Z")), None);
        assert_eq!(Period::parse("weekly"), Some(Period::Weekly));
        assert_eq!(Period::parse("yearly"), None);
    }
}
