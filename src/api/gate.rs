//! Who is calling the API and how much they may: `Authorization: Bearer` tokens, anonymous
//! access (allowed or not by `api_anonymous`), and rate limits with the `X-RateLimit-*`
//! headers on every API response, errors included (Gravatar's headers, real `429`s).
//!
//! Limits are fixed one-hour windows, counted in the shared throttles table before the work
//! (`store::throttles`), so a caller gets its budget once however many nodes or processes
//! answer it: per token (`api_token_rate_limit`), per client address without a token
//! (`api_anonymous_rate_limit`), and, for lookups, per email address whoever asks
//! (`api_address_rate_limit`, so nobody can hammer one address through many tokens). A
//! window starts at its key's first request.

use std::net::IpAddr;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderMap, HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{FromRequest, HttpMessage, HttpRequest, ResponseError, web};

use super::error::ApiError;
use super::scopes::{Scope, Scopes};
use crate::error::AppError;
use crate::state::AppState;
use crate::store::Db;
use crate::store::{api_tokens, throttles};

const WINDOW: Duration = Duration::from_secs(3600);
/// Longest `Authorization` value looked at.
const MAX_AUTHORIZATION_LEN: usize = 256;

/// The caller of an API request, put in the request's extensions by [`api_gate`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Caller {
    Token {
        token_id: i64,
        user_id: i64,
        scopes: Scopes,
    },
    Anonymous {
        client: IpAddr,
    },
}

/// What a gated route needs of its caller.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Needs {
    /// The read API: anyone (if `api_anonymous`), or a token with the `lookup` scope.
    Lookup,
    /// An account's own data: a token, whose scopes the handler checks
    /// ([`TokenOwner::require`]).
    Token,
}

/// Where a key stands in its window.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Quota {
    pub limit: u32,
    pub remaining: u32,
    /// Unix time (seconds) when the window ends.
    pub reset: u64,
}

impl Quota {
    /// Writes `X-RateLimit-Limit`, `-Remaining` and `-Reset`.
    pub fn write_headers(&self, headers: &mut HeaderMap) {
        for (name, value) in [
            ("x-ratelimit-limit", self.limit as u64),
            ("x-ratelimit-remaining", self.remaining as u64),
            ("x-ratelimit-reset", self.reset),
        ] {
            headers.insert(HeaderName::from_static(name), HeaderValue::from(value));
        }
    }
}

/// Counts one request for `key` against `limit` per hour in the shared throttles table:
/// `Ok` with what is left, or `Err` with the exhausted quota.
pub async fn spend_quota(
    pool: &Db,
    key: &str,
    limit: u32,
) -> Result<Result<Quota, Quota>, AppError> {
    spend_quota_at(pool, key, limit, crate::store::now()).await
}

async fn spend_quota_at(
    pool: &Db,
    key: &str,
    limit: u32,
    now: i64,
) -> Result<Result<Quota, Quota>, AppError> {
    let verdict = throttles::hit_at(pool, "api", key, limit, WINDOW.as_secs() as i64, now).await?;
    let quota = Quota {
        limit,
        remaining: verdict.remaining(),
        reset: u64::try_from(now).unwrap_or(0) + verdict.retry_after,
    };
    Ok(if verdict.allowed() {
        Ok(quota)
    } else {
        Err(quota)
    })
}

