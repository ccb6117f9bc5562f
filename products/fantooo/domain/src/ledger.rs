//! Why credits move. Every change to a balance is a ledger entry with one of
//! these reasons; the store refuses any other way of changing a balance.

text_enum! {
    pub enum LedgerReason {
        Purchase => "purchase",
        MessageCharge => "message_charge",
        Refund => "refund",
        Bonus => "bonus",
        AdminAdjustment => "admin_adjustment",
    }
}

impl LedgerReason {
    /// How the reason reads in a user's credit history.
    pub fn label(self) -> &'static str {
        match self {
            LedgerReason::Purchase => "Credits bought",
            LedgerReason::MessageCharge => "Message sent",
            LedgerReason::Refund => "Refund",
            LedgerReason::Bonus => "Bonus",
            LedgerReason::AdminAdjustment => "Adjustment",
        }
    }
}
