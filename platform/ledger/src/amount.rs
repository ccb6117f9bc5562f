//! What a ledger counts: an [`Amount`] of some [`Unit`]. Amounts are whole
//! numbers of the unit's smallest part (cents, coins, credits), so sums are
//! exact; bounds keep every sum a ledger makes far from `i64` overflow.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// A signed quantity of a unit: positive credits a wallet, negative debits it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize, sqlx::Type)]
#[serde(transparent)]
#[sqlx(transparent)]
pub struct Amount(pub i64);

impl Amount {
    /// The largest amount one movement or leg may move, either way
    /// (10^15 minor units: ten trillion in a two-decimal currency).
    pub const MAX_MOVE: i64 = 1_000_000_000_000_000;
    /// The largest balance a wallet may hold. With [`Amount::MAX_MOVE`] it
    /// keeps `balance + delta` inside `i64` on both stores.
    pub const MAX_BALANCE: i64 = 4_000_000_000_000_000_000;

    pub const ZERO: Amount = Amount(0);

    pub fn new(v: i64) -> Self {
        Amount(v)
    }
    pub fn get(self) -> i64 {
        self.0
    }
    pub fn is_zero(self) -> bool {
        self.0 == 0
    }
    /// Whether a movement of this size is allowed: not zero, and at most
    /// [`Amount::MAX_MOVE`] either way.
    pub fn is_movable(self) -> bool {
        self.0 != 0 && self.0.unsigned_abs() <= Self::MAX_MOVE as u64
    }
}

impl std::ops::Neg for Amount {
    type Output = Amount;
    fn neg(self) -> Amount {
        Amount(-self.0)
    }
}

impl fmt::Display for Amount {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// Text that is not an amount a ledger can move.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AmountError {
    #[error("not a whole number")]
    NotANumber,
    #[error("must not be zero")]
    Zero,
    #[error("at most {} either way", Amount::MAX_MOVE)]
    TooLarge,
}

impl FromStr for Amount {
    type Err = AmountError;
    /// A movable amount from decimal text (`"250"`, `"-40"`).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let v: i64 = s.trim().parse().map_err(|_| AmountError::NotANumber)?;
        let a = Amount(v);
        if a.is_zero() {
            Err(AmountError::Zero)
        } else if !a.is_movable() {
            Err(AmountError::TooLarge)
        } else {
            Ok(a)
        }
    }
}

/// What a wallet holds: a currency code (`KES`, `USD`, counted in minor
/// units) or a product's own token (`coins`, `diamonds`, `credits`).
/// 1–16 ASCII letters, digits or underscores; case matters.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(transparent)]
pub struct Unit(String);

/// Text that cannot name a unit.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UnitError {
    #[error("a unit must not be empty")]
    Empty,
    #[error("a unit has at most {} characters", Unit::MAX_LEN)]
    TooLong,
    #[error("a unit is ASCII letters, digits and underscores only")]
    BadCharacter,
}

impl Unit {
    pub const MAX_LEN: usize = 16;

    pub fn parse(s: &str) -> Result<Unit, UnitError> {
        if s.is_empty() {
            Err(UnitError::Empty)
        } else if s.len() > Self::MAX_LEN {
            Err(UnitError::TooLong)
        } else if !s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
            Err(UnitError::BadCharacter)
        } else {
            Ok(Unit(s.to_string()))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl FromStr for Unit {
    type Err = UnitError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Unit::parse(s)
    }
}

impl fmt::Display for Unit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for Unit {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Unit::parse(&s).map_err(serde::de::Error::custom)
    }
}

platform_kernel::text_column!(Unit, |u: &Unit| u.0.clone(), |s: &str| Unit::parse(s).map_err(Into::into));

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn units_parse_by_the_rules() {
        let cases: &[(&str, Result<&str, UnitError>)] = &[
            ("KES", Ok("KES")),
            ("coins", Ok("coins")),
            ("gift_points_2", Ok("gift_points_2")),
            ("", Err(UnitError::Empty)),
            ("a_unit_far_too_long", Err(UnitError::TooLong)),
            ("US D", Err(UnitError::BadCharacter)),
            ("€", Err(UnitError::BadCharacter)),
            ("coins;--", Err(UnitError::BadCharacter)),
        ];
        for (text, want) in cases {
            let got = Unit::parse(text);
            assert_eq!(got.as_ref().map(Unit::as_str).map_err(Clone::clone), want.clone(), "{text:?}");
        }
    }

    #[test]
    fn amounts_parse_by_the_rules() {
        let cases: &[(&str, Result<i64, AmountError>)] = &[
            ("250", Ok(250)),
            ("-40", Ok(-40)),
            (" 7 ", Ok(7)),
            ("1000000000000000", Ok(Amount::MAX_MOVE)),
            ("-1000000000000000", Ok(-Amount::MAX_MOVE)),
            ("1000000000000001", Err(AmountError::TooLarge)),
            ("0", Err(AmountError::Zero)),
            ("1.5", Err(AmountError::NotANumber)),
            ("", Err(AmountError::NotANumber)),
            ("99999999999999999999", Err(AmountError::NotANumber)),
        ];
        for (text, want) in cases {
            assert_eq!(text.parse::<Amount>().map(Amount::get), *want, "{text:?}");
        }
    }

    #[test]
    fn amounts_serialise_as_numbers_and_units_as_text() {
        assert_eq!(serde_json::to_string(&Amount(-5)).unwrap(), "-5");
        let u: Unit = serde_json::from_str("\"KES\"").unwrap();
        assert_eq!(u.as_str(), "KES");
        assert!(serde_json::from_str::<Unit>("\"K E S\"").is_err());
    }
}
