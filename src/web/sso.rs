//! Single sign-on's two pages: `GET /login/sso` sends the browser to the provider, and
//! `GET /login/sso/callback` brings it back signed in. The flow is [`crate::sso`]'s; which
//! account the person is and what comes along is [`landing`]'s.
//!
//! The start is a plain link (a GET): starting a login at one's own provider changes nothing
//! here but a pending row, counted against the client's limit, and a form posting to the
//! provider would be stopped by the pages' `form-action 'self'`. What protects the callback
//! is the `state`: it must match both a pending login (taken once, within its lifetime) and
//! the cookie set in the browser that started it, so a callback link planted in another
//! browser (login CSRF) or replayed finds nothing. Callbacks count against the client's
//! login limit like password logins.

mod callback_query;
mod landing;

use actix_web::http::StatusCode;
use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};

use super::account::message;
use super::auth::{self, LOGINS_PER_CLIENT, Limit, constant_time_eq, token_hash};
use super::session::{Visitor, build_cookie, start_session};
use crate::client::limit_key_of;
use crate::error::AppError;
use crate::sso::{LOGIN_LIFETIME_SECS, SsoError, local_return_path};
use crate::state::AppState;
use crate::store::oidc::{self, PendingLogin};
use crate::store::users;
use callback_query::CallbackQuery;

/// The cookie holding the `state` of the login this browser started.
const STATE_COOKIE: &str = "cameo_sso_state";

/// Logins sent to the provider from one client key.
pub const SSO_STARTS_PER_CLIENT: Limit = Limit {
    scope: "sso_start",
    max: 20,
    window_secs: 900,
    refusal: "Too many sign-ins were started from your network.",
};

const FAILED: &str = "Single sign-on did not work";

pub async fn start(
    request: HttpRequest,
    visitor: Visitor,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    let Some(sso) = state.sso.clone() else {
        return Err(AppError::NotFound(
            "This server has no single sign-on.".into(),
        ));
    };
    let client = limit_key_of(&request, &state.config);
    auth::take(&state.pool, SSO_STARTS_PER_CLIENT, &client).await?;
    let begun = match sso.begin().await {
        Ok(begun) => begun,
        Err(error) => return refused(&visitor, &state, error),
    };
    let next = form_urlencoded::parse(request.query_string().as_bytes())
        .find(|(key, _)| key == "next")
        .map(|(_, value)| value.into_owned())
        .unwrap_or_default();
    let pending = PendingLogin {
        nonce: begun.nonce,
        pkce_verifier: begun.pkce_verifier,
        return_to: local_return_path(&next),
        expires_at: crate::store::now() + LOGIN_LIFETIME_SECS,
    };
    oidc::save_login(&state.pool, &token_hash(&begun.state), &pending).await?;
    let secure = state.config.base_url.starts_with("https://");
    let cookie = build_cookie(STATE_COOKIE, begun.state, secure, Some(LOGIN_LIFETIME_SECS));
    let mut response = HttpResponse::SeeOther()
        .insert_header((header::LOCATION, begun.authorize_url))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .finish();
    response
        .add_cookie(&cookie)
        .map_err(|e| AppError::Internal(e.to_string()))?;
    Ok(response)
}

pub async fn callback(
    request: HttpRequest,
    visitor: Visitor,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    let Some(sso) = state.sso.clone() else {
        return Err(AppError::NotFound(
            "This server has no single sign-on.".into(),
        ));
    };
    let query = CallbackQuery::parse(request.query_string())?;
    // The browser's own login, taken once whatever happens next: a callback is never
    // answered twice.
    let cookie = request.cookie(STATE_COOKIE).map(|c| c.value().to_string());
    let pending = match (&query.state, &cookie) {
        (Some(sent), Some(kept)) if constant_time_eq(sent, kept) => {
            oidc::take_login(&state.pool, &token_hash(sent)).await?
        }
        _ => None,
    };
    if let Some(reason) = query.provider_refusal() {
        return message(
            &visitor,
            &state,
            StatusCode::FORBIDDEN,
            FAILED,
            reason,
            retry(),
        );
    }
    let (Some(pending), Some(code)) = (pending, query.code.as_deref()) else {
        let text = "This sign-in did not start in this browser, has expired, or was used \
                    already. Start again from the login page."
            .to_string();
        return message(
            &visitor,
            &state,
            StatusCode::BAD_REQUEST,
            FAILED,
            text,
            retry(),
        );
    };
    let client = limit_key_of(&request, &state.config);
    auth::take(&state.pool, LOGINS_PER_CLIENT, &client).await?;
    let identity = match sso
        .finish(code, &pending.nonce, &pending.pkce_verifier)
        .await
    {
        Ok(identity) => identity,
        Err(error) => return refused(&visitor, &state, error),
    };
    let landed = match landing::land(&state, sso.issuer(), &identity).await? {
        Ok(landed) => landed,
        Err(refusal) => {
            let text = refusal.to_string();
            return message(
                &visitor,
                &state,
                StatusCode::FORBIDDEN,
                FAILED,
                text,
                retry(),
            );
        }
    };
    if let Some(old) = &visitor.session_hash {
        users::delete_session(&state.pool, old).await?;
    }
    let session = start_session(&state, landed.user_id).await?;
    let mut response = if landed.notes.is_empty() {
        HttpResponse::SeeOther()
            .insert_header((header::LOCATION, pending.return_to.as_str()))
            .finish()
    } else {
        // Something to tell before going on: a page saying it, linking on.
        let signed_in = Visitor::signed_in(&state, &session).await?;
        message(
            &signed_in,
            &state,
            StatusCode::OK,
            "You are logged in",
            landed.notes.join(" "),
            Some((pending.return_to.as_str(), "Continue")),
        )?
    };
    let secure = state.config.base_url.starts_with("https://");
    let mut gone = build_cookie(STATE_COOKIE, String::new(), secure, Some(0));
    gone.make_removal();
    response
        .add_cookie(&session)
        .and_then(|()| response.add_cookie(&gone))
        .map_err(|e| AppError::Internal(e.to_string()))?;
    Ok(response)
}

fn retry() -> Option<(&'static str, &'static str)> {
    Some(("/login", "Back to the login page"))
}

/// A failed sign-in as a page: the provider unreachable (502, logged), or its token not
/// believed (403).
fn refused(visitor: &Visitor, state: &AppState, error: SsoError) -> Result<HttpResponse, AppError> {
    let status = match &error {
        SsoError::Provider(cause) => {
            tracing::warn!(%cause, "single sign-on: the provider failed");
            StatusCode::BAD_GATEWAY
        }
        SsoError::Token(refusal) => {
            tracing::info!(%refusal, "single sign-on: an ID token was refused");
            StatusCode::FORBIDDEN
        }
    };
    message(visitor, state, status, FAILED, error.to_string(), retry())
}
