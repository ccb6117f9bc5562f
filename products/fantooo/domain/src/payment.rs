//! What a provider's report about a charge means for our transaction
//! (spec: "process-payment", "reconcile-payments", edge case 6). The store
//! applies the decision under the transaction's row lock; this module only
//! decides, so every rule is testable without a database.

use crate::money::Kes;

text_enum! {
    /// Our side of a purchase.
    pub enum TransactionStatus {
        /// Checkout started, nothing heard yet.
        Pending => "pending",
        /// The provider took money we have not credited (held for review).
        Processing => "processing",
        Success => "success",
        Failed => "failed",
        Refunded => "refunded",
    }
}

pub use platform_kernel::payment::ChargeStatus;

/// What our row says, read under its lock.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Local {
    pub status: TransactionStatus,
    /// False while only a webhook has been seen for the reference (it came
    /// before our own record of the checkout).
    pub initialized: bool,
    /// The price locked in at checkout.
    pub amount: Kes,
    pub currency: String,
}

/// What the provider reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    pub status: ChargeStatus,
    pub amount: Kes,
    pub currency: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// Credits were added before; record the report and change nothing else.
    AlreadyCredited,
    /// Keep the report until our checkout record arrives, then decide again.
    AwaitCheckout,
    /// Add the package's credits now.
    Credit,
    /// Money moved but not as agreed: hold for a person, add nothing.
    Review(String),
    /// The charge did not go through; `review` when someone should look.
    Fail { review: bool, reason: String },
    /// Nothing final yet.
    Wait,
}

pub fn decide(local: &Local, report: &Report) -> Decision {
    if local.status == TransactionStatus::Success || local.status == TransactionStatus::Refunded {
        return Decision::AlreadyCredited;
    }
    if !local.initialized {
        return Decision::AwaitCheckout;
    }
    match report.status {
        ChargeStatus::Success => {
            if !report.currency.eq_ignore_ascii_case(&local.currency) {
                Decision::Review(format!("currency mismatch: expected {}, provider reported {}", local.currency, report.currency))
            } else if report.amount != local.amount {
                Decision::Review(format!("amount mismatch: expected {}, provider reported {}", local.amount, report.amount))
            } else {
                Decision::Credit
            }
        }
        // A payment in review stays there whatever arrives later.
        _ if local.status == TransactionStatus::Processing => Decision::Wait,
        ChargeStatus::Failed => Decision::Fail { review: true, reason: "Payment failed".into() },
        ChargeStatus::Reversed => Decision::Fail { review: true, reason: "Payment reversed".into() },
        ChargeStatus::Abandoned => Decision::Fail { review: false, reason: "Checkout abandoned".into() },
        ChargeStatus::Pending => Decision::Wait,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn local(status: TransactionStatus) -> Local {
        Local { status, initialized: true, amount: Kes::from_shillings(400), currency: "KES".into() }
    }
    fn report(status: ChargeStatus, kes: i64, currency: &str) -> Report {
        Report { status, amount: Kes::from_shillings(kes), currency: currency.into() }
    }

    #[test]
    fn success_with_the_locked_amount_credits() {
        assert_eq!(decide(&local(TransactionStatus::Pending), &report(ChargeStatus::Success, 400, "KES")), Decision::Credit);
        assert_eq!(decide(&local(TransactionStatus::Pending), &report(ChargeStatus::Success, 400, "kes")), Decision::Credit);
        // A failed attempt may be followed by a successful retry on the same checkout.
        assert_eq!(decide(&local(TransactionStatus::Failed), &report(ChargeStatus::Success, 400, "KES")), Decision::Credit);
    }

    #[test]
    fn nothing_is_credited_twice() {
        for s in [ChargeStatus::Success, ChargeStatus::Failed, ChargeStatus::Pending] {
            assert_eq!(decide(&local(TransactionStatus::Success), &report(s, 400, "KES")), Decision::AlreadyCredited);
        }
    }

    #[test]
    fn mismatches_go_to_review() {
        assert!(
            matches!(decide(&local(TransactionStatus::Pending), &report(ChargeStatus::Success, 100, "KES")), Decision::Review(r) if r.contains("amount"))
        );
        assert!(
            matches!(decide(&local(TransactionStatus::Pending), &report(ChargeStatus::Success, 400, "NGN")), Decision::Review(r) if r.contains("currency"))
        );
        // Once in review, a later report does not move it.
        assert_eq!(decide(&local(TransactionStatus::Processing), &report(ChargeStatus::Failed, 400, "KES")), Decision::Wait);
    }

    #[test]
    fn failures_and_waiting() {
        assert!(matches!(
            decide(&local(TransactionStatus::Pending), &report(ChargeStatus::Failed, 400, "KES")),
            Decision::Fail { review: true, .. }
        ));
        assert!(matches!(
            decide(&local(TransactionStatus::Pending), &report(ChargeStatus::Abandoned, 400, "KES")),
            Decision::Fail { review: false, .. }
        ));
        assert_eq!(decide(&local(TransactionStatus::Pending), &report(ChargeStatus::Pending, 400, "KES")), Decision::Wait);
    }

    #[test]
    fn reports_before_the_checkout_record_wait_for_it() {
        let early = Local { initialized: false, ..local(TransactionStatus::Pending) };
        assert_eq!(decide(&early, &report(ChargeStatus::Success, 400, "KES")), Decision::AwaitCheckout);
    }
}