/// On a 429, `Retry-After`: the seconds until the quota's window ends (at least 1).
fn add_retry_after(status: StatusCode, headers: &mut HeaderMap, now: u64) {
    if status != StatusCode::TOO_MANY_REQUESTS {
        return;
    }
    let reset = headers
        .get("x-ratelimit-reset")
        .and_then(|value| value.to_str().ok()?.parse::<u64>().ok());
    if let Some(reset) = reset {
        let wait = reset.saturating_sub(now).max(1);
        headers.insert(header::RETRY_AFTER, HeaderValue::from(wait));
    }
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// The token in `Authorization: Bearer TOKEN`: `Ok(None)` without the header, `Err` when the
/// header is there but unusable.
pub fn bearer_token(value: Option<&HeaderValue>) -> Result<Option<String>, AppError> {
    let Some(value) = value else {
        return Ok(None);
    };
    let unusable =
        || AppError::Unauthorized("the Authorization header must be 'Bearer TOKEN'".into());
    if value.len() > MAX_AUTHORIZATION_LEN {
        return Err(unusable());
    }
    let text = value.to_str().map_err(|_| unusable())?.trim();
    let (scheme, token) = text.split_once(' ').ok_or_else(unusable)?;
    let token = token.trim();
    if !scheme.eq_ignore_ascii_case("bearer") || token.is_empty() || token.contains(' ') {
        return Err(unusable());
    }
    Ok(Some(token.to_string()))
}

/// Decides who calls and whether they may: the caller and their quota, or an error (with the
/// quota when the refusal is a rate limit).
async fn admit(
    request: &ServiceRequest,
    state: &AppState,
    needs: Needs,
) -> Result<(Caller, Quota), (AppError, Option<Quota>)> {
    let token = bearer_token(
        request
            .headers()
            .get(actix_web::http::header::AUTHORIZATION),
    )
    .map_err(|e| (e, None))?;
    let (caller, key, limit) = match token {
        Some(token) => {
            let found = api_tokens::authenticate(&state.pool, &token)
                .await
                .map_err(|e| (AppError::Database(e), None))?
                .ok_or_else(|| {
                    (
                        AppError::Unauthorized("the API token is unknown or revoked".into()),
                        None,
                    )
                })?;
            if needs == Needs::Lookup {
                found.scopes.require(Scope::Lookup).map_err(|e| (e, None))?;
            }
            let key = format!("token:{}", found.id);
            (
                Caller::Token {
                    token_id: found.id,
                    user_id: found.user_id,
                    scopes: found.scopes,
                },
                key,
                state.config.api_token_rate_limit,
            )
        }
        None => {
            let client = crate::client::client_ip_of(request.request(), &state.config);
            if needs == Needs::Token {
                return Err((
                    AppError::Unauthorized(
                        "this needs an API token of the account: send 'Authorization: Bearer TOKEN'"
                            .into(),
                    ),
                    None,
                ));
            }
            if !state.config.api_anonymous {
                return Err((
                    AppError::Unauthorized(
                        "this server's API needs a token: send 'Authorization: Bearer TOKEN'"
                            .into(),
                    ),
                    None,
                ));
            }
            // An IPv6 client counts by its /64 (see `client::limit_key`), so it cannot
            // rotate addresses for a fresh quota.
            let key = crate::client::limit_key(client, state.config.ipv6_client_prefix);
            (
                Caller::Anonymous { client },
                format!("client:{key}"),
                state.config.api_anonymous_rate_limit,
            )
        }
    };
    match spend_quota(&state.pool, &key, limit)
        .await
        .map_err(|e| (e, None))?
    {
        Ok(quota) => Ok((caller, quota)),
        Err(quota) => Err((rate_limited(&quota), Some(quota))),
    }
}

/// The account behind the request's token, for handlers behind [`account_gate`].
#[derive(Clone, Copy, Debug)]
pub struct TokenOwner {
    pub user_id: i64,
    scopes: Scopes,
}

impl TokenOwner {
    /// `Ok` when the token has `scope`, else `insufficient_scope` (403).
    pub fn require(&self, scope: Scope) -> Result<(), AppError> {
        self.scopes.require(scope)
    }
}

impl FromRequest for TokenOwner {
    type Error = ApiError;
    type Future = std::future::Ready<Result<TokenOwner, ApiError>>;

    fn from_request(request: &HttpRequest, _: &mut actix_web::dev::Payload) -> Self::Future {
        let owner = match request.extensions().get::<Caller>() {
            Some(Caller::Token {
                user_id, scopes, ..
            }) => Ok(TokenOwner {
                user_id: *user_id,
                scopes: *scopes,
            }),
            _ => Err(ApiError(AppError::Unauthorized(
                "this needs an API token of the account".into(),
            ))),
        };
        std::future::ready(owner)
    }
}

/// The 429 for an exhausted quota.
pub fn rate_limited(quota: &Quota) -> AppError {
    AppError::TooManyRequests(format!(
        "rate limit of {} requests per hour exceeded; try again after {}",
        quota.limit, quota.reset
    ))
}

/// Middleware for every read API route: admits the caller (see [`admit`]) and writes the
/// quota's headers on whatever the handler answers. A handler that spends another quota (the
/// per-address one) replaces the headers with the tighter of the two.
pub async fn api_gate(
    request: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    gate(request, next, Needs::Lookup).await
}

/// Middleware for the routes of an account's own data (`/api/v3/me/…`): as [`api_gate`],
/// but only a token gets in; the handler checks the token's scopes.
pub async fn account_gate(
    request: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    gate(request, next, Needs::Token).await
}

async fn gate(
    request: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
    needs: Needs,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let state = request
        .app_data::<web::Data<AppState>>()
        .cloned()
        .expect("the application state is registered");
    match admit(&request, &state, needs).await {
        Ok((caller, quota)) => {
            request.extensions_mut().insert(caller);
            request.extensions_mut().insert(quota);
            let mut response = next.call(request).await?.map_into_boxed_body();
            if !response.headers().contains_key("x-ratelimit-limit") {
                quota.write_headers(response.headers_mut());
            }
            add_retry_after(response.status(), response.headers_mut(), unix_now());
            Ok(response)
        }
        Err((error, quota)) => {
            let mut response = ApiError(error).error_response();
            if let Some(quota) = quota {
                quota.write_headers(response.headers_mut());
            }
            add_retry_after(response.status(), response.headers_mut(), unix_now());
            Ok(request.into_response(response))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_window_counts_down_refuses_at_zero_and_starts_again_after_an_hour() {
        let database = crate::store::testkit::temp_database().await;
        let take = |key: &'static str, now: i64| {
            let pool = database.pool.clone();
            async move { spend_quota_at(&pool, key, 2, now).await.unwrap() }
        };
        let first = take("k", 1000).await.unwrap();
        assert_eq!(
            first,
            Quota {
                limit: 2,
                remaining: 1,
                reset: 4600
            }
        );
        assert_eq!(take("k", 1001).await.unwrap().remaining, 0);
        assert_eq!(take("k", 1002).await.unwrap_err().remaining, 0);
        assert_eq!(take("other", 1002).await.unwrap().remaining, 1);
        let renewed = take("k", 4600).await.unwrap();
        assert_eq!((renewed.remaining, renewed.reset), (1, 8200));
    }

    #[test]
    fn bearer_tokens_are_read_strictly() {
        let header = |v: &str| HeaderValue::from_str(v).unwrap();
        assert_eq!(bearer_token(None).unwrap(), None);
        assert_eq!(
            bearer_token(Some(&header("Bearer abc"))).unwrap(),
            Some("abc".into())
        );
        assert_eq!(
            bearer_token(Some(&header("bearer  abc "))).unwrap(),
            Some("abc".into())
        );
        for bad in ["Basic abc", "Bearer", "Bearer a b", "abc"] {
            assert!(bearer_token(Some(&header(bad))).is_err(), "{bad}");
        }
        assert!(bearer_token(Some(&header(&"x".repeat(300)))).is_err());
    }

    #[test]
    fn quota_headers_are_written() {
        let mut headers = HeaderMap::new();
        Quota {
            limit: 10,
            remaining: 3,
            reset: 99,
        }
        .write_headers(&mut headers);
        assert_eq!(headers.get("x-ratelimit-limit").unwrap(), "10");
        assert_eq!(headers.get("x-ratelimit-remaining").unwrap(), "3");
        assert_eq!(headers.get("x-ratelimit-reset").unwrap(), "99");
    }

    #[test]
    fn only_a_429_says_when_to_retry() {
        let mut headers = HeaderMap::new();
        headers.insert(
            HeaderName::from_static("x-ratelimit-reset"),
            HeaderValue::from(160u64),
        );
        add_retry_after(StatusCode::OK, &mut headers, 100);
        assert!(headers.get(header::RETRY_AFTER).is_none());
        add_retry_after(StatusCode::TOO_MANY_REQUESTS, &mut headers, 100);
        assert_eq!(headers.get(header::RETRY_AFTER).unwrap(), "60");
        add_retry_after(StatusCode::TOO_MANY_REQUESTS, &mut headers, 500);
        assert_eq!(headers.get(header::RETRY_AFTER).unwrap(), "1", "never 0");
    }
}
