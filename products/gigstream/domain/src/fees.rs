//! Fees, in exact integer arithmetic. The buyer pays the package price plus
//! a service fee; when the order is released the seller earns the price
//! minus the platform fee, and the platform keeps both fees. A payment is
//! always split exactly: refund + seller + platform = what was paid.
//!
//! Percentages are basis points (1/100 of a percent); a fee is rounded half
//! up to the minor unit, and never exceeds what it is a fee on.

use serde::Serialize;

/// The fee settings an order is placed under (locked into the order).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct FeePolicy {
    /// Taken from the seller's price on release (2000 = 20%).
    pub platform_fee_bps: u32,
    /// Added to the buyer's price at checkout (500 = 5%).
    pub buyer_fee_bps: u32,
    /// The smallest buyer fee, in minor units (waived on free orders).
    pub buyer_fee_min_minor: i64,
}

impl Default for FeePolicy {
    fn default() -> Self {
        FeePolicy { platform_fee_bps: 2000, buyer_fee_bps: 500, buyer_fee_min_minor: 100 }
    }
}

/// The largest percentage a fee may be, in basis points.
pub const MAX_BPS: u32 = 10_000;

/// `bps` of `amount`, rounded half up, never more than `amount`.
pub fn percent_of(amount: i64, bps: u32) -> i64 {
    if amount <= 0 {
        return 0;
    }
    let bps = i128::from(bps.min(MAX_BPS));
    let fee = (i128::from(amount) * bps + 5_000) / 10_000;
    fee.min(i128::from(amount)) as i64
}

/// What the buyer pays for a package price.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Quote {
    pub price: i64,
    pub buyer_fee: i64,
    pub total: i64,
}

/// How the money an order holds ends up: back to the buyer, to the seller,
/// and to the platform (its fee on the seller's part plus the buyer's
/// service fee that was not refunded).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Settlement {
    pub refund: i64,
    pub seller: i64,
    pub platform: i64,
}

impl FeePolicy {
    /// The checkout price of a package.
    pub fn quote(&self, price: i64) -> Quote {
        let buyer_fee = if price <= 0 { 0 } else { percent_of(price, self.buyer_fee_bps).max(self.buyer_fee_min_minor.max(0)) };
        Quote { price, buyer_fee, total: price + buyer_fee }
    }

    /// The platform's fee on the seller's part of a price.
    pub fn platform_fee(&self, price: i64) -> i64 {
        percent_of(price, self.platform_fee_bps)
    }

    /// How a paid order settles when `refunded` of it has gone (or goes)
    /// back to the buyer. Refunds come out of the price first and out of the
    /// service fee only once the whole price is refunded; the platform fee
    /// is taken on the price that is left. `refunded` is capped at what was
    /// paid.
    pub fn settle(&self, quote: Quote, refunded: i64) -> Settlement {
        let refund = refunded.clamp(0, quote.total);
        let price_left = quote.price - refund.min(quote.price);
        let buyer_fee_left = quote.buyer_fee - (refund - quote.price).max(0);
        let fee = self.platform_fee(price_left);
        Settlement { refund, seller: price_left - fee, platform: fee + buyer_fee_left }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn percentages_round_half_up() {
        let cases: &[(i64, u32, i64)] = &[
            (10_000, 2000, 2000),
            (999, 2000, 200),   // 199.8 → 200
            (1, 2000, 0),       // 0.2 → 0
            (3, 2000, 1),       // 0.6 → 1
            (25, 2000, 5),      // exactly 5
            (5, 1000, 1),       // 0.5 → 1 (half up)
            (100, 15_000, 100), // capped at the amount
            (0, 2000, 0),
            (-5, 2000, 0),
        ];
        for &(amount, bps, want) in cases {
            assert_eq!(percent_of(amount, bps), want, "{bps} bps of {amount}");
        }
    }

    #[test]
    fn quotes_add_the_service_fee_with_its_minimum() {
        let p = FeePolicy::default();
        assert_eq!(p.quote(10_000), Quote { price: 10_000, buyer_fee: 500, total: 10_500 });
        assert_eq!(p.quote(1_000), Quote { price: 1_000, buyer_fee: 100, total: 1_100 }, "5% is 50, the minimum is 100");
        assert_eq!(p.quote(0), Quote { price: 0, buyer_fee: 0, total: 0 });
    }

    #[test]
    fn settlements_split_as_the_table_says() {
        let p = FeePolicy::default();
        let q = p.quote(10_000); // 10,000 + 500
        let cases: &[(i64, Settlement)] = &[
            (0, Settlement { refund: 0, seller: 8_000, platform: 2_500 }),
            (5_000, Settlement { refund: 5_000, seller: 4_000, platform: 1_500 }),
            (10_000, Settlement { refund: 10_000, seller: 0, platform: 500 }),
            (10_200, Settlement { refund: 10_200, seller: 0, platform: 300 }),
            (10_500, Settlement { refund: 10_500, seller: 0, platform: 0 }),
            (99_999, Settlement { refund: 10_500, seller: 0, platform: 0 }),
        ];
        for &(refunded, want) in cases {
            assert_eq!(p.settle(q, refunded), want, "refunded {refunded}");
        }
    }

    proptest! {
        #[test]
        fn every_split_is_exact(price in 0i64..=100_000_000, pf in 0u32..=10_000, bf in 0u32..=3_000, min in 0i64..=1_000, refunded in 0i64..=200_000_000) {
            let p = FeePolicy { platform_fee_bps: pf, buyer_fee_bps: bf, buyer_fee_min_minor: min };
            let q = p.quote(price);
            prop_assert_eq!(q.total, q.price + q.buyer_fee);
            prop_assert!(q.buyer_fee >= 0);
            let s = p.settle(q, refunded);
            prop_assert_eq!(s.refund + s.seller + s.platform, q.total);
            prop_assert!(s.refund >= 0 && s.seller >= 0 && s.platform >= 0);
            prop_assert!(s.refund <= q.total);
            prop_assert!(s.seller <= q.price);
        }
    }
}
