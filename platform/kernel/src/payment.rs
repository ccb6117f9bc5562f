//! What every payment provider reports about a charge, in one vocabulary.

crate::text_enum! {
    /// The provider's side of a charge, as its API and webhooks report it.
    pub enum ChargeStatus {
        Success => "success",
        Failed => "failed",
        /// The buyer left the checkout without paying.
        Abandoned => "abandoned",
        /// Paid, then reversed by the bank or provider.
        Reversed => "reversed",
        /// Still in progress (Paystack: ongoing, pending, processing, queued).
        Pending => "pending",
    }
}
