-- Photos, addresses and the digests that find them.
-- Times are Unix seconds (UTC).

-- A validated, square, re-encoded original (at most 2048x2048). Renditions are derived.
CREATE TABLE photos (
    id             INTEGER PRIMARY KEY,
    -- The format served when the URL names none: the format it was uploaded in.
    format         TEXT    NOT NULL CHECK (format IN ('png', 'jpeg', 'gif', 'webp')),
    data           BLOB    NOT NULL,
    side           INTEGER NOT NULL CHECK (side BETWEEN 1 AND 2048),
    -- SHA-256 of `data` and of the bytes as uploaded (lowercase hex).
    content_digest TEXT    NOT NULL,
    source_digest  TEXT    NOT NULL,
    -- Bumped whenever `data` changes in place; part of every rendition's cache key.
    version        INTEGER NOT NULL DEFAULT 1,
    created_at     INTEGER NOT NULL,
    updated_at     INTEGER NOT NULL
);
CREATE INDEX photos_by_content ON photos (content_digest);

-- An email address or OpenID URL, normalised (identity.rs). Only confirmed ones are served.
CREATE TABLE addresses (
    id           INTEGER PRIMARY KEY,
    kind         TEXT    NOT NULL CHECK (kind IN ('email', 'openid')),
    address      TEXT    NOT NULL UNIQUE,
    photo_id     INTEGER REFERENCES photos (id) ON DELETE SET NULL,
    confirmed_at INTEGER,
    created_at   INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL
);
CREATE INDEX addresses_by_photo ON addresses (photo_id);

-- Every digest an address answers to: MD5 and SHA-256 of an email; SHA-256 of an OpenID and
-- of its http/https and trailing-slash variants. `exact` marks the digest of the address
-- itself, which wins over another address's variant.
CREATE TABLE address_digests (
    digest     TEXT    NOT NULL,
    address_id INTEGER NOT NULL REFERENCES addresses (id) ON DELETE CASCADE,
    exact      INTEGER NOT NULL CHECK (exact IN (0, 1)),
    PRIMARY KEY (digest, address_id)
) WITHOUT ROWID;
CREATE INDEX address_digests_by_address ON address_digests (address_id);
