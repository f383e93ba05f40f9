//! Prometheus metrics: the series Cameo keeps in memory and `GET /metrics`, which writes them
//! in the text exposition format (version 0.0.4) for loopback clients or a bearer token.
//!
//! No metrics crate: the series are a fixed handful of counters, gauges and fixed-bucket
//! histograms, which atomics hold exactly, and [`text`] writes the format in a few dozen
//! lines. `prometheus-client` would add a registry, encoder traits and label-set types (and
//! a mutex around each family) for nothing this server needs; the hot path pays two
//! uncontended read locks and a few atomic adds per request.
//!
//! Each component owns its own series — [`Metrics`] (HTTP, held in `AppState`), the renderer's
//! [`RenderMetrics`], Gravatar's [`FallbackMetrics`] — so nothing is global and each test's
//! server counts alone; the scrape gathers them all.

mod directory;
mod text;

use std::collections::{BTreeMap, HashMap};
use std::net::IpAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{PoisonError, RwLock};
use std::time::Duration;

use actix_web::http::header::{self, HeaderMap};
use actix_web::{HttpRequest, HttpResponse, web};

use crate::state::AppState;
use crate::store;
pub use text::{Exposition, Kind};

/// Upper bounds (seconds) of request-duration buckets: a cached avatar takes well under a
/// millisecond, a Gravatar proxy miss up to its 2 s timeout.
pub const REQUEST_BUCKETS: &[f64] = &[
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];
/// Upper bounds (seconds) of render-duration buckets: resizing and encoding one image.
pub const RENDER_BUCKETS: &[f64] = &[
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
];

/// A monotonically increasing count.
#[derive(Debug, Default)]
pub struct Counter(AtomicU64);

impl Counter {
    pub fn inc(&self) {
        self.0.fetch_add(1, Ordering::Relaxed);
    }

    pub fn get(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }
}

/// Observations counted into fixed buckets. Each bucket holds only its own observations;
/// the cumulative counts Prometheus wants are summed at scrape time, and `_count` is the
/// total of the buckets, so it always equals the `+Inf` bucket even mid-update.
#[derive(Debug)]
pub struct Histogram {
    bounds: &'static [f64],
    /// One per bound, plus the overflow bucket (`+Inf`).
    buckets: Box<[AtomicU64]>,
    sum_nanos: AtomicU64,
}

/// What a scrape reads of a [`Histogram`].
#[derive(Clone, Debug, PartialEq)]
pub struct HistogramSnapshot {
    /// `(le, cumulative count)` for each bound, ending with `(f64::INFINITY, count)`.
    pub cumulative: Vec<(f64, u64)>,
    pub sum_seconds: f64,
    pub count: u64,
}

impl Histogram {
    pub fn new(bounds: &'static [f64]) -> Histogram {
        Histogram {
            bounds,
            buckets: (0..=bounds.len()).map(|_| AtomicU64::new(0)).collect(),
            sum_nanos: AtomicU64::new(0),
        }
    }

    pub fn observe(&self, elapsed: Duration) {
        let seconds = elapsed.as_secs_f64();
        let index = self
            .bounds
            .iter()
            .position(|bound| seconds <= *bound)
            .unwrap_or(self.bounds.len());
        self.buckets[index].fetch_add(1, Ordering::Relaxed);
        let nanos = u64::try_from(elapsed.as_nanos()).unwrap_or(u64::MAX);
        self.sum_nanos.fetch_add(nanos, Ordering::Relaxed);
    }

    pub fn snapshot(&self) -> HistogramSnapshot {
        let mut total = 0;
        let bounds = self.bounds.iter().copied().chain([f64::INFINITY]);
        let cumulative: Vec<(f64, u64)> = bounds
            .zip(self.buckets.iter())
            .map(|(bound, bucket)| {
                total += bucket.load(Ordering::Relaxed);
                (bound, total)
            })
            .collect();
        HistogramSnapshot {
            cumulative,
            sum_seconds: self.sum_nanos.load(Ordering::Relaxed) as f64 / 1e9,
            count: total,
        }
    }
}

