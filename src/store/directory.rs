//! What the company directory gave (src/directory/): the entries of the last sync, the
//! addresses they list, and the write transactions that apply a sync's plan.
//!
//! An address the sync creates (nobody held it) has `source = 'directory'` and no owner; an
//! address a person or the operator holds keeps its holder and only gains the link to the
//! entry (`directory_entry`), a confirmation, and the entry's photo as the precedence rule
//! says. Each entry's photo is one `photos` row with `source = 'directory'`, held by
//! `directory_entries.photo_id` (so [`super::photos::delete_unreferenced`] keeps it).
//!
//! The plan is applied in batches of [`ENTRIES_PER_TRANSACTION`] entries, each batch one
//! write transaction, so other writers (a login, an upload) wait for one batch at most
//! (about 0.3 s), never for a whole first sync of a large directory (41 s for 100,000
//! entries in one transaction). Each entry changes whole: its row, its photo and its
//! addresses commit together, so at any moment every address shows what its entry gave it
//! before the sync or after it, never a photo of neither. Entries written come first,
//! their old links and the entries that left last, so an address moving between entries is
//! never without one. The change feed's triggers record every digest whose answer changed,
//! as for any other write.

use super::photos::delete_unreferenced;
use super::{Db, Tx, now};
use crate::config::directory::Precedence;
use crate::directory::plan::{
    EntryWrite, KnownEntry, LinkedAddress, PhotoWrite, Plan, Snapshot, address_photo,
};
use crate::identity::Identity;
use crate::imaging::PreparedPhoto;

/// What the last sync left: its entries and the addresses linked to them.
pub async fn snapshot(db: &Db) -> Result<Snapshot, sqlx::Error> {
    let entries: Vec<(String, String, Option<String>, Option<i64>)> = on_pool!(db, pool => sqlx::query_as(
        "SELECT entry_key, dn, photo_digest, photo_id FROM directory_entries",
    )
    .fetch_all(pool)
    .await)?;
    type LinkRow = (
        String,
        String,
        Option<i64>,
        Option<String>,
        Option<i64>,
        Option<String>,
    );
    let linked: Vec<LinkRow> = on_pool!(db, pool => sqlx::query_as(
        "SELECT a.address, a.directory_entry, a.user_id, a.source, a.photo_id, p.source
         FROM addresses a LEFT JOIN photos p ON p.id = a.photo_id
         WHERE a.directory_entry IS NOT NULL",
    )
    .fetch_all(pool)
    .await)?;
    let mut snapshot = Snapshot::default();
    for (key, dn, photo_digest, photo_id) in entries {
        snapshot.entries.insert(
            key,
            KnownEntry {
                dn,
                photo_digest,
                photo_id,
            },
        );
    }
    for (address, entry_key, user_id, source, photo_id, photo_source) in linked {
        let link = LinkedAddress {
            entry_key,
            owned: is_owned(user_id, source.as_deref()),
            photo_id,
            photo_from_directory: photo_source.is_some(),
        };
        snapshot.linked.insert(address, link);
    }
    Ok(snapshot)
}

/// Whether someone holds an address: the directory created it for nobody only when its
/// source is the directory and it has no owner (a person may have claimed it since).
fn is_owned(user_id: Option<i64>, source: Option<&str>) -> bool {
    user_id.is_some() || source != Some("directory")
}

/// Entries applied per write transaction (see the module comment).
pub const ENTRIES_PER_TRANSACTION: usize = 1_000;

/// Applies `plan`, a batch of entries per write transaction. `load` gives each new photo's
/// prepared bytes back from where they waited.
pub async fn apply<P>(
    db: &Db,
    plan: &Plan<P>,
    precedence: Precedence,
    load: impl Fn(&P) -> Result<PreparedPhoto, String>,
) -> Result<(), ApplyError> {
    let now = now();
    // Links first, unlinks after: an address that moved to another entry is then linked to
    // its new entry and the old entry's unlink passes it by.
    for batch in plan.writes.chunks(ENTRIES_PER_TRANSACTION) {
        let mut tx = db.begin_write().await?;
        for write in batch {
            let photo_id = write_entry(&mut tx, write, now, &load).await?;
            for address in &write.link {
                link_address(&mut tx, address, &write.key, photo_id, precedence, now).await?;
            }
        }
        tx.commit().await?;
    }
    for batch in plan.writes.chunks(ENTRIES_PER_TRANSACTION) {
        let mut tx = db.begin_write().await?;
        for write in batch {
            for address in &write.unlink {
                unlink_address(&mut tx, address, &write.key, now).await?;
            }
        }
        tx.commit().await?;
    }
    for batch in plan.removals.chunks(ENTRIES_PER_TRANSACTION) {
        let mut tx = db.begin_write().await?;
        for removal in batch {
            for address in &removal.unlink {
                unlink_address(&mut tx, address, &removal.key, now).await?;
            }
            on_tx!(tx, conn => sqlx::query("DELETE FROM directory_entries WHERE entry_key = $1")
                .bind(&removal.key)
                .execute(conn)
                .await
                .map(|_| ()))?;
        }
        tx.commit().await?;
    }
    let mut tx = db.begin_write().await?;
    delete_unreferenced(&mut tx).await?;
    tx.commit().await?;
    Ok(())
}

