//! How hard one gateway is asked: at most `concurrency` calls in flight and at least
//! `min_interval` between the starts of two calls (WhatsApp bans accounts that ask too fast).
//! A call that would wait longer than `max_wait` for its turn is refused at once instead, so a
//! queue of lookups never grows without bound.

use std::sync::Mutex;
use std::time::Duration;

use tokio::sync::{Semaphore, SemaphorePermit};
use tokio::time::Instant;

pub struct Pacer {
    permits: Semaphore,
    /// The earliest start of the next call.
    next_start: Mutex<Instant>,
    min_interval: Duration,
    max_wait: Duration,
}

/// The gateway's turns are taken for longer than a caller may wait.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Busy;

impl Pacer {
    pub fn new(concurrency: usize, min_interval: Duration, max_wait: Duration) -> Pacer {
        Pacer {
            permits: Semaphore::new(concurrency.max(1)),
            next_start: Mutex::new(Instant::now()),
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
        let start = {
            // Never held across an await: the slot is reserved, then slept to.
            let mut next = self.next_start.lock().unwrap_or_else(|e| e.into_inner());
            let start = (*next).max(Instant::now());
            if start.duration_since(asked) > self.max_wait {
                return Err(Busy);
            }
            *next = start + self.min_interval;
            start
        };
        tokio::time::sleep_until(start).await;
        Ok(permit)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[tokio::test]
    async fn starts_are_spaced_by_the_minimum_interval() {
        let pacer = Pacer::new(4, Duration::from_millis(40), Duration::from_secs(5));
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
        let pacer = Arc::new(Pacer::new(1, Duration::ZERO, Duration::from_millis(50)));
        let held = pacer.admit().await.unwrap();
        assert_eq!(pacer.admit().await.unwrap_err(), Busy, "no second slot");
        drop(held);
        assert!(pacer.admit().await.is_ok());
        let slow = Pacer::new(4, Duration::from_millis(200), Duration::from_millis(50));
        let _first = slow.admit().await.unwrap();
        assert_eq!(
            slow.admit().await.unwrap_err(),
            Busy,
            "the next start is too far off"
        );
    }
}
