//! Rooms' identifiers.

platform_kernel::id_type! {
    /// A Rooms account.
    AccountId,
    /// A voice room.
    RoomId
}
