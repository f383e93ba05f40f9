//! The directory sync's series: what the last sync did (any node's, or an operator's
//! `cameo directory sync`: it is read from the shared row in the database at scrape time).
//! Counts and times only; no DN, address or error text.

use super::text::{Exposition, Kind};
use crate::state::AppState;
use crate::store::directory_sync;

pub async fn write_directory(out: &mut Exposition, state: &AppState) {
    if state.config.directory.is_none() {
        return;
    }
    let last = match directory_sync::last(&state.pool).await {
        Ok(Some(last)) => last,
        Ok(None) => return,
        Err(error) => {
            tracing::warn!(%error, "cannot read the last directory sync for /metrics");
            return;
        }
    };
    out.single(
        "cameo_directory_sync_last_finished_timestamp_seconds",
        "When the last directory sync ended (Unix time).",
        Kind::Gauge,
        last.finished_at as f64,
    );
    out.single(
        "cameo_directory_sync_last_success",
        "1 if the last directory sync completed (its changes applied), 0 if it failed and changed nothing.",
        Kind::Gauge,
        if last.ok { 1.0 } else { 0.0 },
    );
    out.single(
        "cameo_directory_sync_last_duration_seconds",
        "How long the last directory sync took.",
        Kind::Gauge,
        last.duration_ms as f64 / 1000.0,
    );
    out.single(
        "cameo_directory_sync_last_errors",
        "Errors of the last directory sync: refused photos, or 1 for a sync that failed.",
        Kind::Gauge,
        last.errors as f64,
    );
    out.family(
        "cameo_directory_sync_last_entries",
        "Entries of the last directory sync, by outcome.",
        Kind::Gauge,
    );
    let c = last.counts;
    for (outcome, n) in [
        ("seen", c.entries),
        ("added", c.added),
        ("updated", c.updated),
        ("unchanged", c.unchanged),
        ("removed", c.removed),
        ("refused", c.refused),
    ] {
        out.sample(
            "cameo_directory_sync_last_entries",
            &[("outcome", outcome)],
            n as f64,
        );
    }
}
