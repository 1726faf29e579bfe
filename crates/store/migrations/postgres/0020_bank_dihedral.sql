-- Per-bank dihedral matching (issue 14): match the eight rotations and mirror images of an
-- upload's PDQ hash, not only the upload as given. On for the two seeded banks (a victim's photo or
-- content we removed often comes back rotated or mirrored); new banks choose (domain::bank).
-- `hashed_by` records which program computed a bank's imported hashes (domain::bank::HashedBy),
-- so a reviewer can judge a miss; NULL when nothing was said.
ALTER TABLE banks ADD COLUMN dihedral INTEGER NOT NULL DEFAULT 0;
ALTER TABLE banks ADD COLUMN hashed_by TEXT;
UPDATE banks SET dihedral = 1 WHERE name IN ('confirmed', 'victim-submitted');
