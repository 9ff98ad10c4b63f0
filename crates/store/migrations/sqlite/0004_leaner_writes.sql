-- Fewer B-trees per appended event, for write throughput.
-- * Tables keyed by text keep their rows in the key's own B-tree (WITHOUT
--   ROWID): one tree per table instead of a rowid tree plus a key index.
-- * The ledger loses the UNIQUE index on prev_seq: seq is the primary key and
--   the CHECK ties prev_seq to seq - 1, so a fork is already impossible; the
--   foreign key still refuses a gap.
-- Each table is rebuilt, as SQLite requires: the old one renamed aside, the
-- new one created under the real name, the rows copied, the old one dropped.
-- Renaming first keeps the ledger's self-reference pointing at the new table.

DROP TRIGGER ledger_no_update;
DROP TRIGGER ledger_no_delete;
ALTER TABLE ledger RENAME TO ledger_old;
CREATE TABLE ledger (
    seq         INTEGER PRIMARY KEY,
    prev_seq    INTEGER REFERENCES ledger (seq),
    recorded_at INTEGER NOT NULL,
    actor       TEXT    NOT NULL,
    site        TEXT    NOT NULL,
    kind        TEXT    NOT NULL,
    payload     BLOB    NOT NULL,
    prev_hash   BLOB    NOT NULL,
    hash        BLOB    NOT NULL,
    command_id  TEXT    NOT NULL,
    CHECK ((seq = 1 AND prev_seq IS NULL) OR prev_seq = seq - 1)
) STRICT;
INSERT INTO ledger SELECT seq, prev_seq, recorded_at, actor, site, kind, payload, prev_hash, hash, command_id FROM ledger_old ORDER BY seq;
DROP TABLE ledger_old;
CREATE TRIGGER ledger_no_update BEFORE UPDATE ON ledger
BEGIN SELECT RAISE(ABORT, 'the ledger is append-only: entries cannot be changed'); END;
CREATE TRIGGER ledger_no_delete BEFORE DELETE ON ledger
BEGIN SELECT RAISE(ABORT, 'the ledger is append-only: entries cannot be deleted'); END;

ALTER TABLE commands RENAME TO commands_old;
CREATE TABLE commands (
    command_id TEXT    PRIMARY KEY,
    first_seq  INTEGER NOT NULL,
    last_seq   INTEGER NOT NULL
) STRICT, WITHOUT ROWID;
INSERT INTO commands SELECT command_id, first_seq, last_seq FROM commands_old;
DROP TABLE commands_old;

ALTER TABLE entities RENAME TO entities_old;
CREATE TABLE entities (
    kind      TEXT    NOT NULL,
    id        TEXT    NOT NULL,
    site      TEXT    NOT NULL,
    person    TEXT,
    status    TEXT    NOT NULL,
    reference TEXT,
    body      TEXT    NOT NULL,
    last_seq  INTEGER NOT NULL,
    PRIMARY KEY (kind, id)
) STRICT, WITHOUT ROWID;
INSERT INTO entities SELECT kind, id, site, person, status, reference, body, last_seq FROM entities_old;
DROP TABLE entities_old;
CREATE INDEX entities_by_site ON entities (kind, site, status);
CREATE INDEX entities_by_person ON entities (person);
CREATE INDEX entities_by_reference ON entities (kind, reference);

ALTER TABLE claims RENAME TO claims_old;
CREATE TABLE claims (
    namespace TEXT    NOT NULL,
    value     TEXT    NOT NULL,
    owner     TEXT    NOT NULL,
    seq       INTEGER NOT NULL,
    PRIMARY KEY (namespace, value)
) STRICT, WITHOUT ROWID;
INSERT INTO claims SELECT namespace, value, owner, seq FROM claims_old;
DROP TABLE claims_old;

ALTER TABLE entry_subjects RENAME TO entry_subjects_old;
CREATE TABLE entry_subjects (
    kind TEXT    NOT NULL,
    id   TEXT    NOT NULL,
    seq  INTEGER NOT NULL,
    PRIMARY KEY (kind, id, seq)
) STRICT, WITHOUT ROWID;
INSERT INTO entry_subjects SELECT kind, id, seq FROM entry_subjects_old;
DROP TABLE entry_subjects_old;
