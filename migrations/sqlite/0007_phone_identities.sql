-- no-transaction
-- Phone identities and WhatsApp gateway copies (src/phone.rs, src/gateways/).
--
-- `kind` gains 'phone' (an E.164 number, digest = SHA-256 of it) and 'whatsapp_group' (a
-- group chat id `ID@g.us`, only ever written by a gateway lookup). An address also records
-- where its photo came from: `photo_source` NULL when its owner or the operator set it,
-- 'gowa' or 'greenapi' for a copy a gateway lookup kept, with `photo_source_id` telling
-- whether the picture changed (GoWA's avatar id, else the SHA-256 of the image bytes).
--
-- SQLite cannot alter a CHECK constraint, so the table is rebuilt (the documented 12-step
-- procedure): foreign keys are off while the old table is dropped, so `address_digests`
-- keeps its rows and its triggers do not fire; legacy_alter_table keeps the rename from
-- re-checking the `photos` trigger that names `addresses`. Same columns in the same order
-- plus the two new ones, the same ids, indexes and the one trigger on this table.
PRAGMA foreign_keys = OFF;
PRAGMA legacy_alter_table = ON;
BEGIN;

CREATE TABLE addresses_new (
    id              INTEGER PRIMARY KEY,
    kind            TEXT    NOT NULL CHECK (kind IN ('email', 'openid', 'phone', 'whatsapp_group')),
    address         TEXT    NOT NULL UNIQUE,
    photo_id        INTEGER REFERENCES photos (id) ON DELETE SET NULL,
    confirmed_at    INTEGER,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL,
    user_id         INTEGER REFERENCES users (id) ON DELETE CASCADE,
    photo_source    TEXT    CHECK (photo_source IN ('gowa', 'greenapi')),
    photo_source_id TEXT
);
INSERT INTO addresses_new (id, kind, address, photo_id, confirmed_at, created_at, updated_at, user_id)
    SELECT id, kind, address, photo_id, confirmed_at, created_at, updated_at, user_id FROM addresses;
DROP TABLE addresses;
ALTER TABLE addresses_new RENAME TO addresses;
CREATE INDEX addresses_by_photo ON addresses (photo_id);
CREATE INDEX addresses_by_user ON addresses (user_id);

CREATE TRIGGER avatar_feed_address_changed AFTER UPDATE ON addresses
WHEN OLD.photo_id IS NOT NEW.photo_id
  OR OLD.confirmed_at IS NOT NEW.confirmed_at
  OR OLD.updated_at IS NOT NEW.updated_at
BEGIN
    INSERT INTO avatar_changes (digest)
        SELECT digest FROM address_digests WHERE address_id = NEW.id;
END;

COMMIT;
PRAGMA legacy_alter_table = OFF;
PRAGMA foreign_keys = ON;
