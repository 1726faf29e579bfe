-- Intake writes fewer index entries (issue 16, goal 3): indexes on columns that are empty (NULL)
-- when a notice or case is filed hold only the rows that have a value. Every query that uses them
-- compares the column with a value (`first_decided_at >= $1 AND < $2` in the rollup rebuild,
-- `assignee = $1` in the review queue, `content_id = $1`, `sha256 = $1`, `md5 = $1`, `pdq = $1`
-- in the console search), which implies the column is not NULL, so both databases still use them;
-- no query asks these indexes for NULLs. A new URL notice no longer adds entries to
-- `notices_first_decided`, `review_cases_assignee` and `review_locations_content`.
DROP INDEX notices_first_decided;
CREATE INDEX notices_first_decided ON notices (first_decided_at) WHERE first_decided_at IS NOT NULL;
DROP INDEX review_cases_assignee;
CREATE INDEX review_cases_assignee ON cases (assignee, state) WHERE assignee IS NOT NULL;
DROP INDEX review_locations_content;
CREATE INDEX review_locations_content ON notice_locations (content_id) WHERE content_id IS NOT NULL;
DROP INDEX review_hashes_sha256;
CREATE INDEX review_hashes_sha256 ON notice_hashes (sha256) WHERE sha256 IS NOT NULL;
DROP INDEX review_hashes_md5;
CREATE INDEX review_hashes_md5 ON notice_hashes (md5) WHERE md5 IS NOT NULL;
DROP INDEX review_hashes_pdq;
CREATE INDEX review_hashes_pdq ON notice_hashes (pdq) WHERE pdq IS NOT NULL;
