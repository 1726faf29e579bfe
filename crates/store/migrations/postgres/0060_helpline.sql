-- Helpline mode (issue 13): help cases, the platform registry, removal requests followed to their
-- outcome, URL checks, referrals. Timestamps are milliseconds since the Unix epoch (BIGINT); ids UUIDv7 text.
-- Personal data of the people helped lives only in helpline_case_contacts (erasable, never exported).

CREATE TABLE helpline_platforms (
    id              TEXT PRIMARY KEY,
    name            TEXT NOT NULL UNIQUE,
    channel         TEXT NOT NULL,
    staydown_url    TEXT,
    -- The helpline's key on that platform: a secret, never returned by the API or exported.
    api_key         TEXT,
    email           TEXT,
    web_form_url    TEXT,
    member_state    TEXT,
    trusted_flagger BIGINT NOT NULL,
    dsc             TEXT,
    language        TEXT NOT NULL,
    created_at      BIGINT NOT NULL
);

CREATE TABLE helpline_cases (
    id                     TEXT PRIMARY KEY,
    summary                TEXT NOT NULL,
    channel                TEXT,
    image_kind             TEXT NOT NULL,
    sextortion             BIGINT NOT NULL,
    exposure               TEXT NOT NULL,
    minor_involved         TEXT NOT NULL,
    municipality           TEXT,
    consent                BIGINT NOT NULL,
    reporting_organisation TEXT,
    created_by             TEXT NOT NULL,
    created_at             BIGINT NOT NULL,
    closed_at              BIGINT
);
CREATE INDEX helpline_cases_created ON helpline_cases (created_at);

CREATE TABLE helpline_case_contacts (
    case_id    TEXT PRIMARY KEY REFERENCES helpline_cases (id),
    name       TEXT,
    email      TEXT,
    phone      TEXT,
    created_at BIGINT NOT NULL,
    erased_at  BIGINT
);

CREATE TABLE helpline_referrals (
    id          TEXT PRIMARY KEY,
    case_id     TEXT NOT NULL REFERENCES helpline_cases (id),
    kind        TEXT NOT NULL,
    referred_at BIGINT NOT NULL
);
CREATE INDEX helpline_referrals_case ON helpline_referrals (case_id);

CREATE TABLE helpline_requests (
    id                TEXT PRIMARY KEY,
    case_id           TEXT NOT NULL REFERENCES helpline_cases (id),
    platform_id       TEXT NOT NULL REFERENCES helpline_platforms (id),
    channel           TEXT NOT NULL,
    trusted_flagger   BIGINT NOT NULL,
    url               TEXT NOT NULL,
    category          TEXT NOT NULL,
    keywords          TEXT NOT NULL,
    legal_ground      TEXT NOT NULL,
    explanation       TEXT NOT NULL,
    minor_involved    TEXT NOT NULL,
    ai_generated      TEXT NOT NULL,
    language          TEXT NOT NULL,
    state             TEXT NOT NULL,
    drafted_at        BIGINT NOT NULL,
    sent_at           BIGINT,
    acknowledged_at   BIGINT,
    removed_at        BIGINT,
    refused_at        BIGINT,
    no_answer_at      BIGINT,
    answer_due_at     BIGINT,
    reminders         BIGINT NOT NULL DEFAULT 0,
    last_reminded_at  BIGINT,
    -- Sending: a lease so two workers never send the same request, and the attempts made.
    claimed_until     BIGINT,
    send_attempts     BIGINT NOT NULL DEFAULT 0,
    -- Set when a send may have reached the platform without an answer: never re-sent by itself.
    send_uncertain    BIGINT NOT NULL DEFAULT 0,
    last_error        TEXT,
    -- The platform's side (staydown platforms): its notice id and our tracking token there.
    remote_notice_id  TEXT,
    remote_token      TEXT,
    remote_decision_id TEXT,
    -- The platform's answer: its statement of reasons or the recorded answer, as JSON.
    answer            TEXT,
    last_synced_at    BIGINT,
    -- URL checks: the latest state and when the next check is due.
    url_state         TEXT,
    url_checked_at    BIGINT,
    offline_at        BIGINT,
    next_check_at     BIGINT,
    updated_at        BIGINT NOT NULL
);
CREATE INDEX helpline_requests_case ON helpline_requests (case_id);
CREATE INDEX helpline_requests_state ON helpline_requests (state, answer_due_at);
CREATE INDEX helpline_requests_sent ON helpline_requests (platform_id, sent_at);
CREATE INDEX helpline_requests_check ON helpline_requests (next_check_at);

CREATE TABLE helpline_url_checks (
    id          TEXT PRIMARY KEY,
    request_id  TEXT NOT NULL REFERENCES helpline_requests (id),
    checked_at  BIGINT NOT NULL,
    state       TEXT NOT NULL,
    http_status BIGINT,
    detail      TEXT NOT NULL
);
CREATE INDEX helpline_url_checks_request ON helpline_url_checks (request_id, checked_at);
