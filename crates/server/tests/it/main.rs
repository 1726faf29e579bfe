//! Integration tests of the HTTP API, each run on SQLite and on PostgreSQL (see `support`).

mod support;

/// The audit chain and its verification against tampering.
mod audit;
/// Hash banks over the admin API, roles, banking a case's hashes, sync between servers.
mod banks;
/// Decisions, statements of reasons, appeals and the restore webhook (DSA Art. 17, 20).
mod decisions;
/// Problem documents for malformed, oversized, unauthorised and misrouted requests.
mod errors;
/// Case grouping by URL, content id and hash.
mod grouping;
/// Art. 16 intake: valid notices, each missing element, the CSAM anonymity exception.
mod intake;
/// Art. 23(2): warnings and suspensions of notifiers of manifestly unfounded notices.
mod misuse;
/// The outbox: confirmation of receipt, retries, dead letters.
mod outbox;
/// The pages' server side: withdrawing a hash-only report (issue 11).
mod pages;
/// Trusted flaggers, authorities, priorities, deadlines and the queue.
mod priority;
/// The transparency report (Art. 15, 24(1)), `/api/v1/stats` and the report's `/metrics` series.
mod report;
/// The role matrix: every route for every role and for anonymous callers.
mod roles;
/// Upload screening: exact and PDQ matches, thresholds, quality, verdicts, cases, provenance.
mod screen;
/// Decisions queue their Transparency Database record, without personal data (Art. 24(5)).
mod sor_records;
/// Stay-down: decisions bank hashes; re-uploads are blocked or held.
mod staydown;
/// Statements of reasons to the EU Transparency Database: batching, retries, refusals, idempotency.
mod tdb;
/// A stand-in for the Transparency Database API.
mod tdb_standin;
/// Tracking tokens: the right token sees the notice, anything else sees nothing.
mod tracking;
/// Signed action webhooks: retries, back-off, exactly-once effect, dead letters.
mod webhooks;
