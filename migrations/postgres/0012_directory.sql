-- Company directory sync (LDAP / Active Directory, src/directory/); PostgreSQL, the same
-- tables as migrations/sqlite/0012_directory.sql.
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
    photo_id     BIGINT  REFERENCES photos (id) ON DELETE SET NULL,
    synced_at    BIGINT  NOT NULL
);
CREATE INDEX directory_entries_by_photo ON directory_entries (photo_id);

-- One row: who may run the periodic sync now (a lease, so one node of many syncs), and
-- what the last sync did (read by /metrics on every node). Times are Unix seconds.
CREATE TABLE directory_sync (
    id               BIGINT  PRIMARY KEY CHECK (id = 1),
    lease_holder     TEXT,
    lease_until      BIGINT  NOT NULL DEFAULT 0,
    last_started_at  BIGINT,
    last_finished_at BIGINT,
    last_ok          BOOLEAN NOT NULL DEFAULT FALSE,
    last_dry_run     BOOLEAN NOT NULL DEFAULT FALSE,
    entries          BIGINT  NOT NULL DEFAULT 0,
    added            BIGINT  NOT NULL DEFAULT 0,
    updated          BIGINT  NOT NULL DEFAULT 0,
    unchanged        BIGINT  NOT NULL DEFAULT 0,
    removed          BIGINT  NOT NULL DEFAULT 0,
    refused          BIGINT  NOT NULL DEFAULT 0,
    errors           BIGINT  NOT NULL DEFAULT 0,
    duration_ms      BIGINT  NOT NULL DEFAULT 0
);
INSERT INTO directory_sync (id) VALUES (1);
