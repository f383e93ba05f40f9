-- Public profiles, opt-in per account: nothing is public until the owner ticks the box.
-- `links` is a JSON array of {"label": "...", "url": "..."} (at most five, validated by the
-- web form before it is stored).

CREATE TABLE profiles (
    user_id      BIGINT  PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    public       BOOLEAN NOT NULL DEFAULT FALSE,
    display_name TEXT    NOT NULL DEFAULT '',
    about        TEXT    NOT NULL DEFAULT '',
    links        TEXT    NOT NULL DEFAULT '[]',
    updated_at   BIGINT  NOT NULL
);
