-- Patient portal access, outside the ledger like staff credentials. A patient
-- first signs in with a one-time code handed over at the clinic (only its
-- hash is kept), then with a password of their own.
CREATE TABLE portal_accounts (
    person_id       TEXT    PRIMARY KEY,
    code_hash       BYTEA,
    code_expires_at BIGINT,
    code_issued_by  TEXT,
    password_hash   TEXT,
    language        TEXT    NOT NULL,
    updated_at      BIGINT NOT NULL
);

CREATE TABLE portal_sessions (
    token_hash BYTEA    PRIMARY KEY,
    person_id  TEXT    NOT NULL,
    csrf_token TEXT    NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX portal_sessions_by_person ON portal_sessions (person_id);
