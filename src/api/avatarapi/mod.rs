//! AvatarAPI's interface (seed 000), so an AvatarAPI client switches to Cameo by changing its
//! base URL: `POST /v2/api.aspx` (a lookup), `POST /v2/credits.aspx` (the caller's remaining
//! budget) and `GET|POST /v2/providers.aspx` (Cameo's providers).
//!
//! - `username` and `password` are the name and the secret of a Cameo API token with the
//!   `lookup` scope (made on `/account/tokens` or with `cameo token create`). A lookup spends
//!   one request of that token's hourly budget (`api_token_rate_limit`), the same budget its
//!   `Authorization: Bearer` calls spend, plus the looked-up address's (`api_address_rate_limit`).
//!   `credits` is what is left of the token's budget, read without spending any.
//! - Wrong credentials are counted per client (at most [`MAX_FAILED_LOGINS`] an hour), so
//!   secrets cannot be guessed at speed.
//! - As AvatarAPI does, every outcome of a readable request is HTTP 200 with `Success`/
//!   `success` telling (its clients rely on that); a body that is not JSON, or is too large,
//!   is a 400, and a server fault keeps its 5xx. `X-RateLimit-*` is on every answer and
//!   `Retry-After` on an exhausted budget.
//!
//! The lookup itself is the one of `/api/v1/lookup` ([`super::lookup::resolve`]): the same
//! providers, cache and limits; only the shapes differ ([`shape`]).

mod shape;

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpRequest, HttpResponse, ResponseError, web};
use serde::Serialize;

use super::gate::{Quota, spend_quota};
use super::lookup::{
    LookupResult, MAX_REQUEST_BYTES, Named, Provider, Refusal, Resolved, parse_lookup, resolve,
    tighter_quota,
};
use super::scopes::Scope;
use crate::error::AppError;
use crate::state::AppState;
use crate::store::api_tokens::{self, AuthenticatedToken};
use crate::store::{throttles, users};
use shape::{AvatarApiBody, Failed, choose_providers, failure_raw_data, found, provider_entry};

/// Wrong `username`/`password` pairs one client may send an hour.
pub const MAX_FAILED_LOGINS: u32 = 20;
const HOUR_SECS: i64 = 3600;

/// A failure in AvatarAPI's shape: HTTP 200 for what its clients expect as a result, the
/// error's own status for an unreadable request or a server fault.
struct Failure {
    error: AppError,
    quota: Option<Quota>,
    raw_data: Option<String>,
}

impl From<AppError> for Failure {
    fn from(error: AppError) -> Self {
        Failure {
            error,
            quota: None,
            raw_data: None,
        }
    }
}

impl From<Refusal> for Failure {
    fn from(refusal: Refusal) -> Self {
        Failure {
            error: refusal.error,
            quota: refusal.quota,
            raw_data: None,
        }
    }
}

impl Failure {
    fn into_response(self) -> HttpResponse {
        let status = match self.error.status_code() {
            status if status.is_server_error() => status,
            StatusCode::PAYLOAD_TOO_LARGE => status_of_unreadable(),
            _ if matches!(self.error, AppError::BadRequest(_)) => status_of_unreadable(),
            _ => StatusCode::OK,
        };
        let retry_after = self.error.retry_after().or_else(|| {
            matches!(self.error, AppError::TooManyRequests(_))
                .then(|| self.quota.map(|q| seconds_until(q.reset)))
                .flatten()
        });
        let mut response = json(
            status,
            &Failed::new(self.error.public_message(), self.raw_data),
        );
        if let Some(quota) = self.quota {
            quota.write_headers(response.headers_mut());
        }
        if let Some(seconds) = retry_after {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(seconds.max(1)));
        }
        response
    }
}

/// An unreadable body (not JSON, too large) is the one request error with a 4xx here.
fn status_of_unreadable() -> StatusCode {
    StatusCode::BAD_REQUEST
}

fn seconds_until(reset: u64) -> u64 {
    let now = u64::try_from(crate::store::now()).unwrap_or(0);
    reset.saturating_sub(now)
}

fn json(status: StatusCode, body: &impl Serialize) -> HttpResponse {
    HttpResponse::build(status)
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header((header::ACCESS_CONTROL_ALLOW_ORIGIN, "*"))
        .json(body)
}

/// Reads the body, whatever its content type says (AvatarAPI's examples send `text/plain`).
fn read_body(body: &[u8]) -> Result<AvatarApiBody, AppError> {
    if body.len() > MAX_REQUEST_BYTES {
        return Err(AppError::BadRequest(format!(
            "the request body is larger than {MAX_REQUEST_BYTES} bytes"
        )));
    }
    serde_json::from_slice(body)
        .map_err(|e| AppError::BadRequest(format!("the body is not the JSON expected: {e}")))
}

