//! The price of a user's message (spec: "Dynamic Pricing Strategy").
//!
//! All factors are integer percentages and the product is rounded up once at
//! the end, so the result is exact and the same on every node.

use crate::money::Credits;
use crate::tier::UserTier;
use chrono::{DateTime, Timelike, Utc};
use chrono_tz::Africa::Nairobi;
use serde::{Deserialize, Serialize};

/// Tunable parts of the formula; admins edit them in settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct PricingConfig {
    pub base_credits: i64,
    /// Messages per chat that cost nothing.
    pub free_messages_per_chat: i64,
    pub featured_percent: i64,
    /// Peak window `[start, end)` in Nairobi hours; may wrap past midnight.
    pub peak_start_hour: u32,
    pub peak_end_hour: u32,
    pub peak_percent: i64,
    pub off_peak_start_hour: u32,
    pub off_peak_end_hour: u32,
    pub off_peak_percent: i64,
    /// Every Nth message a user sends is free.
    pub loyalty_every: i64,
}

impl Default for PricingConfig {
    fn default() -> Self {
        PricingConfig {
            base_credits: 1,
            free_messages_per_chat: 3,
            featured_percent: 150,
            peak_start_hour: 20,
            peak_end_hour: 2,
            peak_percent: 120,
            off_peak_start_hour: 2,
            off_peak_end_hour: 8,
            off_peak_percent: 80,
            loyalty_every: 100,
        }
    }
}

/// Everything the price depends on.
#[derive(Debug, Clone, Copy)]
pub struct PriceInput {
    /// User messages already sent in this chat (the new one is number n+1).
    pub chat_user_messages_before: i64,
    /// Messages this user has sent across all chats before this one.
    pub user_messages_before: i64,
    pub profile_featured: bool,
    pub tier: UserTier,
    pub at: DateTime<Utc>,
}

/// Why a message costs what it does; shown to the user before sending.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum Price {
    FreeIntro { remaining_after: i64 },
    FreeLoyalty,
    Paid { credits: Credits },
}

impl Price {
    pub fn credits(self) -> Credits {
        match self {
            Price::Paid { credits } => credits,
            _ => Credits::ZERO,
        }
    }
    pub fn is_free(self) -> bool {
        !matches!(self, Price::Paid { .. })
    }
}

fn in_window(hour: u32, start: u32, end: u32) -> bool {
    if start <= end {
        hour >= start && hour < end
    } else {
        hour >= start || hour < end
    }
}

/// The time-of-day multiplier (percent) at `at`, in Nairobi time.
pub fn time_percent(cfg: &PricingConfig, at: DateTime<Utc>) -> i64 {
    let hour = at.with_timezone(&Nairobi).hour();
    if in_window(hour, cfg.peak_start_hour, cfg.peak_end_hour) {
        cfg.peak_percent
    } else if in_window(hour, cfg.off_peak_start_hour, cfg.off_peak_end_hour) {
        cfg.off_peak_percent
    } else {
        100
    }
}

