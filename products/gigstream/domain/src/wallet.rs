//! Payment methods, seller earnings clearance and withdrawals: pure rules.
//!
//! Earnings released from escrow wait in the seller's *pending* balance for
//! the clearance period (a setting, in days) and then become *available*;
//! a withdrawal holds available money until an admin approves it and the
//! provider pays it out (or rejects it, or the payout fails, and the money
//! comes back).

use chrono::{DateTime, Duration, Utc};

platform_kernel::text_enum! {
    /// How a buyer pays, and how a seller is paid out.
    pub enum PayMethod { Stripe => "stripe", Paypal => "paypal" }
}

impl PayMethod {
    pub fn label(self) -> &'static str {
        match self {
            PayMethod::Stripe => "Card (Stripe)",
            PayMethod::Paypal => "PayPal",
        }
    }

    /// What a payout goes to: a Stripe connected account or a PayPal email.
    pub fn destination_hint(self) -> &'static str {
        match self {
            PayMethod::Stripe => "your Stripe connected account id (acct_…)",
            PayMethod::Paypal => "the email address of your PayPal account",
        }
    }
}

platform_kernel::text_enum! {
    /// Where a withdrawal stands.
    pub enum WithdrawalStatus {
        Requested => "requested",
        Approved => "approved",
        Paid => "paid",
        Rejected => "rejected",
        Failed => "failed",
    }
}

impl WithdrawalStatus {
    /// Still holding money (at most one per seller).
    pub fn is_open(self) -> bool {
        matches!(self, WithdrawalStatus::Requested | WithdrawalStatus::Approved)
    }

    pub fn label(self) -> &'static str {
        match self {
            WithdrawalStatus::Requested => "Waiting for approval",
            WithdrawalStatus::Approved => "Approved, being paid",
            WithdrawalStatus::Paid => "Paid",
            WithdrawalStatus::Rejected => "Rejected",
            WithdrawalStatus::Failed => "Payout failed, money returned",
        }
    }
}

/// When earnings released at `released_at` become available.
pub fn clears_at(released_at: DateTime<Utc>, clearance_days: u32) -> DateTime<Utc> {
    released_at + Duration::days(i64::from(clearance_days))
}

/// Whether earnings released at `released_at` are available at `now`.
pub fn is_cleared(released_at: DateTime<Utc>, now: DateTime<Utc>, clearance_days: u32) -> bool {
    now >= clears_at(released_at, clearance_days)
}

/// The latest release time that has cleared by `now` (the job's cut-off).
pub fn cleared_before(now: DateTime<Utc>, clearance_days: u32) -> DateTime<Utc> {
    now - Duration::days(i64::from(clearance_days))
}

/// Withdrawal settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WithdrawalPolicy {
    /// The smallest amount a seller may withdraw, in minor units.
    pub minimum_minor: i64,
    /// A fixed payout fee kept by the platform, in minor units.
    pub fee_minor: i64,
}

impl Default for WithdrawalPolicy {
    fn default() -> Self {
        WithdrawalPolicy { minimum_minor: 2_000, fee_minor: 0 }
    }
}

/// Why a withdrawal request is refused, with the field it is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WithdrawalRefusal {
    pub field: &'static str,
    pub message: String,
}

/// A request checked: what leaves the available balance, what the seller
/// receives, and the fee.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WithdrawalPlan {
    pub amount: i64,
    pub fee: i64,
    pub payout: i64,
}

/// Checks a withdrawal of `amount` from `available` (minor units).
pub fn plan_withdrawal(policy: WithdrawalPolicy, amount: i64, available: i64, open: bool) -> Result<WithdrawalPlan, WithdrawalRefusal> {
    let refuse = |field, message: String| Err(WithdrawalRefusal { field, message });
    if open {
        return refuse("amount", "You already have a withdrawal waiting; wait until it is paid or rejected".into());
    }
    if amount <= 0 {
        return refuse("amount", "Enter an amount above zero".into());
    }
    if amount < policy.minimum_minor {
        return refuse("amount", format!("The smallest withdrawal is {} (minor units)", policy.minimum_minor));
    }
    if amount > available {
        return refuse("amount", format!("You have {available} (minor units) available"));
    }
    if amount <= policy.fee_minor {
        return refuse("amount", "The amount must be more than the payout fee".into());
    }
    Ok(WithdrawalPlan { amount, fee: policy.fee_minor, payout: amount - policy.fee_minor })
}

