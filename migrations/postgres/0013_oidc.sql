-- Single sign-on through an OpenID provider (src/sso/). Times are Unix seconds (UTC).

-- Which account a provider's person is: (issuer, subject) is the only stable identity an
-- ID token carries (an email address can change hands at the provider).
CREATE TABLE oidc_links (
    issuer              TEXT    NOT NULL,
    subject             TEXT    NOT NULL,
    user_id             BIGINT  NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    -- When the provider's picture was imported as a photo (once, at most: later logins
    -- never fetch it again); NULL: not yet, or the provider gave none.
    picture_imported_at BIGINT,
    created_at          BIGINT  NOT NULL,
    last_login_at       BIGINT  NOT NULL,
    PRIMARY KEY (issuer, subject)
);
CREATE INDEX oidc_links_by_user ON oidc_links (user_id);

-- Logins sent to the provider and not back yet. Keyed by a SHA-256 of the `state` (which
-- the browser also holds in a cookie); each row is taken once, and only before it expires.
CREATE TABLE oidc_logins (
    state_hash    TEXT    PRIMARY KEY NOT NULL,
    nonce         TEXT    NOT NULL,
    pkce_verifier TEXT    NOT NULL,
    -- A local path to land on afterwards (checked before it is stored).
    return_to     TEXT    NOT NULL,
    expires_at    BIGINT  NOT NULL
);
