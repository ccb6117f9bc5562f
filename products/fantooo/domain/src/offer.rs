//! How credit packages are presented (spec: "Psychological Pricing
//! Packages", "Revenue Optimization"): price per credit, savings against the
//! dearest package, the package to suggest from recent usage, and which A/B
//! variant a user sees. Pure functions over plain numbers.

use crate::money::Kes;

/// The facts about one package that its presentation depends on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Offer {
    /// Credits paid for (the savings label is about these).
    pub credits: i64,
    /// Extra credits on top, free.
    pub bonus_credits: i64,
    pub price: Kes,
}

impl Offer {
    /// What one paid credit costs, in cents (rounded down).
    pub fn cents_per_credit(&self) -> i64 {
        if self.credits <= 0 {
            0
        } else {
            self.price.cents() / self.credits
        }
    }

    /// Everything the buyer receives.
    pub fn total_credits(&self) -> i64 {
        self.credits + self.bonus_credits
    }
}

/// Whole-percent saving of `offer` per paid credit against `baseline` (the
/// dearest per-credit price on sale). 50 for 400 KES against 10 for 100 KES
/// is 20%. Rounded down so a label never promises more than the truth.
pub fn savings_percent(offer: &Offer, baseline: &Offer) -> i64 {
    if offer.credits <= 0 || baseline.credits <= 0 {
        return 0;
    }
    // Cross-multiplied so no rounding happens before the final division:
    // 1 - (p/c) / (bp/bc) = (bp*c - p*bc) / (bp*c).
    let base = baseline.price.cents() as i128 * offer.credits as i128;
    let diff = base - offer.price.cents() as i128 * baseline.credits as i128;
    if base <= 0 || diff <= 0 {
        0
    } else {
        (diff * 100 / base) as i64
    }
}

/// The dearest per-credit package: the reference point for savings.
pub fn baseline(offers: &[Offer]) -> Option<Offer> {
    offers.iter().copied().filter(|o| o.credits > 0).max_by(|a, b| {
        // Compare a.price/a.credits with b.price/b.credits without division.
        (a.price.cents() as i128 * b.credits as i128).cmp(&(b.price.cents() as i128 * a.credits as i128))
    })
}

/// How many credits the suggestion should cover for a usage level: the
/// spec's heavy (> 50 messages a day), regular (> 20) and casual users.
pub fn suggested_credits(messages_per_day: f64) -> i64 {
    if messages_per_day > 50.0 {
        500
    } else if messages_per_day > 20.0 {
        100
    } else {
        50
    }
}

/// Index of the package to suggest: the smallest whose credits cover the
/// usage level's target, else the largest on sale.
pub fn suggest(offers: &[Offer], messages_per_day: f64) -> Option<usize> {
    let target = suggested_credits(messages_per_day);
    let covering = offers.iter().enumerate().filter(|(_, o)| o.credits >= target).min_by_key(|(_, o)| o.credits).map(|(i, _)| i);
    covering.or_else(|| offers.iter().enumerate().max_by_key(|(_, o)| o.credits).map(|(i, _)| i))
}

/// The A/B variant a user sees among the variants on sale: stable for a
/// user (derived from the id's bytes, so every node agrees) and spread
/// evenly over users. `None` when no variants are running.
pub fn variant_for<'a>(user_id: uuid::Uuid, variants: &[&'a str]) -> Option<&'a str> {
    let mut names: Vec<&str> = variants.to_vec();
    names.sort_unstable();
    names.dedup();
    if names.is_empty() {
        return None;
    }
    // UUIDv7 starts with a timestamp; the random tail spreads users evenly.
    let tail = u64::from_be_bytes(user_id.as_bytes()[8..16].try_into().expect("8 bytes"));
    Some(names[(tail % names.len() as u64) as usize])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn offer(credits: i64, kes: i64, bonus: i64) -> Offer {
        Offer { credits, bonus_credits: bonus, price: Kes::from_shillings(kes) }
    }

    fn spec_packages() -> Vec<Offer> {
        vec![offer(10, 100, 0), offer(50, 400, 0), offer(100, 700, 10), offer(500, 3000, 100)]
    }

    #[test]
    fn spec_savings_are_20_30_and_40_percent() {
        let all = spec_packages();
        let base = baseline(&all).unwrap();
        assert_eq!(base, all[0]);
        let savings: Vec<i64> = all.iter().map(|o| savings_percent(o, &base)).collect();
        assert_eq!(savings, vec![0, 20, 30, 40]);
        assert_eq!(all[1].cents_per_credit(), 800);
        assert_eq!(all[3].total_credits(), 600);
    }

    #[test]
    fn savings_round_down_and_never_go_negative() {
        let base = offer(3, 100, 0);
        // 33.33… cents per credit vs 33 per credit: 1% saving, rounded down.
        assert_eq!(savings_percent(&offer(100, 3300, 0), &base), 1);
        assert_eq!(savings_percent(&offer(1, 50, 0), &base), 0, "dearer than baseline saves nothing");
        assert_eq!(savings_percent(&offer(0, 50, 0), &base), 0);
    }

    #[test]
    fn suggestion_follows_usage_levels() {
        let all = spec_packages();
        assert_eq!(suggest(&all, 0.0), Some(1), "casual: 50");
        assert_eq!(suggest(&all, 20.0), Some(1), "20 a day is still casual");
        assert_eq!(suggest(&all, 20.5), Some(2), "regular: 100");
        assert_eq!(suggest(&all, 51.0), Some(3), "heavy: 500");
        // Without a package big enough, the largest one.
        assert_eq!(suggest(&all[..2], 80.0), Some(1));
        assert_eq!(suggest(&[], 5.0), None);
    }

    #[test]
    fn variants_are_stable_and_spread() {
        let names = ["b", "a", "a"];
        let mut seen = std::collections::HashSet::new();
        for _ in 0..64 {
            let id = uuid::Uuid::now_v7();
            let v = variant_for(id, &names).unwrap();
            assert_eq!(variant_for(id, &names), Some(v), "same user, same variant");
            seen.insert(v);
        }
        assert_eq!(seen.len(), 2, "both variants are shown to someone");
        assert_eq!(variant_for(uuid::Uuid::now_v7(), &[]), None);
    }
}
