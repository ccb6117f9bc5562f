//! Declarative macros for typed ids and text enums. Every path goes through
//! `$crate::__private`, so callers need no direct serde/sqlx/uuid imports.

/// Defines UUID newtypes: a fresh id is UUIDv7 (time-ordered, so b-tree
/// inserts stay local); PostgreSQL stores it as `uuid`, SQLite as
/// hyphenated text, and the same SQL binds and decodes on both.
#[macro_export]
macro_rules! id_type {
    ($($(#[$meta:meta])* $name:ident),+ $(,)?) => {$(
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(pub $crate::__private::uuid::Uuid);

        impl $name {
            /// A fresh, time-ordered id.
            pub fn new() -> Self { Self($crate::__private::uuid::Uuid::now_v7()) }
            pub fn as_uuid(&self) -> $crate::__private::uuid::Uuid { self.0 }
        }
        impl Default for $name { fn default() -> Self { Self::new() } }
        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result { self.0.fmt(f) }
        }
        impl std::str::FromStr for $name {
            type Err = $crate::__private::uuid::Error;
            fn from_str(s: &str) -> Result<Self, Self::Err> { $crate::__private::uuid::Uuid::parse_str(s).map(Self) }
        }
        impl $crate::__private::serde::Serialize for $name {
            fn serialize<S: $crate::__private::serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                $crate::__private::serde::Serialize::serialize(&self.0, s)
            }
        }
        impl<'de> $crate::__private::serde::Deserialize<'de> for $name {
            fn deserialize<D: $crate::__private::serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                <$crate::__private::uuid::Uuid as $crate::__private::serde::Deserialize<'de>>::deserialize(d).map(Self)
            }
        }
        impl $crate::__private::sqlx::Type<$crate::__private::sqlx::Postgres> for $name {
            fn type_info() -> $crate::__private::sqlx::postgres::PgTypeInfo {
                <$crate::__private::uuid::Uuid as $crate::__private::sqlx::Type<$crate::__private::sqlx::Postgres>>::type_info()
            }
        }
        impl<'q> $crate::__private::sqlx::Encode<'q, $crate::__private::sqlx::Postgres> for $name {
            fn encode_by_ref(&self, buf: &mut $crate::__private::sqlx::postgres::PgArgumentBuffer) -> Result<$crate::__private::sqlx::encode::IsNull, $crate::__private::sqlx::error::BoxDynError> {
                <$crate::__private::uuid::Uuid as $crate::__private::sqlx::Encode<'q, $crate::__private::sqlx::Postgres>>::encode_by_ref(&self.0, buf)
            }
        }
        impl<'r> $crate::__private::sqlx::Decode<'r, $crate::__private::sqlx::Postgres> for $name {
            fn decode(v: $crate::__private::sqlx::postgres::PgValueRef<'r>) -> Result<Self, $crate::__private::sqlx::error::BoxDynError> {
                <$crate::__private::uuid::Uuid as $crate::__private::sqlx::Decode<'r, $crate::__private::sqlx::Postgres>>::decode(v).map(Self)
            }
        }
        impl $crate::__private::sqlx::Type<$crate::__private::sqlx::Sqlite> for $name {
            fn type_info() -> $crate::__private::sqlx::sqlite::SqliteTypeInfo {
                <String as $crate::__private::sqlx::Type<$crate::__private::sqlx::Sqlite>>::type_info()
            }
            fn compatible(ty: &$crate::__private::sqlx::sqlite::SqliteTypeInfo) -> bool {
                <String as $crate::__private::sqlx::Type<$crate::__private::sqlx::Sqlite>>::compatible(ty)
            }
        }
        impl<'q> $crate::__private::sqlx::Encode<'q, $crate::__private::sqlx::Sqlite> for $name {
            fn encode_by_ref(&self, buf: &mut Vec<$crate::__private::sqlx::sqlite::SqliteArgumentValue<'q>>) -> Result<$crate::__private::sqlx::encode::IsNull, $crate::__private::sqlx::error::BoxDynError> {
                <String as $crate::__private::sqlx::Encode<'q, $crate::__private::sqlx::Sqlite>>::encode(self.0.hyphenated().to_string(), buf)
            }
        }
        impl<'r> $crate::__private::sqlx::Decode<'r, $crate::__private::sqlx::Sqlite> for $name {
            fn decode(v: $crate::__private::sqlx::sqlite::SqliteValueRef<'r>) -> Result<Self, $crate::__private::sqlx::error::BoxDynError> {
                let s = <&str as $crate::__private::sqlx::Decode<'r, $crate::__private::sqlx::Sqlite>>::decode(v)?;
                Ok(Self($crate::__private::uuid::Uuid::parse_str(s)?))
            }
        }
    )+};
}

