//! The API's error shape: Gravatar's `{"error": "…", "code": "…"}` with a real HTTP status.
//!
//! [`ApiError`] wraps the one application error, [`AppError`], so statuses and codes are
//! decided in one place; only the body differs from the plain-text errors of the image
//! endpoint and the JSON errors of the rest of the API never leak internals either.

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpResponse, ResponseError};

use crate::error::AppError;

#[derive(Debug, thiserror::Error)]
#[error(transparent)]
pub struct ApiError(#[from] pub AppError);

impl From<sqlx::Error> for ApiError {
    fn from(error: sqlx::Error) -> ApiError {
        ApiError(AppError::Database(error))
    }
}

/// The JSON body of every API error.
pub fn error_body(error: &AppError) -> serde_json::Value {
    serde_json::json!({ "error": error.public_message(), "code": error.code() })
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match self.0 {
            // The API has no login page to send anyone to.
            AppError::LoginRequired => StatusCode::UNAUTHORIZED,
            ref other => other.status_code(),
        }
    }

    fn error_response(&self) -> HttpResponse {
        HttpResponse::build(self.status_code())
            .insert_header((header::CACHE_CONTROL, HeaderValue::from_static("no-store")))
            .insert_header((
                header::ACCESS_CONTROL_ALLOW_ORIGIN,
                HeaderValue::from_static("*"),
            ))
            .json(error_body(&self.0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_and_codes_follow_the_application_error() {
        let cases = [
            (
                AppError::Invalid("invalid_email", "x".into()),
                400,
                "invalid_email",
            ),
            (AppError::Unauthorized("x".into()), 401, "unauthorized"),
            (AppError::Forbidden("x".into()), 403, "forbidden"),
            (AppError::NotFound("x".into()), 404, "not_found"),
            (
                AppError::TooManyRequests("x".into()),
                429,
                "rate_limit_exceeded",
            ),
            (AppError::BadGateway("x".into()), 502, "provider_failed"),
            (
                AppError::GatewayTimeout("x".into()),
                504,
                "provider_timeout",
            ),
        ];
        for (error, status, code) in cases {
            let error = ApiError(error);
            assert_eq!(error.status_code().as_u16(), status);
            assert_eq!(error_body(&error.0)["code"], code);
        }
    }

    #[test]
    fn internal_faults_are_not_described_to_clients() {
        let error = AppError::Internal("secret path /var/lib/x".into());
        assert_eq!(error_body(&error)["error"], "internal server error");
    }
}
