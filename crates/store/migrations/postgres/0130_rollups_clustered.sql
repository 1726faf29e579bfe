-- Rollups stored in their key's order (issue 16): a report reads one fact's days as a range of
-- the primary key (fact, day, dims, metric). SQLite's migration of the same number makes the table
-- WITHOUT ROWID; PostgreSQL has no clustered tables, so the rows existing now are rewritten once
-- in key order (CLUSTER keeps every row). Later rebuilds write a fact's days in key order anyway.
CLUSTER rollups USING rollups_pkey;
