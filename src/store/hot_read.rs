//! The one read on the hot path (digest → photo), made cheap.
//!
//! sqlx's SQLite driver runs every query on a connection thread and hands the result back
//! through channels: about 20–40 µs a query, most of it the hops, which capped random hits
//! over a million addresses at a fifth of the rate of a hot set. This read is a prepared statement on an index, answered from pages the OS already holds,
//! in a few microseconds; so it runs right where it is asked, on a small set of read-only
//! rusqlite connections (the same SQLite library sqlx links), each with its statement
//! prepared once. (The in-memory index of served digests answers the hot path now; this
//! read remains for the moments it is being built, for answers it cannot hold, and for the
//! change feed's catch-up, which reads again each digest the feed names.)
//!
//! It never waits: the connections are read-only in WAL mode (readers never wait for
//! writers), a connection another thread is using is skipped for a free one, and
//! `busy_timeout` is zero, so anything unusual (all connections busy, SQLITE_BUSY during a
//! checkpoint, any error) answers `None` and the caller takes sqlx's asynchronous path.

use std::path::Path;
use std::sync::Mutex;

use rusqlite::{Connection, OpenFlags};

use super::photos::PhotoRef;
use crate::identity::Digest;
use crate::imaging::PhotoFormat;

/// The same query as [`super::photos::photo_for_digest`].
const PHOTO_FOR_DIGEST: &str = "SELECT p.id, p.version, p.format,
        MAX(p.updated_at, a.updated_at) AS modified_at, a.photo_id IS NULL
    FROM address_digests d
    JOIN addresses a ON a.id = d.address_id
    LEFT JOIN domain_defaults dd ON a.photo_id IS NULL AND dd.domain = a.domain
    JOIN photos p ON p.id = COALESCE(a.photo_id, dd.photo_id)
    WHERE d.digest = ?1 AND a.confirmed_at IS NOT NULL
    ORDER BY a.photo_id IS NULL, d.exact DESC, a.confirmed_at DESC
    LIMIT 1";

/// Read-only connections for [`HotReads::photo_for_digest`].
pub struct HotReads {
    connections: Vec<Mutex<Connection>>,
}

/// What a hot read found: `None` means "ask the slow path".
pub type HotAnswer = Option<Option<PhotoRef>>;

impl HotReads {
    /// `count` read-only connections to `database` (which must exist, in WAL mode).
    pub fn open(database: &Path, count: usize) -> Result<HotReads, rusqlite::Error> {
        let connections = (0..count.max(1))
            .map(|_| {
                let connection = Connection::open_with_flags(
                    database,
                    OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
                )?;
                connection.busy_timeout(std::time::Duration::ZERO)?;
                // Pages of the index and the small tables stay mapped rather than copied
                // into each connection's cache.
                connection.pragma_update(None, "mmap_size", 0)?;
                connection.pragma_update(None, "cache_size", -1024)?;
                connection.prepare_cached(PHOTO_FOR_DIGEST)?;
                Ok(Mutex::new(connection))
            })
            .collect::<Result<Vec<_>, rusqlite::Error>>()?;
        Ok(HotReads { connections })
    }

    /// The photo served for `digest` (`Some(None)`: none), or `None` when no connection was
    /// free or the read failed; never waits.
    pub fn photo_for_digest(&self, digest: &Digest) -> HotAnswer {
        let connection = self
            .connections
            .iter()
            .find_map(|connection| connection.try_lock().ok())?;
        let mut statement = connection.prepare_cached(PHOTO_FOR_DIGEST).ok()?;
        let mut rows = statement.query([digest.to_hex()]).ok()?;
        let Some(row) = rows.next().ok()? else {
            return Some(None);
        };
        photo_ref(row).ok()
    }
}

/// A row of `id, version, format, modified_at, domain_default` as a [`PhotoRef`].
fn photo_ref(row: &rusqlite::Row<'_>) -> Result<Option<PhotoRef>, rusqlite::Error> {
    let format: String = row.get(2)?;
    let Some(format) = PhotoFormat::from_name(&format) else {
        return Ok(None);
    };
    Ok(Some(PhotoRef {
        id: row.get(0)?,
        version: row.get(1)?,
        format,
        modified_at: row.get(3)?,
        domain_default: row.get(4)?,
    }))
}

