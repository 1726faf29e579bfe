-- A hash-only report can be withdrawn by the person who filed it (issue 11): its hashes leave
-- every bank fed from it. NULL while in force.
ALTER TABLE notices ADD COLUMN withdrawn_at BIGINT;
