-- Taking a case (issue 12): who picked it up and when. The first pick-up is kept, so time to
-- pick-up (picked_up_at - created_at) is a measured figure; cases.assignee already exists.
ALTER TABLE cases ADD COLUMN picked_up_at BIGINT;
ALTER TABLE cases ADD COLUMN assigned_at BIGINT;
CREATE INDEX review_cases_assignee ON cases (assignee, state);
CREATE INDEX review_locations_content ON notice_locations (content_id);
CREATE INDEX review_locations_url ON notice_locations (normalized_url);
CREATE INDEX review_appeals_open ON appeals (state, received_at);
CREATE INDEX review_hashes_sha256 ON notice_hashes (sha256);
CREATE INDEX review_hashes_md5 ON notice_hashes (md5);
CREATE INDEX review_hashes_pdq ON notice_hashes (pdq);
