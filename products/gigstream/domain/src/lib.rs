//! GigStream's vocabulary and rules, with no I/O: every rule is a pure
//! function with a table test beside it.
//!
//! - [`money`]: integer minor units per currency ([`Money`], [`Currency`]);
//! - [`fees`]: the platform fee and the buyer's service fee, and how a
//!   payment is split between refund, seller and platform (always exact);
//! - [`order`]: the order state machine (every legal and illegal
//!   transition), who may act, refund caps, lateness, auto-completion;
//! - [`names`]: usernames, slugs, titles and tags;
//! - [`gig`]: packages, FAQ and requirement questions of a gig;
//! - [`richtext`]: sanitised descriptions (no script survives);
//! - [`messaging`]: conversations (inquiries, order threads), message
//!   and search checks, the typing throttle;
//! - [`reviews`]: review checks, the edit window, and review analytics;
//! - [`notifications`]: events, channels, preferences over defaults, retries;
//! - [`presence`]: online status and "last seen" in messaging;
//! - [`suggest`]: "did you mean" by trigram similarity;
//! - [`wallet`]: payment methods, earnings clearance, withdrawals;
//! - [`backoffice`]: admin roles and permissions, account standing,
//!   the marketplace settings and their bounds, daily analytics;
//! - [`dashboard`]: earnings per day and month, the orders pipeline, the
//!   response rate and quick actions on the dashboards;
//! - [`ids`]: the id types.

pub mod backoffice;
pub mod dashboard;
pub mod fees;
pub mod gig;
pub mod ids;
pub mod messaging;
pub mod money;
pub mod names;
pub mod notifications;
pub mod order;
pub mod presence;
pub mod reviews;
pub mod richtext;
pub mod suggest;
pub mod wallet;

pub use fees::{FeePolicy, Quote, Settlement};
pub use money::{Currency, Money};
pub use order::{Action, Actor, OrderStatus};
