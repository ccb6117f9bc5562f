//! Money as whole minor units of one currency. Amounts never pass through
//! floating point: prices are parsed from decimal text into minor units and
//! printed back the same way, using the currency's exponent.

use serde::Serialize;
use std::fmt;

platform_kernel::text_enum! {
    /// The currencies GigStream prices in (ISO 4217 codes).
    pub enum Currency { Usd => "USD", Eur => "EUR", Gbp => "GBP", Kes => "KES", Jpy => "JPY" }
}

impl Currency {
    /// Digits after the decimal point: 100 cents to the dollar, none for yen.
    pub fn exponent(self) -> u32 {
        match self {
            Currency::Jpy => 0,
            _ => 2,
        }
    }

    /// Minor units in one major unit.
    pub fn minor_per_major(self) -> i64 {
        10i64.pow(self.exponent())
    }

    pub fn symbol(self) -> &'static str {
        match self {
            Currency::Usd => "$",
            Currency::Eur => "€",
            Currency::Gbp => "£",
            Currency::Kes => "KSh ",
            Currency::Jpy => "¥",
        }
    }
}

/// An amount of one currency in its minor unit (cents).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub struct Money {
    pub minor: i64,
    pub currency: Currency,
}

/// Text that is not an amount of money.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MoneyError {
    NotANumber,
    TooManyDecimals(u32),
    Negative,
    TooLarge,
}

impl fmt::Display for MoneyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MoneyError::NotANumber => f.write_str("must be an amount such as 25 or 25.50"),
            MoneyError::TooManyDecimals(0) => f.write_str("must be a whole amount in this currency"),
            MoneyError::TooManyDecimals(n) => write!(f, "must have at most {n} decimals"),
            MoneyError::Negative => f.write_str("must not be negative"),
            MoneyError::TooLarge => write!(f, "must be at most {}", Money::MAX_MAJOR),
        }
    }
}

impl std::error::Error for MoneyError {}

impl Money {
    /// The largest price anything may have, in major units.
    pub const MAX_MAJOR: i64 = 1_000_000;

    pub const fn new(minor: i64, currency: Currency) -> Money {
        Money { minor, currency }
    }

    pub fn zero(currency: Currency) -> Money {
        Money { minor: 0, currency }
    }

    /// Parses decimal text (`"25"`, `"25.5"`, `"25.50"`) into minor units,
    /// refusing more decimals than the currency has.
    pub fn parse(text: &str, currency: Currency) -> Result<Money, MoneyError> {
        let t = text.trim().trim_start_matches(currency.symbol().trim());
        let t = t.trim().replace(',', "");
        if t.starts_with('-') {
            return Err(MoneyError::Negative);
        }
        let (whole, frac) = t.split_once('.').unwrap_or((&t, ""));
        if whole.is_empty() && frac.is_empty() {
            return Err(MoneyError::NotANumber);
        }
        if !whole.bytes().all(|b| b.is_ascii_digit()) || !frac.bytes().all(|b| b.is_ascii_digit()) || t.ends_with('.') {
            return Err(MoneyError::NotANumber);
        }
        let exp = currency.exponent();
        if frac.len() as u32 > exp {
            return Err(MoneyError::TooManyDecimals(exp));
        }
        if whole.len() > 7 {
            return Err(MoneyError::TooLarge);
        }
        let whole: i64 = if whole.is_empty() { 0 } else { whole.parse().map_err(|_| MoneyError::NotANumber)? };
        let mut frac_minor: i64 = if frac.is_empty() { 0 } else { frac.parse().map_err(|_| MoneyError::NotANumber)? };
        for _ in frac.len() as u32..exp {
            frac_minor *= 10;
        }
        if whole > Self::MAX_MAJOR || (whole == Self::MAX_MAJOR && frac_minor > 0) {
            return Err(MoneyError::TooLarge);
        }
        Ok(Money { minor: whole * currency.minor_per_major() + frac_minor, currency })
    }

    /// The amount as decimal text without a symbol (`"25.50"`).
    pub fn decimal(&self) -> String {
        let exp = self.currency.exponent();
        let sign = if self.minor < 0 { "-" } else { "" };
        let abs = self.minor.unsigned_abs();
        if exp == 0 {
            return format!("{sign}{abs}");
        }
        let per = self.currency.minor_per_major() as u64;
        format!("{sign}{}.{:0width$}", abs / per, abs % per, width = exp as usize)
    }

    /// Adds two amounts of the same currency (`None` on a currency mismatch
    /// or overflow).
    pub fn checked_add(self, other: Money) -> Option<Money> {
        (self.currency == other.currency).then_some(())?;
        Some(Money { minor: self.minor.checked_add(other.minor)?, currency: self.currency })
    }
}

impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}{}", self.currency.symbol(), self.decimal())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn amounts_parse_by_the_currency_exponent() {
        use Currency::*;
        let cases: &[(&str, Currency, Result<i64, MoneyError>)] = &[
            ("25", Usd, Ok(2500)),
            ("25.5", Usd, Ok(2550)),
            ("25.50", Usd, Ok(2550)),
            ("0.01", Eur, Ok(1)),
            ("$1,250.00", Usd, Ok(125_000)),
            (".5", Usd, Ok(50)),
            ("25.505", Usd, Err(MoneyError::TooManyDecimals(2))),
            ("500", Jpy, Ok(500)),
            ("500.5", Jpy, Err(MoneyError::TooManyDecimals(0))),
            ("-3", Usd, Err(MoneyError::Negative)),
            ("abc", Usd, Err(MoneyError::NotANumber)),
            ("", Usd, Err(MoneyError::NotANumber)),
            ("1.", Usd, Err(MoneyError::NotANumber)),
            ("1e5", Usd, Err(MoneyError::NotANumber)),
            ("1000000", Usd, Ok(100_000_000)),
            ("1000000.01", Usd, Err(MoneyError::TooLarge)),
            ("99999999999999999999", Usd, Err(MoneyError::TooLarge)),
        ];
        for (text, cur, want) in cases {
            assert_eq!(Money::parse(text, *cur).map(|m| m.minor), *want, "{text:?} {cur}");
        }
    }

    #[test]
    fn amounts_print_with_their_decimals() {
        assert_eq!(Money::new(2550, Currency::Usd).to_string(), "$25.50");
        assert_eq!(Money::new(5, Currency::Eur).decimal(), "0.05");
        assert_eq!(Money::new(500, Currency::Jpy).to_string(), "¥500");
        assert_eq!(Money::new(-120, Currency::Gbp).decimal(), "-1.20");
        assert_eq!(Money::new(1, Currency::Usd).checked_add(Money::new(2, Currency::Eur)), None);
        assert_eq!(Money::new(1, Currency::Usd).checked_add(Money::new(2, Currency::Usd)), Some(Money::new(3, Currency::Usd)));
    }

    proptest! {
        #[test]
        fn printing_then_parsing_gives_the_same_amount(minor in 0i64..=100_000_000, jpy in any::<bool>()) {
            let cur = if jpy { Currency::Jpy } else { Currency::Usd };
            let m = Money::new(minor % (Money::MAX_MAJOR * cur.minor_per_major() + 1), cur);
            prop_assert_eq!(Money::parse(&m.decimal(), cur), Ok(m));
        }
    }
}