/// Folds every digest of every address that serves a photo, with the photo it serves, into
/// what `start` makes from their count: straight from the database file on a fresh read-only
/// connection, one row at a time. A digest several addresses answer to comes once per
/// address, in no particular order (which one wins is [`PHOTO_FOR_DIGEST`]'s to say: ask it
/// for those). Blocking: run it off the async executor.
///
/// Two sequential scans merged in address order (the addresses with their photo, and the
/// digest index by address), so no row is looked up at random: two million digests take
/// about a second (a join in digest order took seven; sqlx's stream took six and buffered
/// every row).
pub fn each_served_answer<T>(
    database: &Path,
    start: impl FnOnce(u64) -> T,
    mut each: impl FnMut(&mut T, &str, &PhotoRef),
) -> Result<T, rusqlite::Error> {
    let connection = Connection::open_with_flags(
        database,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    connection.busy_timeout(std::time::Duration::from_secs(5))?;
    // One read transaction: the count and both scans see the same snapshot.
    connection.execute_batch("BEGIN")?;
    let count: i64 =
        connection.query_row("SELECT COUNT(*) FROM address_digests", [], |row| row.get(0))?;
    let mut folded = start(count.max(0) as u64);
    let mut addresses = connection.prepare(
        "SELECT p.id, p.version, p.format, MAX(p.updated_at, a.updated_at),
                a.photo_id IS NULL, a.id
         FROM addresses a
         LEFT JOIN domain_defaults dd ON a.photo_id IS NULL AND dd.domain = a.domain
         JOIN photos p ON p.id = COALESCE(a.photo_id, dd.photo_id)
         WHERE a.confirmed_at IS NOT NULL
         ORDER BY a.id",
    )?;
    let mut digests = connection.prepare(
        "SELECT address_id, digest FROM address_digests INDEXED BY address_digests_by_address
         ORDER BY address_id",
    )?;
    let mut addresses = addresses.query([])?;
    let mut digests = digests.query([])?;
    let mut address: Option<(i64, Option<PhotoRef>)> = None;
    while let Some(row) = digests.next()? {
        let owner: i64 = row.get(0)?;
        // Both scans ascend by address id: move the address scan up to this digest's owner.
        while address.as_ref().is_none_or(|(id, _)| *id < owner) {
            match addresses.next()? {
                Some(served) => address = Some((served.get(5)?, photo_ref(served)?)),
                None => return Ok(folded),
            }
        }
        if let (Some((id, Some(photo))), rusqlite::types::ValueRef::Text(hex)) =
            (&address, row.get_ref(1)?)
            && *id == owner
        {
            each(
                &mut folded,
                std::str::from_utf8(hex).unwrap_or_default(),
                photo,
            );
        }
    }
    Ok(folded)
}

/// Every stored digest whose hex form starts with `hex_prefix` (lowercase).
pub fn digests_starting_with(
    database: &Path,
    hex_prefix: &str,
) -> Result<Vec<String>, rusqlite::Error> {
    let connection = Connection::open_with_flags(
        database,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    connection.busy_timeout(std::time::Duration::from_secs(5))?;
    // Hex digits sort below 'g': the range is exactly the digests with this prefix.
    let mut statement = connection.prepare(
        "SELECT DISTINCT digest FROM address_digests WHERE digest >= ?1 AND digest < ?1 || 'g'",
    )?;
    let found = statement
        .query_map([hex_prefix], |row| row.get(0))?
        .collect::<Result<Vec<String>, _>>()?;
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::identity::Identity;
    use crate::store::testkit::{prepared_photo, temp_database};

    #[tokio::test]
    async fn hot_reads_answer_as_the_async_query_does() {
        let database = temp_database().await;
        let pool = &database.pool;
        let alice = Identity::parse("alice@example.org").unwrap();
        crate::store::addresses::set_confirmed_photo(pool, &alice, &prepared_photo("a"))
            .await
            .unwrap();
        let hot = HotReads::open(&database.path, 2).unwrap();
        for digest in alice.digests() {
            let slow = crate::store::photos::photo_for_digest(pool, &digest)
                .await
                .unwrap();
            assert!(slow.is_some());
            assert_eq!(hot.photo_for_digest(&digest), Some(slow));
        }
        let stranger = Digest::md5_of("nobody@example.org");
        assert_eq!(hot.photo_for_digest(&stranger), Some(None));
    }

    #[tokio::test]
    async fn every_served_digest_is_listed_once_per_address() {
        let database = temp_database().await;
        let photo = prepared_photo("a");
        let mut expected = Vec::new();
        for n in 0..3 {
            let who = Identity::parse(&format!("u{n}@example.org")).unwrap();
            crate::store::addresses::set_confirmed_photo(&database.pool, &who, &photo)
                .await
                .unwrap();
            expected.extend(who.digests().iter().map(Digest::to_hex));
        }
        let (counted, mut listed) = each_served_answer(
            &database.path,
            |n| (n, Vec::new()),
            |(_, listed), hex, _| listed.push(hex.to_string()),
        )
        .unwrap();
        expected.sort();
        listed.sort();
        assert_eq!((counted, listed), (6, expected.clone()));
        let prefix = &expected[0][..24];
        assert_eq!(
            digests_starting_with(&database.path, prefix).unwrap(),
            vec![expected[0].clone()]
        );
    }

    #[tokio::test]
    async fn a_busy_set_of_connections_defers_to_the_slow_path() {
        let database = temp_database().await;
        let hot = HotReads::open(&database.path, 1).unwrap();
        let _held = hot.connections[0].lock().unwrap();
        assert_eq!(hot.photo_for_digest(&Digest::md5_of("a@b.c")), None);
    }
}
