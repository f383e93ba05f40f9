//! CDN purges: when the change feed names digests, tell the operator's purge endpoint.
//!
//! With `purge_url` set, every batch of changed digests becomes one `POST` of a documented
//! JSON body (the README's "Behind a CDN"):
//!
//! ```json
//! {"keys": ["<hex digest>", …], "urls": ["<base_url>/avatar/<hex digest>", "…?s=80", …]}
//! ```
//!
//! `keys` match the `Surrogate-Key`/`Cache-Tag` every avatar answer carries; `urls` list the
//! bare avatar URL and one per `purge_sizes` entry, for caches that purge by URL. The bearer
//! token (`purge_token`) goes in `Authorization` and is never logged.
//!
//! `purge_format` speaks two CDNs' own purge APIs directly instead: `cloudflare` (purge by
//! cache tag: `{"tags": [...]}`, 30 a request, bearer token) and `fastly` (purge by surrogate
//! key: the keys in a `Surrogate-Key` header, 256 a request, the token in `Fastly-Key`).
//!
//! Purges never delay a write: the feed's listener only adds digests to a bounded pending
//! set; one background task sends them in batches (a short pause gathers a burst into one
//! request), retries a failing endpoint a few times with growing pauses, then gives the
//! batch up with a warning and a metric. The endpoint is the operator's own, so it is called
//! with the operator-upstream client (it may be on loopback), with its timeouts.

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError, Weak};
use std::time::Duration;

use crate::identity::Digest;

/// Pause after the first change of a burst, so its other changes join the same request.
const GATHER: Duration = Duration::from_millis(100);
/// Digests waiting at most; more are dropped (and counted) rather than held without bound.
const MAX_PENDING: usize = 100_000;
/// Attempts per batch, with pauses of 1 s, 2 s, … between them.
const ATTEMPTS: u32 = 3;

/// Counters for `/metrics`.
#[derive(Debug, Default)]
pub struct PurgeMetrics {
    pub sent: AtomicU64,
    pub failed: AtomicU64,
    pub keys: AtomicU64,
    pub dropped: AtomicU64,
}

/// Whose purge API the endpoint speaks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PurgeFormat {
    /// Cameo's own JSON body (`keys` and `urls`), for a proxy or a small adapter.
    Cameo,
    /// Cloudflare's purge-by-tag API.
    Cloudflare,
    /// Fastly's purge-by-surrogate-key API.
    Fastly,
}

impl PurgeFormat {
    pub fn parse(name: &str) -> Option<PurgeFormat> {
        match name {
            "cameo" => Some(PurgeFormat::Cameo),
            "cloudflare" => Some(PurgeFormat::Cloudflare),
            "fastly" => Some(PurgeFormat::Fastly),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            PurgeFormat::Cameo => "cameo",
            PurgeFormat::Cloudflare => "cloudflare",
            PurgeFormat::Fastly => "fastly",
        }
    }

    /// Digests one request may name (the APIs' own limits).
    fn batch(self) -> usize {
        match self {
            PurgeFormat::Cameo => 500,
            PurgeFormat::Cloudflare => 30,
            PurgeFormat::Fastly => 256,
        }
    }
}

/// Where and how purges go; built from the configuration.
#[derive(Clone, Debug)]
pub struct PurgeTarget {
    pub format: PurgeFormat,
    pub url: String,
    pub token: String,
    pub base_url: String,
    pub sizes: Vec<u32>,
}

pub struct Purger {
    target: PurgeTarget,
    client: reqwest::Client,
    pending: Mutex<BTreeSet<Digest>>,
    wake: tokio::sync::Notify,
    pub metrics: PurgeMetrics,
}

impl Purger {
    /// A purger for `target`, with its sending task started.
    pub fn start(target: PurgeTarget, client: reqwest::Client) -> Arc<Purger> {
        let purger = Arc::new(Purger {
            target,
            client,
            pending: Mutex::new(BTreeSet::new()),
            wake: tokio::sync::Notify::new(),
            metrics: PurgeMetrics::default(),
        });
        tokio::spawn(send_batches(Arc::downgrade(&purger)));
        purger
    }

    /// Queues `digests` for the next purge; returns at once.
    pub fn changed(&self, digests: &[Digest]) {
        let mut pending = self.pending.lock().unwrap_or_else(PoisonError::into_inner);
        for digest in digests {
            if pending.len() >= MAX_PENDING {
                self.metrics.dropped.fetch_add(1, Ordering::Relaxed);
                continue;
            }
            pending.insert(*digest);
        }
        drop(pending);
        self.wake.notify_one();
    }

