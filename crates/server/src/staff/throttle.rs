//! Throttling of password guesses: failed sign-ins (`/staff/login`) and failed key requests
//! (`POST /api/v1/keys`) counted per account name and per client address in a sliding window.
//!
//! Once either count reaches its limit, every attempt for that name or from that address — right
//! password or not — is refused with 429 and `Retry-After` until the oldest counted failure leaves
//! the window, so guessing cannot go on at full speed. Counting failures only (not every request)
//! means a person who types their password right is never slowed down by the throttle.
//!
//! Why not `governor` (used for anonymous intake): its buckets run on their own monotonic clock and
//! cannot be peeked without spending a cell; here the state is read before a password is checked
//! and written only on failure, and the server's clock (moved by tests) drives the window. Counts
//! live in this process: behind several servers each counts alone, which still bounds the guess
//! rate per server.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::Duration;

use time::OffsetDateTime;

/// Limits of the throttle.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ThrottleLimits {
    /// Failures per account name within `window` before that name is refused.
    pub per_account: u32,
    /// Failures from one address within `window` before that address is refused.
    pub per_address: u32,
    /// The sliding window.
    pub window: Duration,
}

impl Default for ThrottleLimits {
    fn default() -> Self {
        Self { per_account: 5, per_address: 20, window: Duration::from_secs(15 * 60) }
    }
}

/// Most keys kept; beyond this, keys whose failures have all left the window are dropped first.
const MAX_KEYS: usize = 100_000;

/// Failure counts per key (`account:<name>` or `address:<ip>`).
#[derive(Debug, Default)]
pub struct SignInThrottle {
    limits: ThrottleLimits,
    failures: Mutex<HashMap<String, VecDeque<OffsetDateTime>>>,
}

impl SignInThrottle {
    /// A throttle with these limits.
    pub fn new(limits: ThrottleLimits) -> Self {
        Self { limits, failures: Mutex::default() }
    }

    /// The counters an attempt touches, each with its limit.
    fn keys(&self, username: &str, address: Option<std::net::IpAddr>) -> [(Option<String>, usize); 2] {
        [
            (Some(format!("account:{}", username.trim().to_lowercase())), self.limits.per_account.max(1) as usize),
            (address.map(|a| format!("address:{a}")), self.limits.per_address.max(1) as usize),
        ]
    }

    /// `Err(retry_after)` if attempts for `username` or from `address` are refused at `now`.
    pub fn check(
        &self,
        username: &str,
        address: Option<std::net::IpAddr>,
        now: OffsetDateTime,
    ) -> Result<(), Duration> {
        let failures = self.failures.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let mut wait = Duration::ZERO;
        for (key, limit) in self.keys(username, address) {
            let Some(key) = key else { continue };
            let Some(times) = failures.get(&key) else { continue };
            let recent: Vec<_> = times.iter().filter(|t| **t > now - self.limits.window).collect();
            if recent.len() >= limit {
                // Refused until enough failures age out to fall below the limit.
                let oldest_needed = recent[recent.len() - limit];
                let until = *oldest_needed + self.limits.window;
                let secs = (until - now).whole_milliseconds().max(0) as u64;
                wait = wait.max(Duration::from_millis(secs));
            }
        }
        if wait.is_zero() { Ok(()) } else { Err(wait) }
    }

    /// Counts a failed attempt for `username` and from `address`.
    pub fn record_failure(&self, username: &str, address: Option<std::net::IpAddr>, now: OffsetDateTime) {
        let mut failures = self.failures.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if failures.len() >= MAX_KEYS {
            let horizon = now - self.limits.window;
            failures.retain(|_, times| times.back().is_some_and(|t| *t > horizon));
        }
        for (key, _) in self.keys(username, address) {
            let Some(key) = key else { continue };
            if failures.len() >= MAX_KEYS && !failures.contains_key(&key) {
                continue;
            }
            let times = failures.entry(key).or_default();
            while times.front().is_some_and(|t| *t <= now - self.limits.window) {
                times.pop_front();
            }
            times.push_back(now);
            // Never more than needed to decide: the limit's worth of latest failures.
            while times.len() > self.limits.per_account.max(self.limits.per_address) as usize {
                times.pop_front();
            }
        }
    }

    /// Forgets the account name's failures after a successful sign-in (the address keeps its count,
    /// so one known account cannot be used to reset guessing at others).
    pub fn record_success(&self, username: &str) {
        let mut failures = self.failures.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        failures.remove(&format!("account:{}", username.trim().to_lowercase()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(secs: i64) -> OffsetDateTime {
        OffsetDateTime::UNIX_EPOCH + time::Duration::seconds(1_000_000 + secs)
    }

    #[test]
    fn refuses_after_the_limit_until_the_window_passes() {
        let t =
            SignInThrottle::new(ThrottleLimits { per_account: 3, per_address: 10, window: Duration::from_secs(60) });
        for i in 0..3 {
            assert!(t.check("Ana", None, at(i)).is_ok());
            t.record_failure("ana", None, at(i));
        }
        // The third failure was at 2 s; refused until the first (0 s) leaves the 60 s window.
        assert_eq!(t.check("ana", None, at(10)), Err(Duration::from_secs(50)));
        assert!(t.check("bob", None, at(10)).is_ok());
        assert!(t.check("ana", None, at(60)).is_ok());
    }

    #[test]
    fn counts_per_address_across_names_and_success_clears_only_the_name() {
        let ip: std::net::IpAddr = "192.0.2.7".parse().unwrap();
        let t = SignInThrottle::new(ThrottleLimits { per_account: 5, per_address: 2, window: Duration::from_secs(60) });
        t.record_failure("a", Some(ip), at(0));
        t.record_failure("b", Some(ip), at(1));
        assert!(t.check("c", Some(ip), at(2)).is_err());
        assert!(t.check("c", None, at(2)).is_ok());
        t.record_success("a");
        assert!(t.check("c", Some(ip), at(2)).is_err());
    }
}
