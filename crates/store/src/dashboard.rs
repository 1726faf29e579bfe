//! The staff dashboard's further figures (issue 12), beside [`crate::Stats`]: time to action per
//! week, time to pick-up, the share of notices acted on within 24 h and 48 h, and per trusted
//! flagger the notices sent, the share acted on and the median time to a decision.
//!
//! DSA Art. 16(6) (timely processing), Art. 22 (a platform can say how it handled each trusted
//! flagger's notices) and the US TAKE IT DOWN Act's 48-hour window. Every figure is one SQL
//! statement through the same engine as the transparency report (`report.rs`): nearest-rank
//! percentiles, rows never loaded into Rust, portable between SQLite and PostgreSQL.
//!
//! Definitions (durations in milliseconds):
//! - *Time to action per week*: as in `stats.rs` (a notice's first decision minus its receipt,
//!   counted when that decision falls in the period), grouped by the ISO week (Monday 00:00 UTC)
//!   the decision fell in.
//! - *Time to pick-up*: a case's first "take" (`picked_up_at`) minus its creation, for cases picked
//!   up in the period.
//! - *Acted on within 24 h / 48 h*: of the notices received in the period, those whose first
//!   decision (of any outcome; deciding to take no action is acting on a notice) came at most
//!   24 h / 48 h after receipt.
//! - *Per trusted flagger*: notices with source `trusted_flagger` received in the period, grouped
//!   by the name of the key they came with; *acted on* means the first decision restricted the
//!   content (the notice was found valid), *median time* is over the decided ones.

use time::OffsetDateTime;

use crate::report::{Calc, FIRST_DECIDED_IN_PERIOD, FIRST_DECISION, Period, Spec, Table, agg, count_if};
use crate::stats::QueueGauges;
use crate::{Result, Store};

/// One week in milliseconds.
const WEEK_MS: i64 = 7 * 86_400_000;
/// 1970-01-05, the first Monday after the Unix epoch, in milliseconds.
const FIRST_MONDAY_MS: i64 = 4 * 86_400_000;

/// The dashboard's figures of one period beyond [`crate::Stats`].
#[derive(Debug, Clone, PartialEq)]
pub struct DashboardFigures {
    /// Time to action per week: dims `week` (the Monday, `YYYY-MM-DD`), `source`, `category`
    /// (groupings: none, week, week × source, week × category); columns `decided`, `p50`, `p90`,
    /// `p99` (ms).
    pub weekly: Table,
    /// Time to pick-up: dim `category`; columns `picked_up`, `p50`, `p90` (ms).
    pub pickup: Table,
    /// Notices received in the period by `source`: `received`, `decided`, `within_24h`,
    /// `within_48h`.
    pub within: Table,
    /// Trusted flaggers' notices received in the period by `flagger`: `notices`, `decided`,
    /// `acted_on`, `median` (ms, over the decided ones).
    pub flaggers: Table,
    /// Open cases and overdue open cases at `now`.
    pub queue: QueueGauges,
}