/// The HTTP series, by route pattern. Routes are the patterns the app registers (plus
/// `other`), never raw paths, so the number of series stays bounded.
#[derive(Debug, Default)]
pub struct Metrics {
    routes: RwLock<HashMap<String, RouteSeries>>,
}

#[derive(Debug)]
struct RouteSeries {
    duration: Histogram,
    by_status: RwLock<Vec<(u16, Counter)>>,
}

impl Metrics {
    pub fn new() -> Metrics {
        Metrics::default()
    }

    /// Counts one answered request. The common case (a route and status seen before) takes
    /// two read locks; a first sighting takes a write lock once.
    pub fn record_request(&self, route: &str, status: u16, elapsed: Duration) {
        {
            let routes = self.routes.read().unwrap_or_else(PoisonError::into_inner);
            if let Some(series) = routes.get(route) {
                series.record(status, elapsed);
                return;
            }
        }
        let mut routes = self.routes.write().unwrap_or_else(PoisonError::into_inner);
        routes
            .entry(route.to_string())
            .or_insert_with(|| RouteSeries {
                duration: Histogram::new(REQUEST_BUCKETS),
                by_status: RwLock::default(),
            })
            .record(status, elapsed);
    }

    fn write(&self, out: &mut Exposition) {
        let routes = self.routes.read().unwrap_or_else(PoisonError::into_inner);
        let sorted: BTreeMap<&str, &RouteSeries> =
            routes.iter().map(|(k, v)| (k.as_str(), v)).collect();
        out.family(
            "cameo_http_requests_total",
            "HTTP requests answered, by route pattern and status.",
            Kind::Counter,
        );
        for (route, series) in &sorted {
            let mut statuses: Vec<(u16, u64)> = series
                .by_status
                .read()
                .unwrap_or_else(PoisonError::into_inner)
                .iter()
                .map(|(status, count)| (*status, count.get()))
                .collect();
            statuses.sort_unstable();
            for (status, count) in statuses {
                let status = status.to_string();
                out.sample(
                    "cameo_http_requests_total",
                    &[("route", route), ("status", &status)],
                    count as f64,
                );
            }
        }
        out.family(
            "cameo_http_request_duration_seconds",
            "Time from receiving a request to its response headers, by route pattern.",
            Kind::Histogram,
        );
        for (route, series) in &sorted {
            out.histogram(
                "cameo_http_request_duration_seconds",
                &[("route", route)],
                &series.duration.snapshot(),
            );
        }
    }
}

impl RouteSeries {
    fn record(&self, status: u16, elapsed: Duration) {
        self.duration.observe(elapsed);
        {
            let statuses = self
                .by_status
                .read()
                .unwrap_or_else(PoisonError::into_inner);
            if let Some((_, count)) = statuses.iter().find(|(s, _)| *s == status) {
                count.inc();
                return;
            }
        }
        let mut statuses = self
            .by_status
            .write()
            .unwrap_or_else(PoisonError::into_inner);
        if let Some((_, count)) = statuses.iter().find(|(s, _)| *s == status) {
            count.inc();
        } else {
            let count = Counter::default();
            count.inc();
            statuses.push((status, count));
        }
    }
}

/// The render cache's series, owned by the `Renderer`.
#[derive(Debug)]
pub struct RenderMetrics {
    pub hits: Counter,
    pub misses: Counter,
    /// Resizing/drawing and encoding one rendition on a miss (not queueing, not loading).
    pub duration: Histogram,
    /// Animated renditions drawn (an animated photo at a ladder size, as GIF).
    pub animations: Counter,
}

impl Default for RenderMetrics {
    fn default() -> RenderMetrics {
        RenderMetrics {
            hits: Counter::default(),
            misses: Counter::default(),
            duration: Histogram::new(RENDER_BUCKETS),
            animations: Counter::default(),
        }
    }
}

