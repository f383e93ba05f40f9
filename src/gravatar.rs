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
use crate::imaging::{
    ImageBudget, IntakeLimits, Original, PhotoFormat, decode_original, prepare_within_budget,
};
use crate::metrics::FallbackMetrics;
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
    /// What `ask` answered, for `/metrics`.
    metrics: FallbackMetrics,
    /// Upstream images are untrusted bytes: decoded only within the shared image budget.
    image_budget: ImageBudget,
}

impl Gravatar {
    pub fn new(config: &Config, outbound: Outbound, image_budget: ImageBudget) -> Gravatar {
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
            metrics: FallbackMetrics::default(),
            image_budget,
        }
    }

    /// The plan for a miss under this server's mode.
    pub fn plan(&self, request: &AvatarRequest) -> FallbackPlan {
        plan_fallback(self.mode, &self.upstream, request)
    }

    /// Asks the upstream (or the cache) for `request`'s image. `None` means: serve our default.
    pub async fn proxy(&self, request: &AvatarRequest) -> Option<Arc<Rendition>> {
        let format = request.format.unwrap_or(PhotoFormat::Png);
        match self.ask(request.digest, request.size, format).await {
            UpstreamAnswer::Found(rendition) => Some(rendition),
            _ => None,
        }
    }

    /// What the upstream says about `digest` at `size` in `format`: from the cache, or one
    /// shared request; nothing while backing off. Every answer is counted by outcome.
    pub async fn ask(&self, digest: Digest, size: u32, format: PhotoFormat) -> UpstreamAnswer {
        let answer = self.ask_upstream(digest, size, format).await;
        match &answer {
            UpstreamAnswer::Found(_) => self.metrics.found.inc(),
            UpstreamAnswer::Missing => self.metrics.missing.inc(),
            UpstreamAnswer::Failed(_) => self.metrics.failed.inc(),
            UpstreamAnswer::BackingOff => self.metrics.backing_off.inc(),
        }
        answer
    }

    pub fn metrics(&self) -> &FallbackMetrics {
        &self.metrics
    }

    async fn ask_upstream(&self, digest: Digest, size: u32, format: PhotoFormat) -> UpstreamAnswer {
        let key = OutcomeKey {
            digest,
            size,
            format,
        };
        if let Some(outcome) = self.outcomes.get(&key).await {
            return outcome.into();
        }
        if now_millis() < self.backoff_until.load(Ordering::Relaxed) {
            return UpstreamAnswer::BackingOff;
        }
        let url = format!("{}/avatar/{digest}?s={size}&d=404", self.upstream);
        let fetched = self.outcomes.try_get_with(key, self.fetch(url, key)).await;
        match fetched {
            Ok(outcome) => outcome.into(),
            Err(reason) => {
                let until = now_millis() + BACKOFF.as_millis() as u64;
                if self.backoff_until.swap(until, Ordering::Relaxed) < now_millis() {
                    tracing::warn!(%reason, backoff_s = BACKOFF.as_secs(), "Gravatar upstream failed; backing off");
                }
                UpstreamAnswer::Failed(reason.to_string())
            }
        }
    }

    /// The display name of the upstream's public profile (`UPSTREAM/HASH.json`), if it has
    /// one. Best effort: any failure is simply no name.
    pub async fn profile_name(&self, digest: Digest) -> Option<String> {
        let url = format!("{}/{digest}.json", self.upstream);
        let fetched = self
            .outbound
            .get_upstream(&url, MAX_PROFILE_BYTES)
            .await
            .ok()?;
        if fetched.status != 200 {
            return None;
        }
        profile_display_name(&fetched.body)
    }

    pub fn mode(&self) -> GravatarMode {
        self.mode
    }

    pub fn upstream(&self) -> &str {
        &self.upstream
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
        let limits = IntakeLimits {
            max_bytes: MAX_UPSTREAM_BYTES as u64,
            max_pixels: 2048 * 2048,
        };
        let photo = prepare_within_budget(&self.image_budget, response.body.to_vec(), limits, None)
            .await
            .map_err(|e| format!("upstream image refused: {e}"))?;
        let render = move || -> Result<Rendition, String> {
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

/// What the upstream said, for callers that care why there is no image.
#[derive(Clone, Debug)]
pub enum UpstreamAnswer {
    Found(Arc<Rendition>),
    Missing,
    /// The request failed (timeout, connection, bad status or body); the reason for logs.
    Failed(String),
    /// The upstream failed recently and is left alone for now.
    BackingOff,
}

impl From<Outcome> for UpstreamAnswer {
    fn from(outcome: Outcome) -> UpstreamAnswer {
        match outcome {
            Outcome::Found(rendition) => UpstreamAnswer::Found(rendition),
            Outcome::Missing => UpstreamAnswer::Missing,
        }
    }
}

/// Largest profile document read.
const MAX_PROFILE_BYTES: usize = 64 << 10;
/// Longest display name passed on.
const MAX_NAME_CHARS: usize = 100;

/// `entry[0].displayName`, else `entry[0].name.formatted`, from a Gravatar legacy profile:
/// trimmed, control characters dropped, at most 100 characters; `None` when empty or absent.
pub fn profile_display_name(body: &[u8]) -> Option<String> {
    let profile: serde_json::Value = serde_json::from_slice(body).ok()?;
    let entry = profile.get("entry")?.get(0)?;
    let candidates = [
        entry.get("displayName"),
        entry.get("name").and_then(|n| n.get("formatted")),
    ];
    candidates.into_iter().flatten().find_map(|value| {
        let name: String = value
            .as_str()?
            .chars()
            .filter(|c| !c.is_control())
            .take(MAX_NAME_CHARS)
            .collect();
        let name = name.trim();
        (!name.is_empty()).then(|| name.to_string())
    })
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

    #[test]
    fn profile_names_are_read_bounded_and_cleaned() {
        let name = |json: &str| profile_display_name(json.as_bytes());
        assert_eq!(
            name(r#"{"entry":[{"displayName":"  Coco\u0007 ","name":{"formatted":"C"}}]}"#),
            Some("Coco".into())
        );
        assert_eq!(
            name(r#"{"entry":[{"displayName":"","name":{"formatted":"Full Name"}}]}"#),
            Some("Full Name".into())
        );
        assert_eq!(name(r#"{"entry":[]}"#), None);
        assert_eq!(name("not json"), None);
        let long = format!(r#"{{"entry":[{{"displayName":"{}"}}]}}"#, "x".repeat(500));
        assert_eq!(name(&long).unwrap().len(), 100);
    }
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
