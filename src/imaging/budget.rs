//! The image memory budget: one pool of bytes that every decode of untrusted image bytes
//! (web uploads, the CLI's `add`/`import`/`import-export`, Gravatar proxy fills, and any
//! future fetch: OpenID pictures, phone gateways, directory sync) must reserve before it runs.
//!
//! A decode's peak memory is known from its header before a pixel is allocated
//! ([`super::intake::inspect`]), so intake asks for exactly that much; it starts only when
//! that fits into what is left, waits at most [`ADMISSION_WAIT`] for it, and is otherwise
//! refused as busy (503 + Retry-After on the web). A file whose cost exceeds the whole budget
//! is refused at once with a reason, since no amount of waiting would admit it. Without this,
//! twelve parallel uploads of a 170 KB PNG declaring 6320×6320 held 4.25 GB.
//!
//! The semaphore counts KiB, so a budget up to 4 TiB fits its `u32` permits.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use super::intake::{CropSquare, IntakeError, IntakeLimits, PreparedPhoto, inspect};

/// The budget's default size (`image_memory_budget`): one 40-megapixel still (the default
/// `max_image_pixels`, ~360 MB to prepare) or a handful of ordinary photos at once, and well
/// under the 1 GB a small server can give an avatar service.
pub const DEFAULT_IMAGE_MEMORY_BUDGET: u64 = 512 << 20;
/// Longest a decode waits for room before it is refused as busy.
pub const ADMISSION_WAIT: Duration = Duration::from_secs(2);
/// What a refused client is told to wait before trying again.
const RETRY_AFTER_SECS: u64 = 2;

/// The shared budget. Cheap to clone; clones share one pool.
#[derive(Clone, Debug)]
pub struct ImageBudget {
    inner: Arc<Shared>,
}

#[derive(Debug)]
struct Shared {
    permits: Arc<Semaphore>,
    total_kib: u32,
    wait: Duration,
    in_use_kib: AtomicU64,
    peak_kib: AtomicU64,
    refused: AtomicU64,
}

/// Room held for one decode; given back when dropped.
#[derive(Debug)]
pub struct BudgetLease {
    _permit: OwnedSemaphorePermit,
    kib: u32,
    owner: Arc<Shared>,
}

impl Drop for BudgetLease {
    fn drop(&mut self) {
        self.owner
            .in_use_kib
            .fetch_sub(u64::from(self.kib), Ordering::Relaxed);
    }
}

/// What `/metrics` reads of the budget.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BudgetSnapshot {
    pub total_bytes: u64,
    pub in_use_bytes: u64,
    pub peak_bytes: u64,
    pub refused: u64,
}

impl ImageBudget {
    /// A budget of `bytes` (at least 1 MiB), admitting decodes that wait at most `wait`.
    pub fn new(bytes: u64, wait: Duration) -> ImageBudget {
        // `acquire_many` takes a u32 of permits: 4 TiB in KiB, far above any configured budget.
        let total_kib = u32::try_from(bytes / 1024).unwrap_or(u32::MAX).max(1024);
        ImageBudget {
            inner: Arc::new(Shared {
                permits: Arc::new(Semaphore::new(total_kib as usize)),
                total_kib,
                wait,
                in_use_kib: AtomicU64::new(0),
                peak_kib: AtomicU64::new(0),
                refused: AtomicU64::new(0),
            }),
        }
    }

    pub fn total_bytes(&self) -> u64 {
        u64::from(self.inner.total_kib) * 1024
    }

    /// Holds `cost` bytes until the lease is dropped: at once if they fit, after at most the
    /// admission wait if others give room back, otherwise [`IntakeError::Busy`]. A cost above
    /// the whole budget is [`IntakeError::ExceedsMemoryBudget`] without waiting.
    pub async fn reserve(&self, cost: u64) -> Result<BudgetLease, IntakeError> {
        let kib = kib_needed(cost);
        if kib > u64::from(self.inner.total_kib) {
            self.inner.refused.fetch_add(1, Ordering::Relaxed);
            return Err(IntakeError::ExceedsMemoryBudget {
                needed: cost,
                budget: self.total_bytes(),
            });
        }
        let kib = kib as u32;
        let acquire = self.inner.permits.clone().acquire_many_owned(kib);
        let permit = match tokio::time::timeout(self.inner.wait, acquire).await {
            Ok(Ok(permit)) => permit,
            // Timed out, or (never: the semaphore is not closed) closed.
            _ => {
                self.inner.refused.fetch_add(1, Ordering::Relaxed);
                return Err(IntakeError::Busy {
                    retry_after: RETRY_AFTER_SECS,
                });
            }
        };
        let in_use = self
            .inner
            .in_use_kib
            .fetch_add(u64::from(kib), Ordering::Relaxed)
            + u64::from(kib);
        self.inner.peak_kib.fetch_max(in_use, Ordering::Relaxed);
        Ok(BudgetLease {
            _permit: permit,
            kib,
            owner: self.inner.clone(),
        })
    }

