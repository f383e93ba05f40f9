//! The Gravatar fallback for misses (PROTOCOL.md "The Gravatar fallback").
//!
//! - `proxy` (default): ask `UPSTREAM/avatar/HASH?s=SIZE&d=404`; a 200 is validated through
//!   the same intake as an upload (so nothing unvetted is ever served), re-rendered at exactly
//!   size×size with our own headers; a 404 falls through to our `d=` handling.
//! - `redirect`: 302 to the upstream, passing `d` on when Gravatar knows the style.
//! - `off`: straight to our default.
//!
//! A slow or failing upstream must not slow misses down for everyone: each request has a
//! total timeout (≤ 2 s), concurrent misses for one hash share one upstream request, both
//! outcomes are cached (bounded in bytes and time), and after a failure the upstream is left
//! alone for a while ([`BACKOFF`]) so misses get our default at once.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::avatar::cache::Rendition;
use crate::avatar::request::{AvatarRequest, DefaultAction};
use crate::config::{Config, GravatarMode};
use crate::identity::Digest;
use crate::imaging::{IntakeLimits, Original, PhotoFormat, decode_original, prepare_photo};
use crate::outbound::Outbound;

/// How long the upstream is left alone after it failed.
pub const BACKOFF: Duration = Duration::from_secs(30);
/// How long an answer from the upstream (image or 404) is reused.
const OUTCOME_TTL: Duration = Duration::from_secs(600);
/// Memory for cached upstream answers.
const OUTCOME_CACHE_BYTES: u64 = 16 << 20;
/// Largest upstream body accepted.
const MAX_UPSTREAM_BYTES: usize = 1 << 20;

/// What to do with a miss, decided before any network work.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FallbackPlan {
    /// Straight to our own default.
    Skip,
    /// 302 to this URL.
    Redirect(String),
    /// Ask the upstream, then serve its image or fall through.
    Proxy,
}

/// An upstream answer worth caching.
#[derive(Clone, Debug)]
enum Outcome {
    Found(Arc<Rendition>),
    Missing,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
struct OutcomeKey {
    digest: Digest,
    size: u32,
    format: PhotoFormat,
}

pub struct Gravatar {
    mode: GravatarMode,
    upstream: String,
    outbound: Outbound,
    outcomes: moka::future::Cache<OutcomeKey, Outcome>,
    /// Unix milliseconds until which the upstream is not asked.
    backoff_until: AtomicU64,
}

impl Gravatar {
    pub fn new(config: &Config, outbound: Outbound) -> Gravatar {
        Gravatar {
            mode: config.gravatar_mode,
            upstream: config.gravatar_upstream.clone(),
            outbound,
            outcomes: moka::future::Cache::builder()
                .max_capacity(OUTCOME_CACHE_BYTES)
                .weigher(|_, outcome: &Outcome| match outcome {
                    Outcome::Found(rendition) => u32::try_from(rendition.body.len())
                        .unwrap_or(u32::MAX)
                        .saturating_add(256),
                    Outcome::Missing => 256,
                })
                .time_to_live(OUTCOME_TTL)
                .build(),
            backoff_until: AtomicU64::new(0),
        }
    }

    /// The plan for a miss under this server's mode.
    pub fn plan(&self, request: &AvatarRequest) -> FallbackPlan {
        plan_fallback(self.mode, &self.upstream, request)
    }

    /// Asks the upstream (or the cache) for `request`'s image. `None` means: serve our default.
    pub async fn proxy(&self, request: &AvatarRequest) -> Option<Arc<Rendition>> {
        let format = request.format.unwrap_or(PhotoFormat::Png);
        let key = OutcomeKey {
            digest: request.digest,
            size: request.size,
            format,
        };
        if let Some(outcome) = self.outcomes.get(&key).await {
            return found(outcome);
        }
        if now_millis() < self.backoff_until.load(Ordering::Relaxed) {
            return None;
        }
        let url = format!(
            "{}/avatar/{}?s={}&d=404",
            self.upstream, request.digest, request.size
        );
        let fetched = self.outcomes.try_get_with(key, self.fetch(url, key)).await;
        match fetched {
            Ok(outcome) => found(outcome),
            Err(reason) => {
                let until = now_millis() + BACKOFF.as_millis() as u64;
                if self.backoff_until.swap(until, Ordering::Relaxed) < now_millis() {
                    tracing::warn!(%reason, backoff_s = BACKOFF.as_secs(), "Gravatar upstream failed; backing off");
                }
                None
            }
        }
    }

