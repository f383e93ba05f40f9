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
//! Parsing is pure (`request`: [`parse_lookup`]) and the providers are asked in `waterfall`;
//! answers are cached for ten minutes (bounded); every
//! lookup also spends the looked-up address's hourly quota (`api_address_rate_limit`), and a
//! lookup that asks another server spends the client's outbound probe budget
//! ([`crate::outbound::probe_budget`]; 429 past it). The published Libravatar server is
//! reported only as answering (`found`/`not_found`) or not (`error`): never why not.

use std::sync::Arc;
use std::time::Duration;

use actix_web::{HttpMessage, HttpRequest, HttpResponse, ResponseError, web};
use serde::Serialize;
use utoipa::ToSchema;

use super::error::{ApiError, error_body};
use super::gate::{Quota, rate_limited, spend_quota};
use crate::error::AppError;
use crate::identity::Digest;
use crate::state::AppState;

mod request;
mod waterfall;

use request::parse_flag;
pub use request::{
    LookupBody, LookupRequest, MAX_REQUEST_BYTES, Named, Provider, ProviderList, Subject,
    parse_lookup,
};
use waterfall::run_waterfall;

const ANSWER_TTL: Duration = Duration::from_secs(600);
const MAX_CACHED_ANSWERS: u64 = 20_000;

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
pub(crate) enum LookupResult {
    Answer(LookupAnswer),
    /// Every provider answered cleanly and none had an avatar.
    Miss(Vec<Tried>),
    /// No provider could answer; `timeouts` when all of those failures were timeouts.
    Failure {
        tried: Vec<Tried>,
        timeouts: bool,
    },
}

impl LookupResult {
    /// What was tried, whatever came of it.
    pub fn tried(&self) -> &[Tried] {
        match self {
            LookupResult::Answer(answer) => &answer.tried,
            LookupResult::Miss(tried) | LookupResult::Failure { tried, .. } => tried,
        }
    }

    /// The error of a lookup that found nothing: 404 for a clean miss, 504 when every
    /// provider timed out, 502 otherwise.
    pub fn failure_error(&self) -> AppError {
        match self {
            LookupResult::Failure { timeouts: true, .. } => {
                AppError::GatewayTimeout("every provider asked timed out".into())
            }
            LookupResult::Failure { .. } => {
                AppError::BadGateway("every provider asked failed".into())
            }
            _ => AppError::NotFound("no provider has an avatar for this address".into()),
        }
    }
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

/// A lookup's outcome and the looked-up address's quota, before any API writes it.
pub(crate) struct Resolved {
    pub result: Arc<LookupResult>,
    pub address_quota: Quota,
}

/// Why a lookup was not run: a spent quota (with it), a spent outbound budget, a failure.
pub(crate) struct Refusal {
    pub error: AppError,
    pub quota: Option<Quota>,
}

impl From<AppError> for Refusal {
    fn from(error: AppError) -> Self {
        Refusal { error, quota: None }
    }
}

impl Refusal {
    /// The refusal in the lookup API's shape, with the quota's headers and `Retry-After`.
    fn into_response(self) -> HttpResponse {
        let retry_after = self.error.retry_after();
        let mut response = ApiError(self.error).error_response();
        if let Some(quota) = self.quota {
            quota.write_headers(response.headers_mut());
        }
        if let Some(seconds) = retry_after {
            response
                .headers_mut()
                .insert(actix_web::http::header::RETRY_AFTER, seconds.into());
        }
        response
    }
}

/// Spends the address's quota and runs (or remembers) the waterfall: shared by every API
/// that looks addresses up (this one and the AvatarAPI-compatible one).
pub(crate) async fn resolve(
    request: &HttpRequest,
    state: &AppState,
    lookup: LookupRequest,
) -> Result<Resolved, Refusal> {
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
            return Err(Refusal {
                error: rate_limited(&quota),
                quota: Some(quota),
            });
        }
    };
    // Phone lookups are remembered by the gateways themselves, each for its own times.
    let cacheable = matches!(lookup.subject, Subject::Email(_));
    if cacheable && let Some(result) = state.api_lookups.answers.get(&lookup).await {
        return Ok(Resolved {
            result,
            address_quota,
        });
    }
    let client_key = crate::client::limit_key_of(request, &state.config);
    let result = Arc::new(run_waterfall(state, &lookup, &client_key).await?);
    if cacheable && !matches!(*result, LookupResult::Failure { .. }) {
        state
            .api_lookups
            .answers
            .insert(lookup, result.clone())
            .await;
    }
    Ok(Resolved {
        result,
        address_quota,
    })
}

/// Whichever quota is tighter: the caller's (put there by the gate, or given) or the
/// address's.
pub(crate) fn tighter_quota(caller: Option<Quota>, address: Quota) -> Quota {
    match caller {
        Some(caller) if caller.remaining <= address.remaining => caller,
        _ => address,
    }
}

/// Runs the lookup and writes the answer in this API's shape.
async fn answer(
    request: &HttpRequest,
    state: &AppState,
    lookup: LookupRequest,
) -> Result<HttpResponse, ApiError> {
    let Resolved {
        result,
        address_quota,
    } = match resolve(request, state, lookup).await {
        Ok(resolved) => resolved,
        Err(refusal) => return Ok(refusal.into_response()),
    };
    let mut response = match &*result {
        LookupResult::Answer(answer) => HttpResponse::Ok()
            .insert_header(("cache-control", "no-store"))
            .json(answer),
        LookupResult::Miss(_) | LookupResult::Failure { .. } => {
            error_with_tried(result.failure_error(), result.tried())
        }
    };
    let caller_quota = request.extensions().get::<Quota>().copied();
    tighter_quota(caller_quota, address_quota).write_headers(response.headers_mut());
    Ok(response)
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