/// What Gravatar answered misses, owned by `Gravatar`.
#[derive(Debug, Default)]
pub struct FallbackMetrics {
    pub found: Counter,
    pub missing: Counter,
    pub failed: Counter,
    pub backing_off: Counter,
}

/// Why `/metrics` refuses a client, as the one-line body of the 403.
pub const LOOPBACK_ONLY: &str =
    "metrics are served to loopback clients only (set metrics_token to allow others)\n";
pub const TOKEN_NEEDED: &str = "metrics need Authorization: Bearer <metrics_token>\n";

/// Who may read `/metrics`: a loopback peer that did not come through a proxy, or anyone
/// with the bearer token when one is set. The TCP peer decides, not a forwarded address:
/// forwarded headers can only take access away (a proxy on the same machine connects from
/// loopback, and must not make the metrics public), never grant it.
pub fn metrics_access(
    peer: Option<IpAddr>,
    headers: &HeaderMap,
    token: &str,
) -> Result<(), &'static str> {
    let proxied = ["forwarded", "x-forwarded-for", "x-real-ip"]
        .iter()
        .any(|name| headers.contains_key(*name));
    if !proxied && peer.is_some_and(|ip| ip.to_canonical().is_loopback()) {
        return Ok(());
    }
    if token.is_empty() {
        return Err(LOOPBACK_ONLY);
    }
    let offered = headers
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, offered)| offered.trim());
    match offered {
        Some(offered) if crate::secrets::constant_time_eq(offered, token) => Ok(()),
        _ => Err(TOKEN_NEEDED),
    }
}

/// `GET /metrics`.
pub async fn scrape(request: HttpRequest, state: web::Data<AppState>) -> HttpResponse {
    let peer = request.peer_addr().map(|addr| addr.ip());
    if let Err(reason) = metrics_access(peer, request.headers(), &state.config.metrics_token) {
        return HttpResponse::Forbidden()
            .insert_header((header::CACHE_CONTROL, "no-store"))
            .content_type("text/plain; charset=utf-8")
            .body(reason);
    }
    let mut out = Exposition::default();
    out.family(
        "cameo_build_info",
        "The running version of Cameo.",
        Kind::Gauge,
    );
    out.sample(
        "cameo_build_info",
        &[("version", env!("CARGO_PKG_VERSION"))],
        1.0,
    );
    state.metrics.write(&mut out);
    write_render(&mut out, &state).await;
    write_fallback(&mut out, state.gravatar.metrics());
    write_gateways(&mut out, &state.gateways);
    write_lookup(&mut out, &state.lookup);
    if let Some(purger) = &state.purger {
        write_purge(&mut out, purger);
    }
    state.passwords.write_metrics(&mut out);
    state.outbox.write_metrics(&mut out);
    write_stored(&mut out, &state).await;
    directory::write_directory(&mut out, &state).await;
    HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .content_type("text/plain; version=0.0.4; charset=utf-8")
        .body(out.finish())
}

async fn write_render(out: &mut Exposition, state: &AppState) {
    let render = state.renderer.metrics();
    out.family(
        "cameo_render_cache_hits_total",
        "Renditions served from the render cache.",
        Kind::Counter,
    );
    out.sample(
        "cameo_render_cache_hits_total",
        &[],
        render.hits.get() as f64,
    );
    out.family(
        "cameo_render_cache_misses_total",
        "Renditions that had to be drawn or resized and encoded.",
        Kind::Counter,
    );
    out.sample(
        "cameo_render_cache_misses_total",
        &[],
        render.misses.get() as f64,
    );
    out.family(
        "cameo_render_cache_bytes",
        "Bytes held by the cache of encoded renditions.",
        Kind::Gauge,
    );
    let bytes = state.renderer.cache_bytes().await;
    out.sample("cameo_render_cache_bytes", &[], bytes as f64);
    out.family(
        "cameo_render_duration_seconds",
        "Time spent drawing or resizing and encoding one rendition on a cache miss.",
        Kind::Histogram,
    );
    out.histogram(
        "cameo_render_duration_seconds",
        &[],
        &render.duration.snapshot(),
    );
    out.family(
        "cameo_render_animations_total",
        "Animated renditions drawn (only at the animation ladder's sizes).",
        Kind::Counter,
    );
    out.sample(
        "cameo_render_animations_total",
        &[],
        render.animations.get() as f64,
    );
    write_image_budget(out, state.image_budget.snapshot());
}

