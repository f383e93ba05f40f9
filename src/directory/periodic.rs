//! The server's periodic directory sync: every node runs the timer, and the lease in the
//! database (`store::directory_sync`) lets one of them sync when a sync is due, so N nodes
//! sync once per interval, not N times. Each entry's line goes to the debug log, the totals
//! to the info log, a failure to the warning log.

use std::sync::Weak;
use std::time::Duration;

use super::{SyncContext, run_leased};
use crate::state::{AppState, intake_limits};

/// How often a node checks whether a sync is due, at most.
const CHECK_AT_LEAST_EVERY: Duration = Duration::from_secs(60);

/// Starts the timer if the configuration names a directory and an interval.
pub fn sync_periodically(state: Weak<AppState>) {
    let Some(interval) = state
        .upgrade()
        .and_then(|s| s.config.directory.as_ref().map(|d| d.interval))
        .filter(|interval| !interval.is_zero())
    else {
        return;
    };
    tokio::spawn(async move {
        let mut ticks = tokio::time::interval(interval.min(CHECK_AT_LEAST_EVERY));
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticks.tick().await;
            let Some(state) = state.upgrade() else { return };
            let Some(settings) = state.config.directory.as_ref() else {
                return;
            };
            let cx = SyncContext {
                db: &state.pool,
                settings,
                limits: intake_limits(&state.config),
                budget: &state.image_budget,
                bucket: state.photo_bucket.as_ref(),
            };
            let due_after = i64::try_from(interval.as_secs()).unwrap_or(i64::MAX);
            let mut log_line = |line: &str| tracing::debug!("directory sync: {line}");
            match run_leased(&cx, false, Some(due_after), &mut log_line).await {
                Ok(Some(report)) => tracing::info!("directory sync: {}", report.summary()),
                Ok(None) => {}
                Err(error) => tracing::warn!(%error, "directory sync failed; nothing was changed"),
            }
        }
    });
}
