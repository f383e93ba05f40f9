//! How hard one gateway is asked: at most `concurrency` calls in flight from this node, and
//! at least `min_interval` between the starts of two calls from the whole service (WhatsApp
//! bans accounts that ask too fast). The start times are reserved in the shared database
//! ([`throttles::reserve_turn`]), so two nodes never call a gateway closer together than one
//! would. A call that would wait longer than `max_wait` for its turn is refused at once
//! instead, reserving nothing, so a queue of lookups never grows without bound.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use tokio::sync::{Semaphore, SemaphorePermit};
use tokio::time::Instant;

use crate::store::{Db, throttles};

pub struct Pacer {
    permits: Semaphore,
    db: Db,
    /// The gateway's name in the shared table of turns.
    gateway: &'static str,
    min_interval: Duration,
    max_wait: Duration,
}

/// The gateway's turns are taken for longer than a caller may wait (or the database that
/// hands them out is unavailable).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Busy;

impl Pacer {
    pub fn new(
        db: Db,
        gateway: &'static str,
        concurrency: usize,
        min_interval: Duration,
        max_wait: Duration,
    ) -> Pacer {
        Pacer {
            permits: Semaphore::new(concurrency.max(1)),
            db,
            gateway,
            min_interval,
            max_wait,
        }
    }

    /// Waits for a free slot and for the call's start time; the permit ends the call.
    pub async fn admit(&self) -> Result<SemaphorePermit<'_>, Busy> {
        let asked = Instant::now();
        let permit = tokio::time::timeout(self.max_wait, self.permits.acquire())
            .await
            .map_err(|_| Busy)?
            .map_err(|_| Busy)?;
        let may_wait = self.max_wait.saturating_sub(asked.elapsed());
        let now_ms = unix_ms();
        let start_ms = throttles::reserve_turn(
            &self.db,
            self.gateway,
            now_ms,
            millis(self.min_interval),
            millis(may_wait),
        )
        .await
        .map_err(|error| {
            tracing::warn!(gateway = self.gateway, %error, "reserving a gateway turn");
            Busy
        })?
        .ok_or(Busy)?;
        let wait = u64::try_from(start_ms - now_ms).unwrap_or(0);
        tokio::time::sleep(Duration::from_millis(wait)).await;
        Ok(permit)
    }
}

fn millis(duration: Duration) -> i64 {
    i64::try_from(duration.as_millis()).unwrap_or(i64::MAX)
}

fn unix_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, millis)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[tokio::test]
    async fn starts_are_spaced_by_the_minimum_interval() {
        let database = crate::store::testkit::temp_database().await;
        let pacer = Pacer::new(
            database.pool.clone(),
            "g",
            4,
            Duration::from_millis(40),
            Duration::from_secs(5),
        );
        let began = Instant::now();
        let mut starts = Vec::new();
        for _ in 0..3 {
            let _permit = pacer.admit().await.unwrap();
            starts.push(began.elapsed());
        }
        assert!(
            starts[1] - starts[0] >= Duration::from_millis(39),
            "{starts:?}"
        );
        assert!(
            starts[2] - starts[1] >= Duration::from_millis(39),
            "{starts:?}"
        );
    }

    #[tokio::test]
    async fn concurrency_is_bounded_and_long_waits_are_refused() {
        let database = crate::store::testkit::temp_database().await;
        let db = database.pool.clone();
        let pacer = Arc::new(Pacer::new(
            db.clone(),
            "a",
            1,
            Duration::ZERO,
            Duration::from_millis(50),
        ));
        let held = pacer.admit().await.unwrap();
        assert_eq!(pacer.admit().await.unwrap_err(), Busy, "no second slot");
        drop(held);
        assert!(pacer.admit().await.is_ok());
        let slow = Pacer::new(
            db.clone(),
            "b",
            4,
            Duration::from_millis(200),
            Duration::from_millis(50),
        );
        let _first = slow.admit().await.unwrap();
        assert_eq!(
            slow.admit().await.unwrap_err(),
            Busy,
            "the next start is too far off"
        );
    }

    #[tokio::test]
    async fn two_nodes_sharing_a_database_share_the_interval() {
        let database = crate::store::testkit::temp_database().await;
        let node = |_: u8| {
            Pacer::new(
                database.pool.clone(),
                "shared",
                4,
                Duration::from_millis(60),
                Duration::from_secs(5),
            )
        };
        let (first, second) = (node(1), node(2));
        let began = Instant::now();
        let _a = first.admit().await.unwrap();
        let at_first = began.elapsed();
        let _b = second.admit().await.unwrap();
        let at_second = began.elapsed();
        assert!(
            at_second - at_first >= Duration::from_millis(55),
            "the other node waited its turn: {at_first:?} then {at_second:?}"
        );
    }

    #[tokio::test]
    async fn a_refused_turn_reserves_nothing() {
        let database = crate::store::testkit::temp_database().await;
        let db = &database.pool;
        let hour = 3_600_000;
        assert_eq!(
            throttles::reserve_turn(db, "g", 1_000, hour, 10)
                .await
                .unwrap(),
            Some(1_000)
        );
        for _ in 0..5 {
            assert_eq!(
                throttles::reserve_turn(db, "g", 1_001, hour, 10)
                    .await
                    .unwrap(),
                None,
                "the next turn is an hour off"
            );
        }
        assert_eq!(
            throttles::reserve_turn(db, "g", 1_000 + hour, hour, 10)
                .await
                .unwrap(),
            Some(1_000 + hour),
            "refusals did not push the next turn back"
        );
    }
}
