//! The one bounded queue every argon2 hash and verification goes through.
//!
//! Argon2id with its default parameters holds about 19 MiB and a core for tens of
//! milliseconds per operation, and it runs whenever an anonymous client posts a form (sign-up,
//! log-in, reset). Unbounded, a flood of such posts piles up blocking threads and memory until
//! the whole server stalls. So at most `running` operations run at once (one per core) and at
//! most `waiting` more wait their turn; a request that finds every place taken is refused at
//! once with [`AppError::Overloaded`] (503 with `Retry-After`) instead of queueing without
//! bound. Rate limits (see `web::auth`) are taken before a request gets here, so this queue
//! is the last line, not the first.
//!
//! A request whose client goes away while its operation runs does not free the place early:
//! the places travel with the blocking work, so the bound holds for work already started.

use std::sync::Arc;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::error::AppError;
use crate::metrics::{Counter, Exposition, Kind};
use crate::secrets::{hash_password, verify_password};

/// The `password_hash` of an account made through single sign-on, which has no password:
/// not a PHC string, so [`verify_password`] never accepts anything against it. A reset link
/// (when `password_login` is on) replaces it with a real hash.
pub const NO_PASSWORD: &str = "!no-password";

/// Whether a stored hash is a password at all (not [`NO_PASSWORD`]).
pub fn has_password(stored: &str) -> bool {
    stored != NO_PASSWORD
}

/// Seconds a refused client is told to wait: a queue this short drains in well under that.
const RETRY_AFTER_SECS: u64 = 2;

/// How many argon2 operations may run and wait, for `cores` cores and a configured number of
/// waiting places (`0`: four per core).
pub fn queue_shape(cores: usize, configured_waiting: usize) -> (usize, usize) {
    let running = cores.max(1);
    let waiting = if configured_waiting == 0 {
        4 * running
    } else {
        configured_waiting
    };
    (running, waiting)
}

pub struct PasswordQueue {
    /// One permit per place in the queue, running or waiting.
    places: Arc<Semaphore>,
    /// One permit per operation allowed to run now.
    running: Arc<Semaphore>,
    hashes_done: Counter,
    verifications_done: Counter,
    refused: Counter,
}

enum Work {
    Hash,
    Verify,
}

impl PasswordQueue {
    pub fn new(running: usize, waiting: usize) -> PasswordQueue {
        PasswordQueue {
            places: Arc::new(Semaphore::new(running + waiting)),
            running: Arc::new(Semaphore::new(running)),
            hashes_done: Counter::default(),
            verifications_done: Counter::default(),
            refused: Counter::default(),
        }
    }

    /// An argon2id hash of `password` (a PHC string).
    pub async fn hash(&self, password: String) -> Result<String, AppError> {
        self.run(Work::Hash, move || hash_password(&password))
            .await?
            .map_err(AppError::Internal)
    }

    /// Whether `password` matches the stored PHC string.
    pub async fn verify(&self, stored: String, password: String) -> Result<bool, AppError> {
        self.run(Work::Verify, move || verify_password(&stored, &password))
            .await
    }

    async fn run<T: Send + 'static>(
        &self,
        work: Work,
        operation: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, AppError> {
        let place = self.places.clone().try_acquire_owned().map_err(|_| {
            self.refused.inc();
            AppError::Overloaded {
                reason: "The server is busy checking passwords. Try again in a moment.".into(),
                retry_after: RETRY_AFTER_SECS,
            }
        })?;
        let turn = self
            .running
            .clone()
            .acquire_owned()
            .await
            .map_err(|e| AppError::Internal(format!("password queue closed: {e}")))?;
        let result = tokio::task::spawn_blocking(move || {
            let _held: (OwnedSemaphorePermit, OwnedSemaphorePermit) = (place, turn);
            operation()
        })
        .await
        .map_err(|e| AppError::Internal(format!("password work failed: {e}")))?;
        match work {
            Work::Hash => self.hashes_done.inc(),
            Work::Verify => self.verifications_done.inc(),
        }
        Ok(result)
    }

    /// `cameo_password_work_total{kind, outcome}` for `/metrics`.
    pub fn write_metrics(&self, out: &mut Exposition) {
        let name = "cameo_password_work_total";
        out.family(
            name,
            "Argon2 operations by kind (hash, verify) and outcome (done, or refused because the queue was full).",
            Kind::Counter,
        );
        for (kind, outcome, counter) in [
            ("hash", "done", &self.hashes_done),
            ("verify", "done", &self.verifications_done),
            ("any", "refused", &self.refused),
        ] {
            out.sample(
                name,
                &[("kind", kind), ("outcome", outcome)],
                counter.get() as f64,
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_no_password_marker_accepts_no_password() {
        for typed in ["", "!no-password", "no-password", "anything at all"] {
            assert!(!verify_password(NO_PASSWORD, typed), "{typed}");
        }
        assert!(!has_password(NO_PASSWORD));
        assert!(has_password("$argon2id$v=19$m=19456,t=2,p=1$x$y"));
    }

    #[test]
    fn the_queue_has_one_runner_per_core_and_four_waiting_places_each_by_default() {
        assert_eq!(queue_shape(2, 0), (2, 8));
        assert_eq!(queue_shape(0, 0), (1, 4));
        assert_eq!(queue_shape(8, 3), (8, 3));
    }

    #[tokio::test]
    async fn hashes_and_verifies_through_the_queue() {
        let queue = PasswordQueue::new(1, 1);
        let hash = queue.hash("correct horse battery".into()).await.unwrap();
        assert!(
            queue
                .verify(hash.clone(), "correct horse battery".into())
                .await
                .unwrap()
        );
        assert!(
            !queue
                .verify(hash, "wrong horse battery".into())
                .await
                .unwrap()
        );
        assert_eq!(queue.hashes_done.get(), 1);
        assert_eq!(queue.verifications_done.get(), 2);
    }

    #[tokio::test]
    async fn a_full_queue_refuses_at_once_with_retry_after() {
        let queue = Arc::new(PasswordQueue::new(1, 1));
        let tasks: Vec<_> = (0..6)
            .map(|_| {
                let queue = queue.clone();
                tokio::spawn(async move { queue.hash("a long enough password".into()).await })
            })
            .collect();
        let mut refused = 0;
        for task in tasks {
            if let Err(error) = task.await.unwrap() {
                assert_eq!(error.retry_after(), Some(RETRY_AFTER_SECS));
                refused += 1;
            }
        }
        assert!(refused >= 4, "two places for six hashes: {refused} refused");
        assert_eq!(queue.refused.get(), refused);
        assert_eq!(queue.hashes_done.get(), 6 - refused);
    }
}
