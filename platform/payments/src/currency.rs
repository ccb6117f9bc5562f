//! Amounts in minor units and the decimal strings some APIs want.
//!
//! The platform counts money as an integer of the currency's ISO 4217
//! minor unit (cents; yen for JPY, which has none; fils for the three-digit
//! dinars). Paystack and Stripe take those integers as they are; PayPal
//! takes decimal strings, and for HUF and TWD it refuses decimals although
//! ISO gives them two, so only whole amounts can be sent there.

/// Why an amount cannot be converted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AmountError {
    #[error("{0:?} is not a decimal amount")]
    NotADecimal(String),
    #[error("{value:?} has more than {exponent} decimal places")]
    TooPrecise { value: String, exponent: u32 },
    #[error("the amount is too large")]
    Overflow,
    #[error("{currency} amounts must be whole units here; {minor} minor units is not")]
    NotWhole { minor: i64, currency: String },
}

/// The number of decimal places of a currency (ISO 4217), 2 when unlisted.
pub fn exponent(currency: &str) -> u32 {
    match currency.to_ascii_uppercase().as_str() {
        "BIF" | "CLP" | "DJF" | "GNF" | "ISK" | "JPY" | "KMF" | "KRW" | "PYG" | "RWF" | "UGX" | "UYI" | "VND" | "VUV" | "XAF" | "XOF"
        | "XPF" => 0,
        "BHD" | "IQD" | "JOD" | "KWD" | "LYD" | "OMR" | "TND" => 3,
        "CLF" | "UYW" => 4,
        _ => 2,
    }
}

/// Decimal places PayPal accepts for a currency.
pub fn paypal_exponent(currency: &str) -> u32 {
    match currency.to_ascii_uppercase().as_str() {
        "HUF" | "JPY" | "TWD" => 0,
        other => exponent(other),
    }
}

/// `minor` units at `exponent` decimal places as a decimal string:
/// `(12345, 2)` → `"123.45"`, `(-5, 2)` → `"-0.05"`, `(500, 0)` → `"500"`.
pub fn to_decimal(minor: i64, exponent: u32) -> String {
    let sign = if minor < 0 { "-" } else { "" };
    let abs = minor.unsigned_abs();
    if exponent == 0 {
        return format!("{sign}{abs}");
    }
    let scale = 10u64.pow(exponent);
    format!("{sign}{}.{:0width$}", abs / scale, abs % scale, width = exponent as usize)
}

/// Reads a decimal string into minor units at `exponent` places. Fewer
/// places are fine (`"10.5"` at 2 → 1050); more are refused unless they are
/// zeros; no exponent notation, no thousands separators.
pub fn from_decimal(value: &str, exponent: u32) -> Result<i64, AmountError> {
    let bad = || AmountError::NotADecimal(value.to_string());
    let (negative, digits) = match value.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, value),
    };
    let (whole, frac) = match digits.split_once('.') {
        Some((w, f)) => (w, f),
        None => (digits, ""),
    };
    if whole.is_empty() || !whole.bytes().all(|b| b.is_ascii_digit()) || !frac.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad());
    }
    if digits.contains('.') && frac.is_empty() {
        return Err(bad());
    }
    let places = exponent as usize;
    if frac.len() > places && frac[places..].bytes().any(|b| b != b'0') {
        return Err(AmountError::TooPrecise { value: value.to_string(), exponent });
    }
    let frac = &frac[..frac.len().min(places)];
    let mut minor: i64 = 0;
    for b in whole.bytes().chain(frac.bytes()).chain(std::iter::repeat_n(b'0', places - frac.len())) {
        minor = minor.checked_mul(10).and_then(|m| m.checked_add(i64::from(b - b'0'))).ok_or(AmountError::Overflow)?;
    }
    Ok(if negative { -minor } else { minor })
}

/// The `value` PayPal wants for `minor` units of `currency`.
pub fn to_paypal_value(minor: i64, currency: &str) -> Result<String, AmountError> {
    let (iso, paypal) = (exponent(currency), paypal_exponent(currency));
    let drop = 10i64.pow(iso - paypal);
    if minor % drop != 0 {
        return Err(AmountError::NotWhole { minor, currency: currency.to_ascii_uppercase() });
    }
    Ok(to_decimal(minor / drop, paypal))
}

/// Minor units of `currency` from a PayPal `value`.
pub fn from_paypal_value(value: &str, currency: &str) -> Result<i64, AmountError> {
    // Read at ISO places: PayPal's whole-unit currencies then fit, and its
    // "1500.00" for HUF in some responses reads the same as "1500".
    from_decimal(value, exponent(currency))
}

