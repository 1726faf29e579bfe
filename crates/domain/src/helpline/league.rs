//! The league table: per platform, how many removal requests were honoured and how fast.
//!
//! The figure a helpline is asked for (eSafety publishes its own: the share of removal requests
//! that led to removal). Definitions, fixed here so that every export and page agrees:
//! - `requests`: requests sent in the period (by `sent_at`);
//! - `honoured`: of those, removed; `refused`: refused; `unanswered`: still without a final answer
//!   and past their answer time (state `no_answer`); the rest are `pending`;
//! - hours to removal: `removed_at − sent_at`; the median is the mean of the one or two middle
//!   values, p90 the nearest-rank value at rank ⌈0.9·n⌉ (the same definitions as the transparency
//!   report's, `store::report`).

use serde::Serialize;
use time::OffsetDateTime;

use crate::helpline::request::RequestState;

/// One request as the league table needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LeagueInput {
    /// Platform name.
    pub platform: String,
    /// Whether the helpline is a trusted flagger there.
    pub trusted_flagger: bool,
    /// State.
    pub state: RequestState,
    /// When it was sent.
    pub sent_at: OffsetDateTime,
    /// When the content was removed (the platform's decision time, or the caseworker's record).
    pub removed_at: Option<OffsetDateTime>,
}

/// One row of the league table.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LeagueRow {
    /// Platform name.
    pub platform: String,
    /// Trusted flagger there.
    pub trusted_flagger: bool,
    /// Requests sent.
    pub requests: u64,
    /// Removed.
    pub honoured: u64,
    /// Refused.
    pub refused: u64,
    /// No answer within the configured time.
    pub unanswered: u64,
    /// Sent, answer not yet due.
    pub pending: u64,
    /// `honoured / requests`, 0–1; `None` without requests.
    pub honoured_share: Option<f64>,
    /// Median hours from sending to removal; `None` when nothing was removed.
    pub median_hours_to_removal: Option<f64>,
    /// 90th percentile (nearest rank) of hours to removal.
    pub p90_hours_to_removal: Option<f64>,
}

/// The median: the mean of the one or two middle values of a sorted sample.
pub fn median(sorted: &[f64]) -> Option<f64> {
    let n = sorted.len();
    if n == 0 {
        return None;
    }
    Some(if n % 2 == 1 { sorted[n / 2] } else { (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0 })
}

/// The nearest-rank percentile `p` (0 < p ≤ 100) of a sorted sample: the value at rank ⌈p·n/100⌉.
pub fn nearest_rank(sorted: &[f64], p: u32) -> Option<f64> {
    let n = sorted.len();
    if n == 0 {
        return None;
    }
    let rank = (u64::from(p) * n as u64).div_ceil(100).max(1) as usize;
    Some(sorted[rank.min(n) - 1])
}

/// Builds the table, one row per platform, ordered by platform name.
pub fn league(inputs: &[LeagueInput]) -> Vec<LeagueRow> {
    let mut by_platform: std::collections::BTreeMap<&str, (bool, Vec<&LeagueInput>)> = Default::default();
    for i in inputs {
        let entry = by_platform.entry(&i.platform).or_insert((i.trusted_flagger, Vec::new()));
        entry.1.push(i);
    }
    by_platform
        .into_iter()
        .map(|(platform, (trusted_flagger, rows))| {
            let count = |s: RequestState| rows.iter().filter(|r| r.state == s).count() as u64;
            let requests = rows.len() as u64;
            let honoured = count(RequestState::Removed);
            let refused = count(RequestState::Refused);
            let unanswered = count(RequestState::NoAnswer);
            let mut hours: Vec<f64> = rows
                .iter()
                .filter(|r| r.state == RequestState::Removed)
                .filter_map(|r| r.removed_at.map(|at| (at - r.sent_at).as_seconds_f64().max(0.0) / 3600.0))
                .collect();
            hours.sort_by(f64::total_cmp);
            LeagueRow {
                platform: platform.to_owned(),
                trusted_flagger,
                requests,
                honoured,
                refused,
                unanswered,
                pending: requests - honoured - refused - unanswered,
                honoured_share: (requests > 0).then(|| honoured as f64 / requests as f64),
                median_hours_to_removal: median(&hours),
                p90_hours_to_removal: nearest_rank(&hours, 90),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::Duration;

    fn req(platform: &str, state: RequestState, hours: Option<i64>) -> LeagueInput {
        let sent_at = OffsetDateTime::UNIX_EPOCH;
        LeagueInput {
            platform: platform.into(),
            trusted_flagger: platform == "P",
            state,
            sent_at,
            removed_at: hours.map(|h| sent_at + Duration::hours(h)),
        }
    }

    #[test]
    fn median_and_nearest_rank_match_hand_computed_values() {
        assert_eq!(median(&[]), None);
        assert_eq!(median(&[3.0]), Some(3.0));
        assert_eq!(median(&[1.0, 2.0, 10.0, 20.0]), Some(6.0));
        let ten: Vec<f64> = (1..=10).map(f64::from).collect();
        assert_eq!(nearest_rank(&ten, 90), Some(9.0));
        assert_eq!(nearest_rank(&ten, 100), Some(10.0));
        let eleven: Vec<f64> = (1..=11).map(f64::from).collect();
        assert_eq!(nearest_rank(&eleven, 90), Some(10.0), "rank ⌈9.9⌉ = 10");
        assert_eq!(nearest_rank(&[5.0], 90), Some(5.0));
    }

    #[test]
    fn rows_count_each_outcome_per_platform() {
        use RequestState::*;
        let rows = league(&[
            req("P", Removed, Some(2)),
            req("P", Removed, Some(6)),
            req("P", Refused, None),
            req("P", Acknowledged, None),
            req("Q", NoAnswer, None),
            req("Q", Removed, Some(48)),
        ]);
        assert_eq!(rows.len(), 2);
        let p = &rows[0];
        assert_eq!(
            (p.platform.as_str(), p.requests, p.honoured, p.refused, p.unanswered, p.pending),
            ("P", 4, 2, 1, 0, 1)
        );
        assert_eq!(p.median_hours_to_removal, Some(4.0));
        assert_eq!(p.p90_hours_to_removal, Some(6.0));
        assert_eq!(p.honoured_share, Some(0.5));
        assert!(p.trusted_flagger);
        let q = &rows[1];
        assert_eq!((q.requests, q.honoured, q.unanswered), (2, 1, 1));
        assert_eq!(q.median_hours_to_removal, Some(48.0));
        assert!(!q.trusted_flagger);
    }
}
