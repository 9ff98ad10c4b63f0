-- One row that /readyz rewrites to prove the database still takes writes
-- (a full disk, a read-only database or a held lock make it fail). Not part
-- of the ledger: nothing here is evidence, and verify ignores it.
CREATE TABLE probes (
    id BIGINT PRIMARY KEY,
    at BIGINT NOT NULL
);
