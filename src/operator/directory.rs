//! `cameo directory sync [--dry-run]`: one directory sync now, with the limits, memory
//! budget and photo bucket of a CLI command, under the same lease as the servers' periodic
//! sync (so it never runs alongside one).

use crate::config::Config;
use crate::directory::{SyncContext, SyncError, SyncReport, run_leased};
use crate::photo_store::PhotoBucket;
use crate::state::intake_limits;
use crate::store::Db;

#[derive(Debug, thiserror::Error)]
pub enum DirectoryCommandError {
    #[error(
        "no directory is configured: add a [directory] table to cameo.toml (see deploy/cameo.example.toml)"
    )]
    NotConfigured,
    #[error("{0}")]
    Bucket(String),
    #[error("{0}")]
    Sync(#[from] SyncError),
}

/// Runs the sync, each entry's line to `out`.
pub async fn sync(
    pool: &Db,
    config: &Config,
    dry_run: bool,
    out: &mut (dyn FnMut(&str) + Send),
) -> Result<SyncReport, DirectoryCommandError> {
    let settings = config
        .directory
        .as_ref()
        .ok_or(DirectoryCommandError::NotConfigured)?;
    let bucket = PhotoBucket::from_config(config).map_err(DirectoryCommandError::Bucket)?;
    let budget = super::command_budget(config);
    let cx = SyncContext {
        db: pool,
        settings,
        limits: intake_limits(config),
        budget: &budget,
        bucket: bucket.as_ref(),
    };
    run_leased(&cx, dry_run, None, out)
        .await?
        .ok_or(DirectoryCommandError::Sync(SyncError::Busy))
}