    /// Digests waiting to be sent.
    pub fn pending(&self) -> usize {
        self.pending
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
    }

    fn take_batch(&self) -> Vec<Digest> {
        let mut pending = self.pending.lock().unwrap_or_else(PoisonError::into_inner);
        let size = self.target.format.batch();
        let mut batch = Vec::with_capacity(size.min(pending.len()));
        while batch.len() < size {
            match pending.pop_first() {
                Some(digest) => batch.push(digest),
                None => break,
            }
        }
        batch
    }

    async fn send(&self, batch: &[Digest]) -> Result<(), String> {
        let target = &self.target;
        let keys: Vec<String> = batch.iter().map(Digest::to_hex).collect();
        let mut request = self.client.post(&target.url);
        request = match target.format {
            PurgeFormat::Cameo => request.json(&purge_body(target, batch)),
            PurgeFormat::Cloudflare => request.json(&serde_json::json!({ "tags": keys })),
            PurgeFormat::Fastly => request.header("surrogate-key", keys.join(" ")),
        };
        if !target.token.is_empty() {
            request = match target.format {
                PurgeFormat::Fastly => request.header("fastly-key", &target.token),
                PurgeFormat::Cameo | PurgeFormat::Cloudflare => request.bearer_auth(&target.token),
            };
        }
        let response = request.send().await.map_err(|e| {
            // reqwest's message names the URL, which holds no secret (the token is a header).
            format!("{}", e.without_url())
        })?;
        if response.status().is_success() {
            Ok(())
        } else {
            Err(format!("answered {}", response.status().as_u16()))
        }
    }
}

/// The JSON body of one purge request.
pub fn purge_body(target: &PurgeTarget, digests: &[Digest]) -> serde_json::Value {
    let keys: Vec<String> = digests.iter().map(Digest::to_hex).collect();
    let base = target.base_url.trim_end_matches('/');
    let urls: Vec<String> = keys
        .iter()
        .flat_map(|key| {
            std::iter::once(format!("{base}/avatar/{key}")).chain(
                target
                    .sizes
                    .iter()
                    .map(move |size| format!("{base}/avatar/{key}?s={size}")),
            )
        })
        .collect();
    serde_json::json!({ "keys": keys, "urls": urls })
}

async fn send_batches(purger: Weak<Purger>) {
    loop {
        let Some(strong) = purger.upgrade() else {
            return;
        };
        if strong.pending() == 0 {
            // Wake on news, or now and then to notice the server has gone.
            let _ = tokio::time::timeout(Duration::from_secs(1), strong.wake.notified()).await;
            continue;
        }
        tokio::time::sleep(GATHER).await;
        let batch = strong.take_batch();
        let mut outcome = Err(String::new());
        for attempt in 0..ATTEMPTS {
            if attempt > 0 {
                tokio::time::sleep(Duration::from_secs(1 << (attempt - 1))).await;
            }
            outcome = strong.send(&batch).await;
            if outcome.is_ok() {
                break;
            }
        }
        match outcome {
            Ok(()) => {
                strong.metrics.sent.fetch_add(1, Ordering::Relaxed);
                strong
                    .metrics
                    .keys
                    .fetch_add(batch.len() as u64, Ordering::Relaxed);
            }
            Err(error) => {
                strong.metrics.failed.fetch_add(1, Ordering::Relaxed);
                tracing::warn!(%error, digests = batch.len(), "CDN purge failed; given up after {ATTEMPTS} attempts");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_body_names_keys_and_the_urls_at_each_size() {
        let target = PurgeTarget {
            format: PurgeFormat::Cameo,
            url: "http://127.0.0.1:1/purge".into(),
            token: "secret".into(),
            base_url: "https://avatars.example.org/".into(),
            sizes: vec![80, 128],
        };
        let digest = Digest::md5_of("alice@example.org");
        let hex = digest.to_hex();
        let body = purge_body(&target, &[digest]);
        assert_eq!(body["keys"], serde_json::json!([hex]));
        assert_eq!(
            body["urls"],
            serde_json::json!([
                format!("https://avatars.example.org/avatar/{hex}"),
                format!("https://avatars.example.org/avatar/{hex}?s=80"),
                format!("https://avatars.example.org/avatar/{hex}?s=128"),
            ])
        );
        assert!(!body.to_string().contains("secret"));
    }
}
