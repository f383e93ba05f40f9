-- Public profiles, opt-in per account: nothing is public until the owner ticks the box.
-- `links` is a JSON array of {"label": "...", "url": "..."} (at most five, validated by the
-- web form before it is stored).

CREATE TABLE profiles (
    user_id      INTEGER PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    public       INTEGER NOT NULL DEFAULT 0 CHECK (public IN (0, 1)),
    display_name TEXT    NOT NULL DEFAULT '',
    about        TEXT    NOT NULL DEFAULT '',
    links        TEXT    NOT NULL DEFAULT '[]',
    updated_at   INTEGER NOT NULL
);
