-- Throttling of credential checks (staff sign-in, portal sign-in and
-- activation, e-signatures), shared by every server. Each key (an account,
-- a client address, or the pair) counts attempts; an attempt is reserved
-- atomically before the password is checked, so parallel guesses cannot
-- exceed the limit. Reaching the limit blocks the key for a back-off that
-- doubles each time (level), instead of locking the account for good.
CREATE TABLE throttles (
    key           TEXT    PRIMARY KEY,
    attempts      BIGINT NOT NULL,
    level         BIGINT NOT NULL,
    blocked_until BIGINT NOT NULL,
    last_failure  BIGINT NOT NULL
);

-- Replaced by throttles.
DROP TABLE login_failures;
