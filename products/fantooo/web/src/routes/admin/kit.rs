//! What Fantooo's back-office handlers share: the platform's back-office
//! kit (`platform_backoffice::forms`) and the money format of its pages.

pub use platform_backoffice::forms::*;

/// Formats KES cents as "KES 1,234.50".
pub fn kes(cents: i64) -> String {
    let whole = (cents / 100).abs();
    let digits = whole.to_string();
    let mut grouped = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            grouped.push(',');
        }
        grouped.push(c);
    }
    let sign = if cents < 0 { "-" } else { "" };
    format!("KES {sign}{grouped}.{:02}", (cents % 100).abs())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn money_reads_naturally() {
        assert_eq!(kes(12_345_678), "KES 123,456.78");
        assert_eq!(kes(5), "KES 0.05");
        assert_eq!(kes(-150), "KES -1.50");
    }
}

#[cfg(test)]
mod properties {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn any_amount_formats(cents in any::<i64>()) {
            prop_assert!(kes(cents).starts_with("KES "));
        }
    }
}
