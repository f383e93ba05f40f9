//! `GET`/`POST /api/v1/lookup`: an email address → its avatar URL, name and source, trying
//! providers in order and stopping at the first match (the waterfall of
//! `../shared/seeds/000_…`, with real HTTP statuses instead of 200-for-everything).
//!
//! - `local`: this server's confirmed addresses (never unconfirmed ones, so a lookup cannot
//!   tell whether an unconfirmed address exists);
//! - `libravatar`: the avatar server the email's domain publishes in DNS (SRV, as a client
//!   would pick it: `_avatars-sec._tcp` first, then `_avatars._tcp`; `libravatar_fallback`
//!   when there is none), probed with `d=404`;
//! - `gravatar`: the configured upstream with `d=404`, plus its public profile for the name.
//!
//! Parsing is pure ([`parse_lookup`]); answers are cached for ten minutes (bounded); every
//! lookup also spends the looked-up address's hourly quota (`api_address_rate_limit`), and a
//! lookup that asks another server spends the client's outbound probe budget
//! ([`crate::outbound::probe_budget`]; 429 past it). The published Libravatar server is
//! reported only as answering (`found`/`not_found`) or not (`error`): never why not.

use std::sync::Arc;
use std::time::{Duration, Instant};

use actix_web::{HttpMessage, HttpRequest, HttpResponse, ResponseError, web};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::error::{ApiError, error_body};
use super::gate::{Quota, rate_limited, spend_quota};
use crate::config::GravatarMode;
use crate::error::AppError;
use crate::gravatar::UpstreamAnswer;
use crate::identity::{Digest, Identity};
use crate::imaging::PhotoFormat;
use crate::state::AppState;

/// Longest query string or JSON body accepted.
pub const MAX_REQUEST_BYTES: usize = 4096;
/// Longest email address accepted.
const MAX_EMAIL_LEN: usize = 254;
const ANSWER_TTL: Duration = Duration::from_secs(600);
const MAX_CACHED_ANSWERS: u64 = 20_000;

/// A provider of avatars, in the order a lookup may try them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Provider {
    Local,
    Libravatar,
    Gravatar,
}

impl Provider {
    pub const ALL: [Provider; 3] = [Provider::Local, Provider::Libravatar, Provider::Gravatar];

    pub fn name(self) -> &'static str {
        match self {
            Provider::Local => "local",
            Provider::Libravatar => "libravatar",
            Provider::Gravatar => "gravatar",
        }
    }

    fn from_name(name: &str) -> Option<Provider> {
        Provider::ALL.into_iter().find(|p| p.name() == name)
    }
}

/// A validated lookup.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct LookupRequest {
    /// Trimmed and lowercased.
    pub email: String,
    pub providers: Vec<Provider>,
    pub allow_default: bool,
}

/// The JSON body of `POST /api/v1/lookup`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LookupBody {
    /// The email address to look up.
    pub email: String,
    /// Providers in the order to try: `"local,gravatar"` or `["local", "gravatar"]`.
    /// Default: `local,libravatar,gravatar`.
    #[serde(default)]
    #[schema(value_type = Option<String>, example = "local,libravatar,gravatar")]
    pub providers: Option<ProviderList>,
    /// On a miss, answer with a generated default image (`is_default: true`) instead of 404.
    #[serde(default)]
    pub allow_default: Option<bool>,
}

/// Providers as a comma-separated string or as an array of names.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub enum ProviderList {
    Text(String),
    Names(Vec<String>),
}

/// Validates an email, a provider list and the `allow_default` flag.
pub fn parse_lookup(
    email: Option<&str>,
    providers: Option<&[&str]>,
    allow_default: Option<bool>,
) -> Result<LookupRequest, AppError> {
    let email = email.map(str::trim).unwrap_or_default();
    if email.is_empty() {
        return Err(AppError::Invalid(
            "invalid_email",
            "the email parameter is required".into(),
        ));
    }
    let email = match Identity::parse(email) {
        // RFC 5321's limit on a forward path.
        Ok(Identity::Email(email)) if email.len() <= MAX_EMAIL_LEN => email,
        _ => {
            return Err(AppError::Invalid(
                "invalid_email",
                "the email parameter is not a valid email address".into(),
            ));
        }
    };
    let providers = match providers {
        None => Provider::ALL.to_vec(),
        Some(names) => {
            let mut chosen = Vec::new();
            for name in names.iter().map(|n| n.trim().to_ascii_lowercase()) {
                let provider = Provider::from_name(&name).ok_or_else(|| {
                    AppError::Invalid(
                        "invalid_providers",
                        "providers are local, libravatar and gravatar, comma-separated".into(),
                    )
                })?;
                if chosen.contains(&provider) {
                    return Err(AppError::Invalid(
                        "invalid_providers",
                        format!("provider {name} is listed twice"),
                    ));
                }
                chosen.push(provider);
            }
            if chosen.is_empty() {
                return Err(AppError::Invalid(
                    "invalid_providers",
                    "name at least one provider".into(),
                ));
            }
            chosen
        }
    };
    Ok(LookupRequest {
        email,
        providers,
        allow_default: allow_default.unwrap_or(false),
    })
}

