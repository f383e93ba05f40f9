-- Counters of rate limits and lock-outs that must hold for every process and node sharing
-- this database (login attempts, sign-ups, mails per recipient, outbound checks). One row per
-- (scope, key): a fixed window that starts at the key's first hit; `hits` counts the hits in
-- it, taken *before* the work they guard is done.
CREATE TABLE throttles (
    scope        TEXT    NOT NULL,
    key          TEXT    NOT NULL,
    window_start INTEGER NOT NULL,
    hits         INTEGER NOT NULL,
    PRIMARY KEY (scope, key)
) WITHOUT ROWID;
CREATE INDEX throttles_by_window ON throttles (window_start);
