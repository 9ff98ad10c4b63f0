-- Sign-in secrets live outside the ledger: a password hash is not an event.
-- That a password was set or changed is recorded in the ledger by the caller.
CREATE TABLE credentials (
    staff_id      TEXT    PRIMARY KEY,
    password_hash TEXT    NOT NULL,
    updated_at    INTEGER NOT NULL
) STRICT;

-- Signed-in sessions; the cookie holds a random token, only its hash is kept.
CREATE TABLE sessions (
    token_hash BLOB    PRIMARY KEY,
    staff_id   TEXT    NOT NULL,
    site       TEXT    NOT NULL,
    csrf_token TEXT    NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
) STRICT;
CREATE INDEX sessions_by_staff ON sessions (staff_id);

-- Failed sign-ins, for throttling across every server.
CREATE TABLE login_failures (
    username TEXT    NOT NULL,
    at       INTEGER NOT NULL
) STRICT;
CREATE INDEX login_failures_by_username ON login_failures (username, at);

-- Deployment settings (e.g. whether the demo dataset is loaded).
CREATE TABLE settings (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
) STRICT;
