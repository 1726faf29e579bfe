//! Integration tests of the HTTP API, each run on SQLite and on PostgreSQL (see `support`).

mod support;

/// The audit chain and its verification against tampering.
mod audit;
/// Hash banks over the admin API, roles, banking a case's hashes, sync between servers.
mod banks;
/// Problem documents for malformed, oversized, unauthorised and misrouted requests.
mod errors;
/// Case grouping by URL, content id and hash.
mod grouping;
/// Art. 16 intake: valid notices, each missing element, the CSAM anonymity exception.
mod intake;
/// The outbox: confirmation of receipt, retries, dead letters.
mod outbox;
/// Trusted flaggers, authorities, priorities, deadlines and the queue.
mod priority;
/// Upload screening: exact and PDQ matches, thresholds, quality, verdicts, cases, provenance.
mod screen;
/// Tracking tokens: the right token sees the notice, anything else sees nothing.
mod tracking;
