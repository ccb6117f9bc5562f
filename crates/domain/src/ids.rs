//! Typed identifiers. Each is a UUID; PostgreSQL stores it as `uuid`, SQLite
//! as hyphenated text, so the same SQL binds and decodes on both stores.

use uuid::Uuid;

macro_rules! id_type {
    ($($(#[$meta:meta])* $name:ident),+ $(,)?) => {$(
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub Uuid);

        impl $name {
            /// A fresh, time-ordered id (UUIDv7 keeps b-tree inserts local).
            pub fn new() -> Self { Self(Uuid::now_v7()) }
            pub fn as_uuid(&self) -> Uuid { self.0 }
        }
        impl Default for $name { fn default() -> Self { Self::new() } }
        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result { self.0.fmt(f) }
        }
        impl std::str::FromStr for $name {
            type Err = uuid::Error;
            fn from_str(s: &str) -> Result<Self, Self::Err> { Uuid::parse_str(s).map(Self) }
        }
        #[cfg(feature = "sqlx")]
        impl sqlx::Type<sqlx::Postgres> for $name {
            fn type_info() -> sqlx::postgres::PgTypeInfo { <Uuid as sqlx::Type<sqlx::Postgres>>::type_info() }
        }
        #[cfg(feature = "sqlx")]
        impl<'q> sqlx::Encode<'q, sqlx::Postgres> for $name {
            fn encode_by_ref(&self, buf: &mut sqlx::postgres::PgArgumentBuffer) -> Result<sqlx::encode::IsNull, sqlx::error::BoxDynError> {
                <Uuid as sqlx::Encode<'q, sqlx::Postgres>>::encode_by_ref(&self.0, buf)
            }
        }
        #[cfg(feature = "sqlx")]
        impl<'r> sqlx::Decode<'r, sqlx::Postgres> for $name {
            fn decode(v: sqlx::postgres::PgValueRef<'r>) -> Result<Self, sqlx::error::BoxDynError> {
                <Uuid as sqlx::Decode<'r, sqlx::Postgres>>::decode(v).map(Self)
            }
        }
        #[cfg(feature = "sqlx")]
        impl sqlx::Type<sqlx::Sqlite> for $name {
            fn type_info() -> sqlx::sqlite::SqliteTypeInfo { <String as sqlx::Type<sqlx::Sqlite>>::type_info() }
            fn compatible(ty: &sqlx::sqlite::SqliteTypeInfo) -> bool { <String as sqlx::Type<sqlx::Sqlite>>::compatible(ty) }
        }
        #[cfg(feature = "sqlx")]
        impl<'q> sqlx::Encode<'q, sqlx::Sqlite> for $name {
            fn encode_by_ref(&self, buf: &mut Vec<sqlx::sqlite::SqliteArgumentValue<'q>>) -> Result<sqlx::encode::IsNull, sqlx::error::BoxDynError> {
                <String as sqlx::Encode<'q, sqlx::Sqlite>>::encode(self.0.hyphenated().to_string(), buf)
            }
        }
        #[cfg(feature = "sqlx")]
        impl<'r> sqlx::Decode<'r, sqlx::Sqlite> for $name {
            fn decode(v: sqlx::sqlite::SqliteValueRef<'r>) -> Result<Self, sqlx::error::BoxDynError> {
                let s = <&str as sqlx::Decode<'r, sqlx::Sqlite>>::decode(v)?;
                Ok(Self(Uuid::parse_str(s)?))
            }
        }
    )+};
}

id_type!(
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

/// TEXT column encoding for string-backed enums on both stores.
#[cfg(feature = "sqlx")]
macro_rules! text_column {
    ($name:ty, $to:expr, $from:expr) => {
        impl sqlx::Type<sqlx::Postgres> for $name {
            fn type_info() -> sqlx::postgres::PgTypeInfo { <String as sqlx::Type<sqlx::Postgres>>::type_info() }
            fn compatible(ty: &sqlx::postgres::PgTypeInfo) -> bool { <String as sqlx::Type<sqlx::Postgres>>::compatible(ty) }
        }
        impl<'q> sqlx::Encode<'q, sqlx::Postgres> for $name {
            fn encode_by_ref(&self, buf: &mut sqlx::postgres::PgArgumentBuffer) -> Result<sqlx::encode::IsNull, sqlx::error::BoxDynError> {
                let s: String = ($to)(self);
                <String as sqlx::Encode<'q, sqlx::Postgres>>::encode(s, buf)
            }
        }
        impl<'r> sqlx::Decode<'r, sqlx::Postgres> for $name {
            fn decode(v: sqlx::postgres::PgValueRef<'r>) -> Result<Self, sqlx::error::BoxDynError> {
                let s = <&str as sqlx::Decode<'r, sqlx::Postgres>>::decode(v)?;
                ($from)(s)
            }
        }
        impl sqlx::Type<sqlx::Sqlite> for $name {
            fn type_info() -> sqlx::sqlite::SqliteTypeInfo { <String as sqlx::Type<sqlx::Sqlite>>::type_info() }
            fn compatible(ty: &sqlx::sqlite::SqliteTypeInfo) -> bool { <String as sqlx::Type<sqlx::Sqlite>>::compatible(ty) }
        }
        impl<'q> sqlx::Encode<'q, sqlx::Sqlite> for $name {
            fn encode_by_ref(&self, buf: &mut Vec<sqlx::sqlite::SqliteArgumentValue<'q>>) -> Result<sqlx::encode::IsNull, sqlx::error::BoxDynError> {
                let s: String = ($to)(self);
                <String as sqlx::Encode<'q, sqlx::Sqlite>>::encode(s, buf)
            }
        }
        impl<'r> sqlx::Decode<'r, sqlx::Sqlite> for $name {
            fn decode(v: sqlx::sqlite::SqliteValueRef<'r>) -> Result<Self, sqlx::error::BoxDynError> {
                let s = <&str as sqlx::Decode<'r, sqlx::Sqlite>>::decode(v)?;
                ($from)(s)
            }
        }
    };
}
#[cfg(feature = "sqlx")]
pub(crate) use text_column;
