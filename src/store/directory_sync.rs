//! The directory sync's shared row: a lease, so that of N nodes running the periodic sync
//! (and an operator's `cameo directory sync`) one syncs at a time, and the figures of the
//! last sync, which `/metrics` on every node reports.
//!
//! Taking the lease is one conditional `UPDATE` of the single row: it succeeds when the
//! lease is free or expired (a node that died mid-sync holds it at most [`LEASE_SECS`]) and,
//! for the periodic sync, only when a sync is due (the last one started at least an interval
//! ago), so N nodes that wake together run one sync, not N.

use super::{Db, now};
use crate::directory::plan::Counts;

/// Longest a sync may hold the lease without renewing it.
pub const LEASE_SECS: i64 = 3600;

/// Takes the lease for `holder` and notes the sync's start. `due_after`: for the periodic
/// sync, the interval that must have passed since the last start; `None` for the operator's
/// command, which runs whenever no other sync does. Returns whether the lease was taken.
pub async fn take_lease(
    db: &Db,
    holder: &str,
    due_after: Option<i64>,
) -> Result<bool, sqlx::Error> {
    let now = now();
    write_on_pool!(db, pool => sqlx::query(
        "UPDATE directory_sync SET lease_holder = $1, lease_until = $2 + $3, last_started_at = $2
         WHERE id = 1 AND (lease_until <= $2 OR lease_holder = $1)
           AND ($4 < 0 OR last_started_at IS NULL OR last_started_at <= $2 - $4)",
    )
    .bind(holder)
    .bind(now)
    .bind(LEASE_SECS)
    .bind(due_after.unwrap_or(-1))
    .execute(pool)
    .await
    .map(|done| done.rows_affected() == 1))
}

/// Gives the lease back (if `holder` still has it).
pub async fn release_lease(db: &Db, holder: &str) -> Result<(), sqlx::Error> {
    on_pool!(db, pool => sqlx::query(
        "UPDATE directory_sync SET lease_holder = NULL, lease_until = 0
         WHERE id = 1 AND lease_holder = $1",
    )
    .bind(holder)
    .execute(pool)
    .await
    .map(|_| ()))
}

/// What the last sync did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LastSync {
    pub finished_at: i64,
    pub ok: bool,
    pub counts: Counts,
    pub errors: u64,
    pub duration_ms: u64,
}

/// Records a finished sync (a failed one too: `ok` false).
pub async fn record(db: &Db, last: &LastSync) -> Result<(), sqlx::Error> {
    let c = last.counts;
    let as_i64 = |n: u64| i64::try_from(n).unwrap_or(i64::MAX);
    on_pool!(db, pool => sqlx::query(
        "UPDATE directory_sync SET last_finished_at = $1, last_ok = $2, entries = $3, added = $4,
                updated = $5, unchanged = $6, removed = $7, refused = $8, errors = $9,
                duration_ms = $10
         WHERE id = 1",
    )
    .bind(last.finished_at)
    .bind(last.ok)
    .bind(as_i64(c.entries))
    .bind(as_i64(c.added))
    .bind(as_i64(c.updated))
    .bind(as_i64(c.unchanged))
    .bind(as_i64(c.removed))
    .bind(as_i64(c.refused))
    .bind(as_i64(last.errors))
    .bind(as_i64(last.duration_ms))
    .execute(pool)
    .await
    .map(|_| ()))
}

type LastRow = (Option<i64>, bool, i64, i64, i64, i64, i64, i64, i64, i64);

/// The last finished sync, if there was one.
pub async fn last(db: &Db) -> Result<Option<LastSync>, sqlx::Error> {
    let row: Option<LastRow> = on_pool!(db, pool => sqlx::query_as(
        "SELECT last_finished_at, last_ok, entries, added, updated, unchanged, removed, refused,
                errors, duration_ms
         FROM directory_sync WHERE id = 1",
    )
    .fetch_optional(pool)
    .await)?;
    let count = |n: i64| u64::try_from(n).unwrap_or(0);
    Ok(row.and_then(
        |(finished, ok, entries, added, updated, unchanged, removed, refused, errors, ms)| {
            Some(LastSync {
                finished_at: finished?,
                ok,
                counts: Counts {
                    entries: count(entries),
                    added: count(added),
                    updated: count(updated),
                    unchanged: count(unchanged),
                    removed: count(removed),
                    skipped: 0,
                    refused: count(refused),
                },
                errors: count(errors),
                duration_ms: count(ms),
            })
        },
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::testkit::temp_database;

    #[tokio::test]
    async fn one_holder_at_a_time_and_only_when_due() {
        let database = temp_database().await;
        let db = database.pool.clone();
        assert!(take_lease(&db, "node-a", Some(60)).await.unwrap());
        assert!(
            !take_lease(&db, "node-b", None).await.unwrap(),
            "held by node-a"
        );
        release_lease(&db, "node-a").await.unwrap();
        assert!(
            !take_lease(&db, "node-b", Some(60)).await.unwrap(),
            "not due: started just now"
        );
        assert!(
            take_lease(&db, "node-b", None).await.unwrap(),
            "the operator's command runs"
        );
    }

    #[tokio::test]
    async fn the_last_sync_is_read_back() {
        let database = temp_database().await;
        let db = database.pool.clone();
        assert_eq!(last(&db).await.unwrap(), None);
        let done = LastSync {
            finished_at: 1_700_000_000,
            ok: true,
            counts: Counts {
                entries: 3,
                added: 2,
                refused: 1,
                ..Counts::default()
            },
            errors: 1,
            duration_ms: 40,
        };
        record(&db, &done).await.unwrap();
        assert_eq!(last(&db).await.unwrap(), Some(done));
    }
}
