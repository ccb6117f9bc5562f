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
        if s >= Kes::from_shillings(100_000).cents() { UserTier::Platinum }
        else if s >= Kes::from_shillings(20_000).cents() { UserTier::Gold }
        else if s >= Kes::from_shillings(5_000).cents() { UserTier::Silver }
        else if s >= Kes::from_shillings(1_000).cents() { UserTier::Bronze }
        else { UserTier::Free }
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
            (0, UserTier::Free), (999, UserTier::Free), (1_000, UserTier::Bronze),
            (4_999, UserTier::Bronze), (5_000, UserTier::Silver), (20_000, UserTier::Gold),
            (99_999, UserTier::Gold), (100_000, UserTier::Platinum),
        ];
        for (kes, tier) in cases {
            assert_eq!(UserTier::from_spend(Kes::from_shillings(kes)), tier, "{kes} KES");
        }
        assert_eq!(UserTier::from_spend(Kes(99_999)), UserTier::Free, "999.99 KES is still free");
    }
}
