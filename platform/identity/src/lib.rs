//! Signing in with an external identity provider: OpenID Connect
//! (authorization code flow with PKCE), Google first.
//!
//! [`OidcClient`] discovers the provider from its issuer URL
//! (`/.well-known/openid-configuration`), builds the authorization URL,
//! exchanges the code and verifies the ID token (RS256 against the
//! provider's JWKS; issuer, audience, expiry, nonce, verified email). The
//! per-attempt secrets (state, nonce, PKCE verifier) live in a
//! [`PendingLogin`] the product keeps between the two requests, in its
//! session or a signed cookie. [`fake::FakeOidc`] is a local provider for
//! demos and tests: discovery, JWKS, a page to pick an identity, and a
//! token endpoint that signs ID tokens. [`seal`] keeps an attempt (or a
//! verified identity still becoming an account) in a tamper-proof cookie.
//!
//! Why not the `openidconnect` crate: it builds here on the workspace's
//! reqwest 0.12 and rustls, but brings a second generation of RustCrypto
//! (digest/sha2 0.11, p256/p384 0.14, ed25519-dalek 3, rsa) for algorithms
//! Google does not use, while the tree already verifies JWTs with
//! `jsonwebtoken` over ring. The flow is small and pinned down by the spec;
//! the tests run it end to end against the fake.

pub mod fake;
mod oidc;
pub mod seal;

pub use oidc::{Callback, Claims, OidcClient, OidcConfig, OidcError, PendingLogin, ProviderMetadata};