    async fn fetch(&self, url: String, key: OutcomeKey) -> Result<Outcome, String> {
        let response = self
            .outbound
            .get_upstream(&url, MAX_UPSTREAM_BYTES)
            .await
            .map_err(|e| e.to_string())?;
        match response.status {
            200 => {}
            404 => return Ok(Outcome::Missing),
            status => return Err(format!("upstream answered {status}")),
        }
        let render = move || -> Result<Rendition, String> {
            let limits = IntakeLimits {
                max_bytes: MAX_UPSTREAM_BYTES as u64,
                max_pixels: 2048 * 2048,
            };
            let photo = prepare_photo(&response.body, limits)
                .map_err(|e| format!("upstream image refused: {e}"))?;
            let original: Original = decode_original(&photo.data)?;
            let bytes = original
                .render(key.size, key.format)
                .map_err(|e| format!("re-encoding upstream image: {e}"))?;
            Ok(Rendition::new(bytes, key.format))
        };
        let rendition = tokio::task::spawn_blocking(render)
            .await
            .map_err(|e| format!("image worker failed: {e}"))??;
        Ok(Outcome::Found(Arc::new(rendition)))
    }
}

fn found(outcome: Outcome) -> Option<Arc<Rendition>> {
    match outcome {
        Outcome::Found(rendition) => Some(rendition),
        Outcome::Missing => None,
    }
}

fn now_millis() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

/// The decision table: `f=y` never reaches here; `off` skips; `gravatarredirect=y` or mode
/// `redirect` redirects; mode `proxy` proxies unless `gravatarproxy=n`.
pub fn plan_fallback(mode: GravatarMode, upstream: &str, request: &AvatarRequest) -> FallbackPlan {
    match mode {
        GravatarMode::Off => FallbackPlan::Skip,
        _ if request.gravatar_redirect || mode == GravatarMode::Redirect => {
            FallbackPlan::Redirect(redirect_url(upstream, request))
        }
        GravatarMode::Proxy if request.gravatar_proxy => FallbackPlan::Proxy,
        _ => FallbackPlan::Skip,
    }
}

/// `UPSTREAM/avatar/HASH?s=SIZE`, plus `d` when Gravatar knows the style.
pub fn redirect_url(upstream: &str, request: &AvatarRequest) -> String {
    let mut url = format!("{upstream}/avatar/{}?s={}", request.digest, request.size);
    let default = match &request.default {
        DefaultAction::NotFound => Some("404"),
        DefaultAction::Draw(style) => {
            Some(style.name()).filter(|name| GRAVATAR_STYLES.contains(name))
        }
        DefaultAction::Redirect(_) => None,
    };
    if let Some(name) = default {
        url.push_str("&d=");
        url.push_str(name);
    }
    url
}

/// The `d=` values Gravatar itself understands.
const GRAVATAR_STYLES: [&str; 9] = [
    "mp",
    "identicon",
    "monsterid",
    "wavatar",
    "retro",
    "robohash",
    "blank",
    "initials",
    "color",
];

#[cfg(test)]
mod tests {
    use super::*;
    use crate::defaults::Style;

    fn request(default: DefaultAction, proxy: bool, redirect: bool) -> AvatarRequest {
        AvatarRequest {
            digest: Digest::md5_of("a@example.org"),
            format: None,
            size: 64,
            default,
            force_default: false,
            gravatar_proxy: proxy,
            gravatar_redirect: redirect,
        }
    }

    const UP: &str = "https://up.example";

    #[test]
    fn modes_and_per_request_switches_decide_the_plan() {
        let plain = request(DefaultAction::Draw(Style::Mp), true, false);
        assert_eq!(
            plan_fallback(GravatarMode::Proxy, UP, &plain),
            FallbackPlan::Proxy
        );
        assert_eq!(
            plan_fallback(GravatarMode::Off, UP, &plain),
            FallbackPlan::Skip
        );
        assert!(matches!(
            plan_fallback(GravatarMode::Redirect, UP, &plain),
            FallbackPlan::Redirect(_)
        ));
        let no_proxy = request(DefaultAction::Draw(Style::Mp), false, false);
        assert_eq!(
            plan_fallback(GravatarMode::Proxy, UP, &no_proxy),
            FallbackPlan::Skip
        );
        let redirect = request(DefaultAction::Draw(Style::Mp), true, true);
        assert!(matches!(
            plan_fallback(GravatarMode::Proxy, UP, &redirect),
            FallbackPlan::Redirect(_)
        ));
        assert_eq!(
            plan_fallback(GravatarMode::Off, UP, &redirect),
            FallbackPlan::Skip
        );
    }

    #[test]
    fn redirect_passes_known_defaults_only() {
        let hash = Digest::md5_of("a@example.org");
        let url = redirect_url(
            UP,
            &request(DefaultAction::Draw(Style::Identicon), true, true),
        );
        assert_eq!(url, format!("{UP}/avatar/{hash}?s=64&d=identicon"));
        let url = redirect_url(UP, &request(DefaultAction::NotFound, true, true));
        assert!(url.ends_with("&d=404"));
        let url = redirect_url(
            UP,
            &request(DefaultAction::Redirect("https://x/y".into()), true, true),
        );
        assert_eq!(url, format!("{UP}/avatar/{hash}?s=64"));
    }
}
