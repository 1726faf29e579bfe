-- Bank imports in bounded chunks (issue 15): a large `staydown bank import` writes its entries in
-- many short transactions, hidden behind their import's id, and one last short transaction makes
-- them all visible at once by marking the import committed (and logging one `import_committed`
-- change, which screening nodes expand into the import's entries). A failed or killed import
-- never becomes visible; its rows are deleted, in chunks, by the next import (store::bank_import).
CREATE TABLE bank_imports (
    id           TEXT PRIMARY KEY,
    bank_id      TEXT NOT NULL REFERENCES banks (id),
    state        TEXT NOT NULL,   -- staging, committed or abandoned
    source       TEXT NOT NULL,
    started_at   BIGINT NOT NULL,
    touched_at   BIGINT NOT NULL,
    committed_at BIGINT
);
CREATE INDEX bank_imports_state ON bank_imports (state);

-- NULL for entries added any other way; otherwise visible only once the import is committed.
ALTER TABLE bank_entries ADD COLUMN import_id TEXT;
CREATE INDEX bank_entries_import ON bank_entries (import_id, seq);

-- The import an `import_committed` change made visible.
ALTER TABLE bank_changes ADD COLUMN import_id TEXT;