/// For people: `"KES 400.00"`, `"JPY 500"`.
pub fn display(minor: i64, currency: &str) -> String {
    format!("{} {}", currency.to_ascii_uppercase(), to_decimal(minor, exponent(currency)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn minor_units_to_decimal() {
        let table: &[(i64, u32, &str)] = &[
            (0, 2, "0.00"),
            (1, 2, "0.01"),
            (99, 2, "0.99"),
            (100, 2, "1.00"),
            (12345, 2, "123.45"),
            (-5, 2, "-0.05"),
            (-12345, 2, "-123.45"),
            (500, 0, "500"),
            (-7, 0, "-7"),
            (1234, 3, "1.234"),
            (5, 3, "0.005"),
            (i64::MAX, 2, "92233720368547758.07"),
            (i64::MIN, 2, "-92233720368547758.08"),
        ];
        for &(minor, exp, text) in table {
            assert_eq!(to_decimal(minor, exp), text, "{minor} at {exp}");
        }
    }

    #[test]
    fn decimal_to_minor_units() {
        let table: &[(&str, u32, Result<i64, ()>)] = &[
            ("123.45", 2, Ok(12345)),
            ("10.5", 2, Ok(1050)),
            ("10", 2, Ok(1000)),
            ("0.01", 2, Ok(1)),
            ("-0.05", 2, Ok(-5)),
            ("1.230", 2, Ok(123)),
            ("500", 0, Ok(500)),
            ("500.00", 0, Ok(500)),
            ("1.234", 3, Ok(1234)),
            ("92233720368547758.07", 2, Ok(i64::MAX)),
            ("92233720368547758.08", 2, Err(())),
            ("1.234", 2, Err(())),
            ("500.5", 0, Err(())),
            ("", 2, Err(())),
            ("-", 2, Err(())),
            (".5", 2, Err(())),
            ("5.", 2, Err(())),
            ("1,000.00", 2, Err(())),
            ("1e3", 2, Err(())),
            ("+1.00", 2, Err(())),
            (" 1.00", 2, Err(())),
            ("1.-1", 2, Err(())),
        ];
        for (text, exp, want) in table {
            assert_eq!(from_decimal(text, *exp).map_err(|_| ()), *want, "{text:?} at {exp}");
        }
    }

    #[test]
    fn round_trips() {
        for exp in 0..=4 {
            for minor in [0, 1, 9, 10, 99, 100, 101, 123_456_789, -1, -100, i64::MAX / 7] {
                assert_eq!(from_decimal(&to_decimal(minor, exp), exp), Ok(minor), "{minor} at {exp}");
            }
        }
    }

    #[test]
    fn currency_exponents() {
        let table =
            [("USD", 2, 2), ("kes", 2, 2), ("JPY", 0, 0), ("KRW", 0, 0), ("KWD", 3, 3), ("HUF", 2, 0), ("TWD", 2, 0), ("XYZ", 2, 2)];
        for (code, iso, paypal) in table {
            assert_eq!((exponent(code), paypal_exponent(code)), (iso, paypal), "{code}");
        }
    }

    #[test]
    fn paypal_values() {
        let table: &[(i64, &str, Result<&str, ()>)] = &[
            (1050, "USD", Ok("10.50")),
            (40000, "KES", Ok("400.00")),
            (500, "JPY", Ok("500")),
            (1234, "KWD", Ok("1.234")),
            (150000, "HUF", Ok("1500")),
            (150050, "HUF", Err(())),
            (9900, "TWD", Ok("99")),
            (9950, "TWD", Err(())),
        ];
        for &(minor, code, want) in table {
            assert_eq!(to_paypal_value(minor, code).as_deref().map_err(|_| ()), want, "{minor} {code}");
        }
        assert_eq!(from_paypal_value("10.50", "USD"), Ok(1050));
        assert_eq!(from_paypal_value("500", "JPY"), Ok(500));
        assert_eq!(from_paypal_value("1500", "HUF"), Ok(150000));
        assert_eq!(from_paypal_value("1500.00", "HUF"), Ok(150000));
        assert!(from_paypal_value("10.505", "USD").is_err());
    }

    #[test]
    fn display_for_people() {
        assert_eq!(display(40000, "kes"), "KES 400.00");
        assert_eq!(display(500, "JPY"), "JPY 500");
    }
}
