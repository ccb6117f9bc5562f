//! The coin economy's rules (requirements 5 and 6, BR-1 and BR-2): what a
//! gift costs, how its cost is split between receiver, room owner, agency
//! and platform, diamond exchange, and the limits on coin transfers. Pure
//! integer arithmetic; the store applies the results through the ledger.

use serde::Serialize;

/// Ledger units.
pub const COINS: &str = "coins";
pub const DIAMONDS: &str = "diamonds";

/// The treasury's opening stock of coins (BR-1).
pub const TREASURY_OPENING: i64 = 1_000_000_000;
/// The diamond issuer's opening stock: diamonds are issued from it when an
/// agency member is paid in diamonds and return to it when exchanged or
/// paid out.
pub const DIAMOND_OPENING: i64 = 1_000_000_000_000;
/// How many treasury and diamond-issuer wallets share the stock, so gifts
/// in different rooms (and in one room) do not all wait for one row.
pub const SHARDS: u32 = 16;

/// The percentages of BR-1.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct SplitRates {
    /// Room owner, % of the cost (RO).
    pub owner_pct: i64,
    /// Receiver, % of the cost (RP).
    pub receiver_pct: i64,
    /// Agency, % of the receiver's share (ASP), paid from the platform part.
    pub agency_pct: i64,
}

impl Default for SplitRates {
    fn default() -> Self {
        SplitRates { owner_pct: 5, receiver_pct: 70, agency_pct: 2 }
    }
}

/// One recipient's split of a gift's cost. `owner + receiver + agency +
/// platform == cost` always.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Split {
    pub cost: i64,
    pub owner: i64,
    pub receiver: i64,
    pub agency: i64,
    pub platform: i64,
}

/// BR-1: `O = C×RO/100`, `R = C×RP/100`, `A = R×ASP/100` for agency members
/// (else 0), `P = C − O − R − A`; integer division rounding down, so the
/// rounding remainders go to the platform. Rates outside 0–100 or summing
/// over 100 are a configuration mistake and are clamped so no share is
/// negative.
pub fn split(cost: i64, agency_member: bool, rates: SplitRates) -> Split {
    let cost = cost.max(0);
    let pct = |v: i64| v.clamp(0, 100);
    let owner = (i128::from(cost) * i128::from(pct(rates.owner_pct)) / 100) as i64;
    let receiver_pct = pct(rates.receiver_pct).min(100 - pct(rates.owner_pct));
    let receiver = (i128::from(cost) * i128::from(receiver_pct) / 100) as i64;
    let agency = if agency_member { (i128::from(receiver) * i128::from(pct(rates.agency_pct)) / 100) as i64 } else { 0 };
    let agency = agency.min(cost - owner - receiver);
    Split { cost, owner, receiver, agency, platform: cost - owner - receiver - agency }
}

/// Most gifts of one kind in one send.
pub const MAX_QUANTITY: i64 = 9_999;
/// Most recipients of one send (every seat of the largest room).
pub const MAX_RECIPIENTS: usize = 15;
/// Gifts a sender may send per minute.
pub const GIFTS_PER_MINUTE: u32 = 330;

/// Why a gift cannot be priced.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CostError {
    Quantity,
    Overflow,
}

/// `C = price × quantity` for one recipient; quantity 1–[`MAX_QUANTITY`].
pub fn gift_cost(price: i64, quantity: i64) -> Result<i64, CostError> {
    if !(1..=MAX_QUANTITY).contains(&quantity) {
        return Err(CostError::Quantity);
    }
    price.checked_mul(quantity).filter(|c| *c > 0 && *c <= platform_amount_max()).ok_or(CostError::Overflow)
}

/// The most one posting may move (the ledger's bound), kept here so the
/// domain needs no ledger dependency.
const fn platform_amount_max() -> i64 {
    1_000_000_000_000_000
}

/// XP from a cost and a multiplier in percent (100 = ×1.00), rounding down.
pub fn xp(cost: i64, multiplier_pct: i64) -> i64 {
    (i128::from(cost) * i128::from(multiplier_pct.max(0)) / 100).min(i128::from(i64::MAX)) as i64
}

/// Coin transfers between users (requirement 5, with confirmation).
pub const TRANSFER_MAX: i64 = 1_000_000;
/// Coins one user may transfer to others per day (UTC).
pub const TRANSFER_DAILY_MAX: i64 = 5_000_000;

/// Why a transfer is refused before any money moves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TransferRefusal {
    NotPositive,
    OverLimit(i64),
    OverDailyLimit { left: i64 },
    ToSelf,
}

impl TransferRefusal {
    pub fn message(&self) -> String {
        match self {
            TransferRefusal::NotPositive => "Enter a whole number of coins, at least 1.".into(),
            TransferRefusal::OverLimit(max) => format!("At most {max} coins in one transfer."),
            TransferRefusal::OverDailyLimit { left } => format!("That passes today's transfer limit; {left} coins are left for today."),
            TransferRefusal::ToSelf => "You cannot send coins to yourself.".into(),
        }
    }
}

