-- Helpline mode (issue 13): pre-emptive hashes filed as hash-only notices with platforms running
-- staydown. Such a request names no URL (`url` is empty) and carries the hash sets it filed, as the
-- JSON array sent in the notice's `hashes` field. Hashes only: never an image, never free text.
ALTER TABLE helpline_requests ADD COLUMN hashes TEXT;
