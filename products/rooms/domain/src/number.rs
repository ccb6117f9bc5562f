//! Public numeric ids: the short number people share to find each other.
//! Eight digits, never starting with 0. Numbers with an eye-catching pattern
//! (all one digit, a straight run, a repeated pair, a mirror) are kept back,
//! since such "unique IDs" are sold as props later.

use rand::Rng;

pub const MIN: i64 = 10_000_000;
pub const MAX: i64 = 99_999_999;

/// Whether `n` has a pattern reserved for premium ids.
pub fn is_reserved(n: i64) -> bool {
    let d: Vec<u8> = n.to_string().bytes().map(|b| b - b'0').collect();
    let all_same = d.iter().all(|x| *x == d[0]);
    let run_up = d.windows(2).all(|w| w[1] == w[0] + 1);
    let run_down = d.windows(2).all(|w| w[0] == w[1] + 1);
    let pairs = d.len().is_multiple_of(2) && d.chunks(2).all(|c| c == &d[..2]);
    let mirror = d.iter().eq(d.iter().rev());
    let six_same = d.windows(6).any(|w| w.iter().all(|x| *x == w[0]));
    all_same || run_up || run_down || pairs || mirror || six_same
}

/// A random public number that is not reserved (the store retries on the
/// rare collision with one already taken).
pub fn generate(rng: &mut impl Rng) -> i64 {
    loop {
        let n = rng.gen_range(MIN..=MAX);
        if !is_reserved(n) {
            return n;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reserved_patterns() {
        let cases = [
            (88_888_888, true),
            (12_345_678, true),
            (98_765_432, true),
            (52_525_252, true),
            (12_344_321, true),
            (31_111_119, true),
            (40_718_263, false),
            (10_000_001, true),
            (10_000_023, false),
        ];
        for (n, want) in cases {
            assert_eq!(is_reserved(n), want, "{n}");
        }
    }

    #[test]
    fn generated_numbers_are_eight_digits_and_plain() {
        let mut rng = rand::thread_rng();
        for _ in 0..2000 {
            let n = generate(&mut rng);
            assert!((MIN..=MAX).contains(&n) && !is_reserved(n));
        }
    }
}