/// `true`/`false`, `1`/`0`, `yes`/`no`.
fn parse_flag(text: &str) -> Result<bool, AppError> {
    match text.trim().to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" | "y" => Ok(true),
        "false" | "0" | "no" | "n" | "" => Ok(false),
        _ => Err(AppError::Invalid(
            "invalid_parameter",
            "allow_default is true or false".into(),
        )),
    }
}

/// What one provider said.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    Found {
        image: String,
        name: Option<String>,
        source_url: String,
    },
    NotFound,
    /// The provider is not available for this address (no server published, disabled here).
    Unavailable(&'static str),
    TimedOut,
    Failed,
}

impl Outcome {
    fn code(&self) -> &'static str {
        match self {
            Outcome::Found { .. } => "found",
            Outcome::NotFound => "not_found",
            Outcome::Unavailable(code) => code,
            Outcome::TimedOut => "timeout",
            Outcome::Failed => "error",
        }
    }
}

/// One step of the waterfall, as reported in `tried`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, ToSchema)]
pub struct Tried {
    pub provider: Provider,
    /// `found`, `not_found`, `no_server`, `disabled`, `timeout` or `error`.
    pub outcome: String,
    /// Time spent, in milliseconds (0 when answered from memory).
    pub ms: u64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, ToSchema)]
pub struct EmailHash {
    pub md5: String,
    pub sha256: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, ToSchema)]
pub struct Source {
    /// `local`, `libravatar`, `gravatar`, or `default` for a generated image.
    pub name: String,
    /// The server that answered.
    pub url: String,
}

/// A successful lookup.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, ToSchema)]
pub struct LookupAnswer {
    pub success: bool,
    pub email_hash: EmailHash,
    /// A URL that serves the avatar.
    pub image: String,
    /// The person's name, when a provider knows it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Whether `image` is a generated default rather than a photo.
    pub is_default: bool,
    pub source: Source,
    pub tried: Vec<Tried>,
}

/// The waterfall's result: an answer, or why there is none.
#[derive(Clone, Debug)]
enum LookupResult {
    Answer(LookupAnswer),
    /// Every provider answered cleanly and none had an avatar.
    Miss(Vec<Tried>),
    /// No provider could answer; `timeouts` when all of those failures were timeouts.
    Failure {
        tried: Vec<Tried>,
        timeouts: bool,
    },
}

/// Remembered lookups (successes and clean misses; failures are retried).
pub struct LookupCache {
    answers: moka::future::Cache<LookupRequest, Arc<LookupResult>>,
}

impl Default for LookupCache {
    fn default() -> Self {
        LookupCache::new()
    }
}

impl LookupCache {
    pub fn new() -> LookupCache {
        LookupCache {
            answers: moka::future::Cache::builder()
                .max_capacity(MAX_CACHED_ANSWERS)
                .time_to_live(ANSWER_TTL)
                .build(),
        }
    }
}

#[utoipa::path(
    get,
    path = "/api/v1/lookup",
    tag = "lookup",
    params(
        ("email" = String, Query, description = "The email address to look up"),
        ("providers" = Option<String>, Query, description = "Comma-separated providers in order: local, libravatar, gravatar (default: all three in that order)"),
        ("allow_default" = Option<bool>, Query, description = "On a miss, answer with a generated default image instead of 404"),
    ),
    responses(
        (status = 200, description = "Found (or a default, with allow_default)", body = LookupAnswer),
        (status = 400, description = "Invalid email or providers", body = ErrorBody),
        (status = 401, description = "Bad or missing token (when anonymous use is off)", body = ErrorBody),
        (status = 404, description = "No provider has an avatar for this address", body = ErrorBody),
        (status = 429, description = "Rate limit exceeded", body = ErrorBody),
        (status = 502, description = "Every provider failed", body = ErrorBody),
        (status = 504, description = "Every provider timed out", body = ErrorBody),
    ),
    security((), ("bearer" = []))
)]
pub async fn lookup_get(
    request: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let query = request.query_string();
    if query.len() > MAX_REQUEST_BYTES {
        return Err(
            AppError::Invalid("invalid_parameter", "the query string is too long".into()).into(),
        );
    }
    let (mut email, mut providers, mut allow_default) = (None, None, None);
    for (name, value) in form_urlencoded::parse(query.as_bytes()) {
        match name.as_ref() {
            "email" => email = Some(value.into_owned()),
            "providers" | "provider" => providers = Some(value.into_owned()),
            "allow_default" => allow_default = Some(parse_flag(&value)?),
            _ => {}
        }
    }
    let names: Option<Vec<&str>> = providers.as_deref().map(|p| p.split(',').collect());
    let lookup = parse_lookup(email.as_deref(), names.as_deref(), allow_default)?;
    answer(&request, &state, lookup).await
}

