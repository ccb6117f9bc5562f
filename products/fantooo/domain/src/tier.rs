//! Loyalty tiers by lifetime spend (spec: "Gamification & Retention").

use crate::money::Kes;

text_enum! {
    pub enum UserTier {
        Free => "free", Bronze => "bronze", Silver => "silver", Gold => "gold", Platinum => "platinum",
    }
}

impl UserTier {
    /// The tier earned by a lifetime spend.
    pub fn from_spend(spent: Kes) -> UserTier {
        let s = spent.cents();
        if s >= Kes::from_shillings(100_000).cents() {
            UserTier::Platinum
        } else if s >= Kes::from_shillings(20_000).cents() {
            UserTier::Gold
        } else if s >= Kes::from_shillings(5_000).cents() {
            UserTier::Silver
        } else if s >= Kes::from_shillings(1_000).cents() {
            UserTier::Bronze
        } else {
            UserTier::Free
        }
    }

    /// Lifetime spend at which this tier starts.
    pub fn threshold(self) -> Kes {
        match self {
            UserTier::Free => Kes(0),
            UserTier::Bronze => Kes::from_shillings(1_000),
            UserTier::Silver => Kes::from_shillings(5_000),
            UserTier::Gold => Kes::from_shillings(20_000),
            UserTier::Platinum => Kes::from_shillings(100_000),
        }
    }

    /// The next tier up and how much more spend reaches it (none at the top).
    pub fn next(spent: Kes) -> Option<(UserTier, Kes)> {
        let current = UserTier::from_spend(spent);
        let i = UserTier::ALL.iter().position(|t| *t == current)?;
        let next = *UserTier::ALL.get(i + 1)?;
        Some((next, Kes(next.threshold().cents() - spent.cents())))
    }

    /// Price multiplier in percent (free 100%, bronze 95% … platinum 80%).
    pub fn discount_percent(self) -> i64 {
        match self {
            UserTier::Free => 100,
            UserTier::Bronze => 95,
            UserTier::Silver => 90,
            UserTier::Gold => 85,
            UserTier::Platinum => 80,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn tier_thresholds_are_inclusive() {
        let cases = [
            (0, UserTier::Free),
            (999, UserTier::Free),
            (1_000, UserTier::Bronze),
            (4_999, UserTier::Bronze),
            (5_000, UserTier::Silver),
            (20_000, UserTier::Gold),
            (99_999, UserTier::Gold),
            (100_000, UserTier::Platinum),
        ];
        for (kes, tier) in cases {
            assert_eq!(UserTier::from_spend(Kes::from_shillings(kes)), tier, "{kes} KES");
        }
        assert_eq!(UserTier::from_spend(Kes(99_999)), UserTier::Free, "999.99 KES is still free");
        for t in UserTier::ALL {
            assert_eq!(UserTier::from_spend(t.threshold()), *t, "each threshold starts its tier");
        }
    }

    #[test]
    fn next_tier_and_distance() {
        assert_eq!(UserTier::next(Kes::from_shillings(400)), Some((UserTier::Bronze, Kes::from_shillings(600))));
        assert_eq!(UserTier::next(Kes::from_shillings(5_000)), Some((UserTier::Gold, Kes::from_shillings(15_000))));
        assert_eq!(UserTier::next(Kes::from_shillings(100_000)), None);
    }
}
