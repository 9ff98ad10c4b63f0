-- The ledger: append-only, one chain. seq has no gaps (each entry names its
-- predecessor, which must exist) and no forks (seq and prev_seq are unique).
-- Hashes are checked by `verify`, not indexed: random keys would make every
-- append touch random index pages.
CREATE TABLE ledger (
    seq         BIGINT PRIMARY KEY,
    prev_seq    BIGINT UNIQUE REFERENCES ledger (seq),
    recorded_at BIGINT NOT NULL,
    actor       TEXT   NOT NULL,
    site        TEXT   NOT NULL,
    kind        TEXT   NOT NULL,
    payload     BYTEA  NOT NULL,
    prev_hash   BYTEA  NOT NULL,
    hash        BYTEA  NOT NULL,
    command_id  TEXT   NOT NULL,
    CHECK ((seq = 1 AND prev_seq IS NULL) OR prev_seq = seq - 1)
);

CREATE FUNCTION ledger_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the ledger is append-only: entries cannot be changed or deleted';
END;
$$;
CREATE TRIGGER ledger_no_change BEFORE UPDATE OR DELETE ON ledger
FOR EACH ROW EXECUTE FUNCTION ledger_append_only();

-- The single row every writer locks first: it serialises appends to the chain.
CREATE TABLE ledger_head (
    id   INTEGER PRIMARY KEY CHECK (id = 1),
    seq  BIGINT NOT NULL,
    hash BYTEA  NOT NULL
);
INSERT INTO ledger_head (id, seq, hash) VALUES (1, 0, decode(repeat('00', 32), 'hex'));

CREATE TABLE checkpoints (
    from_seq   BIGINT PRIMARY KEY,
    to_seq     BIGINT NOT NULL UNIQUE,
    to_hash    BYTEA  NOT NULL,
    root       BYTEA  NOT NULL,
    signed_at  BIGINT NOT NULL,
    public_key BYTEA  NOT NULL,
    signature  BYTEA  NOT NULL,
    CHECK (to_seq >= from_seq)
);

-- Each accepted command, once: a resubmission is recognised.
CREATE TABLE commands (
    command_id TEXT   PRIMARY KEY,
    first_seq  BIGINT NOT NULL,
    last_seq   BIGINT NOT NULL
);

-- Projections: the current state of every entity, rebuilt by `verify`.
CREATE TABLE entities (
    kind     TEXT   NOT NULL,
    id       TEXT   NOT NULL,
    site     TEXT   NOT NULL,
    person   TEXT,
    status   TEXT   NOT NULL,
    reference TEXT,
    body     TEXT   NOT NULL,
    last_seq BIGINT NOT NULL,
    PRIMARY KEY (kind, id)
);
CREATE INDEX entities_by_site ON entities (kind, site, status);
CREATE INDEX entities_by_person ON entities (person);
-- What a scanner or keyboard gives: a unit's DIN and product code, a person's MRN.
CREATE INDEX entities_by_reference ON entities (kind, reference);

-- Deployment-wide unique values: one DIN per donation, one release and one
-- administration per unit, unique usernames and MRNs.
CREATE TABLE claims (
    namespace TEXT   NOT NULL,
    value     TEXT   NOT NULL,
    owner     TEXT   NOT NULL,
    seq       BIGINT NOT NULL,
    PRIMARY KEY (namespace, value)
);

-- Which entries concern which entity: the audit trail of any record.
CREATE TABLE entry_subjects (
    kind TEXT   NOT NULL,
    id   TEXT   NOT NULL,
    seq  BIGINT NOT NULL,
    PRIMARY KEY (kind, id, seq)
);

-- Bearer tokens for the JSON API, stored only as SHA-256 hashes.
CREATE TABLE api_tokens (
    token_hash BYTEA  PRIMARY KEY,
    staff_id   TEXT   NOT NULL,
    label      TEXT   NOT NULL,
    created_at BIGINT NOT NULL,
    revoked_at BIGINT
);

-- The next DIN sequence number per facility (FIN) and year. The row lock of
-- the increment makes numbers unique across processes and servers.
CREATE TABLE din_sequences (
    fin  TEXT    NOT NULL,
    year INTEGER NOT NULL,
    next BIGINT  NOT NULL,
    PRIMARY KEY (fin, year)
);
