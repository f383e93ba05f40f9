//! Shared rate-limit counters: fixed windows per (scope, key), counted in the database so a
//! limit holds across every process and node that shares it, and counted atomically *before*
//! the guarded work starts, so a burst of parallel requests cannot all pass the check
//! before any of them is counted.
//!
//! One `INSERT … ON CONFLICT DO UPDATE … RETURNING` statement both opens an expired window
//! and counts the hit, so two requests never see the same count (SQLite serialises writers;
//! PostgreSQL locks the row for the upsert).

use super::Db;

/// What a counted hit may do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Verdict {
    /// Hits in the current window, this one included.
    pub hits: u32,
    /// The window's limit.
    pub limit: u32,
    /// Seconds until the window ends (at least 1).
    pub retry_after: u64,
}

impl Verdict {
    /// Whether this hit is within the limit.
    pub fn allowed(&self) -> bool {
        self.hits <= self.limit
    }

    /// Hits left in the window after this one.
    pub fn remaining(&self) -> u32 {
        self.limit.saturating_sub(self.hits)
    }
}

/// Counts one hit for `key` in `scope` and says whether it is within `limit` per
/// `window_secs`. Hits past the limit are counted too (a flood keeps its window full).
pub async fn hit(
    db: &Db,
    scope: &str,
    key: &str,
    limit: u32,
    window_secs: i64,
) -> Result<Verdict, sqlx::Error> {
    hit_at(db, scope, key, limit, window_secs, super::now()).await
}

/// [`hit`] at a given time (tests move the clock).
pub async fn hit_at(
    db: &Db,
    scope: &str,
    key: &str,
    limit: u32,
    window_secs: i64,
    now: i64,
) -> Result<Verdict, sqlx::Error> {
    let (hits, window_start): (i64, i64) = on_pool!(db, pool => sqlx::query_as(
        "INSERT INTO throttles (scope, key, window_start, hits) VALUES ($1, $2, $3, 1)
         ON CONFLICT (scope, key) DO UPDATE SET
             hits = CASE WHEN throttles.window_start <= $3 - $4 THEN 1
                         ELSE throttles.hits + 1 END,
             window_start = CASE WHEN throttles.window_start <= $3 - $4 THEN $3
                                 ELSE throttles.window_start END
         RETURNING hits, window_start",
    )
    .bind(scope)
    .bind(key)
    .bind(now)
    .bind(window_secs)
    .fetch_one(pool)
    .await)?;
    Ok(Verdict {
        hits: u32::try_from(hits).unwrap_or(u32::MAX),
        limit,
        retry_after: (window_start + window_secs - now).max(1) as u64,
    })
}

/// Reserves the next start of a call to `gateway`, at least `interval_ms` after the one
/// reserved before it (by any process sharing the database), and returns it (Unix ms) — or
/// `None`, reserving nothing, when that start is more than `max_wait_ms` after `now_ms`. One
/// statement, so two nodes can never take the same slot.
pub async fn reserve_turn(
    db: &Db,
    gateway: &str,
    now_ms: i64,
    interval_ms: i64,
    max_wait_ms: i64,
) -> Result<Option<i64>, sqlx::Error> {
    let next: Option<i64> = on_pool!(db, pool => sqlx::query_scalar(
        "INSERT INTO gateway_turns (gateway, next_start_ms) VALUES ($1, $2 + $3)
         ON CONFLICT (gateway) DO UPDATE SET next_start_ms =
             (CASE WHEN gateway_turns.next_start_ms > $2 THEN gateway_turns.next_start_ms
                   ELSE $2 END) + $3
         WHERE gateway_turns.next_start_ms <= $2 + $4
         RETURNING next_start_ms",
    )
    .bind(gateway)
    .bind(now_ms)
    .bind(interval_ms)
    .bind(max_wait_ms)
    .fetch_optional(pool)
    .await)?;
    Ok(next.map(|next| next - interval_ms))
}

