-- vPDQ in hash-only notices (issue 17): a notice's hash set may describe a video. Its vPDQ is a
-- row of case_videos (source 'notice', source_id the notice id), which a removal decision banks as
-- a video entry; the notice_hashes row keeps the video file's digests (if given) and points to it,
-- so the decision does not bank those digests a second time as an image entry.
ALTER TABLE notice_hashes ADD COLUMN case_video_id TEXT;
