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

text_enum! {
    /// What a sign-up from a banned user's address or device gets: an
    /// account flagged for an admin's review (the default), or a refusal.
    #[derive(Default)]
    pub enum CircumventionPolicy { #[default] FlagForReview => "flag_for_review", Block => "block" }
}

text_enum! {
    /// Where a flagged sign-up stands: waiting, let through, or banned.
    pub enum ReviewStatus { Pending => "pending", Allowed => "allowed", Banned => "banned" }
}

/// What happens to a sign-up or sign-in attempt that may match a ban.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Screening {
    /// No ban matched, or the account was reviewed and let through.
    Proceed,
    /// Create the account, flagged for review.
    Flag,
    Refuse,
}

/// The circumvention rule: `matched` says whether the address or device
/// matches a ban in force; `review` is the account's review, if any (none
/// for a sign-up). An account awaiting review or allowed is let in; one
/// banned on review is refused like any banned user.
pub fn screen(policy: CircumventionPolicy, signup: bool, matched: bool, review: Option<ReviewStatus>) -> Screening {
    match (review, matched) {
        (Some(ReviewStatus::Banned), _) => Screening::Refuse,
        (Some(_), _) | (None, false) => Screening::Proceed,
        (None, true) if signup && policy == CircumventionPolicy::FlagForReview => Screening::Flag,
        (None, true) => Screening::Refuse,
    }
}

#[cfg(test)]
mod screening_tests {
    use super::*;
    use CircumventionPolicy::*;
    use ReviewStatus::*;
    use Screening::*;

    #[test]
    fn circumvention_table() {
        let cases = [
            // policy, signup, matched, review → outcome
            (FlagForReview, true, false, None, Proceed),
            (FlagForReview, true, true, None, Flag),
            (Block, true, true, None, Refuse),
            (Block, true, false, None, Proceed),
            // Sign-ins of accounts never reviewed are refused when they match.
            (FlagForReview, false, true, None, Refuse),
            (Block, false, true, None, Refuse),
            (FlagForReview, false, false, None, Proceed),
            // Reviewed accounts: pending and allowed get in, banned do not.
            (FlagForReview, false, true, Some(Pending), Proceed),
            (Block, false, true, Some(Allowed), Proceed),
            (FlagForReview, false, false, Some(Banned), Refuse),
        ];
        for (policy, signup, matched, review, want) in cases {
            assert_eq!(screen(policy, signup, matched, review), want, "{policy:?} signup={signup} matched={matched} {review:?}");
        }
        assert_eq!(CircumventionPolicy::default(), FlagForReview);
    }
}
