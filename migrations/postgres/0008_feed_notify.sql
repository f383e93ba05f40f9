-- Every statement that appends to the avatar feed (`avatar_changes`) notifies channel
-- `cameo_feed` (delivered when its transaction commits; several in one transaction fold into
-- one), so nodes listening there read the feed at once instead of at their next poll
-- (src/store/changes.rs).
CREATE FUNCTION cameo_notify_feed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('cameo_feed', '');
    RETURN NULL;
END
$$;

CREATE TRIGGER avatar_feed_notify AFTER INSERT ON avatar_changes
    FOR EACH STATEMENT EXECUTE FUNCTION cameo_notify_feed();
