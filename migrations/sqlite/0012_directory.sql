-- Company directory sync (LDAP / Active Directory, src/directory/).
--
-- The directory's addresses are ordinary rows in `addresses` (kind 'email', confirmed):
-- `source` is 'directory' for a row the sync created (nobody owned the address then), NULL
-- for one a person or the operator holds; `directory_entry` names the entry that lists the
-- address now (NULL: none), whichever created it. The directory's photos are rows in
-- `photos` with `source` 'directory', one per entry, held by `directory_entries.photo_id`.
ALTER TABLE addresses ADD COLUMN source TEXT CHECK (source IN ('directory'));
ALTER TABLE addresses ADD COLUMN directory_entry TEXT;
CREATE INDEX addresses_by_directory_entry ON addresses (directory_entry);
ALTER TABLE photos ADD COLUMN source TEXT CHECK (source IN ('directory'));

-- One row per directory entry the last sync applied. `entry_key` is the entry's stable id
-- (entryUUID on OpenLDAP, objectGUID on AD, else its DN); `photo_digest` the SHA-256 of the
-- photo as the directory holds it, so an unchanged photo is not decoded again.
CREATE TABLE directory_entries (
    entry_key    TEXT    NOT NULL PRIMARY KEY,
    dn           TEXT    NOT NULL,
    photo_digest TEXT,
    photo_id     INTEGER REFERENCES photos (id) ON DELETE SET NULL,
    synced_at    INTEGER NOT NULL
);
CREATE INDEX directory_entries_by_photo ON directory_entries (photo_id);

-- One row: who may run the periodic sync now (a lease, so one node of many syncs), and
-- what the last sync did (read by /metrics on every node). Times are Unix seconds.
CREATE TABLE directory_sync (
    id               INTEGER PRIMARY KEY CHECK (id = 1),
    lease_holder     TEXT,
    lease_until      INTEGER NOT NULL DEFAULT 0,
    last_started_at  INTEGER,
    last_finished_at INTEGER,
    last_ok          INTEGER NOT NULL DEFAULT 0,
    last_dry_run     INTEGER NOT NULL DEFAULT 0,
    entries          INTEGER NOT NULL DEFAULT 0,
    added            INTEGER NOT NULL DEFAULT 0,
    updated          INTEGER NOT NULL DEFAULT 0,
    unchanged        INTEGER NOT NULL DEFAULT 0,
    removed          INTEGER NOT NULL DEFAULT 0,
    refused          INTEGER NOT NULL DEFAULT 0,
    errors           INTEGER NOT NULL DEFAULT 0,
    duration_ms      INTEGER NOT NULL DEFAULT 0
);
INSERT INTO directory_sync (id) VALUES (1);