#[utoipa::path(
    post,
    path = "/api/v1/lookup",
    tag = "lookup",
    request_body = LookupBody,
    responses(
        (status = 200, description = "Found (or a default, with allow_default)", body = LookupAnswer),
        (status = 400, description = "Invalid JSON, email or providers", body = ErrorBody),
        (status = 404, description = "No provider has an avatar for this address", body = ErrorBody),
        (status = 429, description = "Rate limit exceeded", body = ErrorBody),
        (status = 502, description = "Every provider failed", body = ErrorBody),
        (status = 504, description = "Every provider timed out", body = ErrorBody),
    ),
    security((), ("bearer" = []))
)]
pub async fn lookup_post(
    request: HttpRequest,
    state: web::Data<AppState>,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    if body.len() > MAX_REQUEST_BYTES {
        return Err(
            AppError::Invalid("invalid_json", "the request body is too large".into()).into(),
        );
    }
    let body: LookupBody = serde_json::from_slice(&body)
        .map_err(|e| AppError::Invalid("invalid_json", format!("the body is not a lookup: {e}")))?;
    let names: Option<Vec<&str>> = match &body.providers {
        None => None,
        Some(ProviderList::Text(text)) => Some(text.split(',').collect()),
        Some(ProviderList::Names(names)) => Some(names.iter().map(String::as_str).collect()),
    };
    let lookup = parse_lookup(Some(&body.email), names.as_deref(), body.allow_default)?;
    answer(&request, &state, lookup).await
}

/// The error shape, for the OpenAPI document.
#[derive(Serialize, ToSchema)]
pub struct ErrorBody {
    pub error: String,
    pub code: String,
}

/// Spends the address's quota, runs (or remembers) the waterfall, and writes the answer.
async fn answer(
    request: &HttpRequest,
    state: &AppState,
    lookup: LookupRequest,
) -> Result<HttpResponse, ApiError> {
    let sha256 = Digest::sha256_of(&lookup.email);
    let address_quota = match spend_quota(
        &state.pool,
        &format!("address:{sha256}"),
        state.config.api_address_rate_limit,
    )
    .await?
    {
        Ok(quota) => quota,
        Err(quota) => {
            let mut response = ApiError(rate_limited(&quota)).error_response();
            quota.write_headers(response.headers_mut());
            return Ok(response);
        }
    };
    let result = match state.api_lookups.answers.get(&lookup).await {
        Some(result) => result,
        None => {
            let client_key = crate::client::limit_key_of(request, &state.config);
            let result = match run_waterfall(state, &lookup, &client_key).await {
                Ok(result) => Arc::new(result),
                Err(throttled) => return Ok(throttled_response(throttled)),
            };
            if !matches!(*result, LookupResult::Failure { .. }) {
                state
                    .api_lookups
                    .answers
                    .insert(lookup, result.clone())
                    .await;
            }
            result
        }
    };
    let mut response = match &*result {
        LookupResult::Answer(answer) => HttpResponse::Ok()
            .insert_header(("cache-control", "no-store"))
            .json(answer),
        LookupResult::Miss(tried) => error_with_tried(
            AppError::NotFound("no provider has an avatar for this address".into()),
            tried,
        ),
        LookupResult::Failure { tried, timeouts } => {
            let error = if *timeouts {
                AppError::GatewayTimeout("every provider asked timed out".into())
            } else {
                AppError::BadGateway("every provider asked failed".into())
            };
            error_with_tried(error, tried)
        }
    };
    // Show whichever quota is tighter: the caller's or the address's.
    let caller_quota = request.extensions().get::<Quota>().copied();
    let shown = match caller_quota {
        Some(caller) if caller.remaining <= address_quota.remaining => caller,
        _ => address_quota,
    };
    shown.write_headers(response.headers_mut());
    Ok(response)
}

