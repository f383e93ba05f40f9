//! `GET`/`POST /api/v1/lookup`: an email address (or a phone number, `phone=`) → its avatar
//! URL, name and source, trying providers in order and stopping at the first match (the
//! waterfall of `../shared/seeds/000_…`, with real HTTP statuses instead of
//! 200-for-everything). Phone numbers and WhatsApp chats go to `local`, `gowa` and
//! `greenapi` instead ([`super::phone_lookup`]).
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
use super::phone_lookup;
use crate::config::GravatarMode;
use crate::error::AppError;
use crate::gravatar::UpstreamAnswer;
use crate::identity::{Digest, Identity};
use crate::imaging::PhotoFormat;
use crate::phone::ChatId;
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
    Gowa,
    Greenapi,
}

impl Provider {
    pub const ALL: [Provider; 5] = [
        Provider::Local,
        Provider::Libravatar,
        Provider::Gravatar,
        Provider::Gowa,
        Provider::Greenapi,
    ];
    /// The default order of an email lookup.
    pub const FOR_EMAIL: [Provider; 3] =
        [Provider::Local, Provider::Libravatar, Provider::Gravatar];

    pub fn name(self) -> &'static str {
        match self {
            Provider::Local => "local",
            Provider::Libravatar => "libravatar",
            Provider::Gravatar => "gravatar",
            Provider::Gowa => "gowa",
            Provider::Greenapi => "greenapi",
        }
    }

    fn from_name(name: &str) -> Option<Provider> {
        Provider::ALL.into_iter().find(|p| p.name() == name)
    }
}

/// What is looked up.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Subject {
    /// Trimmed and lowercased.
    Email(String),
    /// A phone number (E.164) or a WhatsApp group.
    Chat(ChatId),
}

/// A validated lookup.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct LookupRequest {
    pub subject: Subject,
    pub providers: Vec<Provider>,
    pub allow_default: bool,
}

/// The JSON body of `POST /api/v1/lookup`: `email` or `phone`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LookupBody {
    /// The email address to look up.
    #[serde(default)]
    pub email: Option<String>,
    /// Or a phone number: `+15551234567`, a WhatsApp chat id (`15551234567@c.us`,
    /// `…@s.whatsapp.net`, a group's `…@g.us`), or a national number read in the server's
    /// `phone_default_region`. Default providers then: `local,gowa,greenapi`.
    #[serde(default)]
    pub phone: Option<String>,
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

/// What a lookup names, as given: an email or a phone (exactly one).
#[derive(Clone, Copy, Debug, Default)]
pub struct Named<'a> {
    pub email: Option<&'a str>,
    pub phone: Option<&'a str>,
    /// Where national phone numbers are read (`phone_default_region`).
    pub region: Option<phonenumber::country::Id>,
}

/// Validates an email or a phone, a provider list and the `allow_default` flag.
pub fn parse_lookup(
    named: Named<'_>,
    providers: Option<&[&str]>,
    allow_default: Option<bool>,
) -> Result<LookupRequest, AppError> {
    let subject = match (named.email, named.phone) {
        (Some(_), Some(_)) => {
            return Err(AppError::Invalid(
                "invalid_parameter",
                "give email or phone, not both".into(),
            ));
        }
        (None, Some(phone)) => Subject::Chat(phone_lookup::parse_chat(phone, named.region)?),
        (email, None) => Subject::Email(parse_email(email)?),
    };
    let providers = match providers {
        None => phone_lookup::default_providers(&subject),
        Some(names) => parse_providers(names)?,
    };
    phone_lookup::check_providers(&subject, &providers)?;
    Ok(LookupRequest {
        subject,
        providers,
        allow_default: allow_default.unwrap_or(false),
    })
}

fn parse_email(email: Option<&str>) -> Result<String, AppError> {
    let email = email.map(str::trim).unwrap_or_default();
    if email.is_empty() {
        return Err(AppError::Invalid(
            "invalid_email",
            "the email (or phone) parameter is required".into(),
        ));
    }
    match Identity::parse(email) {
        // RFC 5321's limit on a forward path.
        Ok(Identity::Email(email)) if email.len() <= MAX_EMAIL_LEN => Ok(email),
        _ => Err(AppError::Invalid(
            "invalid_email",
            "the email parameter is not a valid email address".into(),
        )),
    }
}