/// The token named `username` whose secret is `password`, with the `lookup` scope. A wrong
/// pair costs the client one of its [`MAX_FAILED_LOGINS`].
async fn authenticate(
    request: &HttpRequest,
    state: &AppState,
    body: &AvatarApiBody,
) -> Result<AuthenticatedToken, Failure> {
    let (Some(username), Some(password)) = (body.username.as_deref(), body.password.as_deref())
    else {
        return Err(AppError::Unauthorized(
            "username and password are required: the name and secret of an API token".into(),
        )
        .into());
    };
    let client = crate::client::limit_key_of(request, &state.config);
    let key = format!("avatarapi:{client}");
    let spent = throttles::peek(&state.pool, "api", &key, MAX_FAILED_LOGINS, HOUR_SECS)
        .await
        .map_err(AppError::from)?;
    if let Some(verdict) = spent.filter(|v| v.remaining() == 0) {
        return Err(AppError::Throttled {
            reason: "too many wrong usernames or passwords from this address; try later".into(),
            retry_after: verdict.retry_after,
        }
        .into());
    }
    let token = match api_tokens::authenticate(&state.pool, password.trim())
        .await
        .map_err(AppError::from)?
    {
        Some(token) if token.name == username.trim() => token,
        _ => {
            spend_quota(&state.pool, &key, MAX_FAILED_LOGINS)
                .await?
                .ok();
            return Err(AppError::Unauthorized(
                "invalid username or password: they are an API token's name and secret".into(),
            )
            .into());
        }
    };
    token.scopes.require(Scope::Lookup)?;
    Ok(token)
}

/// `POST /v2/api.aspx`: a lookup, answered in AvatarAPI's shape.
pub async fn lookup(
    request: HttpRequest,
    state: web::Data<AppState>,
    body: web::Bytes,
) -> HttpResponse {
    match run_lookup(&request, &state, &body).await {
        Ok(response) => response,
        Err(failure) => failure.into_response(),
    }
}

async fn run_lookup(
    request: &HttpRequest,
    state: &AppState,
    body: &[u8],
) -> Result<HttpResponse, Failure> {
    let body = read_body(body)?;
    let token = authenticate(request, state, &body).await?;
    let token_quota = match spend_quota(
        &state.pool,
        &format!("token:{}", token.id),
        state.config.api_token_rate_limit,
    )
    .await?
    {
        Ok(quota) => quota,
        Err(quota) => {
            return Err(Failure {
                error: AppError::TooManyRequests(format!(
                    "out of credits: this token's {} requests this hour are used",
                    quota.limit
                )),
                quota: Some(quota),
                raw_data: None,
            });
        }
    };
    let with_quota = |failure: Failure| Failure {
        quota: failure.quota.or(Some(token_quota)),
        ..failure
    };
    let choice = choose_providers(body.provider.as_deref()).map_err(|e| with_quota(e.into()))?;
    let allow_default = match &body.allow_default {
        Some(flag) => Some(flag.value().map_err(|e| with_quota(e.into()))?),
        None => None,
    };
    let names: Vec<&str> = choice.providers.iter().map(|p| p.name()).collect();
    let named = Named {
        email: body.email.as_deref(),
        phone: None,
        region: None,
    };
    let lookup =
        parse_lookup(named, Some(&names), allow_default).map_err(|e| with_quota(e.into()))?;
    let Resolved {
        result,
        address_quota,
    } = resolve(request, state, lookup)
        .await
        .map_err(|refusal| with_quota(refusal.into()))?;
    let shown = tighter_quota(Some(token_quota), address_quota);
    let mut response = match &*result {
        LookupResult::Answer(answer) => json(StatusCode::OK, &found(answer, &choice.skipped)),
        LookupResult::Miss(tried) => json(
            StatusCode::OK,
            &Failed::new(
                shape::NOT_FOUND.into(),
                Some(failure_raw_data(tried, &choice.skipped)),
            ),
        ),
        LookupResult::Failure { tried, .. } => {
            return Err(Failure {
                error: result.failure_error(),
                quota: Some(shown),
                raw_data: Some(failure_raw_data(tried, &choice.skipped)),
            });
        }
    };
    shown.write_headers(response.headers_mut());
    Ok(response)
}

/// What the credits call answers.
#[derive(Debug, Serialize)]
struct Credits {
    /// The token owner's login address.
    email: String,
    /// Requests left in the token's hourly budget.
    credits: u32,
}

/// `POST /v2/credits.aspx`: what is left of the token's budget, spending none of it.
pub async fn credits(
    request: HttpRequest,
    state: web::Data<AppState>,
    body: web::Bytes,
) -> HttpResponse {
    let answer = async {
        let body = read_body(&body)?;
        let token = authenticate(&request, &state, &body).await?;
        let limit = state.config.api_token_rate_limit;
        let key = format!("token:{}", token.id);
        let window = throttles::peek(&state.pool, "api", &key, limit, HOUR_SECS)
            .await
            .map_err(AppError::from)?;
        let now = u64::try_from(crate::store::now()).unwrap_or(0);
        let quota = Quota {
            limit,
            remaining: window.map_or(limit, |v| v.remaining()),
            reset: now + window.map_or(HOUR_SECS as u64, |v| v.retry_after),
        };
        let email = users::by_id(&state.pool, token.user_id)
            .await
            .map_err(AppError::from)?
            .map(|user| user.email)
            .unwrap_or_default();
        let mut response = json(
            StatusCode::OK,
            &Credits {
                email,
                credits: quota.remaining,
            },
        );
        quota.write_headers(response.headers_mut());
        Ok::<_, Failure>(response)
    };
    answer.await.unwrap_or_else(Failure::into_response)
}

/// `GET|POST /v2/providers.aspx`: the email providers this server has switched on.
pub async fn providers(state: web::Data<AppState>) -> HttpResponse {
    let entries: Vec<_> = Provider::FOR_EMAIL
        .into_iter()
        .filter(|p| {
            *p != Provider::Gravatar
                || state.config.gravatar_mode != crate::config::GravatarMode::Off
        })
        .map(provider_entry)
        .collect();
    json(StatusCode::OK, &entries)
}
