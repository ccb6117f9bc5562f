//! Kinds of accounts and the profile attributes users choose at sign-up.

text_enum! {
    /// One auth system serves three kinds of account; each login page admits
    /// exactly one kind.
    pub enum AccountKind { User => "user", Operator => "operator", Admin => "admin" }
}

text_enum! {
    pub enum Gender { Male => "male", Female => "female", Other => "other" }
}

text_enum! {
    pub enum LookingFor { Male => "male", Female => "female", Both => "both" }
}

impl LookingFor {
    /// Whether a profile of `gender` matches this preference.
    pub fn matches(self, gender: Gender) -> bool {
        match self {
            LookingFor::Both => true,
            LookingFor::Male => gender == Gender::Male,
            LookingFor::Female => gender == Gender::Female,
        }
    }
}

/// Whether a user's ban is in force at `now`: a ban without an end is
/// permanent; a suspension ends at its `until` instant (from then on the
/// user is free again, even before anyone clears the flag); a lifted ban
/// (`is_banned` false) never is. Every place that turns a banned user
/// away asks this one rule.
pub fn ban_in_force(is_banned: bool, until: Option<chrono::DateTime<chrono::Utc>>, now: chrono::DateTime<chrono::Utc>) -> bool {
    is_banned && until.is_none_or(|end| now < end)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bans_are_in_force_until_they_end_or_are_lifted() {
        use chrono::{Duration, TimeZone, Utc};
        let t = Utc.with_ymd_and_hms(2026, 3, 1, 12, 0, 0).unwrap();
        let second = Duration::seconds(1);
        let table = [
            ("permanent ban", true, None, t, true),
            ("suspension before its end", true, Some(t), t - second, true),
            ("suspension at its end", true, Some(t), t, false),
            ("suspension after its end", true, Some(t), t + Duration::days(3), false),
            ("lifted ban", false, None, t, false),
            ("lifted suspension", false, Some(t), t - second, false),
        ];
        for (case, banned, until, now, expected) in table {
            assert_eq!(ban_in_force(banned, until, now), expected, "{case}");
        }
    }
    #[test]
    fn looking_for_matches_gender() {
        assert!(LookingFor::Both.matches(Gender::Other));
        assert!(LookingFor::Female.matches(Gender::Female));
        assert!(!LookingFor::Female.matches(Gender::Male));
        assert_eq!("male".parse::<Gender>().unwrap(), Gender::Male);
        assert!("robot".parse::<Gender>().is_err());
    }
}