/// 429 with `Retry-After`: the client's outbound probe budget is spent.
fn throttled_response(error: AppError) -> HttpResponse {
    let retry_after = error.retry_after();
    let mut response = ApiError(error).error_response();
    if let Some(seconds) = retry_after {
        response
            .headers_mut()
            .insert(actix_web::http::header::RETRY_AFTER, seconds.into());
    }
    response
}

/// Gravatar's error shape plus what was tried.
fn error_with_tried(error: AppError, tried: &[Tried]) -> HttpResponse {
    let status = error.status_code();
    let mut body = error_body(&error);
    body["tried"] = serde_json::to_value(tried).unwrap_or_default();
    HttpResponse::build(status)
        .insert_header(("cache-control", "no-store"))
        .json(body)
}

/// Tries each provider in order until one has the avatar. The first provider that would
/// reach another server spends one probe of the client's outbound budget (`Err`: spent).
async fn run_waterfall(
    state: &AppState,
    lookup: &LookupRequest,
    client_key: &str,
) -> Result<LookupResult, AppError> {
    let md5 = Digest::md5_of(&lookup.email);
    let sha256 = Digest::sha256_of(&lookup.email);
    let email_hash = EmailHash {
        md5: md5.to_hex(),
        sha256: sha256.to_hex(),
    };
    let mut tried = Vec::new();
    let mut probe_spent = false;
    for &provider in &lookup.providers {
        if !probe_spent && reaches_the_network(state, provider) {
            crate::outbound::probe_budget::spend_for(&state.pool, &state.config, client_key)
                .await?;
            probe_spent = true;
        }
        let started = Instant::now();
        let outcome = match provider {
            Provider::Local => ask_local(state, &sha256).await,
            Provider::Libravatar => ask_libravatar(state, &lookup.email, &md5).await,
            Provider::Gravatar => ask_gravatar(state, &md5).await,
        };
        tried.push(Tried {
            provider,
            outcome: outcome.code().to_string(),
            ms: started.elapsed().as_millis() as u64,
        });
        if let Outcome::Found {
            image,
            name,
            source_url,
        } = outcome
        {
            return Ok(LookupResult::Answer(LookupAnswer {
                success: true,
                email_hash,
                image,
                name,
                is_default: false,
                source: Source {
                    name: provider.name().to_string(),
                    url: source_url,
                },
                tried,
            }));
        }
    }
    let clean_miss = tried
        .iter()
        .any(|t| t.outcome == "not_found" || t.outcome == "no_server" || t.outcome == "disabled");
    if lookup.allow_default {
        let base = &state.config.base_url;
        return Ok(LookupResult::Answer(LookupAnswer {
            success: true,
            image: format!("{base}/avatar/{sha256}?d={}", state.config.default_style),
            email_hash,
            name: None,
            is_default: true,
            source: Source {
                name: "default".into(),
                url: base.clone(),
            },
            tried,
        }));
    }
    if clean_miss {
        Ok(LookupResult::Miss(tried))
    } else {
        let timeouts = tried.iter().all(|t| t.outcome == "timeout");
        Ok(LookupResult::Failure { tried, timeouts })
    }
}

/// Whether asking `provider` makes an outbound request (and so spends the probe budget).
fn reaches_the_network(state: &AppState, provider: Provider) -> bool {
    match provider {
        Provider::Local => false,
        Provider::Libravatar => true,
        Provider::Gravatar => state.gravatar.mode() != GravatarMode::Off,
    }
}

async fn ask_local(state: &AppState, sha256: &Digest) -> Outcome {
    match state.lookup.photo_for(sha256).await {
        Ok(Some(_)) => Outcome::Found {
            image: format!("{}/avatar/{sha256}", state.config.base_url),
            name: local_name(state, sha256).await,
            source_url: state.config.base_url.clone(),
        },
        Ok(None) => Outcome::NotFound,
        Err(error) => {
            tracing::error!(%error, "local lookup failed");
            Outcome::Failed
        }
    }
}

/// The display name of the address's owner, when their profile is public.
async fn local_name(state: &AppState, sha256: &Digest) -> Option<String> {
    crate::store::profiles::public_profile_for_digest(&state.pool, sha256)
        .await
        .ok()
        .flatten()
        .map(|profile| profile.display_name)
        .filter(|name| !name.is_empty())
}

