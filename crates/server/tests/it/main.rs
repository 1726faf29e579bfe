//! Integration tests of the HTTP API, each run on SQLite and on PostgreSQL (see `support`).

mod support;

/// The audit chain and its verification against tampering.
mod audit;
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
/// Statements of reasons to the EU Transparency Database: batching, retries, refusals, idempotency.
mod tdb;
/// A stand-in for the Transparency Database API.
mod tdb_standin;
/// Tracking tokens: the right token sees the notice, anything else sees nothing.
mod tracking;
