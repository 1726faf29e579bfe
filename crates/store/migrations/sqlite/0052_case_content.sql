-- Content on the case (issue 12): bytes a platform or reviewer attaches (sealed in blobs), and
-- uploads screened earlier with the same platform content id, linked automatically, so that a
-- removal banks their hashes even when the notice named only a URL.
ALTER TABLE content_items ADD COLUMN blob_id TEXT REFERENCES blobs (id);
-- NULL: recorded by screening (a match); 'attached': bytes attached to the case; 'linked': an
-- earlier screening of the same content id.
ALTER TABLE content_items ADD COLUMN origin TEXT;
ALTER TABLE content_items ADD COLUMN attached_by TEXT;
CREATE INDEX review_content_items_content ON content_items (content_id);

-- Hashes of uploads screened with a platform content id that matched nothing (matches are in
-- screenings). Only hashes and the platform's id: no bytes, no uploader.
CREATE TABLE screened_content (
    content_id  TEXT PRIMARY KEY,
    sha256      TEXT,
    md5         TEXT,
    pdq         TEXT,
    pdq_quality INTEGER,
    screened_at INTEGER NOT NULL
);
