-- Encrypted blobs: content attached to a case, a helpline's evidence files and screenshots
-- (design brief §8: evidence encrypted at rest, with retention and legal hold). Only sealed bytes
-- are stored (staydown-vault, AES-256-GCM bound to the blob id); the SHA-256 of the plaintext is
-- recorded at intake for the chain of custody. Every store, read, hold and erasure is an audit
-- entry with subject `blob:<id>`. Erasure clears the sealed bytes and keeps the row, so the audit
-- chain and the custody record stay whole.
CREATE TABLE blobs (
    id TEXT PRIMARY KEY,
    owner TEXT NOT NULL,
    kind TEXT NOT NULL,
    content_type TEXT NOT NULL,
    size BIGINT NOT NULL,
    sha256 TEXT NOT NULL,
    key_id TEXT NOT NULL,
    sealed BYTEA,
    created_at BIGINT NOT NULL,
    created_by TEXT NOT NULL,
    retain_until BIGINT,
    legal_hold BIGINT NOT NULL DEFAULT 0,
    erased_at BIGINT,
    erase_reason TEXT
);
CREATE INDEX blobs_owner ON blobs (owner);
CREATE INDEX blobs_sha256 ON blobs (sha256);
CREATE INDEX blobs_retention ON blobs (retain_until);
