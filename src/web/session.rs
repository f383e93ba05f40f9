//! Who is asking: the session cookie, the CSRF token, and the cookies that carry them.
//!
//! Sessions are server-side (only a SHA-256 of the cookie value is stored); cookies are
//! HttpOnly, SameSite=Lax, and Secure when `base_url` is https. CSRF: a logged-in visitor's
//! forms carry the session's token; an anonymous visitor's forms carry a random token that
//! is also set as a cookie (double submit). Either way a POST whose token does not match is
//! refused before anything changes.

use std::future::Future;
use std::pin::Pin;

use actix_web::cookie::{Cookie, SameSite, time::Duration as CookieDuration};
use actix_web::{FromRequest, HttpRequest, HttpResponse, web};

use crate::error::AppError;
use crate::secrets::{constant_time_eq, random_token, token_hash};
use crate::state::AppState;
use crate::store::users::{self, SessionUser};

pub const SESSION_COOKIE: &str = "cameo_session";
pub const CSRF_COOKIE: &str = "cameo_csrf";

/// The visitor of a page: maybe logged in, always with a CSRF token for its forms.
pub struct Visitor {
    pub user: Option<SessionUser>,
    /// The hash of the session cookie, when logged in.
    pub session_hash: Option<String>,
    pub csrf: String,
    /// An anonymous visitor's token that still has to be sent as a cookie.
    new_csrf_cookie: bool,
    secure: bool,
}

impl Visitor {
    async fn from_request(request: HttpRequest) -> Result<Visitor, AppError> {
        let state = request
            .app_data::<web::Data<AppState>>()
            .ok_or_else(|| AppError::Internal("application state missing".into()))?;
        let secure = state.config.base_url.starts_with("https://");
        if let Some(cookie) = request.cookie(SESSION_COOKIE) {
            let hash = token_hash(cookie.value());
            if let Some(user) = users::session_user(&state.pool, &hash).await? {
                let csrf = user.csrf_token.clone();
                return Ok(Visitor {
                    user: Some(user),
                    session_hash: Some(hash),
                    csrf,
                    new_csrf_cookie: false,
                    secure,
                });
            }
        }
        let existing = request
            .cookie(CSRF_COOKIE)
            .map(|c| c.value().to_string())
            .filter(|value| value.len() == 64 && value.bytes().all(|b| b.is_ascii_hexdigit()));
        let new_csrf_cookie = existing.is_none();
        Ok(Visitor {
            user: None,
            session_hash: None,
            csrf: existing.unwrap_or_else(random_token),
            new_csrf_cookie,
            secure,
        })
    }

    /// A logged-out visitor with a fresh CSRF token (after the account was deleted).
    pub fn anonymous(other: &Visitor) -> Visitor {
        Visitor {
            user: None,
            session_hash: None,
            csrf: random_token(),
            new_csrf_cookie: true,
            secure: other.secure,
        }
    }

    /// The visitor a response signs in with `session` (a cookie just made by
    /// [`start_session`]), for a page answered in that same response.
    pub async fn signed_in(state: &AppState, session: &Cookie<'_>) -> Result<Visitor, AppError> {
        let hash = token_hash(session.value());
        let user = users::session_user(&state.pool, &hash)
            .await?
            .ok_or_else(|| AppError::Internal("a session just made is missing".into()))?;
        Ok(Visitor {
            csrf: user.csrf_token.clone(),
            user: Some(user),
            session_hash: Some(hash),
            new_csrf_cookie: false,
            secure: state.config.base_url.starts_with("https://"),
        })
    }

    /// The logged-in account, or a redirect to the login page.
    pub fn require_user(&self) -> Result<&SessionUser, AppError> {
        self.user.as_ref().ok_or(AppError::LoginRequired)
    }

    /// Refuses a form whose CSRF token is missing or wrong. An anonymous visitor with no
    /// CSRF cookie has no valid token at all.
    pub fn check_csrf(&self, submitted: &str) -> Result<(), AppError> {
        if self.new_csrf_cookie || !constant_time_eq(&self.csrf, submitted) {
            return Err(AppError::Forbidden(
                "This form has expired or did not come from this site. Reload the page and try again."
                    .into(),
            ));
        }
        Ok(())
    }

    /// Adds the CSRF cookie to a response if this visitor needs one.
    pub fn finish(&self, mut response: HttpResponse) -> HttpResponse {
        if self.new_csrf_cookie {
            let cookie = build_cookie(CSRF_COOKIE, self.csrf.clone(), self.secure, None);
            // A cookie that cannot be added only costs the visitor a retry of the form.
            let _ = response.add_cookie(&cookie);
        }
        response
    }
}

impl FromRequest for Visitor {
    type Error = AppError;
    type Future = Pin<Box<dyn Future<Output = Result<Visitor, AppError>>>>;

    fn from_request(request: &HttpRequest, _: &mut actix_web::dev::Payload) -> Self::Future {
        Box::pin(Visitor::from_request(request.clone()))
    }
}

/// An HttpOnly, SameSite=Lax cookie for the whole site; `max_age` None means a session cookie.
pub fn build_cookie(
    name: &'static str,
    value: String,
    secure: bool,
    max_age: Option<i64>,
) -> Cookie<'static> {
    let mut cookie = Cookie::build(name, value)
        .path("/")
        .http_only(true)
        .same_site(SameSite::Lax)
        .secure(secure)
        .finish();
    if let Some(seconds) = max_age {
        cookie.set_max_age(CookieDuration::seconds(seconds));
    }
    cookie
}

/// Starts a fresh session for `user_id` (a new id at every login, so a planted session id
/// is worthless) and returns the cookie to set.
pub async fn start_session(state: &AppState, user_id: i64) -> Result<Cookie<'static>, AppError> {
    let token = random_token();
    let lifetime = i64::from(state.config.session_days) * 86_400;
    users::create_session(
        &state.pool,
        &token_hash(&token),
        user_id,
        &random_token(),
        lifetime,
    )
    .await?;
    let secure = state.config.base_url.starts_with("https://");
    Ok(build_cookie(SESSION_COOKIE, token, secure, Some(lifetime)))
}

/// A cookie that deletes the session cookie.
pub fn end_session_cookie(secure: bool) -> Cookie<'static> {
    let mut cookie = build_cookie(SESSION_COOKIE, String::new(), secure, Some(0));
    cookie.make_removal();
    cookie
}