fn write_image_budget(out: &mut Exposition, budget: crate::imaging::BudgetSnapshot) {
    out.family(
        "cameo_image_budget_bytes",
        "The image memory budget every decode of untrusted bytes reserves from: its size, what \
         is reserved now, and the most ever reserved at once.",
        Kind::Gauge,
    );
    for (state, bytes) in [
        ("total", budget.total_bytes),
        ("in_use", budget.in_use_bytes),
        ("peak", budget.peak_bytes),
    ] {
        out.sample(
            "cameo_image_budget_bytes",
            &[("state", state)],
            bytes as f64,
        );
    }
    out.family(
        "cameo_image_budget_refusals_total",
        "Decodes refused by the image memory budget (busy past the wait, or larger than it).",
        Kind::Counter,
    );
    out.sample(
        "cameo_image_budget_refusals_total",
        &[],
        budget.refused as f64,
    );
}

fn write_fallback(out: &mut Exposition, fallback: &FallbackMetrics) {
    out.family(
        "cameo_gravatar_fallback_total",
        "Answers of the Gravatar fallback (cached ones included), by outcome.",
        Kind::Counter,
    );
    for (outcome, counter) in [
        ("found", &fallback.found),
        ("missing", &fallback.missing),
        ("failed", &fallback.failed),
        ("backing_off", &fallback.backing_off),
    ] {
        out.sample(
            "cameo_gravatar_fallback_total",
            &[("outcome", outcome)],
            counter.get() as f64,
        );
    }
}

/// Calls made to each configured WhatsApp gateway's API (remembered answers not counted),
/// so an operator sees how hard a gateway is asked. Credentials and numbers never appear.
fn write_gateways(out: &mut Exposition, gateways: &crate::gateways::Gateways) {
    use crate::gateways::GatewayKind;
    out.family(
        "cameo_whatsapp_gateway_calls_total",
        "Calls made to a WhatsApp gateway's API (remembered answers not counted).",
        Kind::Counter,
    );
    for kind in [GatewayKind::Gowa, GatewayKind::GreenApi] {
        if gateways.is_enabled(kind) {
            out.sample(
                "cameo_whatsapp_gateway_calls_total",
                &[("gateway", kind.name())],
                gateways.calls(kind) as f64,
            );
        }
    }
}

/// How digests were looked up: from the in-memory index or the database, and the change feed.
fn write_lookup(out: &mut Exposition, lookup: &crate::avatar::lookup::PhotoLookup) {
    use std::sync::atomic::Ordering::Relaxed;
    let metrics = &lookup.metrics;
    for (name, help, kind, value) in [
        (
            "cameo_lookup_memory_answers_total",
            "Digest lookups (hits and misses) answered by the in-memory index, without SQL.",
            Kind::Counter,
            metrics.memory_answers.load(Relaxed) as f64,
        ),
        (
            "cameo_lookup_database_reads_total",
            "Digest lookups that read the database.",
            Kind::Counter,
            metrics.database_reads.load(Relaxed) as f64,
        ),
        (
            "cameo_feed_applied_digests_total",
            "Digests the change feed named, whose answers were read again.",
            Kind::Counter,
            metrics.applied_digests.load(Relaxed) as f64,
        ),
        (
            "cameo_feed_start_overs_total",
            "Times this server fell behind the trimmed change feed and forgot every answer.",
            Kind::Counter,
            metrics.start_overs.load(Relaxed) as f64,
        ),
        (
            "cameo_lookup_answers_while_database_unavailable_total",
            "Lookups answered from memory while the database could not be asked what changed.",
            Kind::Counter,
            metrics.stale_answers.load(Relaxed) as f64,
        ),
        (
            "cameo_feed_sequence",
            "The last change-feed sequence number applied.",
            Kind::Gauge,
            lookup.applied() as f64,
        ),
        (
            "cameo_lookup_index_bytes",
            "Bytes held by the index of served digests (0 while it is built).",
            Kind::Gauge,
            lookup.index_bytes() as f64,
        ),
        (
            "cameo_lookup_index_digests",
            "Digests the in-memory index knows to serve a photo.",
            Kind::Gauge,
            lookup.index_digests() as f64,
        ),
    ] {
        out.single(name, help, kind, value);
    }
}

