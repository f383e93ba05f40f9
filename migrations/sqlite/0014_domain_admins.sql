-- Domain administrators and domain-wide default images.
--
-- `addresses.domain` is the part after the `@` of an email address (NULL for OpenIDs and
-- phone numbers), computed by the database so no write path can forget it.
ALTER TABLE addresses ADD COLUMN domain TEXT
    GENERATED ALWAYS AS (CASE WHEN kind = 'email' THEN substr(address, instr(address, '@') + 1) END)
    VIRTUAL;
CREATE INDEX addresses_by_domain ON addresses (domain);

-- Accounts the operator named (`cameo domain-admin add`) to administer a domain: they see
-- its addresses, take photos off them, and set its default image.
CREATE TABLE domain_admins (
    domain     TEXT    NOT NULL,
    user_id    INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    granted_at INTEGER NOT NULL,
    PRIMARY KEY (domain, user_id)
);
CREATE INDEX domain_admins_by_user ON domain_admins (user_id);

-- A domain's default image (a logo): served for the domain's confirmed addresses that show
-- no photo, wherever a drawn default would be served. The photo row belongs to no account.
CREATE TABLE domain_defaults (
    domain     TEXT    PRIMARY KEY NOT NULL,
    photo_id   INTEGER NOT NULL REFERENCES photos (id) ON DELETE CASCADE,
    set_by     INTEGER REFERENCES users (id) ON DELETE SET NULL,
    updated_at INTEGER NOT NULL
);

-- The change feed names every digest of the domain's photo-less addresses when its default
-- image is set, replaced or removed.
CREATE TRIGGER avatar_feed_domain_default_set AFTER INSERT ON domain_defaults
BEGIN
    INSERT INTO avatar_changes (digest)
        SELECT d.digest FROM addresses a JOIN address_digests d ON d.address_id = a.id
        WHERE a.domain = NEW.domain AND a.photo_id IS NULL;
END;

CREATE TRIGGER avatar_feed_domain_default_changed AFTER UPDATE ON domain_defaults
BEGIN
    INSERT INTO avatar_changes (digest)
        SELECT d.digest FROM addresses a JOIN address_digests d ON d.address_id = a.id
        WHERE a.domain = NEW.domain AND a.photo_id IS NULL;
END;

CREATE TRIGGER avatar_feed_domain_default_removed AFTER DELETE ON domain_defaults
BEGIN
    INSERT INTO avatar_changes (digest)
        SELECT d.digest FROM addresses a JOIN address_digests d ON d.address_id = a.id
        WHERE a.domain = OLD.domain AND a.photo_id IS NULL;
END;
