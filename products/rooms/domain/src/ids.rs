//! Rooms' identifiers.

platform_kernel::id_type! {
    /// A Rooms account.
    AccountId,
    /// A voice room.
    RoomId,
    /// A gift in the catalogue.
    GiftId,
    /// One gift sent to one recipient.
    GiftSendId,
    /// One batch of gifts credited to their receivers, owners and shares.
    GiftCreditId,
    /// A coin recharge package.
    PackageId,
    /// An agency.
    AgencyId,
    /// A request to pay diamonds out.
    PayoutId,
    /// A diamond-to-coin exchange.
    ExchangeId,
    /// A request to a reseller for coins.
    CoinRequestId,
    /// An avatar frame in the catalogue.
    FrameId,
    /// One purchase of a frame.
    FramePurchaseId,
    /// One purchase of a VIP tier.
    VipPurchaseId,
    /// An application to join an agency.
    AgencyApplicationId,
    /// An agency owner's invitation to a user.
    AgencyInvitationId,
    /// One exchange of salary for coins.
    SalaryExchangeId
}