/// Checks a transfer of `amount` with `sent_today` already sent today.
pub fn check_transfer(amount: i64, sent_today: i64, to_self: bool) -> Result<(), TransferRefusal> {
    if to_self {
        return Err(TransferRefusal::ToSelf);
    }
    if amount < 1 {
        return Err(TransferRefusal::NotPositive);
    }
    if amount > TRANSFER_MAX {
        return Err(TransferRefusal::OverLimit(TRANSFER_MAX));
    }
    let left = (TRANSFER_DAILY_MAX - sent_today).max(0);
    if amount > left {
        return Err(TransferRefusal::OverDailyLimit { left });
    }
    Ok(())
}

/// BR-2: diamonds → coins at a whole number of coins per diamond.
pub const DIAMOND_RATE: i64 = 1;

/// Coins for `diamonds` at `rate`, or `None` when either is not positive or
/// the product overflows.
pub fn diamonds_to_coins(diamonds: i64, rate: i64) -> Option<i64> {
    if diamonds < 1 || rate < 1 {
        return None;
    }
    diamonds.checked_mul(rate).filter(|c| *c <= platform_amount_max())
}

/// Which treasury (or diamond issuer) shard a posting keyed by `key` uses:
/// a stable hash, so a retry lands on the same shard.
pub fn shard_of(key: &str) -> u32 {
    fnv1a(key) % SHARDS
}

/// Escrow wallets a gift's cost waits in until its shares are credited:
/// every accepted gift writes one of them, so there are more of them than
/// of the counter shards.
pub const ESCROW_SHARDS: u32 = 64;

/// The escrow shard for a request key (0 to [`ESCROW_SHARDS`] − 1).
pub fn escrow_shard_of(key: &str) -> u32 {
    fnv1a(key) % ESCROW_SHARDS
}

/// FNV-1a: stable across processes and versions, unlike std's hasher.
fn fnv1a(key: &str) -> u32 {
    let mut h: u32 = 0x811c_9dc5;
    for b in key.bytes() {
        h ^= u32::from(b);
        h = h.wrapping_mul(0x0100_0193);
    }
    h
}

/// What a provider's report means for a coin purchase (5.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PurchaseDecision {
    /// Paid the locked price: credit the coins now.
    Credit,
    /// Already credited: a repeated notice, nothing changes.
    AlreadyCredited,
    /// Paid, but not the locked amount or currency: held for staff review.
    Review,
    /// The charge failed or was abandoned: nothing credited.
    Fail,
    /// Still in progress: wait for the next report.
    Wait,
}

