-- Idempotency-Key for machine create calls (design brief §7; draft-ietf-httpapi-idempotency-key-header):
-- a retried POST with the same key from the same caller gets the first answer, never a duplicate.
-- `caller` is a digest of the credentials (or the anonymous client's address), `request_digest`
-- the SHA-256 of method, path and body. A row without `status` is a request still in progress.
CREATE TABLE idempotency_keys (
    caller          TEXT NOT NULL,
    idem_key        TEXT NOT NULL,
    request_digest  TEXT NOT NULL,
    status          INTEGER,
    content_type    TEXT,
    location        TEXT,
    body            BLOB,
    created_at      INTEGER NOT NULL,
    PRIMARY KEY (caller, idem_key)
);
CREATE INDEX idempotency_keys_created ON idempotency_keys (created_at);
