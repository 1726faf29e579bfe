-- Video stay-down (issue 17): vPDQ hashes of banked videos and of videos on cases, and each bank's
-- two vPDQ match thresholds. Existing image entries are untouched: an entry is a video entry
-- exactly when it has a row in bank_entry_videos.

-- Percent of the upload's frames that must be found in a banked video (NULL: this direction does
-- not match on its own), and percent of the banked video's frames that must be found in the upload.
ALTER TABLE banks ADD COLUMN video_query_pct BIGINT DEFAULT 80;
ALTER TABLE banks ADD COLUMN video_banked_pct BIGINT DEFAULT 80;

-- The vPDQ of a video entry, in the reference's file format (one `frame,quality,pdq,timestamp`
-- line per sampled frame). The entry's sha256/md5 columns hold the video file's digests.
CREATE TABLE bank_entry_videos (
    entry_id    TEXT PRIMARY KEY REFERENCES bank_entries (id),
    frame_count BIGINT NOT NULL,
    vpdq        TEXT NOT NULL
);

-- vPDQ hashes known for a case: a screened upload that was held or blocked, or a hash-only
-- notice that carried one. A removal decision banks them (stay-down).
CREATE TABLE case_videos (
    id          TEXT PRIMARY KEY,
    case_id     TEXT NOT NULL REFERENCES cases (id),
    source      TEXT NOT NULL,
    source_id   TEXT,
    sha256      TEXT,
    md5         TEXT,
    frame_count BIGINT NOT NULL,
    vpdq        TEXT NOT NULL,
    created_at  BIGINT NOT NULL
);
CREATE INDEX case_videos_case ON case_videos (case_id);
