-- Domain administrators and domain-wide default images (see the SQLite migration of the
-- same number for what each piece is for).
ALTER TABLE addresses ADD COLUMN domain TEXT
    GENERATED ALWAYS AS (CASE WHEN kind = 'email' THEN split_part(address, '@', 2) END)
    STORED;
CREATE INDEX addresses_by_domain ON addresses (domain);

CREATE TABLE domain_admins (
    domain     TEXT   NOT NULL,
    user_id    BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    granted_at BIGINT NOT NULL,
    PRIMARY KEY (domain, user_id)
);
CREATE INDEX domain_admins_by_user ON domain_admins (user_id);

CREATE TABLE domain_defaults (
    domain     TEXT   PRIMARY KEY NOT NULL,
    photo_id   BIGINT NOT NULL REFERENCES photos (id) ON DELETE CASCADE,
    set_by     BIGINT REFERENCES users (id) ON DELETE SET NULL,
    updated_at BIGINT NOT NULL
);

CREATE FUNCTION avatar_feed_domain_default_changed() RETURNS TRIGGER LANGUAGE plpgsql AS $$
DECLARE
    changed TEXT := COALESCE(NEW.domain, OLD.domain);
BEGIN
    IF TG_OP = 'DELETE' THEN
        changed := OLD.domain;
    END IF;
    PERFORM avatar_feed_append(ARRAY(
        SELECT d.digest FROM addresses a JOIN address_digests d ON d.address_id = a.id
        WHERE a.domain = changed AND a.photo_id IS NULL ORDER BY d.digest));
    RETURN NULL;
END;
$$;
CREATE TRIGGER avatar_feed_domain_default_changed
    AFTER INSERT OR UPDATE OR DELETE ON domain_defaults
    FOR EACH ROW EXECUTE FUNCTION avatar_feed_domain_default_changed();