/// What the CDN purger sent, gave up on, and holds.
fn write_purge(out: &mut Exposition, purger: &crate::purge::Purger) {
    use std::sync::atomic::Ordering::Relaxed;
    let metrics = &purger.metrics;
    out.family(
        "cameo_purge_requests_total",
        "Purge requests, by outcome (failed: given up after every attempt).",
        Kind::Counter,
    );
    for (outcome, counter) in [("sent", &metrics.sent), ("failed", &metrics.failed)] {
        out.sample(
            "cameo_purge_requests_total",
            &[("outcome", outcome)],
            counter.load(Relaxed) as f64,
        );
    }
    for (name, help, kind, value) in [
        (
            "cameo_purge_keys_total",
            "Digests announced in purge requests that were accepted.",
            Kind::Counter,
            metrics.keys.load(Relaxed) as f64,
        ),
        (
            "cameo_purge_dropped_total",
            "Digests dropped because too many purges were waiting.",
            Kind::Counter,
            metrics.dropped.load(Relaxed) as f64,
        ),
        (
            "cameo_purge_pending",
            "Digests waiting to be announced.",
            Kind::Gauge,
            purger.pending() as f64,
        ),
    ] {
        out.single(name, help, kind, value);
    }
}

/// The stored-data gauges, counted at scrape time; left out (and logged) if the database
/// cannot answer, so the in-memory series still reach Prometheus.
async fn write_stored(out: &mut Exposition, state: &AppState) {
    let counts = match store::stats::counts(&state.pool).await {
        Ok(counts) => counts,
        Err(error) => {
            tracing::warn!(%error, "cannot count stored photos and addresses for /metrics");
            return;
        }
    };
    out.family(
        "cameo_photos_stored",
        "Photos in the database.",
        Kind::Gauge,
    );
    out.sample("cameo_photos_stored", &[], counts.photos as f64);
    out.family(
        "cameo_addresses_stored",
        "Email addresses and OpenIDs in the database, by state.",
        Kind::Gauge,
    );
    out.sample(
        "cameo_addresses_stored",
        &[("state", "confirmed")],
        counts.confirmed_addresses as f64,
    );
    out.sample(
        "cameo_addresses_stored",
        &[("state", "unconfirmed")],
        counts.unconfirmed_addresses as f64,
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::http::header::HeaderValue;

    #[test]
    fn histogram_buckets_hold_only_their_own_observations() {
        let histogram = Histogram::new(&[0.01, 0.1]);
        histogram.observe(Duration::from_millis(5));
        histogram.observe(Duration::from_millis(10));
        histogram.observe(Duration::from_millis(50));
        histogram.observe(Duration::from_secs(3));
        let snapshot = histogram.snapshot();
        assert_eq!(
            snapshot.cumulative,
            vec![(0.01, 2), (0.1, 3), (f64::INFINITY, 4)]
        );
        assert_eq!(snapshot.count, 4);
        assert!((snapshot.sum_seconds - 3.065).abs() < 1e-9);
    }

    #[test]
    fn requests_are_counted_by_route_and_status() {
        let metrics = Metrics::new();
        metrics.record_request("/avatar/{segment:.*}", 200, Duration::from_micros(300));
        metrics.record_request("/avatar/{segment:.*}", 200, Duration::from_micros(300));
        metrics.record_request("/avatar/{segment:.*}", 404, Duration::from_micros(300));
        metrics.record_request("other", 404, Duration::from_micros(300));
        let mut out = Exposition::default();
        metrics.write(&mut out);
        let text = out.finish();
        assert!(text.contains(
            "cameo_http_requests_total{route=\"/avatar/{segment:.*}\",status=\"200\"} 2\n"
        ));
        assert!(text.contains(
            "cameo_http_requests_total{route=\"/avatar/{segment:.*}\",status=\"404\"} 1\n"
        ));
        assert!(text.contains("cameo_http_requests_total{route=\"other\",status=\"404\"} 1\n"));
        assert!(text.contains(
            "cameo_http_request_duration_seconds_bucket{route=\"/avatar/{segment:.*}\",le=\"0.0005\"} 3\n"
        ));
        assert!(text.contains("cameo_http_request_duration_seconds_count{route=\"other\"} 1\n"));
    }

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.insert(
                header::HeaderName::from_static(name),
                HeaderValue::from_str(value).unwrap(),
            );
        }
        map
    }

    const LOCAL: Option<IpAddr> = Some(IpAddr::V4(std::net::Ipv4Addr::LOCALHOST));
    const REMOTE: Option<IpAddr> = Some(IpAddr::V4(std::net::Ipv4Addr::new(203, 0, 113, 9)));

    #[test]
    fn loopback_clients_may_read_metrics_without_a_token() {
        assert_eq!(metrics_access(LOCAL, &headers(&[]), ""), Ok(()));
        let mapped = Some("::ffff:127.0.0.1".parse().unwrap());
        assert_eq!(metrics_access(mapped, &headers(&[]), ""), Ok(()));
        assert_eq!(
            metrics_access(Some("::1".parse().unwrap()), &headers(&[]), "t"),
            Ok(())
        );
    }

    #[test]
    fn remote_clients_are_refused_without_a_configured_token() {
        let bearer = headers(&[("authorization", "Bearer anything")]);
        assert_eq!(metrics_access(REMOTE, &bearer, ""), Err(LOOPBACK_ONLY));
        assert_eq!(metrics_access(None, &headers(&[]), ""), Err(LOOPBACK_ONLY));
    }

    #[test]
    fn remote_clients_need_the_right_bearer_token() {
        let token = "s3cret-token";
        let right = headers(&[("authorization", "Bearer s3cret-token")]);
        let lower = headers(&[("authorization", "bearer s3cret-token")]);
        let wrong = headers(&[("authorization", "Bearer s3cret-tokem")]);
        let basic = headers(&[("authorization", "Basic s3cret-token")]);
        assert_eq!(metrics_access(REMOTE, &right, token), Ok(()));
        assert_eq!(metrics_access(REMOTE, &lower, token), Ok(()));
        assert_eq!(metrics_access(REMOTE, &wrong, token), Err(TOKEN_NEEDED));
        assert_eq!(metrics_access(REMOTE, &basic, token), Err(TOKEN_NEEDED));
        assert_eq!(
            metrics_access(REMOTE, &headers(&[]), token),
            Err(TOKEN_NEEDED)
        );
    }

    #[test]
    fn a_proxy_on_loopback_does_not_make_metrics_public() {
        let forwarded = headers(&[("x-forwarded-for", "203.0.113.9")]);
        assert_eq!(metrics_access(LOCAL, &forwarded, ""), Err(LOOPBACK_ONLY));
        let with_token = headers(&[
            ("forwarded", "for=203.0.113.9"),
            ("authorization", "Bearer t0ken"),
        ]);
        assert_eq!(metrics_access(LOCAL, &with_token, "t0ken"), Ok(()));
    }
}
