-- The ledger: append-only, one chain. seq has no gaps (each entry names its
-- predecessor, which must exist) and no forks (seq and prev_seq are unique).
-- Hashes are checked by `verify`, not indexed: random keys would make every
-- append touch random index pages.
CREATE TABLE ledger (
    seq         INTEGER PRIMARY KEY,
    prev_seq    INTEGER UNIQUE REFERENCES ledger (seq),
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

CREATE TRIGGER ledger_no_update BEFORE UPDATE ON ledger
BEGIN SELECT RAISE(ABORT, 'the ledger is append-only: entries cannot be changed'); END;
CREATE TRIGGER ledger_no_delete BEFORE DELETE ON ledger
BEGIN SELECT RAISE(ABORT, 'the ledger is append-only: entries cannot be deleted'); END;

-- The single row every writer locks first: it serialises appends to the chain.
CREATE TABLE ledger_head (
    id   INTEGER PRIMARY KEY CHECK (id = 1),
    seq  INTEGER NOT NULL,
    hash BLOB    NOT NULL
) STRICT;
INSERT INTO ledger_head (id, seq, hash) VALUES (1, 0, zeroblob(32));

CREATE TABLE checkpoints (
    from_seq   INTEGER PRIMARY KEY,
    to_seq     INTEGER NOT NULL UNIQUE,
    to_hash    BLOB    NOT NULL,
    root       BLOB    NOT NULL,
    signed_at  INTEGER NOT NULL,
    public_key BLOB    NOT NULL,
    signature  BLOB    NOT NULL,
    CHECK (to_seq >= from_seq)
) STRICT;

-- Each accepted command, once: a resubmission is recognised.
CREATE TABLE commands (
    command_id TEXT    PRIMARY KEY,
    first_seq  INTEGER NOT NULL,
    last_seq   INTEGER NOT NULL
) STRICT;

-- Projections: the current state of every entity, rebuilt by `verify`.
CREATE TABLE entities (
    kind     TEXT    NOT NULL,
    id       TEXT    NOT NULL,
    site     TEXT    NOT NULL,
    person   TEXT,
    status   TEXT    NOT NULL,
    reference TEXT,
    body     TEXT    NOT NULL,
    last_seq INTEGER NOT NULL,
    PRIMARY KEY (kind, id)
) STRICT;
CREATE INDEX entities_by_site ON entities (kind, site, status);
CREATE INDEX entities_by_person ON entities (person);
-- What a scanner or keyboard gives: a unit's DIN and product code, a person's MRN.
CREATE INDEX entities_by_reference ON entities (kind, reference);

-- Deployment-wide unique values: one DIN per donation, one release and one
-- administration per unit, unique usernames and MRNs.
CREATE TABLE claims (
    namespace TEXT    NOT NULL,
    value     TEXT    NOT NULL,
    owner     TEXT    NOT NULL,
    seq       INTEGER NOT NULL,
    PRIMARY KEY (namespace, value)
) STRICT;

-- Which entries concern which entity: the audit trail of any record.
CREATE TABLE entry_subjects (
    kind TEXT    NOT NULL,
    id   TEXT    NOT NULL,
    seq  INTEGER NOT NULL,
    PRIMARY KEY (kind, id, seq)
) STRICT;

-- Bearer tokens for the JSON API, stored only as SHA-256 hashes.
CREATE TABLE api_tokens (
    token_hash BLOB    PRIMARY KEY,
    staff_id   TEXT    NOT NULL,
    label      TEXT    NOT NULL,
    created_at INTEGER NOT NULL,
    revoked_at INTEGER
) STRICT;

-- The next DIN sequence number per facility (FIN) and year. The row lock of
-- the increment makes numbers unique across processes and servers.
CREATE TABLE din_sequences (
    fin  TEXT    NOT NULL,
    year INTEGER NOT NULL,
    next INTEGER NOT NULL,
    PRIMARY KEY (fin, year)
) STRICT;