/// Where `key` stands without counting a hit: `None` when it has no live window.
pub async fn peek(
    db: &Db,
    scope: &str,
    key: &str,
    limit: u32,
    window_secs: i64,
) -> Result<Option<Verdict>, sqlx::Error> {
    let now = super::now();
    let row: Option<(i64, i64)> = on_pool!(db, pool => sqlx::query_as(
        "SELECT hits, window_start FROM throttles
         WHERE scope = $1 AND key = $2 AND window_start > $3 - $4",
    )
    .bind(scope)
    .bind(key)
    .bind(now)
    .bind(window_secs)
    .fetch_optional(pool)
    .await)?;
    Ok(row.map(|(hits, window_start)| Verdict {
        hits: u32::try_from(hits).unwrap_or(u32::MAX),
        limit,
        retry_after: (window_start + window_secs - now).max(1) as u64,
    }))
}

/// Forgets `key`'s window (e.g. an account's failed logins after a good one).
pub async fn clear(db: &Db, scope: &str, key: &str) -> Result<(), sqlx::Error> {
    on_pool!(db, pool => sqlx::query("DELETE FROM throttles WHERE scope = $1 AND key = $2")
        .bind(scope)
        .bind(key)
        .execute(pool)
        .await
        .map(|_| ()))
}

/// Deletes windows that started more than `older_than_secs` ago; returns how many.
pub async fn purge(db: &Db, older_than_secs: i64) -> Result<u64, sqlx::Error> {
    on_pool!(db, pool => sqlx::query("DELETE FROM throttles WHERE window_start < $1")
        .bind(super::now() - older_than_secs)
        .execute(pool)
        .await
        .map(|done| done.rows_affected()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::testkit::temp_database;

    #[tokio::test]
    async fn hits_are_counted_until_the_window_ends() {
        let database = temp_database().await;
        let pool = database.pool.clone();
        for n in 1..=3 {
            let verdict = hit_at(&pool, "login", "a", 2, 60, 1000).await.unwrap();
            assert_eq!(verdict.hits, n);
            assert_eq!(verdict.allowed(), n <= 2);
            assert_eq!(verdict.retry_after, 60);
        }
        let later = hit_at(&pool, "login", "a", 2, 60, 1030).await.unwrap();
        assert_eq!((later.hits, later.retry_after), (4, 30));
        let next_window = hit_at(&pool, "login", "a", 2, 60, 1060).await.unwrap();
        assert_eq!((next_window.hits, next_window.retry_after), (1, 60));
    }

    #[tokio::test]
    async fn scopes_and_keys_are_separate_and_clear_forgets() {
        let database = temp_database().await;
        let pool = database.pool.clone();
        hit(&pool, "login", "a", 5, 60).await.unwrap();
        hit(&pool, "login", "a", 5, 60).await.unwrap();
        assert_eq!(hit(&pool, "signup", "a", 5, 60).await.unwrap().hits, 1);
        assert_eq!(hit(&pool, "login", "b", 5, 60).await.unwrap().hits, 1);
        assert_eq!(
            peek(&pool, "login", "a", 5, 60)
                .await
                .unwrap()
                .unwrap()
                .hits,
            2
        );
        clear(&pool, "login", "a").await.unwrap();
        assert_eq!(peek(&pool, "login", "a", 5, 60).await.unwrap(), None);
    }

    #[tokio::test]
    async fn parallel_hits_never_share_a_count() {
        let database = temp_database().await;
        let pool = database.pool.clone();
        let tasks: Vec<_> = (0..50)
            .map(|_| {
                let pool = pool.clone();
                tokio::spawn(async move { hit(&pool, "burst", "k", 5, 600).await.unwrap() })
            })
            .collect();
        let mut counts = Vec::new();
        for task in tasks {
            counts.push(task.await.unwrap().hits);
        }
        counts.sort_unstable();
        assert_eq!(counts, (1..=50).collect::<Vec<_>>());
    }
}
