//! The one application error type and how it maps to HTTP.
//!
//! Client mistakes (4xx) carry a short human-readable reason that is shown as it is; server
//! faults (5xx) are logged with their cause and answered with a generic line, so no internal
//! detail or stack trace ever reaches a client. Error bodies are one line of plain text,
//! which is what the image endpoint promises (PROTOCOL.md "Errors").

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpResponse, ResponseError};

use crate::imaging::IntakeError;

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("{0}")]
    BadRequest(String),
    #[error("{0}")]
    UriTooLong(String),
    #[error("{0}")]
    NotFound(String),
    #[error(transparent)]
    Intake(#[from] IntakeError),
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    #[error("migration error: {0}")]
    Migration(#[from] sqlx::migrate::MigrateError),
    #[error("internal error: {0}")]
    Internal(String),
    #[error("the server is busy; try again shortly")]
    Busy,
    /// Too much work of one kind is under way (password hashing, image decoding): 503 with
    /// `Retry-After` seconds, so clients back off instead of piling on.
    #[error("{reason}")]
    Overloaded { reason: String, retry_after: u64 },
    /// One client (or account, or recipient) used up a rate limit: 429 with `Retry-After`.
    #[error("{reason}")]
    Throttled { reason: String, retry_after: u64 },
    /// A page that needs a logged-in account: answered with a redirect to the login page.
    #[error("please log in")]
    LoginRequired,
    #[error("{0}")]
    Forbidden(String),
    /// An API token without the scope a request needs (403, Gravatar's `insufficient_scope`).
    #[error("{0}")]
    InsufficientScope(String),
    #[error("{0}")]
    TooManyRequests(String),
    /// A request refused for a reason with its own machine-readable code (400).
    #[error("{1}")]
    Invalid(&'static str, String),
    /// Missing or bad credentials (401).
    #[error("{0}")]
    Unauthorized(String),
    /// Every provider asked failed (502).
    #[error("{0}")]
    BadGateway(String),
    /// Every provider asked timed out (504).
    #[error("{0}")]
    GatewayTimeout(String),
}

/// Whether `error` means the database cannot be reached right now (a restart, a network
/// cut, no free connection within the pool's wait), as opposed to a fault in a query: such
/// a request is answered 503 with `Retry-After`, and tried again later it will work.
pub fn database_unavailable(error: &sqlx::Error) -> bool {
    match error {
        sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::WorkerCrashed => true,
        // PostgreSQL's connection exceptions (08…) and "shutting down" / "starting up" (57P…).
        sqlx::Error::Database(error) => error
            .code()
            .is_some_and(|code| code.starts_with("08") || code.starts_with("57P")),
        _ => false,
    }
}

/// Seconds a client is asked to wait while the database is unreachable.
const DATABASE_RETRY_AFTER: u64 = 5;

impl AppError {
    fn is_database_unavailable(&self) -> bool {
        matches!(self, AppError::Database(error) if database_unavailable(error))
    }
}

impl AppError {
    /// A stable machine-readable code, used in logs and JSON error bodies.
    pub fn code(&self) -> &'static str {
        match self {
            _ if self.is_database_unavailable() => "database_unavailable",
            AppError::BadRequest(_) => "bad_request",
            AppError::UriTooLong(_) => "uri_too_long",
            AppError::NotFound(_) => "not_found",
            AppError::Intake(e) => e.code(),
            AppError::Database(_) | AppError::Migration(_) | AppError::Internal(_) => {
                "internal_error"
            }
            AppError::Busy | AppError::Overloaded { .. } => "busy",
            AppError::Throttled { .. } => "rate_limit_exceeded",
            AppError::LoginRequired => "login_required",
            AppError::Forbidden(_) => "forbidden",
            AppError::InsufficientScope(_) => "insufficient_scope",
            AppError::TooManyRequests(_) => "rate_limit_exceeded",
            AppError::Invalid(code, _) => code,
            AppError::Unauthorized(_) => "unauthorized",
            AppError::BadGateway(_) => "provider_failed",
            AppError::GatewayTimeout(_) => "provider_timeout",
        }
    }
}

impl AppError {
    /// Seconds a client should wait before trying again, for 429 and 503 answers.
    pub fn retry_after(&self) -> Option<u64> {
        match self {
            _ if self.is_database_unavailable() => Some(DATABASE_RETRY_AFTER),
            AppError::Busy => Some(1),
            AppError::Overloaded { retry_after, .. } | AppError::Throttled { retry_after, .. } => {
                Some((*retry_after).max(1))
            }
            _ => None,
        }
    }

    /// What a client is told: the reason for a 4xx, a generic line for a 5xx fault (whose
    /// cause is logged here instead). Provider failures are the client's business: shown.
    pub fn public_message(&self) -> String {
        match self {
            _ if self.is_database_unavailable() => {
                tracing::warn!(error = %self, "the database is unavailable");
                "the database is unavailable; try again in a few seconds".to_string()
            }
            AppError::Busy
            | AppError::Overloaded { .. }
            | AppError::BadGateway(_)
            | AppError::GatewayTimeout(_) => self.to_string(),
            _ if self.status_code().is_server_error() => {
                let error = self.to_string();
                let error = crate::observe::mask_emails_in(&error);
                tracing::error!(code = self.code(), %error, "request failed");
                "internal server error".to_string()
            }
            _ => self.to_string(),
        }
    }
}

impl ResponseError for AppError {
    fn status_code(&self) -> StatusCode {
        match self {
            _ if self.is_database_unavailable() => StatusCode::SERVICE_UNAVAILABLE,
            AppError::BadRequest(_) => StatusCode::BAD_REQUEST,
            AppError::UriTooLong(_) => StatusCode::URI_TOO_LONG,
            AppError::NotFound(_) => StatusCode::NOT_FOUND,
            AppError::Intake(e) => e.status(),
            AppError::Database(_) | AppError::Migration(_) | AppError::Internal(_) => {
                StatusCode::INTERNAL_SERVER_ERROR
            }
            AppError::Busy | AppError::Overloaded { .. } => StatusCode::SERVICE_UNAVAILABLE,
            AppError::Throttled { .. } => StatusCode::TOO_MANY_REQUESTS,
            AppError::LoginRequired => StatusCode::SEE_OTHER,
            AppError::Forbidden(_) | AppError::InsufficientScope(_) => StatusCode::FORBIDDEN,
            AppError::TooManyRequests(_) => StatusCode::TOO_MANY_REQUESTS,
            AppError::Invalid(..) => StatusCode::BAD_REQUEST,
            AppError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            AppError::BadGateway(_) => StatusCode::BAD_GATEWAY,
            AppError::GatewayTimeout(_) => StatusCode::GATEWAY_TIMEOUT,
        }
    }

    fn error_response(&self) -> HttpResponse {
        let status = self.status_code();
        if let AppError::LoginRequired = self {
            return HttpResponse::SeeOther()
                .insert_header((header::LOCATION, "/login"))
                .finish();
        }
        let body = self.public_message();
        let mut response = HttpResponse::build(status);
        if let Some(seconds) = self.retry_after() {
            response.insert_header((header::RETRY_AFTER, seconds.to_string()));
        }
        response
            .insert_header((
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/plain; charset=utf-8"),
            ))
            .insert_header((
                header::X_CONTENT_TYPE_OPTIONS,
                HeaderValue::from_static("nosniff"),
            ))
            .insert_header((header::CACHE_CONTROL, HeaderValue::from_static("no-store")))
            // Error pages are seen in browsers too (a 404, a refused form): they load nothing,
            // may not be framed, and leak no URL onwards, like the HTML pages.
            .insert_header((
                header::CONTENT_SECURITY_POLICY,
                HeaderValue::from_static("default-src 'none'; frame-ancestors 'none'"),
            ))
            .insert_header((
                header::REFERRER_POLICY,
                HeaderValue::from_static("same-origin"),
            ))
            .body(format!("{body}\n"))
    }
}
