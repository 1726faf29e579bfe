-- Staff accounts, decisions (DSA Art. 17), appeals (Art. 20) and misuse measures (Art. 23) (issue 3).
-- Timestamps are milliseconds since the Unix epoch (INTEGER); ids are UUIDv7 text.

CREATE TABLE accounts (
    id            TEXT PRIMARY KEY,
    username      TEXT NOT NULL UNIQUE,
    role          TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    created_at    INTEGER NOT NULL,
    disabled_at   INTEGER
);

-- A key issued to a staff account acts as that account (the four-eyes rule of appeals compares
-- accounts, not keys).
ALTER TABLE api_keys ADD COLUMN account_id TEXT REFERENCES accounts (id);

-- Who sent a notice, pseudonymously, for Art. 23 counting: `key:<id>` or `email:<sha256>`.
ALTER TABLE notices ADD COLUMN notifier_ref TEXT;
CREATE INDEX notices_notifier ON notices (notifier_ref, received_at);

CREATE TABLE decisions (
    id                    TEXT PRIMARY KEY,
    case_id               TEXT NOT NULL REFERENCES cases (id),
    decided_by            TEXT NOT NULL,
    decided_at            INTEGER NOT NULL,
    restricts             INTEGER NOT NULL,
    takes_down            INTEGER NOT NULL,
    ground                TEXT,
    category              TEXT NOT NULL,
    visibility            TEXT NOT NULL,
    monetary              TEXT,
    provision             TEXT,
    account               TEXT,
    automated_detection   INTEGER NOT NULL,
    automated_decision    TEXT NOT NULL,
    manifestly_unfounded  INTEGER NOT NULL,
    body                  TEXT NOT NULL,
    statement             TEXT,
    uploader_token_digest TEXT,
    status                TEXT NOT NULL,
    ended_at              INTEGER,
    replaces              TEXT REFERENCES decisions (id),
    appeal_id             TEXT
);
CREATE INDEX decisions_case ON decisions (case_id, decided_at);
CREATE INDEX decisions_decided ON decisions (decided_at);

CREATE TABLE decision_notices (
    decision_id TEXT NOT NULL REFERENCES decisions (id),
    notice_id   TEXT NOT NULL REFERENCES notices (id),
    PRIMARY KEY (decision_id, notice_id)
);
CREATE INDEX decision_notices_notice ON decision_notices (notice_id);

CREATE TABLE appeals (
    id              TEXT PRIMARY KEY,
    decision_id     TEXT NOT NULL REFERENCES decisions (id),
    appellant       TEXT NOT NULL,
    notice_id       TEXT REFERENCES notices (id),
    received_at     INTEGER NOT NULL,
    reason          TEXT NOT NULL,
    language        TEXT NOT NULL,
    state           TEXT NOT NULL,
    outcome         TEXT,
    reasons         TEXT,
    decided_by      TEXT,
    decided_at      INTEGER,
    new_decision_id TEXT REFERENCES decisions (id)
);
CREATE INDEX appeals_decision ON appeals (decision_id);

CREATE TABLE misuse_measures (
    id           TEXT PRIMARY KEY,
    notifier_ref TEXT NOT NULL,
    kind         TEXT NOT NULL,
    at           INTEGER NOT NULL,
    until        INTEGER,
    reason       TEXT NOT NULL,
    decision_id  TEXT REFERENCES decisions (id),
    lifted_at    INTEGER
);
CREATE INDEX misuse_measures_notifier ON misuse_measures (notifier_ref, at);