#[derive(Debug, thiserror::Error)]
pub enum ApplyError {
    #[error("{0}")]
    Database(#[from] sqlx::Error),
    #[error("a staged photo could not be read back: {0}")]
    Staged(String),
}

/// Writes the entry's row (and its new photo); returns the entry's photo now.
async fn write_entry<P>(
    tx: &mut Tx,
    write: &EntryWrite<P>,
    now: i64,
    load: &impl Fn(&P) -> Result<PreparedPhoto, String>,
) -> Result<Option<i64>, ApplyError> {
    let (digest, photo_id) = match &write.photo {
        PhotoWrite::Keep => write.before.as_ref().map_or((None, None), |before| {
            (before.photo_digest.clone(), before.photo_id)
        }),
        PhotoWrite::Clear => (None, None),
        PhotoWrite::Replace { digest, prepared } => {
            let photo = load(prepared).map_err(ApplyError::Staged)?;
            (
                Some(digest.clone()),
                Some(insert_photo(tx, &photo, now).await?),
            )
        }
    };
    on_tx!(tx, conn => sqlx::query(
        "INSERT INTO directory_entries (entry_key, dn, photo_digest, photo_id, synced_at)
         VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (entry_key) DO UPDATE SET dn = excluded.dn,
             photo_digest = excluded.photo_digest, photo_id = excluded.photo_id,
             synced_at = excluded.synced_at",
    )
    .bind(&write.key)
    .bind(&write.dn)
    .bind(&digest)
    .bind(photo_id)
    .bind(now)
    .execute(conn)
    .await
    .map(|_| ()))?;
    Ok(photo_id)
}

async fn insert_photo(tx: &mut Tx, photo: &PreparedPhoto, now: i64) -> Result<i64, sqlx::Error> {
    on_tx!(tx, conn => sqlx::query_scalar(
        "INSERT INTO photos (format, data, side, content_digest, source_digest, source,
                             created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, 'directory', $6, $6) RETURNING id",
    )
    .bind(photo.format.name())
    .bind(&photo.data)
    .bind(i64::from(photo.side))
    .bind(&photo.content_digest)
    .bind(&photo.source_digest)
    .bind(now)
    .fetch_one(&mut *conn)
    .await)
}

type AddressRow = (
    i64,
    Option<i64>,
    Option<String>,
    Option<i64>,
    Option<String>,
);

/// Links `address` to entry `key`: creates it (confirmed, no owner, the entry's photo) or
/// confirms the existing one, keeps its holder, and gives it the photo precedence chooses.
async fn link_address(
    tx: &mut Tx,
    address: &str,
    key: &str,
    entry_photo: Option<i64>,
    precedence: Precedence,
    now: i64,
) -> Result<(), sqlx::Error> {
    // Most addresses of a first sync are new: one statement creates one, and only an
    // address that exists is read and updated.
    let created: Option<i64> = on_tx!(tx, conn => sqlx::query_scalar(
        "INSERT INTO addresses (kind, address, photo_id, confirmed_at, created_at,
                                updated_at, source, directory_entry)
         VALUES ('email', $1, $2, $3, $3, $3, 'directory', $4)
         ON CONFLICT (address) DO NOTHING RETURNING id",
    )
    .bind(address)
    .bind(entry_photo)
    .bind(now)
    .bind(key)
    .fetch_optional(conn)
    .await)?;
    if let Some(id) = created {
        return insert_email_digests(tx, id, address).await;
    }
    let row: AddressRow = on_tx!(tx, conn => sqlx::query_as(
        "SELECT a.id, a.user_id, a.source, a.photo_id, p.source
         FROM addresses a LEFT JOIN photos p ON p.id = a.photo_id WHERE a.address = $1",
    )
    .bind(address)
    .fetch_one(conn)
    .await)?;
    let (id, user_id, source, photo_id, photo_source) = row;
    let owned = is_owned(user_id, source.as_deref());
    let photo = address_photo(
        precedence,
        owned,
        photo_id,
        photo_source.is_some(),
        entry_photo,
    );
    on_tx!(tx, conn => sqlx::query(
        "UPDATE addresses SET directory_entry = $1, confirmed_at = COALESCE(confirmed_at, $2),
                photo_id = $3, updated_at = CASE WHEN $4 THEN $2 ELSE updated_at END
         WHERE id = $5",
    )
    .bind(key)
    .bind(now)
    .bind(photo)
    .bind(photo != photo_id)
    .bind(id)
    .execute(conn)
    .await
    .map(|_| ()))
}

/// An email's two digests (MD5 and SHA-256, both exact), in one statement.
async fn insert_email_digests(tx: &mut Tx, id: i64, address: &str) -> Result<(), sqlx::Error> {
    let digests = Identity::Email(address.to_string()).digests();
    on_tx!(tx, conn => sqlx::query(
        "INSERT INTO address_digests (digest, address_id, exact)
         VALUES ($1, $3, $4), ($2, $3, $4) ON CONFLICT DO NOTHING",
    )
    .bind(digests[0].to_hex())
    .bind(digests[1].to_hex())
    .bind(id)
    .bind(true)
    .execute(conn)
    .await
    .map(|_| ()))
}

/// Takes back what entry `key` gave `address`: an address it created for nobody is
/// deleted; one somebody holds stays theirs, without the directory's photo.
async fn unlink_address(
    tx: &mut Tx,
    address: &str,
    key: &str,
    now: i64,
) -> Result<(), sqlx::Error> {
    on_tx!(tx, conn => {
        sqlx::query(
            "DELETE FROM addresses WHERE address = $1 AND directory_entry = $2
               AND source = 'directory' AND user_id IS NULL",
        )
        .bind(address)
        .bind(key)
        .execute(&mut *conn)
        .await?;
        sqlx::query(
            "UPDATE addresses SET directory_entry = NULL, updated_at = $3,
                    photo_id = CASE WHEN photo_id IN (SELECT id FROM photos WHERE source = 'directory')
                                    THEN NULL ELSE photo_id END
             WHERE address = $1 AND directory_entry = $2",
        )
        .bind(address)
        .bind(key)
        .bind(now)
        .execute(&mut *conn)
        .await
        .map(|_| ())
    })
}
