//! Credit refunds (spec: "Credit Refund System", edge case 9) and the cash
//! owed for unused credits when an account is deleted.

use crate::money::{Credits, Kes};

text_enum! {
    pub enum RefundReason {
        AccidentalSend => "accidental_send",
        InappropriateContent => "inappropriate_content",
        SystemError => "system_error",
        AdminDiscretion => "admin_discretion",
        /// Only through the account-deletion path, never the refund form.
        AccountDeletion => "account_deletion",
    }
}

impl RefundReason {
    /// The reasons an admin may pick on the refund form.
    pub const CHOOSABLE: &'static [RefundReason] =
        &[RefundReason::AccidentalSend, RefundReason::InappropriateContent, RefundReason::SystemError, RefundReason::AdminDiscretion];

    pub fn label(self) -> &'static str {
        match self {
            RefundReason::AccidentalSend => "Sent by accident",
            RefundReason::InappropriateContent => "Inappropriate content",
            RefundReason::SystemError => "System error",
            RefundReason::AdminDiscretion => "Admin discretion",
            RefundReason::AccountDeletion => "Account deletion",
        }
    }
}

text_enum! {
    pub enum RefundStatus { Pending => "pending", Completed => "completed", Rejected => "rejected" }
}

/// The largest refund without a message to bound it.
pub const MAX_UNBOUND_REFUND: Credits = Credits(1_000);

/// Cash owed per unused credit when an account is deleted.
pub const DELETION_REFUND_PER_CREDIT: Kes = Kes::from_shillings(10);

/// Checks a refund of `requested` credits. With a message, the total
/// refunded for it can never exceed what the message was charged.
pub fn check_refund(requested: Credits, message: Option<(Credits, Credits)>) -> Result<(), String> {
    if requested.get() <= 0 {
        return Err("Refund at least 1 credit.".into());
    }
    match message {
        Some((charged, already)) => {
            let left = charged.get() - already.get();
            if left <= 0 {
                Err(format!("This message was charged {charged} credits and has been fully refunded."))
            } else if requested.get() > left {
                Err(format!("At most {left} credits can be refunded for this message (charged {charged}, refunded {already})."))
            } else {
                Ok(())
            }
        }
        None if requested > MAX_UNBOUND_REFUND => Err(format!("Refunds without a message are limited to {MAX_UNBOUND_REFUND} credits.")),
        None => Ok(()),
    }
}

/// Cash owed for `unused` credits on account deletion.
pub fn deletion_refund(unused: Credits) -> Kes {
    Kes(unused.get().max(0) * DELETION_REFUND_PER_CREDIT.cents())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refunds_never_exceed_the_charge() {
        assert!(check_refund(Credits(2), Some((Credits(2), Credits(0)))).is_ok());
        assert!(check_refund(Credits(3), Some((Credits(2), Credits(0)))).is_err());
        assert!(check_refund(Credits(1), Some((Credits(2), Credits(1)))).is_ok());
        assert!(check_refund(Credits(2), Some((Credits(2), Credits(1)))).is_err());
        assert!(check_refund(Credits(1), Some((Credits(2), Credits(2)))).unwrap_err().contains("fully refunded"));
        assert!(check_refund(Credits(1), Some((Credits(0), Credits(0)))).is_err(), "free messages have nothing to refund");
    }

    #[test]
    fn refunds_are_positive_and_unbound_ones_capped() {
        assert!(check_refund(Credits(0), None).is_err());
        assert!(check_refund(Credits(-5), None).is_err());
        assert!(check_refund(MAX_UNBOUND_REFUND, None).is_ok());
        assert!(check_refund(Credits(MAX_UNBOUND_REFUND.get() + 1), None).is_err());
    }

    #[test]
    fn deletion_refund_is_ten_shillings_a_credit() {
        assert_eq!(deletion_refund(Credits(37)), Kes::from_shillings(370));
        assert_eq!(deletion_refund(Credits(0)), Kes(0));
        assert!(!RefundReason::CHOOSABLE.contains(&RefundReason::AccountDeletion));
    }
}
