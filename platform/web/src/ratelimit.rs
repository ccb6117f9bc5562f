//! Rate limits keyed by any string (a client address, an account, a login
//! name). A product decides which requests count against which limit;
//! refusals are [`AppError::RateLimited`], answered 429 with `Retry-After`.

use crate::error::{AppError, Wait};
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

/// One keyed limit: so many events per minute per key.
pub struct Limit {
    inner: DefaultKeyedRateLimiter<String>,
    clock: DefaultClock,
}

impl Limit {
    pub fn per_minute(n: u32) -> Limit {
        let quota = Quota::per_minute(NonZeroU32::new(n.max(1)).expect("non-zero"));
        Limit { inner: RateLimiter::keyed(quota), clock: DefaultClock::default() }
    }

    /// Counts one event for `key`; refuses it when over the limit.
    pub fn check(&self, key: impl Into<String>) -> Result<(), AppError> {
        self.inner.check_key(&key.into()).map_err(|not_until| AppError::RateLimited(Wait(not_until.wait_time_from(self.clock.now()))))
    }

    /// Forgets idle keys so memory stays bounded.
    pub fn prune(&self) {
        self.inner.retain_recent();
    }
}

/// Prunes `limits` every minute, for the life of the process.
pub fn spawn_pruner(limits: Vec<Arc<dyn Fn() + Send + Sync>>) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(60));
        loop {
            tick.tick().await;
            for prune in &limits {
                prune();
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_key_has_its_own_budget() {
        let l = Limit::per_minute(2);
        assert!(l.check("a").is_ok());
        assert!(l.check("a").is_ok());
        let refused = l.check("a").unwrap_err();
        assert!(matches!(refused, AppError::RateLimited(Wait(wait)) if wait > Duration::ZERO));
        assert!(l.check("b").is_ok(), "another key is not affected");
        l.prune();
    }
}
