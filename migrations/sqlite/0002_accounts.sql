-- Accounts, their sessions, and single-use tokens (address confirmation, password reset).
-- Addresses and photos gain an owner; NULL owner means the operator (CLI).

CREATE TABLE users (
    id            INTEGER PRIMARY KEY,
    -- The login name: a normalised email address. Reset mails go here.
    email         TEXT    NOT NULL UNIQUE,
    password_hash TEXT    NOT NULL,
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL
);

-- Server-side sessions. Only a SHA-256 of the cookie value is stored, so a database leak
-- does not hand out live sessions.
CREATE TABLE sessions (
    token_hash TEXT    PRIMARY KEY NOT NULL,
    user_id    INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    csrf_token TEXT    NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
);
CREATE INDEX sessions_by_user ON sessions (user_id);

-- Single-use, expiring tokens sent by mail (or shown for OpenID proofs). Hashed like sessions.
-- A pending address claim lives here, not in `addresses`: the address row (if another
-- account or the operator has it) is only moved once the claim is confirmed.
CREATE TABLE tokens (
    token_hash TEXT    PRIMARY KEY NOT NULL,
    purpose    TEXT    NOT NULL CHECK (purpose IN ('confirm_address', 'reset_password', 'openid_proof')),
    user_id    INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    -- The normalised address being claimed (confirm_address, openid_proof).
    address    TEXT,
    -- openid_proof only: the public value the OpenID page must link to with rel="me".
    -- Not a secret (it is published on the user's page), so it is kept as it is.
    proof      TEXT,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    used_at    INTEGER
);
CREATE INDEX tokens_by_user ON tokens (user_id);

ALTER TABLE addresses ADD COLUMN user_id INTEGER REFERENCES users (id) ON DELETE CASCADE;
ALTER TABLE photos ADD COLUMN user_id INTEGER REFERENCES users (id) ON DELETE CASCADE;
CREATE INDEX addresses_by_user ON addresses (user_id);
CREATE INDEX photos_by_user ON photos (user_id);