fn parse_providers(names: &[&str]) -> Result<Vec<Provider>, AppError> {
    let mut chosen = Vec::new();
    for name in names.iter().map(|n| n.trim().to_ascii_lowercase()) {
        let provider = Provider::from_name(&name).ok_or_else(|| {
            AppError::Invalid(
                "invalid_providers",
                "providers are local, libravatar, gravatar, gowa and greenapi, comma-separated"
                    .into(),
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
    Ok(chosen)
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
    /// `found`, `not_found`, `no_server`, `disabled`, `busy` (a gateway asked too often
    /// already), `timeout` or `error`.
    pub outcome: String,
    /// Time spent, in milliseconds (0 when answered from memory).
    pub ms: u64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, ToSchema)]
pub struct EmailHash {
    pub md5: String,
    pub sha256: String,
}

/// The digest a phone number's (or WhatsApp group's) avatar is served under.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, ToSchema)]
pub struct PhoneHash {
    /// SHA-256 of the E.164 number (of `ID@g.us` for a group): `/avatar/HASH`.
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
    /// For an email lookup.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email_hash: Option<EmailHash>,
    /// For a phone lookup.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub phone_hash: Option<PhoneHash>,
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

impl LookupAnswer {
    /// An answer for `subject` with everything but the image decided by the caller.
    fn for_subject(subject: &Subject, image: String, source: Source, tried: Vec<Tried>) -> Self {
        let (email_hash, phone_hash) = match subject {
            Subject::Email(email) => (
                Some(EmailHash {
                    md5: Digest::md5_of(email).to_hex(),
                    sha256: Digest::sha256_of(email).to_hex(),
                }),
                None,
            ),
            Subject::Chat(chat) => (
                None,
                Some(PhoneHash {
                    sha256: chat.digest().to_hex(),
                }),
            ),
        };
        LookupAnswer {
            success: true,
            email_hash,
            phone_hash,
            image,
            name: None,
            is_default: false,
            source,
            tried,
        }
    }
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
        ("email" = Option<String>, Query, description = "The email address to look up (or give phone)"),
        ("phone" = Option<String>, Query, description = "A phone number (+15551234567, or national in the server's default region) or a WhatsApp chat id (15551234567@c.us, …@s.whatsapp.net, a group's …@g.us)"),
        ("providers" = Option<String>, Query, description = "Comma-separated providers in order: local, libravatar, gravatar for an email (the default); local, gowa, greenapi for a phone (the default; groups: gowa, greenapi)"),
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
    let (mut email, mut phone, mut providers, mut allow_default) = (None, None, None, None);
    for (name, value) in form_urlencoded::parse(query.as_bytes()) {
        match name.as_ref() {
            "email" => email = Some(value.into_owned()),
            "phone" => phone = Some(value.into_owned()),
            "providers" | "provider" => providers = Some(value.into_owned()),
            "allow_default" => allow_default = Some(parse_flag(&value)?),
            _ => {}
        }
    }
    let names: Option<Vec<&str>> = providers.as_deref().map(|p| p.split(',').collect());
    let named = Named {
        email: email.as_deref(),
        phone: phone.as_deref(),
        region: state.config.phone_default_region,
    };
    let lookup = parse_lookup(named, names.as_deref(), allow_default)?;
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
    let named = Named {
        email: body.email.as_deref(),
        phone: body.phone.as_deref(),
        region: state.config.phone_default_region,
    };
    let lookup = parse_lookup(named, names.as_deref(), body.allow_default)?;
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
    let sha256 = lookup.subject.avatar_digest();
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
    // Phone lookups are remembered by the gateways themselves, each for its own times.
    let cacheable = matches!(lookup.subject, Subject::Email(_));
    let remembered = if cacheable {
        state.api_lookups.answers.get(&lookup).await
    } else {
        None
    };
    let result = match remembered {
        Some(result) => result,
        None => {
            let client_key = crate::client::limit_key_of(request, &state.config);
            let result = match run_waterfall(state, &lookup, &client_key).await {
                Ok(result) => Arc::new(result),
                Err(throttled) => return Ok(throttled_response(throttled)),
            };
            if cacheable && !matches!(*result, LookupResult::Failure { .. }) {
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
    let sha256 = lookup.subject.avatar_digest();
    let mut tried = Vec::new();
    let mut probe_spent = false;
    for &provider in &lookup.providers {
        if !probe_spent && reaches_the_network(state, provider) {
            crate::outbound::probe_budget::spend_for(&state.pool, &state.config, client_key)
                .await?;
            probe_spent = true;
        }
        let started = Instant::now();
        let outcome = match &lookup.subject {
            Subject::Email(email) => ask_for_email(state, provider, email).await,
            Subject::Chat(chat) => phone_lookup::ask(state, provider, chat).await,
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
            let source = Source {
                name: provider.name().to_string(),
                url: source_url,
            };
            let answer = LookupAnswer::for_subject(&lookup.subject, image, source, tried);
            return Ok(LookupResult::Answer(LookupAnswer { name, ..answer }));
        }
    }
    let clean_miss = tried
        .iter()
        .any(|t| t.outcome == "not_found" || t.outcome == "no_server" || t.outcome == "disabled");
    if lookup.allow_default {
        let base = &state.config.base_url;
        let image = format!("{base}/avatar/{sha256}?d={}", state.config.default_style);
        let source = Source {
            name: "default".into(),
            url: base.clone(),
        };
        let answer = LookupAnswer::for_subject(&lookup.subject, image, source, tried);
        return Ok(LookupResult::Answer(LookupAnswer {
            is_default: true,
            ..answer
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
        Provider::Gowa | Provider::Greenapi => state
            .gateways
            .is_enabled(phone_lookup::gateway_of(provider)),
    }
}

impl Subject {
    /// The SHA-256 digest its avatar is served under.
    pub fn avatar_digest(&self) -> Digest {
        match self {
            Subject::Email(email) => Digest::sha256_of(email),
            Subject::Chat(chat) => chat.digest(),
        }
    }
}

/// One email provider's answer (phone-only providers never get here: `check_providers`).
async fn ask_for_email(state: &AppState, provider: Provider, email: &str) -> Outcome {
    let md5 = Digest::md5_of(email);
    match provider {
        Provider::Local => ask_local(state, &Digest::sha256_of(email)).await,
        Provider::Libravatar => ask_libravatar(state, email, &md5).await,
        Provider::Gravatar => ask_gravatar(state, &md5).await,
        Provider::Gowa | Provider::Greenapi => Outcome::Unavailable("disabled"),
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

    fn email(text: &str) -> Named<'_> {
        Named {
            email: Some(text),
            ..Named::default()
        }
    }

    #[test]
    fn emails_are_normalised_and_bad_ones_refused_with_invalid_email() {
        let lookup = parse_lookup(email("  Alice@Example.ORG "), None, None).unwrap();
        assert_eq!(lookup.subject, Subject::Email("alice@example.org".into()));
        assert_eq!(lookup.providers, Provider::FOR_EMAIL.to_vec());
        assert!(!lookup.allow_default);
        for bad in [
            None,
            Some(""),
            Some("no-at-sign"),
            Some("https://example.org/openid"),
        ] {
            let named = Named {
                email: bad,
                ..Named::default()
            };
            let error = parse_lookup(named, None, None).unwrap_err();
            assert_eq!(error.code(), "invalid_email", "{bad:?}");
        }
        let long = format!("{}@example.org", "a".repeat(400));
        assert_eq!(
            parse_lookup(email(&long), None, None).unwrap_err().code(),
            "invalid_email"
        );
    }

    #[test]
    fn providers_keep_their_order_and_unknown_or_repeated_ones_are_refused() {
        let lookup = parse_lookup(
            email("a@example.org"),
            Some(&["gravatar", " Local "]),
            Some(true),
        )
        .unwrap();
        assert_eq!(lookup.providers, vec![Provider::Gravatar, Provider::Local]);
        assert!(lookup.allow_default);
        for bad in [&["facebook"][..], &["local", "local"], &[], &[""]] {
            assert_eq!(
                parse_lookup(email("a@example.org"), Some(bad), None)
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
