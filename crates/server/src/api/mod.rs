//! The JSON API under `/api/v1`; one module per route family.

pub mod accounts;
pub mod art18;
pub mod banks;
pub mod cases;
pub mod catalogue;
pub mod content;
pub mod contract;
pub mod decisions;
pub mod helpline;
pub mod notices;
pub mod openapi;
pub mod operations;
pub mod queue;
pub mod review;
pub mod schemas;
pub mod screen;
pub mod stats;
pub mod transparency;
pub mod videos;

/// A timestamp as the API writes it: RFC 3339 in UTC (e.g. `2026-11-30T08:00:00Z`).
pub fn rfc3339(t: time::OffsetDateTime) -> String {
    t.to_offset(time::UtcOffset::UTC).format(&time::format_description::well_known::Rfc3339).unwrap_or_default()
}
