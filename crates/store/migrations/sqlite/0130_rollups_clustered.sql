-- Rollups stored in their key's order (issue 16): a report reads one fact's days as a range of
-- the primary key (fact, day, dims, metric). With a rowid table every row of that range was one
-- more lookup from the key's index into the table, a random page read each (most of a report's
-- time at 1M decided cases); a WITHOUT ROWID table keeps the rows in the key's b-tree itself, so
-- the range is read in order. Same columns, same key, every row carried over.
CREATE TABLE rollups_by_key (
    fact TEXT NOT NULL,
    day BIGINT NOT NULL,
    dims TEXT NOT NULL,
    metric TEXT NOT NULL,
    n BIGINT NOT NULL,
    buckets TEXT,
    PRIMARY KEY (fact, day, dims, metric)
) WITHOUT ROWID;
INSERT INTO rollups_by_key (fact, day, dims, metric, n, buckets)
    SELECT fact, day, dims, metric, n, buckets FROM rollups;
DROP TABLE rollups;
ALTER TABLE rollups_by_key RENAME TO rollups;