    pub fn snapshot(&self) -> BudgetSnapshot {
        BudgetSnapshot {
            total_bytes: self.total_bytes(),
            in_use_bytes: self.inner.in_use_kib.load(Ordering::Relaxed) * 1024,
            peak_bytes: self.inner.peak_kib.load(Ordering::Relaxed) * 1024,
            refused: self.inner.refused.load(Ordering::Relaxed),
        }
    }
}

/// KiB to reserve for `bytes`, rounded up.
fn kib_needed(bytes: u64) -> u64 {
    bytes.div_ceil(1024).max(1)
}

/// The one intake entry point every source calls: checks the header (refusing what the
/// limits refuse, at once), reserves the decode's peak memory in `budget`, then validates,
/// crops and re-encodes on a blocking thread. `crop` is the uploader's square, if any.
pub async fn prepare_within_budget(
    budget: &ImageBudget,
    bytes: Vec<u8>,
    limits: IntakeLimits,
    crop: Option<CropSquare>,
) -> Result<PreparedPhoto, IntakeError> {
    let inspected = inspect(&bytes, limits)?;
    let lease = budget.reserve(inspected.peak_bytes(crop)).await?;
    // The lease moves into the blocking job: the room is held exactly while it runs, even if
    // the request that asked is dropped meanwhile.
    tokio::task::spawn_blocking(move || {
        let prepared = inspected.prepare(&bytes, crop);
        drop(lease);
        prepared
    })
    .await
    .map_err(|e| IntakeError::Corrupt(format!("its image worker failed: {e}")))?
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIB: u64 = 1 << 20;

    #[test]
    fn costs_round_up_to_whole_kib() {
        assert_eq!(kib_needed(0), 1);
        assert_eq!(kib_needed(1024), 1);
        assert_eq!(kib_needed(1025), 2);
    }

    #[tokio::test]
    async fn a_cost_above_the_whole_budget_is_refused_at_once() {
        let budget = ImageBudget::new(8 * MIB, Duration::from_secs(60));
        let started = std::time::Instant::now();
        assert_eq!(
            budget.reserve(9 * MIB).await.unwrap_err(),
            IntakeError::ExceedsMemoryBudget {
                needed: 9 * MIB,
                budget: 8 * MIB
            }
        );
        assert!(started.elapsed() < Duration::from_secs(1));
        assert_eq!(budget.snapshot().refused, 1);
    }

    #[tokio::test]
    async fn a_decode_waits_for_room_and_is_refused_when_none_comes() {
        let budget = ImageBudget::new(8 * MIB, Duration::from_millis(50));
        let first = budget.reserve(6 * MIB).await.unwrap();
        assert_eq!(
            budget.reserve(3 * MIB).await.unwrap_err(),
            IntakeError::Busy { retry_after: 2 }
        );
        let small = budget.reserve(2 * MIB).await.unwrap();
        assert_eq!(budget.snapshot().in_use_bytes, 8 * MIB);
        drop(first);
        drop(small);
        let snapshot = budget.snapshot();
        assert_eq!(
            (snapshot.in_use_bytes, snapshot.peak_bytes, snapshot.refused),
            (0, 8 * MIB, 1)
        );
        budget.reserve(8 * MIB).await.unwrap();
    }

    #[tokio::test]
    async fn room_given_back_admits_a_waiting_decode() {
        let budget = ImageBudget::new(8 * MIB, Duration::from_secs(5));
        let first = budget.reserve(8 * MIB).await.unwrap();
        let waiting = {
            let budget = budget.clone();
            tokio::spawn(async move { budget.reserve(4 * MIB).await.map(|_| ()) })
        };
        tokio::time::sleep(Duration::from_millis(20)).await;
        drop(first);
        assert_eq!(waiting.await.unwrap(), Ok(()));
    }
}
