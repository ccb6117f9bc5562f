//! The rules a posting must meet before it touches the database. They are
//! pure, so they are table-tested here and the store refuses a bad posting
//! without a round trip.

use crate::{Amount, Leg, Movement, Transfer, Unit, WalletId};
use platform_db::StoreError;
use std::collections::HashSet;

/// Longest idempotency key accepted, in bytes.
pub const MAX_KEY_LEN: usize = 200;
/// Longest reason accepted, in bytes.
pub const MAX_REASON_LEN: usize = 64;

/// Why a posting was refused before touching the database.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error("a posting needs an idempotency key of at most {MAX_KEY_LEN} bytes")]
    BadKey,
    #[error("a posting needs a reason of at most {MAX_REASON_LEN} bytes")]
    BadReason,
    #[error("an amount must not be zero")]
    ZeroAmount,
    #[error("an amount is at most {} either way", Amount::MAX_MOVE)]
    TooLarge,
    #[error("only a debit can count as spending")]
    SpendingCredit,
    #[error("a transfer needs legs")]
    NoLegs,
    #[error("a transfer names wallet {0} more than once")]
    RepeatedWallet(WalletId),
    #[error("a transfer moves one unit, not both {0} and {1}")]
    MixedUnits(Unit, Unit),
    #[error("a transfer's legs must sum to zero, but its {unit} legs sum to {sum}")]
    Unbalanced { unit: Unit, sum: i128 },
}

impl Refusal {
    /// The input at fault, for [`StoreError::Refused`].
    pub fn field(&self) -> &'static str {
        match self {
            Refusal::BadKey => "idempotency_key",
            Refusal::BadReason => "reason",
            Refusal::ZeroAmount | Refusal::TooLarge | Refusal::SpendingCredit => "amount",
            Refusal::NoLegs | Refusal::RepeatedWallet(_) | Refusal::MixedUnits(..) | Refusal::Unbalanced { .. } => "legs",
        }
    }
}

impl From<Refusal> for StoreError {
    fn from(r: Refusal) -> Self {
        StoreError::Refused { field: r.field(), message: r.to_string() }
    }
}

fn check_texts(reason: &str, idempotency_key: &str) -> Result<(), Refusal> {
    if idempotency_key.trim().is_empty() || idempotency_key.len() > MAX_KEY_LEN {
        return Err(Refusal::BadKey);
    }
    if reason.trim().is_empty() || reason.len() > MAX_REASON_LEN {
        return Err(Refusal::BadReason);
    }
    Ok(())
}

fn check_amount(a: Amount) -> Result<(), Refusal> {
    if a.is_zero() {
        Err(Refusal::ZeroAmount)
    } else if !a.is_movable() {
        Err(Refusal::TooLarge)
    } else {
        Ok(())
    }
}

/// A single-wallet movement: a key, a reason, a movable amount; spending
/// only on a debit.
pub fn check_movement(m: &Movement<'_>) -> Result<(), Refusal> {
    check_texts(m.reason, m.idempotency_key)?;
    check_amount(m.delta)?;
    if m.spending && m.delta.get() > 0 {
        return Err(Refusal::SpendingCredit);
    }
    Ok(())
}

/// A transfer: a key, a reason, and legs that pass [`check_legs`].
pub fn check_transfer(t: &Transfer<'_>) -> Result<(), Refusal> {
    check_texts(t.reason, t.idempotency_key)?;
    check_legs(&t.legs)
}