/// TEXT column encoding on both stores for a type with a string form:
/// `$to` turns a value into a `String`, `$from` parses a `&str` back.
#[macro_export]
macro_rules! text_column {
    ($name:ty, $to:expr, $from:expr) => {
        impl $crate::__private::sqlx::Type<$crate::__private::sqlx::Postgres> for $name {
            fn type_info() -> $crate::__private::sqlx::postgres::PgTypeInfo {
                <String as $crate::__private::sqlx::Type<$crate::__private::sqlx::Postgres>>::type_info()
            }
            fn compatible(ty: &$crate::__private::sqlx::postgres::PgTypeInfo) -> bool {
                <String as $crate::__private::sqlx::Type<$crate::__private::sqlx::Postgres>>::compatible(ty)
            }
        }
        impl<'q> $crate::__private::sqlx::Encode<'q, $crate::__private::sqlx::Postgres> for $name {
            fn encode_by_ref(
                &self,
                buf: &mut $crate::__private::sqlx::postgres::PgArgumentBuffer,
            ) -> Result<$crate::__private::sqlx::encode::IsNull, $crate::__private::sqlx::error::BoxDynError> {
                let s: String = ($to)(self);
                <String as $crate::__private::sqlx::Encode<'q, $crate::__private::sqlx::Postgres>>::encode(s, buf)
            }
        }
        impl<'r> $crate::__private::sqlx::Decode<'r, $crate::__private::sqlx::Postgres> for $name {
            fn decode(v: $crate::__private::sqlx::postgres::PgValueRef<'r>) -> Result<Self, $crate::__private::sqlx::error::BoxDynError> {
                let s = <&str as $crate::__private::sqlx::Decode<'r, $crate::__private::sqlx::Postgres>>::decode(v)?;
                ($from)(s)
            }
        }
        impl $crate::__private::sqlx::Type<$crate::__private::sqlx::Sqlite> for $name {
            fn type_info() -> $crate::__private::sqlx::sqlite::SqliteTypeInfo {
                <String as $crate::__private::sqlx::Type<$crate::__private::sqlx::Sqlite>>::type_info()
            }
            fn compatible(ty: &$crate::__private::sqlx::sqlite::SqliteTypeInfo) -> bool {
                <String as $crate::__private::sqlx::Type<$crate::__private::sqlx::Sqlite>>::compatible(ty)
            }
        }
        impl<'q> $crate::__private::sqlx::Encode<'q, $crate::__private::sqlx::Sqlite> for $name {
            fn encode_by_ref(
                &self,
                buf: &mut Vec<$crate::__private::sqlx::sqlite::SqliteArgumentValue<'q>>,
            ) -> Result<$crate::__private::sqlx::encode::IsNull, $crate::__private::sqlx::error::BoxDynError> {
                let s: String = ($to)(self);
                <String as $crate::__private::sqlx::Encode<'q, $crate::__private::sqlx::Sqlite>>::encode(s, buf)
            }
        }
        impl<'r> $crate::__private::sqlx::Decode<'r, $crate::__private::sqlx::Sqlite> for $name {
            fn decode(v: $crate::__private::sqlx::sqlite::SqliteValueRef<'r>) -> Result<Self, $crate::__private::sqlx::error::BoxDynError> {
                let s = <&str as $crate::__private::sqlx::Decode<'r, $crate::__private::sqlx::Sqlite>>::decode(v)?;
                ($from)(s)
            }
        }
    };
}

/// Defines a string-backed enum with `ALL`, `as_str`, `Display`, `FromStr`,
/// serde as its text, and TEXT column encoding on both stores.
#[macro_export]
macro_rules! text_enum {
    ($(#[$meta:meta])* $vis:vis enum $name:ident { $($(#[$vmeta:meta])* $variant:ident => $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        $vis enum $name { $($(#[$vmeta])* $variant),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl std::str::FromStr for $name {
            type Err = $crate::UnknownVariant;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                match s { $($text => Ok($name::$variant),)+ _ => Err($crate::UnknownVariant(s.to_string())) }
            }
        }

        impl $crate::__private::serde::Serialize for $name {
            fn serialize<S: $crate::__private::serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }

        impl<'de> $crate::__private::serde::Deserialize<'de> for $name {
            fn deserialize<D: $crate::__private::serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = <std::borrow::Cow<'de, str> as $crate::__private::serde::Deserialize<'de>>::deserialize(d)?;
                s.parse().map_err(<D::Error as $crate::__private::serde::de::Error>::custom)
            }
        }

        $crate::text_column!($name, |v: &$name| v.as_str().to_string(), |s: &str| s.parse::<$name>().map_err(|e| Box::new(e) as $crate::__private::sqlx::error::BoxDynError));
    };
}

#[cfg(test)]
mod tests {
    crate::text_enum! {
        enum Colour { Red => "red", DarkBlue => "dark_blue" }
    }
    crate::id_type!(ThingId);

    #[test]
    fn text_enums_round_trip_through_text_and_json() {
        assert_eq!(Colour::DarkBlue.as_str(), "dark_blue");
        assert_eq!("red".parse::<Colour>().unwrap(), Colour::Red);
        assert_eq!("pink".parse::<Colour>().unwrap_err().to_string(), "unknown value `pink`");
        assert_eq!(serde_json_like(Colour::ALL), vec!["red", "dark_blue"]);
    }

    fn serde_json_like(all: &[Colour]) -> Vec<String> {
        all.iter().map(|c| c.to_string()).collect()
    }

    #[test]
    fn ids_are_time_ordered_and_parse_back() {
        let a = ThingId::new();
        let b = ThingId::new();
        assert!(a < b, "v7 ids sort by creation");
        assert_eq!(a.as_uuid().get_version_num(), 7);
        assert_eq!(a.to_string().parse::<ThingId>().unwrap(), a);
        assert!("not-a-uuid".parse::<ThingId>().is_err());
    }
}
