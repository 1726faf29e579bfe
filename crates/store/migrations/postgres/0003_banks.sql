-- Hash banks, their change log, upload screenings and content items (issues 5 and 6).
-- Timestamps are milliseconds since the Unix epoch (BIGINT); ids are UUIDv7 text.

CREATE TABLE banks (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL UNIQUE,
    description TEXT NOT NULL,
    action      TEXT NOT NULL,
    threshold   BIGINT NOT NULL,
    provenance  TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    created_by  TEXT NOT NULL
);

-- Entries are never deleted, only marked removed, so the change log below can always be replayed.
-- `seq` is the change that added the entry; it is also the entry's key in the in-memory index.
CREATE TABLE bank_entries (
    id          TEXT PRIMARY KEY,
    bank_id     TEXT NOT NULL REFERENCES banks (id),
    seq         BIGINT NOT NULL UNIQUE,
    pdq         TEXT,
    pdq_quality BIGINT,
    sha256      TEXT,
    md5         TEXT,
    note        TEXT,
    reason      TEXT,
    added_by    TEXT NOT NULL,
    added_at    BIGINT NOT NULL,
    removed_at  BIGINT,
    removed_by  TEXT
);
CREATE INDEX bank_entries_bank ON bank_entries (bank_id, seq);
CREATE INDEX bank_entries_sha256 ON bank_entries (bank_id, sha256);
CREATE INDEX bank_entries_md5 ON bank_entries (bank_id, md5);
CREATE INDEX bank_entries_pdq ON bank_entries (bank_id, pdq);

-- Append-only log of bank changes in commit order (writers are serialised by the audit head lock),
-- which screening nodes replay to keep their index current: kind is bank_created, entry_added or
-- entry_removed.
CREATE TABLE bank_changes (
    seq      BIGINT PRIMARY KEY,
    at_ms    BIGINT NOT NULL,
    kind     TEXT NOT NULL,
    bank_id  TEXT NOT NULL,
    entry_id TEXT
);

-- Every screened upload that matched something (flag, hold or block).
CREATE TABLE screenings (
    id                  TEXT PRIMARY KEY,
    at_ms               BIGINT NOT NULL,
    api_key_id          TEXT,
    verdict             TEXT NOT NULL,
    matches             TEXT NOT NULL,
    pdq                 TEXT,
    pdq_quality         BIGINT,
    sha256              TEXT,
    md5                 TEXT,
    pdq_skipped         TEXT,
    content_id          TEXT,
    url                 TEXT,
    case_id             TEXT REFERENCES cases (id),
    notice_id           TEXT REFERENCES notices (id),
    automated_detection BIGINT NOT NULL
);
CREATE INDEX screenings_at ON screenings (at_ms);

-- Uploads held or blocked by screening, linked to their case, with what the file says about its
-- origin (issue 6); ai_generated / generator / edited are columns so reports can count them.
CREATE TABLE content_items (
    id           TEXT PRIMARY KEY,
    case_id      TEXT NOT NULL REFERENCES cases (id),
    notice_id    TEXT REFERENCES notices (id),
    screening_id TEXT REFERENCES screenings (id),
    content_id   TEXT,
    url          TEXT,
    uploader_ref TEXT,
    sha256       TEXT,
    md5          TEXT,
    pdq          TEXT,
    pdq_quality  BIGINT,
    provenance   TEXT,
    ai_generated TEXT,
    generator    TEXT,
    edited       TEXT,
    created_at   BIGINT NOT NULL
);
CREATE INDEX content_items_case ON content_items (case_id);

INSERT INTO banks (id, name, description, action, threshold, provenance, created_at, created_by) VALUES
    ('00000000-0000-7000-8000-000000000001', 'confirmed',
     'Hashes of content removed by our own confirmed decisions (stay-down).', 'block', 31, 'confirmed_decision', 0, 'migration'),
    ('00000000-0000-7000-8000-000000000002', 'victim-submitted',
     'Hashes that victims submitted in hash-only notices, once a reviewer confirmed them.', 'hold', 31, 'victim_submitted', 0, 'migration');
