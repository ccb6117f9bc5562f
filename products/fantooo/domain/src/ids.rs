//! Typed identifiers (see `platform_kernel::id_type!` for how they are stored).

platform_kernel::id_type!(
    /// A login identity of any kind (user, operator or admin).
    AccountId,
    /// A real user's profile.
    UserId,
    /// A public profile that users chat with.
    ProfileId,
    OperatorId,
    AdminId,
    ChatId,
    MessageId,
    TransactionId,
    PackageId,
    NotificationId,
    /// One credit refund (or a pending account-deletion refund).
    RefundId,
    /// One credit ledger entry.
    LedgerEntryId,
    /// A row nothing else refers to by id (queue entries, incidents, …).
    RowId,
);