/// Checks where a payout goes for `method`; returns it trimmed.
pub fn check_destination(method: PayMethod, destination: &str) -> Result<String, WithdrawalRefusal> {
    let d = destination.trim();
    let ok = match method {
        PayMethod::Stripe => d.len() > 5 && d.len() <= 64 && d.starts_with("acct_") && d[5..].chars().all(|c| c.is_ascii_alphanumeric()),
        PayMethod::Paypal => {
            let mut parts = d.splitn(2, '@');
            let (local, domain) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
            d.len() <= 254
                && !local.is_empty()
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
                && !d.chars().any(char::is_whitespace)
        }
    };
    if ok {
        Ok(d.to_string())
    } else {
        Err(WithdrawalRefusal { field: "destination", message: format!("Enter {}", method.destination_hint()) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn clearance_table() {
        let t = |d: u32, h: u32| Utc.with_ymd_and_hms(2026, 11, d, h, 0, 0).unwrap();
        // (released, now, days, cleared)
        let table = [
            (t(1, 12), t(1, 12), 0, true),
            (t(1, 12), t(15, 11), 14, false),
            (t(1, 12), t(15, 12), 14, true),
            (t(1, 12), t(20, 0), 14, true),
            (t(1, 12), t(2, 11), 1, false),
            (t(1, 12), t(2, 12), 1, true),
            (t(10, 0), t(9, 0), 0, false),
        ];
        for (released, now, days, want) in table {
            assert_eq!(is_cleared(released, now, days), want, "{released} {now} {days}");
            // The job's cut-off agrees with the rule.
            assert_eq!(released <= cleared_before(now, days), want, "cut-off {released} {now} {days}");
        }
        assert_eq!(clears_at(t(1, 12), 14), t(15, 12));
    }

    #[test]
    fn withdrawal_table() {
        let p = WithdrawalPolicy { minimum_minor: 2_000, fee_minor: 100 };
        let ok = |a, f, pay| Ok(WithdrawalPlan { amount: a, fee: f, payout: pay });
        let table: [(i64, i64, bool, Result<WithdrawalPlan, &str>); 8] = [
            (2_000, 5_000, false, ok(2_000, 100, 1_900)),
            (5_000, 5_000, false, ok(5_000, 100, 4_900)),
            (5_001, 5_000, false, Err("amount")),
            (1_999, 5_000, false, Err("amount")),
            (0, 5_000, false, Err("amount")),
            (-5, 5_000, false, Err("amount")),
            (2_000, 5_000, true, Err("amount")),
            (2_000, 1_000, false, Err("amount")),
        ];
        for (amount, available, open, want) in table {
            let got = plan_withdrawal(p, amount, available, open).map_err(|r| r.field);
            assert_eq!(got, want, "{amount} of {available}, open {open}");
        }
        let free = WithdrawalPolicy { minimum_minor: 1, fee_minor: 0 };
        assert_eq!(plan_withdrawal(free, 1, 1, false).map_err(|r| r.field), ok(1, 0, 1));
        let steep = WithdrawalPolicy { minimum_minor: 1, fee_minor: 500 };
        assert!(plan_withdrawal(steep, 500, 900, false).unwrap_err().message.contains("fee"));
        assert!(plan_withdrawal(p, 1, 5_000, false).unwrap_err().message.contains("2000"));
    }

    #[test]
    fn destination_table() {
        let table = [
            (PayMethod::Stripe, " acct_1AbC ", Ok("acct_1AbC")),
            (PayMethod::Stripe, "acct_", Err("destination")),
            (PayMethod::Stripe, "seller@example.com", Err("destination")),
            (PayMethod::Stripe, "acct_12 3", Err("destination")),
            (PayMethod::Paypal, "seller@example.com", Ok("seller@example.com")),
            (PayMethod::Paypal, "acct_123", Err("destination")),
            (PayMethod::Paypal, "a@b", Err("destination")),
            (PayMethod::Paypal, "a b@c.com", Err("destination")),
            (PayMethod::Paypal, "@c.com", Err("destination")),
        ];
        for (m, d, want) in table {
            let got = check_destination(m, d);
            assert_eq!(got.as_ref().map(String::as_str).map_err(|r| r.field), want, "{m} {d:?}");
        }
        assert!(check_destination(PayMethod::Paypal, "x").unwrap_err().message.contains("PayPal"));
    }

    #[test]
    fn open_statuses() {
        let open: Vec<_> = WithdrawalStatus::ALL.iter().filter(|s| s.is_open()).collect();
        assert_eq!(open, [&WithdrawalStatus::Requested, &WithdrawalStatus::Approved]);
    }
}
