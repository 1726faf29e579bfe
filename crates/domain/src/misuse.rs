//! Misuse of the notice mechanism (DSA Art. 23(2)): notifiers who frequently send manifestly
//! unfounded notices are first warned, then have their notices ignored for a reasonable period.
//!
//! Art. 23(3) asks for a case-by-case assessment weighing the absolute number of unfounded
//! notices in a period, their share of everything the notifier sent, and gravity and intent. The
//! policy here takes the first two into account mechanically (both thresholds must be met) and
//! records its reasons; a person can lift a suspension.

use std::time::Duration;

use time::OffsetDateTime;

/// Thresholds, from configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MisusePolicy {
    /// Look-back window for counting.
    pub window: Duration,
    /// Unfounded notices in the window that earn a warning.
    pub warn_after: u32,
    /// Unfounded notices in the window, after a warning, that earn a suspension.
    pub suspend_after: u32,
    /// Minimum share of unfounded notices among all the notifier's notices in the window (percent).
    pub min_share_percent: u32,
    /// How long a suspension lasts.
    pub suspension: Duration,
}

impl Default for MisusePolicy {
    fn default() -> Self {
        Self {
            window: Duration::from_secs(90 * 24 * 3600),
            warn_after: 3,
            suspend_after: 5,
            min_share_percent: 50,
            suspension: Duration::from_secs(30 * 24 * 3600),
        }
    }
}

/// A notifier's record in the window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Standing {
    /// Notices decided manifestly unfounded in the window.
    pub unfounded: u32,
    /// All notices in the window.
    pub total: u32,
    /// Whether a warning was given in the window.
    pub warned: bool,
    /// Current suspension end, if suspended.
    pub suspended_until: Option<OffsetDateTime>,
}

/// What the policy does next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MisuseAction {
    /// Warn the notifier (the prior warning of Art. 23(2)).
    Warn {
        /// Why, for the record and the message.
        reason: String,
    },
    /// Suspend the processing of their notices until `until`.
    Suspend {
        /// End of the suspension.
        until: OffsetDateTime,
        /// Why.
        reason: String,
    },
}

impl MisusePolicy {
    /// The next step for a notifier with `standing`, if any.
    pub fn assess(&self, standing: Standing, now: OffsetDateTime) -> Option<MisuseAction> {
        if standing.suspended_until.is_some_and(|until| until > now) {
            return None;
        }
        let share = (standing.unfounded * 100).checked_div(standing.total).unwrap_or(0);
        let days = self.window.as_secs() / 86_400;
        let reason = format!(
            "{} of {} notices in the last {days} days were manifestly unfounded ({share}%)",
            standing.unfounded, standing.total
        );
        if share < self.min_share_percent {
            return None;
        }
        if standing.warned && standing.unfounded >= self.suspend_after {
            Some(MisuseAction::Suspend { until: now + self.suspension, reason })
        } else if !standing.warned && standing.unfounded >= self.warn_after {
            Some(MisuseAction::Warn { reason })
        } else {
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: OffsetDateTime = time::macros::datetime!(2026-11-23 12:00 UTC);

    fn standing(unfounded: u32, total: u32, warned: bool) -> Standing {
        Standing { unfounded, total, warned, suspended_until: None }
    }

    #[test]
    fn warning_first_then_suspension() {
        let p = MisusePolicy::default();
        assert_eq!(p.assess(standing(2, 2, false), NOW), None);
        assert!(matches!(p.assess(standing(3, 3, false), NOW), Some(MisuseAction::Warn { .. })));
        assert_eq!(p.assess(standing(4, 4, true), NOW), None);
        let Some(MisuseAction::Suspend { until, reason }) = p.assess(standing(5, 6, true), NOW) else {
            panic!("expected a suspension")
        };
        assert_eq!(until, NOW + Duration::from_secs(30 * 86_400));
        assert!(reason.contains("5 of 6"), "{reason}");
        // Without a prior warning, no suspension, however many.
        assert!(matches!(p.assess(standing(9, 9, false), NOW), Some(MisuseAction::Warn { .. })));
    }

    #[test]
    fn a_notifier_whose_notices_are_mostly_founded_is_left_alone() {
        let p = MisusePolicy::default();
        assert_eq!(p.assess(standing(5, 40, true), NOW), None);
    }

    #[test]
    fn no_new_step_while_suspended() {
        let p = MisusePolicy::default();
        let s = Standing { suspended_until: Some(NOW + Duration::from_secs(60)), ..standing(9, 9, true) };
        assert_eq!(p.assess(s, NOW), None);
    }
}
