//! Message pricing: free exactly when the rules say so, otherwise at least
//! one credit, never more than the largest multipliers allow, and never
//! cheaper when a factor grows.

use chrono::{DateTime, TimeZone, Utc};
use fantooo_domain::pricing::{message_price, time_percent, Price, PriceInput, PricingConfig};
use fantooo_domain::UserTier;
use proptest::prelude::*;

fn config() -> impl Strategy<Value = PricingConfig> {
    (
        1..=100i64,
        0..=50i64,
        100..=300i64,
        (0..24u32, 0..24u32, 100..=300i64),
        (0..24u32, 0..24u32, 50..=100i64),
        prop_oneof![Just(100i64), 0..=1000i64],
    )
        .prop_map(|(base, free, featured, (ps, pe, peak), (os, oe, off), loyalty)| PricingConfig {
            base_credits: base,
            free_messages_per_chat: free,
            featured_percent: featured,
            peak_start_hour: ps,
            peak_end_hour: pe,
            peak_percent: peak,
            off_peak_start_hour: os,
            off_peak_end_hour: oe,
            off_peak_percent: off,
            loyalty_every: loyalty,
        })
}

fn tier() -> impl Strategy<Value = UserTier> {
    proptest::sample::select(UserTier::ALL)
}

/// Any instant between 1970 and 2096.
fn instant() -> impl Strategy<Value = DateTime<Utc>> {
    (0..4_000_000_000i64).prop_map(|s| Utc.timestamp_opt(s, 0).unwrap())
}

fn input() -> impl Strategy<Value = PriceInput> {
    (0..1_000_000i64, 0..1_000_000_000i64, any::<bool>(), tier(), instant()).prop_map(|(chat, user, featured, tier, at)| PriceInput {
        chat_user_messages_before: chat,
        user_messages_before: user,
        profile_featured: featured,
        tier,
        at,
    })
}

/// Any count, with the extremes drawn often (uniform sampling never would).
fn counter() -> impl Strategy<Value = i64> {
    prop_oneof![any::<i64>(), Just(i64::MAX), Just(i64::MIN), Just(-1i64)]
}

/// `ceil(base × featured × time × tier / 100³)` with every factor at its largest.
fn ceiling(cfg: &PricingConfig) -> i64 {
    let largest_time = cfg.peak_percent.max(cfg.off_peak_percent).max(100);
    let n = cfg.base_credits * cfg.featured_percent.max(100) * largest_time * 100;
    (n + 999_999) / 1_000_000
}

proptest! {
    #[test]
    fn free_exactly_for_the_intro_messages_and_every_loyalty_milestone(cfg in config(), i in input()) {
        let intro = i.chat_user_messages_before < cfg.free_messages_per_chat;
        let loyalty = cfg.loyalty_every > 0 && (i.user_messages_before + 1) % cfg.loyalty_every == 0;
        match message_price(&cfg, &i) {
            Price::FreeIntro { remaining_after } => {
                prop_assert!(intro);
                prop_assert_eq!(remaining_after, cfg.free_messages_per_chat - i.chat_user_messages_before - 1);
            }
            Price::FreeLoyalty => prop_assert!(!intro && loyalty),
            Price::Paid { credits } => {
                prop_assert!(!intro && !loyalty);
                prop_assert!(credits.get() >= 1, "a paid message costs at least one credit");
                prop_assert!(credits.get() <= ceiling(&cfg), "{} > ceiling {}", credits.get(), ceiling(&cfg));
            }
        }
    }

    #[test]
    fn default_loyalty_frees_every_hundredth_message(at in instant(), hundreds in 1..10_000_000i64, chat in 3..1000i64) {
        let cfg = PricingConfig::default();
        let i = PriceInput { chat_user_messages_before: chat, user_messages_before: hundreds * 100 - 1, profile_featured: true, tier: UserTier::Free, at };
        prop_assert_eq!(message_price(&cfg, &i), Price::FreeLoyalty);
        let next = PriceInput { user_messages_before: hundreds * 100, ..i };
        prop_assert!(!message_price(&cfg, &next).is_free());
    }

    #[test]
    fn a_featured_profile_never_costs_less(cfg in config(), i in input()) {
        let plain = message_price(&cfg, &PriceInput { profile_featured: false, ..i });
        let featured = message_price(&cfg, &PriceInput { profile_featured: true, ..i });
        prop_assert!(featured.credits() >= plain.credits());
    }

    #[test]
    fn a_higher_tier_never_costs_more(cfg in config(), i in input(), a in tier(), b in tier()) {
        let (low, high) = if a.discount_percent() >= b.discount_percent() { (a, b) } else { (b, a) };
        let at_low = message_price(&cfg, &PriceInput { tier: low, ..i });
        let at_high = message_price(&cfg, &PriceInput { tier: high, ..i });
        prop_assert!(at_high.credits() <= at_low.credits());
    }

    #[test]
    fn larger_time_and_featured_factors_never_lower_the_price(cfg in config(), i in input(), more in 0..200i64) {
        let base = message_price(&cfg, &i).credits();
        for bigger in [
            PricingConfig { peak_percent: cfg.peak_percent + more, ..cfg },
            PricingConfig { off_peak_percent: cfg.off_peak_percent + more, ..cfg },
            PricingConfig { featured_percent: cfg.featured_percent + more, ..cfg },
            PricingConfig { base_credits: cfg.base_credits + more, ..cfg },
        ] {
            prop_assert!(message_price(&bigger, &i).credits() >= base);
        }
    }

    #[test]
    fn the_time_factor_is_one_of_the_configured_percentages(cfg in config(), at in instant()) {
        let p = time_percent(&cfg, at);
        prop_assert!(p == cfg.peak_percent || p == cfg.off_peak_percent || p == 100);
    }

    #[test]
    fn hostile_counters_do_not_panic(cfg in config(), chat in counter(), user in counter(), at in instant()) {
        let i = PriceInput { chat_user_messages_before: chat, user_messages_before: user, profile_featured: true, tier: UserTier::Free, at };
        let p = message_price(&cfg, &i);
        prop_assert!(p.credits().get() >= 0);
    }
}
