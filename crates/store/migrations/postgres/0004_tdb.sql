-- Statements of reasons waiting for, or sent to, the EU DSA Transparency Database (Art. 24(5)).
-- Written in the decision's own transaction, submitted by a worker; the puid is the TDB's unique
-- key per platform, so it is ours too. Timestamps are milliseconds since the Unix epoch (BIGINT).
-- decision_id has no foreign key yet: the decisions table arrives in migration 0002 (issue 3);
-- the key can be added when both are on one branch.

CREATE TABLE tdb_statements (
    puid            TEXT PRIMARY KEY,
    decision_id     TEXT NOT NULL,
    statement       TEXT NOT NULL,                 -- the exact JSON sent (domain::tdb::Statement)
    created_at      BIGINT NOT NULL,
    state           TEXT NOT NULL,                 -- pending | submitted | failed
    attempts        BIGINT NOT NULL DEFAULT 0,
    next_attempt_at BIGINT NOT NULL,
    claimed_until   BIGINT,                        -- lease: a crashed worker's claim expires
    last_error      TEXT,                          -- the API's error body or the transport error
    submitted_at    BIGINT,
    tdb_uuid        TEXT                           -- the TDB's uuid, when it told us
);
CREATE INDEX tdb_statements_due ON tdb_statements (state, next_attempt_at);
CREATE INDEX tdb_statements_created ON tdb_statements (created_at, puid);
CREATE INDEX tdb_statements_decision ON tdb_statements (decision_id);