fn specs() -> [Spec; 4] {
    let week = format!("CAST((fd.decided_at - {FIRST_MONDAY_MS}) / {WEEK_MS} AS BIGINT)");
    let weekly = Spec {
        name: "time_to_action_weekly",
        title: "Time to action per week",
        ctes: "",
        base: format!(
            "SELECT {week} AS week, n.source AS source, n.category AS category, fd.decided_at - n.received_at AS tta \
             FROM notices n {FIRST_DECISION} WHERE {FIRST_DECIDED_IN_PERIOD} AND fd.decided_at >= $1"
        ),
        dims: &["week", "source", "category"],
        groupings: &[&[], &["week"], &["week", "source"], &["week", "category"]],
        columns: vec![
            ("decided", "Notices decided", agg("COUNT(*)")),
            ("p50", "50th percentile", Calc::Pct("tta", 50)),
            ("p90", "90th percentile", Calc::Pct("tta", 90)),
            ("p99", "99th percentile", Calc::Pct("tta", 99)),
        ],
    };
    let pickup = Spec {
        name: "time_to_pickup",
        title: "Time to pick-up",
        ctes: "",
        base: "SELECT c.category AS category, c.picked_up_at - c.created_at AS pickup FROM cases c \
               WHERE c.picked_up_at >= $1 AND c.picked_up_at < $2"
            .to_owned(),
        dims: &["category"],
        groupings: &[&[], &["category"]],
        columns: vec![
            ("picked_up", "Cases picked up", agg("COUNT(*)")),
            ("p50", "50th percentile", Calc::Pct("pickup", 50)),
            ("p90", "90th percentile", Calc::Pct("pickup", 90)),
        ],
    };
    let within = Spec {
        name: "acted_within",
        title: "Notices acted on within 24 and 48 hours",
        ctes: "",
        base: "SELECT n.source AS source, n.first_decided_at - n.received_at AS tta FROM notices n \
               WHERE n.received_at >= $1 AND n.received_at < $2"
            .to_owned(),
        dims: &["source"],
        groupings: &[&[], &["source"]],
        columns: vec![
            ("received", "Notices received", agg("COUNT(*)")),
            ("decided", "Decided", count_if("tta IS NOT NULL")),
            ("within_24h", "Acted on within 24 hours", count_if("tta <= 86400000")),
            ("within_48h", "Acted on within 48 hours", count_if("tta <= 172800000")),
        ],
    };
    let flaggers = Spec {
        name: "trusted_flaggers",
        title: "Trusted flaggers",
        ctes: "",
        base: "SELECT COALESCE(k.name, 'unknown') AS flagger, n.first_decided_at - n.received_at AS tta, \
               d.restricts AS restricts FROM notices n LEFT JOIN api_keys k ON k.id = n.api_key_id \
               LEFT JOIN decisions d ON d.id = n.first_decision_id \
               WHERE n.source = 'trusted_flagger' AND n.received_at >= $1 AND n.received_at < $2"
            .to_owned(),
        dims: &["flagger"],
        groupings: &[&[], &["flagger"]],
        columns: vec![
            ("notices", "Notices sent", agg("COUNT(*)")),
            ("decided", "Decided", count_if("tta IS NOT NULL")),
            ("acted_on", "Acted on", count_if("restricts = 1")),
            ("median", "Median time to a decision", Calc::Median("tta")),
        ],
    };
    [weekly, pickup, within, flaggers]
}

/// The Monday (`YYYY-MM-DD`) of week number `index` since 1970-01-05.
fn week_start(index: &str) -> String {
    let Ok(n) = index.parse::<i64>() else { return index.to_owned() };
    let monday = crate::from_ms(FIRST_MONDAY_MS + n * WEEK_MS);
    monday.date().to_string()
}

impl Store {
    /// The dashboard's figures for `period`, with open cases judged at `now`.
    pub async fn dashboard_figures(&self, period: Period, now: OffsetDateTime) -> Result<DashboardFigures> {
        let [weekly, pickup, within, flaggers] = specs();
        let mut weekly = self.table(&weekly, period, now).await?;
        for row in &mut weekly.rows {
            if let Some(week) = row.keys.first_mut()
                && week != "TOTAL"
            {
                *week = week_start(week);
            }
        }
        // Week indexes sort as text only at equal length; dates always do.
        weekly.rows.sort_by(|a, b| {
            let rank = |r: &crate::TableRow| r.keys.iter().map(|k| k != "TOTAL").collect::<Vec<_>>();
            rank(a).cmp(&rank(b)).then_with(|| a.keys.cmp(&b.keys))
        });
        Ok(DashboardFigures {
            weekly,
            pickup: self.table(&pickup, period, now).await?,
            within: self.table(&within, period, now).await?,
            flaggers: self.table(&flaggers, period, now).await?,
            queue: self.queue_gauges(now).await?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::week_start;

    #[test]
    fn week_numbers_name_their_monday() {
        assert_eq!(week_start("0"), "1970-01-05");
        assert_eq!(week_start("-1"), "1969-12-29");
        // 2026-11-30 is a Monday: (days since 1970-01-05) / 7.
        let days = (time::macros::date!(2026 - 11 - 30) - time::macros::date!(1970 - 01 - 05)).whole_days();
        assert_eq!(week_start(&(days / 7).to_string()), "2026-11-30");
    }
}
