-- The change feed (see migrations/sqlite/0006_avatar_changes.sql for what it is for): every
-- committed write that can change what a digest serves appends the affected digests here, in
-- the same transaction, from triggers, so no write path can forget to.
--
-- PostgreSQL hands out sequence numbers when rows are inserted, not when they commit, so two
-- writers could commit seq 11 before seq 10 and a reader that applied 11 would never see 10.
-- SQLite serialises writers; here every trigger first locks the one `avatar_feed` row, held
-- until commit, so transactions that append to the feed append and commit one after another
-- and sequence order is commit order.
CREATE TABLE avatar_changes (
    seq        BIGINT  GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    digest     TEXT    NOT NULL,
    changed_at BIGINT  NOT NULL DEFAULT (EXTRACT(EPOCH FROM now())::BIGINT)
);
CREATE INDEX avatar_changes_by_time ON avatar_changes (changed_at);

-- One row: the highest sequence number trimming has deleted. A reader whose last seen
-- sequence is below it has missed changes and starts over (forgets everything it holds).
CREATE TABLE avatar_feed (
    id              BIGINT  PRIMARY KEY CHECK (id = 1),
    trimmed_through BIGINT  NOT NULL
);
INSERT INTO avatar_feed (id, trimmed_through) VALUES (1, 0);

-- Appends `digests` to the feed after taking the feed lock (above).
CREATE FUNCTION avatar_feed_append(digests TEXT[]) RETURNS VOID LANGUAGE plpgsql AS $$
BEGIN
    IF cardinality(digests) = 0 THEN
        RETURN;
    END IF;
    PERFORM 1 FROM avatar_feed WHERE id = 1 FOR UPDATE;
    INSERT INTO avatar_changes (digest) SELECT unnest(digests);
END;
$$;

CREATE FUNCTION avatar_feed_digest_added() RETURNS TRIGGER LANGUAGE plpgsql AS $$
BEGIN
    PERFORM avatar_feed_append(ARRAY[NEW.digest]);
    RETURN NULL;
END;
$$;
CREATE TRIGGER avatar_feed_digest_added AFTER INSERT ON address_digests
    FOR EACH ROW EXECUTE FUNCTION avatar_feed_digest_added();

CREATE FUNCTION avatar_feed_digest_removed() RETURNS TRIGGER LANGUAGE plpgsql AS $$
BEGIN
    PERFORM avatar_feed_append(ARRAY[OLD.digest]);
    RETURN NULL;
END;
$$;
CREATE TRIGGER avatar_feed_digest_removed AFTER DELETE ON address_digests
    FOR EACH ROW EXECUTE FUNCTION avatar_feed_digest_removed();

-- What the hot path reads of an address: its photo, whether it is confirmed (and since
-- when: the newest confirmation wins a shared variant digest), and when it last changed
-- (Last-Modified).
CREATE FUNCTION avatar_feed_address_changed() RETURNS TRIGGER LANGUAGE plpgsql AS $$
BEGIN
    PERFORM avatar_feed_append(ARRAY(
        SELECT digest FROM address_digests WHERE address_id = NEW.id ORDER BY digest));
    RETURN NULL;
END;
$$;
CREATE TRIGGER avatar_feed_address_changed AFTER UPDATE ON addresses
    FOR EACH ROW
    WHEN (OLD.photo_id IS DISTINCT FROM NEW.photo_id
       OR OLD.confirmed_at IS DISTINCT FROM NEW.confirmed_at
       OR OLD.updated_at IS DISTINCT FROM NEW.updated_at)
    EXECUTE FUNCTION avatar_feed_address_changed();

CREATE FUNCTION avatar_feed_photo_changed() RETURNS TRIGGER LANGUAGE plpgsql AS $$
BEGIN
    PERFORM avatar_feed_append(ARRAY(
        SELECT d.digest FROM addresses a JOIN address_digests d ON d.address_id = a.id
        WHERE a.photo_id = NEW.id ORDER BY d.digest));
    RETURN NULL;
END;
$$;
CREATE TRIGGER avatar_feed_photo_changed AFTER UPDATE ON photos
    FOR EACH ROW
    WHEN (OLD.version IS DISTINCT FROM NEW.version
       OR OLD.format IS DISTINCT FROM NEW.format
       OR OLD.content_digest IS DISTINCT FROM NEW.content_digest
       OR OLD.updated_at IS DISTINCT FROM NEW.updated_at)
    EXECUTE FUNCTION avatar_feed_photo_changed();
