//! Review policy: the priority and deadline every notice gets.
//!
//! DSA Art. 22 asks that trusted flaggers' notices are handled with priority; authority orders
//! carry their own deadlines (ATKM: 1 hour for terrorist content, at most 12 hours for child sexual
//! abuse material, specs/dsa.md §5). The defaults follow design.md §4: authority orders and
//! suspected CSAM first (1 h), trusted flaggers next (4 h), everything else 24 h. Configurable.

use std::time::Duration;

use time::OffsetDateTime;

use crate::notice::{NewNotice, OrderKind, Source};

/// Priority and deadline for one class of notices. Lower priority numbers are reviewed first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tier {
    /// 0 is most urgent.
    pub priority: u8,
    /// Time allowed from receipt to decision.
    pub deadline: Duration,
}

/// The policy, validated from configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policy {
    /// Authority orders and notices about suspected child sexual abuse material.
    pub urgent: Tier,
    /// Trusted-flagger notices.
    pub trusted_flagger: Tier,
    /// Hash-bank matches held for review.
    pub automated_match: Tier,
    /// Every other notice.
    pub standard: Tier,
}

impl Default for Policy {
    fn default() -> Self {
        const HOUR: u64 = 3600;
        Self {
            urgent: Tier { priority: 0, deadline: Duration::from_secs(HOUR) },
            trusted_flagger: Tier { priority: 1, deadline: Duration::from_secs(4 * HOUR) },
            automated_match: Tier { priority: 2, deadline: Duration::from_secs(24 * HOUR) },
            standard: Tier { priority: 2, deadline: Duration::from_secs(24 * HOUR) },
        }
    }
}

/// What the policy decided for one notice.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Assessment {
    /// Priority (lower first).
    pub priority: u8,
    /// When a decision is due.
    pub deadline: OffsetDateTime,
}

impl Policy {
    /// The tier for a notice.
    pub fn tier(&self, notice: &NewNotice) -> Tier {
        if notice.source == Source::AuthorityOrder || notice.suspected_csam() {
            self.urgent
        } else if notice.source == Source::TrustedFlagger {
            self.trusted_flagger
        } else if notice.source == Source::AutomatedMatch {
            self.automated_match
        } else {
            self.standard
        }
    }

    /// Priority and deadline for a notice received at `received_at`. An order's own deadline wins
    /// when it is earlier than the policy's; an ATKM terrorist-content order is due within an hour
    /// by law whatever the configuration says.
    pub fn assess(&self, notice: &NewNotice, received_at: OffsetDateTime) -> Assessment {
        let tier = self.tier(notice);
        let mut deadline = received_at + tier.deadline;
        if let Some(order) = &notice.order {
            if let Some(d) = order.deadline {
                deadline = deadline.min(d);
            }
            if order.kind == OrderKind::AtkmTerrorist {
                deadline = deadline.min(received_at + time::Duration::hours(1));
            }
        }
        Assessment { priority: tier.priority, deadline }
    }
}

/// Parses durations written like `90s`, `30m`, `4h`, `2d` (configuration values).
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let split = text.find(|c: char| !c.is_ascii_digit()).unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let n: u64 = number.parse().map_err(|_| format!("`{text}` is not a duration like 30m, 4h or 2d"))?;
    let secs = match unit.trim() {
        "s" => n,
        "m" => n * 60,
        "h" => n * 3600,
        "d" => n * 86_400,
        _ => return Err(format!("`{text}`: unit must be s, m, h or d")),
    };
    if secs == 0 {
        return Err(format!("`{text}`: must be longer than zero"));
    }
    Ok(Duration::from_secs(secs))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::notice::{AuthorityOrder, Language, Tristate};
    use time::macros::datetime;

    fn notice(source: Source, keywords: &[&str]) -> NewNotice {
        NewNotice {
            source,
            submitted_by: None,
            locations: vec![],
            explanation: "x".into(),
            category: "STATEMENT_CATEGORY_CYBER_VIOLENCE".into(),
            keywords: keywords.iter().map(|k| (*k).to_owned()).collect(),
            legal_ground: None,
            notifier: None,
            minor_involved: Tristate::Unknown,
            ai_generated: Tristate::Unknown,
            generator: None,
            hashes: vec![],
            order: None,
            anonymous_csam: false,
            language: Language::En,
        }
    }

    #[test]
    fn defaults_rank_orders_and_csam_then_flaggers_then_the_rest() {
        let p = Policy::default();
        let at = datetime!(2026-01-01 0:00 UTC);
        let csam = p.assess(&notice(Source::Article16, &["KEYWORD_CHILD_SEXUAL_ABUSE_MATERIAL"]), at);
        let tf = p.assess(&notice(Source::TrustedFlagger, &[]), at);
        let public = p.assess(&notice(Source::Article16, &[]), at);
        assert_eq!((csam.priority, csam.deadline), (0, at + time::Duration::hours(1)));
        assert_eq!((tf.priority, tf.deadline), (1, at + time::Duration::hours(4)));
        assert_eq!((public.priority, public.deadline), (2, at + time::Duration::hours(24)));
    }

    #[test]
    fn an_earlier_order_deadline_wins() {
        let p = Policy::default();
        let at = datetime!(2026-01-01 0:00 UTC);
        let mut n = notice(Source::AuthorityOrder, &[]);
        n.order = Some(AuthorityOrder {
            kind: OrderKind::AtkmCsam,
            issuing_authority: "ATKM".into(),
            member_state: "NL".into(),
            reference: "r".into(),
            legal_basis: "b".into(),
            deadline: Some(at + time::Duration::minutes(20)),
        });
        assert_eq!(p.assess(&n, at).deadline, at + time::Duration::minutes(20));
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("4h"), Ok(Duration::from_secs(14_400)));
        assert_eq!(parse_duration("30m"), Ok(Duration::from_secs(1_800)));
        assert!(parse_duration("0h").is_err());
        assert!(parse_duration("4 hours").is_err());
        assert!(parse_duration("h").is_err());
    }
}
