//! Integration tests of the HTTP API, each run on SQLite and on PostgreSQL (see `support`).

mod staff_pages;
mod support;

/// The audit chain and its verification against tampering.
mod audit;
/// Hash banks over the admin API, roles, banking a case's hashes, sync between servers.
mod banks;
/// Encrypted blobs: sealed at rest, custody log, legal hold, retention.
mod blobs;
/// Canary prompts in every container never reach an answer, the store, a view or a report (issue 14).
mod canary;
/// Content on the case: attached bytes sealed at rest, linked screenings, banked by removal.
mod case_content;
/// The staff console's review pages: page × role matrix, fixation, CSRF, throttling, audited reveals.
mod complain;
mod console;
/// The console's management pages: page × role, dashboard = stats, banks, CSRF (issue 12).
mod console_admin;
mod console_appeals;
mod console_upload;
/// Decisions, statements of reasons, appeals and the restore webhook (DSA Art. 17, 20).
mod decisions;
/// Uploaded images bounded by their input and by the decode memory budget (issue 15).
mod decode_bounds;
/// Rotated and mirrored re-uploads matched through the dihedral PDQ variants (issue 14).
mod dihedral;
/// Problem documents for malformed, oversized, unauthorised and misrouted requests.
mod errors;
/// Case grouping by URL, content id and hash.
mod grouping;
/// Helpline mode: removal requests machine to machine and by e-mail, the league table, URL checks,
/// escalation packs, no victim data in exports (issue 13).
mod helpline;
mod helpline_forms;
mod helpline_hand;
/// Helpline mode machine to machine: pre-emptive hashes as hash-only notices, one Idempotency-Key
/// per removal request so a retry after a lost answer files nothing twice (issue 13).
mod helpline_m2m;
/// Idempotency-Key: retries get the first answer, never a duplicate.
mod idempotency;
/// Art. 16 intake: valid notices, each missing element, the CSAM anonymity exception.
mod intake;
/// Art. 23(2): warnings and suspensions of notifiers of manifestly unfounded notices.
mod misuse;
/// Several nodes on one PostgreSQL: API, screening and worker roles (issue 16 goal 4).
mod nodes;
mod openapi;
/// Real answers validated against the OpenAPI document's schemas (issue 15).
mod openapi_answers;
/// The outbox: confirmation of receipt, retries, dead letters.
mod outbox;
/// The pages' server side: withdrawing a hash-only report (issue 11).
mod pages;
/// Trusted flaggers, authorities, priorities, deadlines and the queue.
mod priority;
/// Behind a reverse proxy: forwarded client addresses, IPv6 /64 limits, private /metrics.
mod proxy;
/// The transparency report (Art. 15, 24(1)), `/api/v1/stats` and the report's `/metrics` series.
mod report;
/// Review work: queue filters and search, taking a case, open appeals, four eyes across the chain.
mod review;
/// The role matrix: every route for every role and for anonymous callers.
mod roles;
/// Upload screening: exact and PDQ matches, thresholds, quality, verdicts, cases, provenance.
mod screen;
/// `screen_jpeg_decode = "scaled"`: the lookup's scaled hashes are never stored or answered (issue 16).
mod screen_scaled;
/// SMTP over TLS (STARTTLS, implicit) against a local server, certificates checked.
mod smtp_tls;
/// Decisions queue their Transparency Database record, without personal data (Art. 24(5)).
mod sor_records;
/// Staff sign-in: sessions, cookies, CSRF, fixation, expiry, throttling, disabling, passwords, keys.
mod staff_sign_in;
/// Stay-down: decisions bank hashes; re-uploads are blocked or held.
mod staydown;
/// Statements of reasons to the EU Transparency Database: batching, retries, refusals, idempotency.
mod tdb;
/// A stand-in for the Transparency Database API.
mod tdb_standin;
/// Tracking tokens: the right token sees the notice, anything else sees nothing.
mod tracking;
/// Video stay-down with vPDQ (issue 17): clips, compilations, stills, bounds.
mod video;
/// Signed action webhooks: retries, back-off, exactly-once effect, dead letters.
mod webhooks;
