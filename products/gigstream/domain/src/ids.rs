//! GigStream's ids: UUIDv7 newtypes binding on both stores.

platform_kernel::id_type!(
    /// One login: buys and sells with the same account.
    AccountId,
    /// A gig a seller offers.
    GigId,
    /// An order of one package of one gig.
    OrderId,
    /// One delivery of an order (files and a message).
    DeliveryId,
);

platform_kernel::id_type!(
    /// A seller's request to be paid out.
    WithdrawalId,
);

platform_kernel::id_type!(
    /// An invoice or a credit note.
    InvoiceId,
);
