-- The change feed: every committed write that can change what a digest serves appends the
-- affected digests here, in the same transaction, with a sequence number that only grows
-- (AUTOINCREMENT never reuses a number, even after trimming). Readers (this server's memory,
-- another process, later other nodes) apply the rows after the last sequence they saw and
-- evict exactly those digests. Triggers write the rows, so no write path (web, CLI, import,
-- a future one) can forget to: an address added, confirmed, moved or removed; a photo
-- assigned, replaced or deleted; an account deleted (its rows cascade and fire these too).
-- Sessions, tokens, profiles and rate-limit state touch none of these tables' watched
-- columns and so append nothing.
CREATE TABLE avatar_changes (
    seq        INTEGER PRIMARY KEY AUTOINCREMENT,
    digest     TEXT    NOT NULL,
    changed_at INTEGER NOT NULL DEFAULT (CAST(strftime('%s', 'now') AS INTEGER))
);
CREATE INDEX avatar_changes_by_time ON avatar_changes (changed_at);

-- One row: the highest sequence number trimming has deleted. A reader whose last seen
-- sequence is below it has missed changes and starts over (forgets everything it holds).
CREATE TABLE avatar_feed (
    id              INTEGER PRIMARY KEY CHECK (id = 1),
    trimmed_through INTEGER NOT NULL
);
INSERT INTO avatar_feed (id, trimmed_through) VALUES (1, 0);

CREATE TRIGGER avatar_feed_digest_added AFTER INSERT ON address_digests
BEGIN
    INSERT INTO avatar_changes (digest) VALUES (NEW.digest);
END;

CREATE TRIGGER avatar_feed_digest_removed AFTER DELETE ON address_digests
BEGIN
    INSERT INTO avatar_changes (digest) VALUES (OLD.digest);
END;

-- What the hot path reads of an address: its photo, whether it is confirmed (and since
-- when: the newest confirmation wins a shared variant digest), and when it last changed
-- (Last-Modified).
CREATE TRIGGER avatar_feed_address_changed AFTER UPDATE ON addresses
WHEN OLD.photo_id IS NOT NEW.photo_id
  OR OLD.confirmed_at IS NOT NEW.confirmed_at
  OR OLD.updated_at IS NOT NEW.updated_at
BEGIN
    INSERT INTO avatar_changes (digest)
        SELECT digest FROM address_digests WHERE address_id = NEW.id;
END;

CREATE TRIGGER avatar_feed_photo_changed AFTER UPDATE ON photos
WHEN OLD.version IS NOT NEW.version
  OR OLD.format IS NOT NEW.format
  OR OLD.content_digest IS NOT NEW.content_digest
  OR OLD.updated_at IS NOT NEW.updated_at
BEGIN
    INSERT INTO avatar_changes (digest)
        SELECT d.digest FROM addresses a JOIN address_digests d ON d.address_id = a.id
        WHERE a.photo_id = NEW.id;
END;