/// Decides a report for a purchase in `status` (`pending`, `credited`,
/// `failed`, `review`) whose locked price is `price_minor` in `currency`.
pub fn decide_purchase(
    status: &str,
    price_minor: i64,
    currency: &str,
    charge: platform_kernel::payment::ChargeStatus,
    paid_minor: i64,
    paid_currency: &str,
) -> PurchaseDecision {
    use platform_kernel::payment::ChargeStatus as C;
    match (status, charge) {
        ("credited", _) => PurchaseDecision::AlreadyCredited,
        ("review", _) => PurchaseDecision::Review,
        (_, C::Success) if paid_minor == price_minor && paid_currency.eq_ignore_ascii_case(currency) => PurchaseDecision::Credit,
        (_, C::Success) => PurchaseDecision::Review,
        ("failed", _) => PurchaseDecision::Fail,
        // Paystack reports a checkout not paid yet as abandoned: the buyer
        // may still pay, so it stays pending.
        (_, C::Pending | C::Abandoned) => PurchaseDecision::Wait,
        (_, C::Failed | C::Reversed) => PurchaseDecision::Fail,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn br1_examples_and_edges() {
        let d = SplitRates::default();
        #[rustfmt::skip]
        type Shares = (i64, i64, i64, i64);
        let table: &[(i64, bool, Shares)] = &[
            // cost, member, (owner, receiver, agency, platform)
            (500, false, (25, 350, 0, 125)),
            (500, true, (25, 350, 7, 118)),
            (99, false, (4, 69, 0, 26)),
            (99, true, (4, 69, 1, 25)),
            (1, false, (0, 0, 0, 1)),
            (1, true, (0, 0, 0, 1)),
            (0, false, (0, 0, 0, 0)),
            (10_000, true, (500, 7_000, 140, 2_360)),
            (7, true, (0, 4, 0, 3)),
            (1_000_000_007, true, (50_000_000, 700_000_004, 14_000_000, 236_000_003)),
        ];
        for &(cost, member, (o, r, a, p)) in table {
            let s = split(cost, member, d);
            assert_eq!((s.owner, s.receiver, s.agency, s.platform), (o, r, a, p), "cost {cost} member {member}");
            assert_eq!(s.owner + s.receiver + s.agency + s.platform, cost);
        }
    }

    #[test]
    fn shares_always_add_up_and_are_never_negative() {
        let rates = [
            SplitRates::default(),
            SplitRates { owner_pct: 0, receiver_pct: 100, agency_pct: 100 },
            SplitRates { owner_pct: 60, receiver_pct: 60, agency_pct: 50 },
            SplitRates { owner_pct: -5, receiver_pct: 150, agency_pct: 2 },
            SplitRates { owner_pct: 33, receiver_pct: 33, agency_pct: 33 },
        ];
        for r in rates {
            for cost in (0..2_000).chain([i64::MAX / 1000, 999_999_999_999]) {
                for member in [false, true] {
                    let s = split(cost, member, r);
                    assert_eq!(s.owner + s.receiver + s.agency + s.platform, cost, "{r:?} {cost}");
                    assert!(s.owner >= 0 && s.receiver >= 0 && s.agency >= 0 && s.platform >= 0, "{r:?} {cost} {s:?}");
                    if !member {
                        assert_eq!(s.agency, 0);
                    }
                }
            }
        }
    }

    #[test]
    fn gift_cost_bounds() {
        assert_eq!(gift_cost(10, 3), Ok(30));
        assert_eq!(gift_cost(10, 0), Err(CostError::Quantity));
        assert_eq!(gift_cost(10, MAX_QUANTITY + 1), Err(CostError::Quantity));
        assert_eq!(gift_cost(i64::MAX / 2, 3), Err(CostError::Overflow));
        assert_eq!(gift_cost(0, 1), Err(CostError::Overflow));
        assert_eq!(xp(500, 100), 500);
        assert_eq!(xp(500, 150), 750);
        assert_eq!(xp(99, 125), 123);
    }

    #[test]
    fn transfer_limits() {
        assert_eq!(check_transfer(10, 0, false), Ok(()));
        assert_eq!(check_transfer(0, 0, false), Err(TransferRefusal::NotPositive));
        assert_eq!(check_transfer(10, 0, true), Err(TransferRefusal::ToSelf));
        assert_eq!(check_transfer(TRANSFER_MAX + 1, 0, false), Err(TransferRefusal::OverLimit(TRANSFER_MAX)));
        assert_eq!(check_transfer(TRANSFER_MAX, TRANSFER_DAILY_MAX - TRANSFER_MAX, false), Ok(()));
        assert_eq!(check_transfer(2, TRANSFER_DAILY_MAX - 1, false), Err(TransferRefusal::OverDailyLimit { left: 1 }));
    }

    #[test]
    fn exchange_and_shards() {
        assert_eq!(diamonds_to_coins(10, 1), Some(10));
        assert_eq!(diamonds_to_coins(10, 3), Some(30));
        assert_eq!(diamonds_to_coins(0, 1), None);
        assert_eq!(diamonds_to_coins(5, 0), None);
        assert_eq!(diamonds_to_coins(i64::MAX, 2), None);
        assert_eq!(shard_of("abc"), shard_of("abc"));
        let used: std::collections::HashSet<u32> = (0..200).map(|i| shard_of(&format!("gift-{i}"))).collect();
        assert_eq!(used.len(), SHARDS as usize, "keys spread over every shard");
        let escrow: std::collections::HashSet<u32> = (0..2000).map(|i| escrow_shard_of(&format!("gift-{i}"))).collect();
        assert_eq!(escrow.len(), ESCROW_SHARDS as usize, "keys spread over every escrow shard");
        assert!((0..2000).all(|i| escrow_shard_of(&format!("k{i}")) < ESCROW_SHARDS));
        assert_eq!(escrow_shard_of("abc") % SHARDS, shard_of("abc"), "the same hash, more buckets");
    }

    #[test]
    fn purchase_decisions() {
        use platform_kernel::payment::ChargeStatus as C;
        use PurchaseDecision as D;
        #[rustfmt::skip]
        let table = [
            ("pending", C::Success, 99, "USD", D::Credit),
            ("pending", C::Success, 99, "usd", D::Credit),
            ("pending", C::Success, 98, "USD", D::Review),
            ("pending", C::Success, 99, "KES", D::Review),
            ("credited", C::Success, 99, "USD", D::AlreadyCredited),
            ("credited", C::Failed, 99, "USD", D::AlreadyCredited),
            ("pending", C::Pending, 0, "USD", D::Wait),
            ("pending", C::Abandoned, 0, "USD", D::Wait),
            ("pending", C::Reversed, 0, "USD", D::Fail),
            ("pending", C::Failed, 0, "USD", D::Fail),
            ("failed", C::Success, 99, "USD", D::Credit),
            ("failed", C::Pending, 99, "USD", D::Fail),
            ("review", C::Success, 99, "USD", D::Review),
        ];
        for (status, charge, paid, cur, want) in table {
            assert_eq!(decide_purchase(status, 99, "USD", charge, paid, cur), want, "{status} {charge:?} {paid} {cur}");
        }
    }
}
