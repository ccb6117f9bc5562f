//! Money types. Credits are whole units; Kenyan shillings are held in cents
//! so amounts are exact integers (no floats anywhere money is computed).

use serde::{Deserialize, Serialize};

/// A whole number of chat credits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize)]
#[serde(transparent)]
#[cfg_attr(feature = "sqlx", derive(sqlx::Type), sqlx(transparent))]
pub struct Credits(pub i64);

impl Credits {
    pub const ZERO: Credits = Credits(0);
    pub fn get(self) -> i64 {
        self.0
    }
    pub fn is_negative(self) -> bool {
        self.0 < 0
    }
}

impl std::fmt::Display for Credits {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// Kenyan shillings, stored as cents.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize)]
#[serde(transparent)]
#[cfg_attr(feature = "sqlx", derive(sqlx::Type), sqlx(transparent))]
pub struct Kes(pub i64);

impl Kes {
    pub const fn from_shillings(s: i64) -> Kes {
        Kes(s * 100)
    }
    pub fn cents(self) -> i64 {
        self.0
    }
}

impl std::fmt::Display for Kes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let sign = if self.0 < 0 { "-" } else { "" };
        let abs = self.0.unsigned_abs();
        let whole = abs / 100;
        let cents = abs % 100;
        // Thousands separators keep large amounts readable in the admin panel.
        let digits = whole.to_string();
        let mut grouped = String::new();
        for (i, ch) in digits.chars().enumerate() {
            if i > 0 && (digits.len() - i).is_multiple_of(3) {
                grouped.push(',');
            }
            grouped.push(ch);
        }
        if cents == 0 {
            write!(f, "KES {sign}{grouped}")
        } else {
            write!(f, "KES {sign}{grouped}.{cents:02}")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn kes_formats_with_grouping_and_cents() {
        assert_eq!(Kes::from_shillings(1000).to_string(), "KES 1,000");
        assert_eq!(Kes(123456).to_string(), "KES 1,234.56");
        assert_eq!(Kes(-50).to_string(), "KES -0.50");
        assert_eq!(Kes::from_shillings(100).to_string(), "KES 100");
    }
}
