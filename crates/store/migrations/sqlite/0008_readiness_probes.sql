-- One row that /readyz rewrites to prove the database still takes writes
-- (a full disk, a read-only file or a held lock make it fail). Not part of
-- the ledger: nothing here is evidence, and verify ignores it.
CREATE TABLE probes (
    id INTEGER PRIMARY KEY,
    at INTEGER NOT NULL
);
