-- Notice intake, cases, API keys, the audit chain and the outbox (issue 2).
-- Timestamps are milliseconds since the Unix epoch (BIGINT); ids are UUIDv7 text.

CREATE TABLE cases (
    id          TEXT PRIMARY KEY,
    state       TEXT NOT NULL,
    priority    BIGINT NOT NULL,
    deadline_at BIGINT NOT NULL,
    category    TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL,
    assignee    TEXT
);
CREATE INDEX cases_queue ON cases (state, deadline_at, priority);

CREATE TABLE case_keys (
    key     TEXT NOT NULL,
    case_id TEXT NOT NULL REFERENCES cases (id),
    PRIMARY KEY (key, case_id)
);

CREATE TABLE api_keys (
    id         TEXT PRIMARY KEY,
    name       TEXT NOT NULL,
    role       TEXT NOT NULL,
    digest     TEXT NOT NULL UNIQUE,
    created_at BIGINT NOT NULL,
    revoked_at BIGINT
);

CREATE TABLE notices (
    id                 TEXT PRIMARY KEY,
    case_id            TEXT NOT NULL REFERENCES cases (id),
    received_at        BIGINT NOT NULL,
    source             TEXT NOT NULL,
    api_key_id         TEXT REFERENCES api_keys (id),
    submitted_by       TEXT,
    category           TEXT NOT NULL,
    keywords           TEXT NOT NULL,
    legal_ground       TEXT,
    explanation        TEXT NOT NULL,
    minor_involved     TEXT NOT NULL,
    ai_generated       TEXT NOT NULL,
    generator          TEXT,
    anonymous_csam     BIGINT NOT NULL,
    language           TEXT NOT NULL,
    priority           BIGINT NOT NULL,
    deadline_at        BIGINT NOT NULL,
    tracking_digest    TEXT NOT NULL,
    status             TEXT NOT NULL,
    order_kind         TEXT,
    order_authority    TEXT,
    order_member_state TEXT,
    order_reference    TEXT,
    order_legal_basis  TEXT,
    order_deadline_at  BIGINT
);
CREATE INDEX notices_case ON notices (case_id);
CREATE INDEX notices_received ON notices (received_at);

CREATE TABLE notice_locations (
    notice_id      TEXT NOT NULL REFERENCES notices (id),
    position       BIGINT NOT NULL,
    url            TEXT,
    normalized_url TEXT,
    content_id     TEXT,
    PRIMARY KEY (notice_id, position)
);

CREATE TABLE notice_hashes (
    notice_id   TEXT NOT NULL REFERENCES notices (id),
    position    BIGINT NOT NULL,
    pdq         TEXT,
    pdq_quality BIGINT,
    sha256      TEXT,
    md5         TEXT,
    PRIMARY KEY (notice_id, position)
);

-- Personal data of notifiers lives here and nowhere else, so it can be erased (GDPR) without
-- touching notices, cases or the audit chain, and never leaves in exports.
CREATE TABLE notifier_contacts (
    notice_id  TEXT PRIMARY KEY REFERENCES notices (id),
    name       TEXT NOT NULL,
    email      TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    erased_at  BIGINT
);

CREATE TABLE audit_log (
    seq       BIGINT PRIMARY KEY,
    at_ms     BIGINT NOT NULL,
    actor     TEXT NOT NULL,
    action    TEXT NOT NULL,
    subject   TEXT NOT NULL,
    detail    TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash      TEXT NOT NULL
);

-- The last entry's sequence number and hash, updated in the same transaction as each append:
-- removing trailing entries is then detectable too.
CREATE TABLE audit_head (
    id   BIGINT PRIMARY KEY CHECK (id = 1),
    seq  BIGINT NOT NULL,
    hash TEXT NOT NULL
);
INSERT INTO audit_head (id, seq, hash) VALUES (1, 0, '0000000000000000000000000000000000000000000000000000000000000000');

-- Durable outbox: messages (email) and webhooks are written in the transaction that causes them
-- and delivered by a worker with retries.
CREATE TABLE outbox (
    id              TEXT PRIMARY KEY,
    channel         TEXT NOT NULL,
    topic           TEXT NOT NULL,
    notice_id       TEXT,
    payload         TEXT NOT NULL,
    created_at      BIGINT NOT NULL,
    next_attempt_at BIGINT NOT NULL,
    attempts        BIGINT NOT NULL DEFAULT 0,
    claimed_until   BIGINT,
    delivered_at    BIGINT,
    dead_at         BIGINT,
    last_error      TEXT
);
CREATE INDEX outbox_due ON outbox (delivered_at, dead_at, next_attempt_at);