/// The price of the next message.
pub fn message_price(cfg: &PricingConfig, input: &PriceInput) -> Price {
    // Counters come from the database; saturating keeps a corrupt one from
    // overflowing (it then simply prices as a late message).
    let n_in_chat = input.chat_user_messages_before.saturating_add(1);
    if n_in_chat <= cfg.free_messages_per_chat {
        return Price::FreeIntro { remaining_after: cfg.free_messages_per_chat.saturating_sub(n_in_chat) };
    }
    let n_overall = input.user_messages_before.saturating_add(1);
    if cfg.loyalty_every > 0 && n_overall % cfg.loyalty_every == 0 {
        return Price::FreeLoyalty;
    }
    let featured = if input.profile_featured { cfg.featured_percent } else { 100 };
    let numerator = cfg.base_credits * featured * time_percent(cfg, input.at) * input.tier.discount_percent();
    let denominator = 100 * 100 * 100;
    // Ceiling division on non-negative integers.
    let credits = (numerator + denominator - 1) / denominator;
    Price::Paid { credits: Credits(credits.max(1)) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    /// A UTC instant for an hour in Nairobi (UTC+3, no DST).
    fn eat(hour: u32) -> DateTime<Utc> {
        Nairobi.with_ymd_and_hms(2026, 11, 25, hour, 0, 0).unwrap().with_timezone(&Utc)
    }

    fn input(chat_before: i64, user_before: i64, featured: bool, tier: UserTier, hour: u32) -> PriceInput {
        PriceInput {
            chat_user_messages_before: chat_before,
            user_messages_before: user_before,
            profile_featured: featured,
            tier,
            at: eat(hour),
        }
    }

    #[test]
    fn price_table() {
        let cfg = PricingConfig::default();
        use UserTier::*;
        // (chat msgs before, user msgs before, featured, tier, EAT hour, expected credits)
        let table: &[(i64, i64, bool, UserTier, u32, i64)] = &[
            (1, 1, false, Free, 14, 0),    // spec: message 2 is free
            (2, 2, false, Free, 14, 0),    // message 3 is still free
            (3, 3, false, Free, 14, 1),    // message 4: base price
            (5, 10, false, Free, 20, 2),   // spec: 20:00 EAT, non-featured, free tier → 1.2 → 2
            (5, 10, true, Free, 14, 2),    // spec: featured at 14:00 → 1.5 → 2
            (5, 10, true, Free, 21, 2),    // 1.5 × 1.2 = 1.8 → 2
            (5, 10, false, Free, 3, 1),    // off-peak 0.8 → 1
            (5, 10, true, Free, 3, 2),     // 1.5 × 0.8 = 1.2 → 2
            (5, 10, true, Platinum, 3, 1), // 1.5 × 0.8 × 0.8 = 0.96 → 1
            (5, 10, true, Gold, 21, 2),    // 1.5 × 1.2 × 0.85 = 1.53 → 2
            (5, 10, false, Silver, 1, 2),  // 01:00 is still peak: 1.2 × 0.9 = 1.08 → 2
            (5, 10, false, Bronze, 8, 1),  // 08:00 is normal: 0.95 → 1
            (5, 10, false, Free, 2, 1),    // 02:00 starts off-peak: 0.8 → 1
            (5, 10, false, Free, 19, 1),   // 19:00 normal
            (5, 99, false, Free, 20, 0),   // the user's 100th message is free
            (5, 199, true, Gold, 21, 0),   // and the 200th
            (5, 100, false, Free, 20, 2),  // the 101st is not
        ];
        for &(chat_before, user_before, featured, tier, hour, expected) in table {
            let p = message_price(&cfg, &input(chat_before, user_before, featured, tier, hour));
            assert_eq!(
                p.credits(),
                Credits(expected),
                "chat_before={chat_before} user_before={user_before} featured={featured} tier={tier} hour={hour}"
            );
        }
    }

    #[test]
    fn price_kinds_explain_themselves() {
        let cfg = PricingConfig::default();
        assert_eq!(message_price(&cfg, &input(0, 0, false, UserTier::Free, 12)), Price::FreeIntro { remaining_after: 2 });
        assert_eq!(message_price(&cfg, &input(2, 2, false, UserTier::Free, 12)), Price::FreeIntro { remaining_after: 0 });
        assert_eq!(message_price(&cfg, &input(9, 299, false, UserTier::Free, 12)), Price::FreeLoyalty);
        // intro-free messages win over loyalty
        assert!(matches!(message_price(&cfg, &input(0, 99, false, UserTier::Free, 12)), Price::FreeIntro { .. }));
    }

    #[test]
    fn configurable_hours_shift_the_windows() {
        let cfg = PricingConfig { peak_start_hour: 18, peak_end_hour: 23, ..PricingConfig::default() };
        assert_eq!(time_percent(&cfg, eat(18)), 120);
        assert_eq!(time_percent(&cfg, eat(23)), 100);
        assert_eq!(time_percent(&cfg, eat(1)), 100);
        assert_eq!(time_percent(&cfg, eat(5)), 80);
    }
}
