//! Company directory sync (LDAP / Active Directory): the directory's people become confirmed
//! addresses with the directory's photos, kept in step by `cameo directory sync` and by a
//! periodic sync inside the server (one node at a time, under a lease in the database).
//!
//! - [`entry`]: one entry's key, addresses (`mail`, `proxyAddresses`), photo and disabled bit;
//! - [`plan`]: what changes between the directory and the database (pure);
//! - [`ldap`]: connect, bind and the paged search;
//! - [`staging`]: where prepared photos wait until the search is known to be complete;
//! - [`sync`]: one sync, start to end; [`periodic`]: the server's timer.
//!
//! The operator trusts the directory: its addresses are confirmed without a mail. Nothing
//! here creates accounts; a person who signs in later finds the address unowned and
//! confirmed. The writes live in `store::directory`.

pub mod entry;
pub mod ldap;
pub mod periodic;
pub mod plan;
pub mod staging;
pub mod sync;

pub use sync::{SyncContext, SyncError, SyncReport, sync};

use crate::store::directory_sync::{self, LastSync};

/// Runs a sync under the shared lease and records its outcome for `/metrics`. A dry run
/// takes no lease and records nothing: it writes nothing. `due_after` (seconds) is the
/// periodic sync's: it runs only when no sync started that recently, and `Ok(None)` means
/// it was not its turn; the operator's command (`None`) fails as busy instead.
pub async fn run_leased(
    cx: &SyncContext<'_>,
    dry_run: bool,
    due_after: Option<i64>,
    out: &mut (dyn FnMut(&str) + Send),
) -> Result<Option<SyncReport>, SyncError> {
    if dry_run {
        return sync(cx, true, out).await.map(Some);
    }
    let holder = lease_holder();
    if !directory_sync::take_lease(cx.db, &holder, due_after).await? {
        return match due_after {
            Some(_) => Ok(None),
            None => Err(SyncError::Busy),
        };
    }
    let started = std::time::Instant::now();
    let result = sync(cx, false, out).await;
    let last = match &result {
        Ok(report) => LastSync {
            finished_at: crate::store::now(),
            ok: true,
            counts: report.counts,
            errors: report.errors,
            duration_ms: report.duration_ms,
        },
        Err(_) => LastSync {
            finished_at: crate::store::now(),
            ok: false,
            errors: 1,
            duration_ms: u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
            ..LastSync::default()
        },
    };
    if let Err(error) = directory_sync::record(cx.db, &last).await {
        tracing::warn!(%error, "cannot record the directory sync's outcome");
    }
    if let Err(error) = directory_sync::release_lease(cx.db, &holder).await {
        tracing::warn!(%error, "cannot release the directory sync lease (it expires by itself)");
    }
    result.map(Some)
}

/// This process's name on the lease: host, process id and a random part.
fn lease_holder() -> String {
    let host = std::fs::read_to_string("/etc/hostname").unwrap_or_default();
    let token = crate::secrets::random_token();
    format!("{}-{}-{}", host.trim(), std::process::id(), &token[..8])
}
