-- The read model: every list, lookup and walk a page or API makes is an
-- index range scan whose cost depends on the size of its answer.

-- Where each entity is found: index name, key, order within the key. Written
-- with the projection, in the same transaction as the ledger entry; the
-- domain computes the entries (celltrace_domain::index), so verify can too.
CREATE TABLE entity_index (
    name  TEXT NOT NULL,
    value TEXT NOT NULL,
    sort  TEXT NOT NULL,
    kind  TEXT NOT NULL,
    id    TEXT NOT NULL,
    PRIMARY KEY (name, value, sort, kind, id)
) STRICT, WITHOUT ROWID;
CREATE INDEX entity_index_by_entity ON entity_index (kind, id);

-- People's names as searched (lower case, no diacritics), for search by any
-- part of a name in any script: SQLite's trigram tokenizer indexes every
-- three characters. `pos` orders results by registration and pages them.
CREATE TABLE person_names (
    pos      INTEGER PRIMARY KEY,
    id       TEXT    NOT NULL UNIQUE,
    site     TEXT    NOT NULL,
    kind     TEXT    NOT NULL,
    name_key TEXT    NOT NULL
) STRICT;
CREATE VIRTUAL TABLE person_names_fts USING fts5(name_key, content = 'person_names', content_rowid = 'pos', tokenize = 'trigram');
CREATE TRIGGER person_names_insert AFTER INSERT ON person_names BEGIN
    INSERT INTO person_names_fts (rowid, name_key) VALUES (new.pos, new.name_key);
END;
CREATE TRIGGER person_names_delete AFTER DELETE ON person_names BEGIN
    INSERT INTO person_names_fts (person_names_fts, rowid, name_key) VALUES ('delete', old.pos, old.name_key);
END;
CREATE TRIGGER person_names_update AFTER UPDATE ON person_names BEGIN
    INSERT INTO person_names_fts (person_names_fts, rowid, name_key) VALUES ('delete', old.pos, old.name_key);
    INSERT INTO person_names_fts (rowid, name_key) VALUES (new.pos, new.name_key);
END;

-- The ledger by site (the ledger page of a site), and projections in the
-- order of their last change (verify meets them as it walks the ledger).
CREATE INDEX ledger_by_site ON ledger (site, seq);
CREATE INDEX entities_by_last_seq ON entities (last_seq, kind, id);

-- Replaced by entity_index.
DROP INDEX entities_by_site;
DROP INDEX entities_by_person;
DROP INDEX entities_by_reference;

-- API tokens are ledger grants now (entities of kind api_token); tokens made
-- before were never recorded and no longer authenticate.
DROP TABLE api_tokens;

-- How many entities of each kind exist (the public status page), kept by the
-- engine as entities are created, so nothing counts a whole table.
CREATE TABLE entity_counts (
    kind  TEXT    PRIMARY KEY,
    count INTEGER NOT NULL
) STRICT, WITHOUT ROWID;

-- Generations of derived views that are computed once per change, not per
-- request: the registry's statistics are recomputed when a treated plan or
-- an adverse event changes (the engine bumps 'registry' in the same
-- transaction), and served from the last computation otherwise.
CREATE TABLE read_generations (
    name       TEXT    PRIMARY KEY,
    generation INTEGER NOT NULL
) STRICT, WITHOUT ROWID;
INSERT INTO read_generations (name, generation) VALUES ('registry', 0);