async fn ask_libravatar(state: &AppState, email: &str, md5: &Digest) -> Outcome {
    let Some((_, domain)) = email.rsplit_once('@') else {
        return Outcome::NotFound;
    };
    // The https server if the domain publishes one (what https sites embed), else http.
    let published = match state.federation.discover(domain, true).await {
        Some(base) => Some(base),
        None => state.federation.discover(domain, false).await,
    };
    let base = match published {
        Some(base) => base,
        None if state.config.libravatar_fallback.is_empty() => {
            return Outcome::Unavailable("no_server");
        }
        None => state.config.libravatar_fallback.clone(),
    };
    if base == state.config.base_url {
        // The domain's server is this one: `local` is the authority, no need to ask ourselves.
        return Outcome::Unavailable("no_server");
    }
    let image = format!("{base}/avatar/{md5}");
    let probe = state
        .federation
        .prober
        .probe(&format!("{image}?s=80&d=404"))
        .await;
    // A server that does not answer as an avatar server is `error`, however it failed
    // (refused, timed out, HTTP 503): the API does not tell third parties' ports apart.
    match probe.code {
        "image" => Outcome::Found {
            image,
            name: None,
            source_url: base,
        },
        "not_found" => Outcome::NotFound,
        _ => Outcome::Failed,
    }
}

async fn ask_gravatar(state: &AppState, md5: &Digest) -> Outcome {
    let gravatar = &state.gravatar;
    if gravatar.mode() == GravatarMode::Off {
        return Outcome::Unavailable("disabled");
    }
    match gravatar.ask(*md5, 80, PhotoFormat::Png).await {
        UpstreamAnswer::Found(_) => Outcome::Found {
            // In proxy mode our own URL serves it, so visitors never talk to Gravatar.
            image: match gravatar.mode() {
                GravatarMode::Proxy => format!("{}/avatar/{md5}", state.config.base_url),
                _ => format!("{}/avatar/{md5}", gravatar.upstream()),
            },
            name: gravatar.profile_name(*md5).await,
            source_url: gravatar.upstream().to_string(),
        },
        UpstreamAnswer::Missing => Outcome::NotFound,
        UpstreamAnswer::Failed(reason) if reason.contains("timed out") => Outcome::TimedOut,
        UpstreamAnswer::Failed(_) | UpstreamAnswer::BackingOff => Outcome::Failed,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_are_normalised_and_bad_ones_refused_with_invalid_email() {
        let lookup = parse_lookup(Some("  Alice@Example.ORG "), None, None).unwrap();
        assert_eq!(lookup.email, "alice@example.org");
        assert_eq!(lookup.providers, Provider::ALL.to_vec());
        assert!(!lookup.allow_default);
        for bad in [
            None,
            Some(""),
            Some("no-at-sign"),
            Some("https://example.org/openid"),
        ] {
            let error = parse_lookup(bad, None, None).unwrap_err();
            assert_eq!(error.code(), "invalid_email", "{bad:?}");
        }
        let long = format!("{}@example.org", "a".repeat(400));
        assert_eq!(
            parse_lookup(Some(&long), None, None).unwrap_err().code(),
            "invalid_email"
        );
    }

    #[test]
    fn providers_keep_their_order_and_unknown_or_repeated_ones_are_refused() {
        let lookup = parse_lookup(
            Some("a@example.org"),
            Some(&["gravatar", " Local "]),
            Some(true),
        )
        .unwrap();
        assert_eq!(lookup.providers, vec![Provider::Gravatar, Provider::Local]);
        assert!(lookup.allow_default);
        for bad in [&["facebook"][..], &["local", "local"], &[], &[""]] {
            assert_eq!(
                parse_lookup(Some("a@example.org"), Some(bad), None)
                    .unwrap_err()
                    .code(),
                "invalid_providers",
                "{bad:?}"
            );
        }
    }

    #[test]
    fn flags_read_true_and_false_words() {
        assert!(parse_flag("TRUE").unwrap());
        assert!(parse_flag("1").unwrap());
        assert!(!parse_flag("false").unwrap());
        assert!(parse_flag("maybe").is_err());
    }

    #[test]
    fn json_bodies_take_a_string_or_an_array_of_providers() {
        let text: LookupBody =
            serde_json::from_str(r#"{"email":"a@example.org","providers":"local,gravatar"}"#)
                .unwrap();
        assert!(matches!(text.providers, Some(ProviderList::Text(_))));
        let names: LookupBody = serde_json::from_str(
            r#"{"email":"a@example.org","providers":["local"],"allow_default":true}"#,
        )
        .unwrap();
        assert!(matches!(names.providers, Some(ProviderList::Names(_))));
        assert!(serde_json::from_str::<LookupBody>(r#"{"email":"a@example.org","x":1}"#).is_err());
    }
}