/// A transfer's legs: at least one, each a movable amount, each wallet
/// once, all of one unit, summing to zero. (One leg alone can never sum to
/// zero, so every accepted transfer has two or more.)
pub fn check_legs(legs: &[Leg]) -> Result<(), Refusal> {
    let Some(first) = legs.first() else { return Err(Refusal::NoLegs) };
    let mut seen = HashSet::with_capacity(legs.len());
    let mut sum: i128 = 0;
    for leg in legs {
        check_amount(leg.delta)?;
        if !seen.insert(leg.wallet) {
            return Err(Refusal::RepeatedWallet(leg.wallet));
        }
        if leg.unit != first.unit {
            return Err(Refusal::MixedUnits(first.unit.clone(), leg.unit.clone()));
        }
        sum += i128::from(leg.delta.get());
    }
    if sum != 0 {
        return Err(Refusal::Unbalanced { unit: first.unit.clone(), sum });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use uuid::Uuid;

    fn wallet(n: u8) -> WalletId {
        WalletId(Uuid::from_bytes([n; 16]))
    }

    fn unit(s: &str) -> Unit {
        Unit::parse(s).unwrap()
    }

    fn leg(w: u8, u: &str, delta: i64) -> Leg {
        Leg { wallet: wallet(w), unit: unit(u), delta: Amount(delta) }
    }

    #[test]
    fn legs_are_checked_by_the_rules() {
        let max = Amount::MAX_MOVE;
        let cases: Vec<(&str, Vec<Leg>, Result<(), Refusal>)> = vec![
            ("purchase into escrow", vec![leg(1, "KES", -100), leg(2, "KES", 100)], Ok(())),
            ("escrow release with fee", vec![leg(2, "KES", -100), leg(3, "KES", 90), leg(4, "KES", 10)], Ok(())),
            ("largest legs", vec![leg(1, "coins", -max), leg(2, "coins", max)], Ok(())),
            ("empty", vec![], Err(Refusal::NoLegs)),
            ("one leg", vec![leg(1, "KES", 5)], Err(Refusal::Unbalanced { unit: unit("KES"), sum: 5 })),
            ("off by one", vec![leg(1, "KES", -100), leg(2, "KES", 99)], Err(Refusal::Unbalanced { unit: unit("KES"), sum: -1 })),
            ("zero leg", vec![leg(1, "KES", 0), leg(2, "KES", 0)], Err(Refusal::ZeroAmount)),
            ("too large", vec![leg(1, "KES", -max - 1), leg(2, "KES", max + 1)], Err(Refusal::TooLarge)),
            ("wallet twice", vec![leg(1, "KES", -5), leg(1, "KES", 5)], Err(Refusal::RepeatedWallet(wallet(1)))),
            (
                "mixed units, each balanced",
                vec![leg(1, "coins", -5), leg(2, "coins", 5), leg(3, "diamonds", -1), leg(4, "diamonds", 1)],
                Err(Refusal::MixedUnits(unit("coins"), unit("diamonds"))),
            ),
            ("overflowing i64 sums exactly", vec![leg(1, "KES", i64::MAX), leg(2, "KES", i64::MAX)], Err(Refusal::TooLarge)),
        ];
        for (name, legs, want) in cases {
            assert_eq!(check_legs(&legs), want, "{name}");
        }
    }

    #[test]
    fn movements_are_checked_by_the_rules() {
        let base = Movement {
            wallet: wallet(1),
            delta: Amount(-3),
            reason: "message_charge",
            reference: Some("m1"),
            idempotency_key: "charge:m1",
            created_by: None,
            spending: true,
        };
        let long_key = "k".repeat(MAX_KEY_LEN + 1);
        let cases: Vec<(&str, Movement<'_>, Result<(), Refusal>)> = vec![
            ("spending debit", base.clone(), Ok(())),
            ("plain credit", Movement { delta: Amount(5), spending: false, ..base.clone() }, Ok(())),
            ("spending credit", Movement { delta: Amount(5), ..base.clone() }, Err(Refusal::SpendingCredit)),
            ("zero", Movement { delta: Amount(0), ..base.clone() }, Err(Refusal::ZeroAmount)),
            ("too large", Movement { delta: Amount(i64::MIN), ..base.clone() }, Err(Refusal::TooLarge)),
            ("no key", Movement { idempotency_key: " ", ..base.clone() }, Err(Refusal::BadKey)),
            ("long key", Movement { idempotency_key: &long_key, ..base.clone() }, Err(Refusal::BadKey)),
            ("no reason", Movement { reason: "", ..base.clone() }, Err(Refusal::BadReason)),
        ];
        for (name, m, want) in cases {
            assert_eq!(check_movement(&m), want, "{name}");
        }
    }

    #[test]
    fn refusals_name_the_field_at_fault() {
        let e: StoreError = Refusal::MixedUnits(unit("a"), unit("b")).into();
        assert!(matches!(e, StoreError::Refused { field: "legs", .. }), "{e:?}");
        let e: StoreError = Refusal::BadKey.into();
        assert!(matches!(e, StoreError::Refused { field: "idempotency_key", .. }), "{e:?}");
    }

    /// Legs of one unit over distinct wallets whose amounts sum to zero: all
    /// but the last are drawn, the last balances them (kept movable).
    fn balanced_legs() -> impl Strategy<Value = Vec<Leg>> {
        proptest::collection::vec(-1_000_000i64..=1_000_000, 1..8).prop_filter_map("a movable balancing leg", |amounts| {
            if amounts.contains(&0) {
                return None;
            }
            let last = -amounts.iter().sum::<i64>();
            if last == 0 {
                return None;
            }
            let legs = amounts.iter().chain([&last]).enumerate().map(|(i, &d)| leg(i as u8, "KES", d)).collect();
            Some(legs)
        })
    }

    proptest! {
        #[test]
        fn balanced_legs_are_accepted_and_any_nudge_is_refused(legs in balanced_legs(), which in any::<prop::sample::Index>(), nudge in -1_000i64..=1_000) {
            prop_assert_eq!(check_legs(&legs), Ok(()));
            let i = which.index(legs.len());
            let mut nudged = legs.clone();
            nudged[i].delta = Amount(nudged[i].delta.get() + nudge);
            let accepted = check_legs(&nudged).is_ok();
            prop_assert_eq!(accepted, nudge == 0);
        }

        #[test]
        fn accepted_legs_always_sum_to_zero_in_one_unit(
            raw in proptest::collection::vec((0u8..4, prop::bool::ANY, -3i64..=3), 0..6)
        ) {
            let legs: Vec<Leg> = raw.iter().map(|&(w, coins, d)| leg(w, if coins { "coins" } else { "KES" }, d)).collect();
            if check_legs(&legs).is_ok() {
                prop_assert!(legs.len() >= 2);
                prop_assert_eq!(legs.iter().map(|l| l.delta.get()).sum::<i64>(), 0);
                prop_assert!(legs.iter().all(|l| l.unit == legs[0].unit && !l.delta.is_zero()));
                let wallets: HashSet<_> = legs.iter().map(|l| l.wallet).collect();
                prop_assert_eq!(wallets.len(), legs.len());
            }
        }
    }
}
