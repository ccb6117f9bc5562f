//! Retention rewards (spec: "Gamification & Retention"): a login streak that
//! pays on days 1, 3, 7 and 30, and one-off achievements. Days are counted
//! in Nairobi time, like peak pricing, so "a day" means the user's day.

use crate::money::Credits;
use chrono::{DateTime, NaiveDate, Timelike, Utc};
use chrono_tz::Africa::Nairobi;

/// The platform's calendar day for an instant.
pub fn local_day(at: DateTime<Utc>) -> NaiveDate {
    at.with_timezone(&Nairobi).date_naive()
}

/// The streak after signing in on `today`, given the last recorded visit.
/// `None` when today is already counted.
pub fn next_streak(last: Option<(NaiveDate, i64)>, today: NaiveDate) -> Option<i64> {
    match last {
        Some((day, _)) if day >= today => None,
        Some((day, streak)) if today.pred_opt() == Some(day) => Some(streak + 1),
        _ => Some(1),
    }
}

/// Credits for reaching a streak day; most days pay nothing.
pub fn daily_reward(streak_day: i64) -> Option<Credits> {
    match streak_day {
        1 => Some(Credits(1)),
        3 => Some(Credits(3)),
        7 => Some(Credits(10)),
        30 => Some(Credits(50)),
        _ => None,
    }
}

text_enum! {
    pub enum Achievement {
        FirstChat => "first_chat",
        SocialButterfly => "social_butterfly",
        NightOwl => "night_owl",
        BigSpender => "big_spender",
    }
}

/// What achievements are measured against.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Progress {
    /// Chats opened; one chat per profile, so also profiles chatted with.
    pub chats: i64,
    /// Messages sent at night (see [`is_night`]).
    pub night_messages: i64,
    /// Credits received from purchases, bonus included.
    pub credits_purchased: i64,
}

impl Achievement {
    pub fn reward(self) -> Credits {
        match self {
            Achievement::FirstChat => Credits(5),
            Achievement::SocialButterfly => Credits(20),
            Achievement::NightOwl => Credits(10),
            Achievement::BigSpender => Credits(100),
        }
    }

    pub fn title(self) -> &'static str {
        match self {
            Achievement::FirstChat => "First chat",
            Achievement::SocialButterfly => "Social butterfly",
            Achievement::NightOwl => "Night owl",
            Achievement::BigSpender => "Big spender",
        }
    }

    pub fn description(self) -> &'static str {
        match self {
            Achievement::FirstChat => "Start your first chat",
            Achievement::SocialButterfly => "Chat with 10 profiles",
            Achievement::NightOwl => "Send 100 messages after 10pm",
            Achievement::BigSpender => "Purchase 500+ credits",
        }
    }

    /// How far along `p` is, as (current, goal).
    pub fn progress(self, p: &Progress) -> (i64, i64) {
        match self {
            Achievement::FirstChat => (p.chats.min(1), 1),
            Achievement::SocialButterfly => (p.chats.min(10), 10),
            Achievement::NightOwl => (p.night_messages.min(100), 100),
            Achievement::BigSpender => (p.credits_purchased.min(500), 500),
        }
    }

    pub fn is_met(self, p: &Progress) -> bool {
        let (have, goal) = self.progress(p);
        have >= goal
    }
}

/// Night for the night-owl badge: 22:00 to 04:59 Nairobi time.
pub fn is_night(at: DateTime<Utc>) -> bool {
    let h = at.with_timezone(&Nairobi).hour();
    !(5..22).contains(&h)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn streaks_count_consecutive_days_and_reset_after_a_gap() {
        assert_eq!(next_streak(None, d("2025-03-01")), Some(1));
        assert_eq!(next_streak(Some((d("2025-03-01"), 1)), d("2025-03-02")), Some(2));
        assert_eq!(next_streak(Some((d("2025-03-02"), 2)), d("2025-03-02")), None, "once a day");
        assert_eq!(next_streak(Some((d("2025-03-02"), 6)), d("2025-03-04")), Some(1), "a missed day restarts");
        assert_eq!(next_streak(Some((d("2025-02-28"), 29)), d("2025-03-01")), Some(30), "across months");
    }

    #[test]
    fn only_days_1_3_7_and_30_pay() {
        let paid: Vec<(i64, i64)> = (1..=40).filter_map(|n| daily_reward(n).map(|c| (n, c.get()))).collect();
        assert_eq!(paid, vec![(1, 1), (3, 3), (7, 10), (30, 50)]);
    }

    #[test]
    fn days_and_nights_are_nairobi_time() {
        // 21:30 UTC is 00:30 the next day in Nairobi.
        let late = Utc.with_ymd_and_hms(2025, 3, 1, 21, 30, 0).unwrap();
        assert_eq!(local_day(late), d("2025-03-02"));
        assert!(is_night(late));
        assert!(is_night(Utc.with_ymd_and_hms(2025, 3, 1, 19, 0, 0).unwrap()), "22:00 EAT");
        assert!(!is_night(Utc.with_ymd_and_hms(2025, 3, 1, 18, 59, 0).unwrap()), "21:59 EAT");
        assert!(!is_night(Utc.with_ymd_and_hms(2025, 3, 1, 2, 0, 0).unwrap()), "05:00 EAT");
    }

    #[test]
    fn achievements_have_the_spec_thresholds_and_rewards() {
        let p = Progress { chats: 1, night_messages: 99, credits_purchased: 500 };
        let met: Vec<Achievement> = Achievement::ALL.iter().copied().filter(|a| a.is_met(&p)).collect();
        assert_eq!(met, vec![Achievement::FirstChat, Achievement::BigSpender]);
        assert!(Achievement::SocialButterfly.is_met(&Progress { chats: 10, ..p }));
        assert!(!Achievement::SocialButterfly.is_met(&Progress { chats: 9, ..p }));
        assert!(Achievement::NightOwl.is_met(&Progress { night_messages: 100, ..p }));
        let rewards: Vec<i64> = Achievement::ALL.iter().map(|a| a.reward().get()).collect();
        assert_eq!(rewards, vec![5, 20, 10, 100]);
    }
}
