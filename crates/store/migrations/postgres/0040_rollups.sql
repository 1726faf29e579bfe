-- Rollups for the transparency report and /api/v1/stats (issue 16): per UTC day, per fact
-- (`notice_received`, `notice_decided`, `order_ack`, `own_initiative`, `case_decided`,
-- `appeal_received`, `appeal_decided`, `misuse`), per combination of the fact's dimensions
-- (`dims`, values joined by U+001F), one row per metric. Counts are in `n`; a duration metric
-- also keeps its histogram in `buckets`: `minute:count` pairs in ascending minute order, joined by
-- `,`, so medians and percentiles are exact to the minute. Kept up to date in the transaction of
-- the write that changes them (`crates/store/src/rollups.rs`), rebuilt from the rows with
-- `staydown report rebuild-rollups`.
CREATE TABLE rollups (
    fact TEXT NOT NULL,
    day BIGINT NOT NULL,
    dims TEXT NOT NULL,
    metric TEXT NOT NULL,
    n BIGINT NOT NULL,
    buckets TEXT,
    PRIMARY KEY (fact, day, dims, metric)
);
-- Case-decided facts look for an earlier first decision of the same case; misuse facts read a day.
CREATE INDEX decisions_first_of_case ON decisions (case_id, replaces, decided_at);
CREATE INDEX misuse_measures_at ON misuse_measures (at);
