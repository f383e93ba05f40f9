//! One sync, start to end: bind, read what the last sync left, search (paged), take each
//! changed photo through the bounded intake into the staging file, and only once the search
//! is known to be complete plan the changes and apply them, a batch of entries per write
//! transaction ([`store::directory::apply`]).
//!
//! So a sync that fails anywhere before applying (unreachable server, refused bind, a page
//! that fails, a size limit hit part-way) changes nothing, and an entry missing from a failed
//! search is never taken for one that left. While it applies, each entry changes whole: an
//! address shows what its entry gave it before or after, never a photo of neither; a sync
//! stopped there by the database is completed by the next one.

use std::collections::HashSet;
use std::time::Instant;

use super::entry::read_entry;
use super::ldap::{self, DirectoryError};
use super::plan::{self, Counts, SeenEntry, SeenPhoto, needs_intake};
use super::staging::{StagedPhoto, Staging};
use crate::config::directory::DirectorySettings;
use crate::imaging::{ImageBudget, IntakeLimits, intake::source_digest, prepare_within_budget};
use crate::photo_store::{PhotoBucket, offload};
use crate::store::{self, Db};

/// What a sync needs besides the settings.
pub struct SyncContext<'a> {
    pub db: &'a Db,
    pub settings: &'a DirectorySettings,
    pub limits: IntakeLimits,
    pub budget: &'a ImageBudget,
    pub bucket: Option<&'a PhotoBucket>,
}

/// A sync that ran to its end (entries may still have been refused: `errors`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SyncReport {
    pub counts: Counts,
    /// Refused photos: each one an entry left as it was.
    pub errors: u64,
    pub applied: bool,
    pub duration_ms: u64,
    /// Of which applying the plan took this long (0 for a dry run).
    pub apply_ms: u64,
}

impl SyncReport {
    /// The totals line printed at the end.
    pub fn summary(&self) -> String {
        let c = self.counts;
        format!(
            "{} entries: {} added, {} updated, {} unchanged, {} removed, {} skipped, {} refused; {} errors; {:.1} s (applying {:.1} s){}",
            c.entries,
            c.added,
            c.updated,
            c.unchanged,
            c.removed,
            c.skipped,
            c.refused,
            self.errors,
            self.duration_ms as f64 / 1000.0,
            self.apply_ms as f64 / 1000.0,
            if self.applied {
                ""
            } else {
                " (dry run: nothing changed)"
            }
        )
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    #[error("{0}")]
    Directory(#[from] DirectoryError),
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    #[error("applying the changes: {0}")]
    Apply(#[from] store::directory::ApplyError),
    #[error("staging photos: {0}")]
    Staging(#[from] std::io::Error),
    #[error("photo bucket: {0}")]
    Bucket(#[from] crate::photo_store::BucketError),
    #[error("another directory sync is running (it holds the lease); try again later")]
    Busy,
    #[error(
        "the search found no entries, so nothing was changed (the last sync left {0} entries); check base_dn and filter"
    )]
    NothingFound(usize),
}

/// Runs one sync, writing one line per entry to `out`. A dry run plans and reports but
/// writes nothing (its photos still go through the intake, so refusals show).
pub async fn sync(
    cx: &SyncContext<'_>,
    dry_run: bool,
    out: &mut (dyn FnMut(&str) + Send),
) -> Result<SyncReport, SyncError> {
    let started = Instant::now();
    let settings = cx.settings;
    let password = ldap::read_password(&settings.password)?;
    let mut connection = ldap::open(settings, password.as_ref()).await?;
    let snapshot = store::directory::snapshot(cx.db).await?;
    let disabled = disabled_dns(&mut connection, settings).await?;
    let mut staging = Staging::new()?;
    let mut seen = Vec::new();
    let mut stream = ldap::search(
        &mut connection,
        settings,
        &settings.filter,
        attributes(settings),
    )
    .await?;
    while let Some(raw) = stream.next().await? {
        let entry = read_entry(
            raw,
            &settings.address_attributes,
            &settings.photo_attributes,
        );
        for note in &entry.unusable {
            out(&format!("note {}: {note}", entry.dn));
        }
        let photo = match entry.photo {
            None => SeenPhoto::None,
            Some(bytes) => {
                let digest = source_digest(&bytes);
                if needs_intake(snapshot.entries.get(&entry.key), &digest) {
                    take_in(cx, &mut staging, bytes, digest).await?
                } else {
                    SeenPhoto::Same
                }
            }
        };
        let disabled = entry.disabled || disabled.contains(&entry.dn.to_lowercase());
        seen.push(SeenEntry {
            key: entry.key,
            dn: entry.dn,
            addresses: entry.addresses,
            photo,
            disabled,
        });
    }
    stream.finish().await?;
    let _ = connection.unbind().await;
    // An empty answer is far likelier a wrong base DN or filter than everyone leaving at
    // once; it would take back everything the directory gave.
    if seen.is_empty() && !snapshot.entries.is_empty() {
        return Err(SyncError::NothingFound(snapshot.entries.len()));
    }
    let plan = plan::plan(seen, &snapshot, settings.precedence);
    for line in &plan.lines {
        out(line);
    }
    let applying = Instant::now();
    if !dry_run {
        store::directory::apply(cx.db, &plan, settings.precedence, |staged| {
            staging.take(staged)
        })
        .await?;
    }
    let milliseconds =
        |since: Instant| u64::try_from(since.elapsed().as_millis()).unwrap_or(u64::MAX);
    Ok(SyncReport {
        counts: plan.counts,
        errors: plan.counts.refused,
        applied: !dry_run,
        apply_ms: if dry_run { 0 } else { milliseconds(applying) },
        duration_ms: milliseconds(started),
    })
}

/// The photo through the same bounded intake as an upload, staged; a refusal is kept as
/// the entry's outcome, not an error of the whole sync.
async fn take_in(
    cx: &SyncContext<'_>,
    staging: &mut Staging,
    bytes: Vec<u8>,
    digest: String,
) -> Result<SeenPhoto<StagedPhoto>, SyncError> {
    match prepare_within_budget(cx.budget, bytes, cx.limits, None).await {
        Ok(photo) => {
            let photo = offload(cx.bucket, photo).await?;
            Ok(SeenPhoto::New {
                digest,
                prepared: staging.put(photo)?,
            })
        }
        Err(refusal) => Ok(SeenPhoto::Refused(refusal.to_string())),
    }
}

/// The attributes a search asks for: the keys, the disabled flag, addresses and photos.
fn attributes(settings: &DirectorySettings) -> Vec<String> {
    let mut names: Vec<String> = ["entryUUID", "objectGUID", "userAccountControl"]
        .iter()
        .map(|n| n.to_string())
        .collect();
    names.extend(settings.address_attributes.iter().cloned());
    names.extend(settings.photo_attributes.iter().cloned());
    names
}

/// The DNs (lowercased) that also match `disabled_filter`, from a complete search of their
/// names only.
async fn disabled_dns(
    connection: &mut ldap3::Ldap,
    settings: &DirectorySettings,
) -> Result<HashSet<String>, SyncError> {
    let mut dns = HashSet::new();
    if settings.disabled_filter.is_empty() {
        return Ok(dns);
    }
    let filter = format!("(&{}{})", settings.filter, settings.disabled_filter);
    // "1.1": no attributes, the DNs only (RFC 4511 section 4.5.1.8).
    let mut stream = ldap::search(connection, settings, &filter, vec!["1.1".to_string()]).await?;
    while let Some(raw) = stream.next().await? {
        dns.insert(raw.dn.to_lowercase());
    }
    stream.finish().await?;
    Ok(dns)
}
