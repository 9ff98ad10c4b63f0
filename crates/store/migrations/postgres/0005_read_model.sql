-- The read model: every list, lookup and walk a page or API makes is an
-- index range scan whose cost depends on the size of its answer.

-- Where each entity is found: index name, key, order within the key. Written
-- with the projection, in the same transaction as the ledger entry; the
-- domain computes the entries (celltrace_domain::index), so verify can too.
CREATE TABLE entity_index (
    name  TEXT NOT NULL,
    value TEXT NOT NULL COLLATE "C",
    sort  TEXT NOT NULL COLLATE "C",
    kind  TEXT NOT NULL,
    id    TEXT NOT NULL COLLATE "C",
    PRIMARY KEY (name, value, sort, kind, id)
);
CREATE INDEX entity_index_by_entity ON entity_index (kind, id);

-- People's names as searched (lower case, no diacritics), for search by any
-- part of a name in any script: a trigram index (pg_trgm). `pos` orders
-- results by registration and pages them.
CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE TABLE person_names (
    pos      BIGSERIAL PRIMARY KEY,
    id       TEXT NOT NULL UNIQUE,
    site     TEXT NOT NULL,
    kind     TEXT NOT NULL,
    name_key TEXT NOT NULL
);
CREATE INDEX person_names_trigrams ON person_names USING gin (name_key gin_trgm_ops);

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
    kind  TEXT   PRIMARY KEY,
    count BIGINT NOT NULL
);

-- Generations of derived views that are computed once per change, not per
-- request: the registry's statistics are recomputed when a treated plan or
-- an adverse event changes (the engine bumps 'registry' in the same
-- transaction), and served from the last computation otherwise.
CREATE TABLE read_generations (
    name       TEXT    PRIMARY KEY,
    generation BIGINT NOT NULL
);
INSERT INTO read_generations (name, generation) VALUES ('registry', 0);
