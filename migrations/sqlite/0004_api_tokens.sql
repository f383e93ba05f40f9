-- API tokens for the lookup/profile API (`Authorization: Bearer cameo_…`). Only a SHA-256 of
-- the token is stored, so a database leak hands out no usable token; `prefix` is the token's
-- first characters, kept so its owner can tell tokens apart. Revoked rows stay a while (the
-- operator's `cameo token list` shows them) and are swept when tokens are created.

CREATE TABLE api_tokens (
    id           INTEGER PRIMARY KEY,
    user_id      INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name         TEXT    NOT NULL,
    token_hash   TEXT    NOT NULL UNIQUE,
    prefix       TEXT    NOT NULL,
    created_at   INTEGER NOT NULL,
    -- Updated at most once a minute, so a busy token does not write on every request.
    last_used_at INTEGER,
    revoked_at   INTEGER
);
CREATE INDEX api_tokens_by_user ON api_tokens (user_id);
