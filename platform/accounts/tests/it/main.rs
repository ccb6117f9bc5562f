//! platform-accounts on both stores: sessions, access and refresh tokens,
//! passwords.

mod once;
mod password;
mod sessions;
mod support;
mod tokens;
