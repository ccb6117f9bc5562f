//! Queue priority, operator matching and quality: monotone where the spec
//! says "more is sooner" and bounded whatever the inputs.

use chrono::Duration;
use fantooo_domain::operations::{match_score, priority, quality_score, Candidate, ChatNeeds, PriorityInput, QualityInput, QueuePriority};
use proptest::prelude::*;

/// Waits from "clock skew" (negative) to decades.
fn waiting() -> impl Strategy<Value = i64> {
    -1_000_000i64..1_000_000_000
}

fn score(spent: i64, wait_secs: i64, reassigned: bool) -> i64 {
    priority(&PriorityInput { lifetime_credits_spent: spent, waiting: Duration::seconds(wait_secs), reassigned }).score()
}

proptest! {
    #[test]
    fn priority_never_drops_with_more_spend(a in prop_oneof![any::<i64>(), Just(i64::MAX), 0..20_000i64], b in prop_oneof![any::<i64>(), 0..20_000i64], w in waiting(), r in any::<bool>()) {
        let (lo, hi) = (a.min(b), a.max(b));
        prop_assert!(score(lo, w, r) <= score(hi, w, r));
    }

    #[test]
    fn priority_never_drops_with_longer_waits(s in any::<i64>(), a in waiting(), b in waiting(), r in any::<bool>()) {
        let (lo, hi) = (a.min(b), a.max(b));
        prop_assert!(score(s, lo, r) <= score(s, hi, r));
    }

    #[test]
    fn a_reassigned_chat_is_at_least_high_and_never_lower_than_before(s in any::<i64>(), w in waiting()) {
        prop_assert!(score(s, w, true) >= QueuePriority::High.score());
        prop_assert!(score(s, w, true) >= score(s, w, false));
    }
}

/// Words an operator or profile might carry, in any case.
fn words() -> impl Strategy<Value = Vec<String>> {
    proptest::collection::vec(prop_oneof!["(?i)flirty|romantic|friendly|en|sw|fr", "\\PC{0,12}"], 0..4)
}

#[derive(Debug, Clone)]
struct Operator {
    available: bool,
    suspended: bool,
    active: bool,
    current_chats: i64,
    max_chats: i64,
    quality: f64,
    specializations: Vec<String>,
    languages: Vec<String>,
    knows_user: bool,
}

fn operator() -> impl Strategy<Value = Operator> {
    let chats = prop_oneof![0..60i64, any::<i64>(), Just(i64::MAX), Just(i64::MIN)];
    let quality = prop_oneof![0.0..=100.0f64, any::<f64>()];
    (any::<bool>(), any::<bool>(), any::<bool>(), chats.clone(), chats, quality, words(), words(), any::<bool>()).prop_map(
        |(available, suspended, active, current_chats, max_chats, quality, specializations, languages, knows_user)| Operator {
            available,
            suspended,
            active,
            current_chats,
            max_chats,
            quality,
            specializations,
            languages,
            knows_user,
        },
    )
}

impl Operator {
    fn candidate(&self) -> Candidate<'_> {
        Candidate {
            available: self.available,
            suspended: self.suspended,
            active: self.active,
            current_chats: self.current_chats,
            max_chats: self.max_chats,
            quality_score: self.quality,
            specializations: &self.specializations,
            languages: &self.languages,
            knows_user: self.knows_user,
        }
    }
}

proptest! {
    #[test]
    fn only_operators_who_may_take_the_chat_get_a_bounded_score(op in operator(), style in proptest::option::of("\\PC{0,10}"), language in "\\PC{0,4}", excluded in any::<bool>()) {
        let needs = ChatNeeds { style: style.as_deref(), language: &language, excluded };
        let eligible = op.available && !op.suspended && op.active && !excluded && op.current_chats < op.max_chats;
        match match_score(&op.candidate(), &needs) {
            None => prop_assert!(!eligible),
            Some(s) => {
                prop_assert!(eligible);
                prop_assert!((0..=105).contains(&s), "score {s} outside 0..=105");
            }
        }
    }

    #[test]
    fn quality_is_always_between_0_and_100(
        resp in proptest::option::of(any::<f64>()), rating in proptest::option::of(any::<f64>()),
        idle in prop_oneof![any::<i64>(), Just(i64::MIN)], complaints in prop_oneof![any::<i64>(), Just(i64::MIN)],
    ) {
        let q = quality_score(&QualityInput { average_response_secs: resp, average_rating: rating, idle_incidents: idle, complaints });
        prop_assert!((0.0..=100.0).contains(&q), "quality {q}");
    }

    #[test]
    fn more_incidents_and_complaints_never_raise_quality(idle in 0..100i64, extra in 0..20i64, complaints in 0..100i64, resp in proptest::option::of(0.0..10_000.0f64)) {
        let q = |idle, complaints| quality_score(&QualityInput { average_response_secs: resp, average_rating: None, idle_incidents: idle, complaints });
        prop_assert!(q(idle + extra, complaints) <= q(idle, complaints));
        prop_assert!(q(idle, complaints + extra) <= q(idle, complaints));
    }
}
