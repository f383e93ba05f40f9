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
    /// A page that needs a logged-in account: answered with a redirect to the login page.
    #[error("please log in")]
    LoginRequired,
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    TooManyRequests(String),
}

impl AppError {
    /// A stable machine-readable code, used in logs and JSON error bodies.
    pub fn code(&self) -> &'static str {
        match self {
            AppError::BadRequest(_) => "bad_request",
            AppError::UriTooLong(_) => "uri_too_long",
            AppError::NotFound(_) => "not_found",
            AppError::Intake(e) => e.code(),
            AppError::Database(_) | AppError::Migration(_) | AppError::Internal(_) => {
                "internal_error"
            }
            AppError::Busy => "busy",
            AppError::LoginRequired => "login_required",
            AppError::Forbidden(_) => "forbidden",
            AppError::TooManyRequests(_) => "rate_limit_exceeded",
        }
    }
}

impl ResponseError for AppError {
    fn status_code(&self) -> StatusCode {
        match self {
            AppError::BadRequest(_) => StatusCode::BAD_REQUEST,
            AppError::UriTooLong(_) => StatusCode::URI_TOO_LONG,
            AppError::NotFound(_) => StatusCode::NOT_FOUND,
            AppError::Intake(e) => e.status(),
            AppError::Database(_) | AppError::Migration(_) | AppError::Internal(_) => {
                StatusCode::INTERNAL_SERVER_ERROR
            }
            AppError::Busy => StatusCode::SERVICE_UNAVAILABLE,
            AppError::LoginRequired => StatusCode::SEE_OTHER,
            AppError::Forbidden(_) => StatusCode::FORBIDDEN,
            AppError::TooManyRequests(_) => StatusCode::TOO_MANY_REQUESTS,
        }
    }

    fn error_response(&self) -> HttpResponse {
        let status = self.status_code();
        if let AppError::LoginRequired = self {
            return HttpResponse::SeeOther()
                .insert_header((header::LOCATION, "/login"))
                .finish();
        }
        let body = if status.is_server_error() {
            tracing::error!(code = self.code(), error = %self, "request failed");
            match self {
                AppError::Busy => self.to_string(),
                _ => "internal server error".to_string(),
            }
        } else {
            self.to_string()
        };
        HttpResponse::build(status)
            .insert_header((
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/plain; charset=utf-8"),
            ))
            .insert_header((
                header::X_CONTENT_TYPE_OPTIONS,
                HeaderValue::from_static("nosniff"),
            ))
            .insert_header((header::CACHE_CONTROL, HeaderValue::from_static("no-store")))
            .body(format!("{body}\n"))
    }
}
