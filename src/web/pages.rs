//! What every HTML page shares: the layout fields, rendering with security headers, and
//! the bounded form-body reader.

use std::future::Future;
use std::pin::Pin;

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{FromRequest, HttpRequest, HttpResponse, web};
use askama::Template;
use futures_util::StreamExt;

use super::session::Visitor;
use crate::error::AppError;
use crate::state::AppState;

/// Largest urlencoded form body accepted.
const MAX_FORM_BYTES: usize = 64 * 1024;

/// Fields the base template reads.
pub struct Layout {
    pub title: String,
    pub user_email: Option<String>,
    pub csrf: String,
    pub registration_open: bool,
    pub notice: Option<String>,
    pub error: Option<String>,
    /// No `smtp_url`: pages that would mail say that links go to the server log instead.
    pub mail_logged: bool,
    /// Per form field (its `name`), the reason its value was refused, shown beside it.
    pub field_errors: Vec<(&'static str, String)>,
    /// The single sign-on provider's name, when there is one ("Log in with …").
    pub sso_name: Option<String>,
    /// Whether local passwords work (`password_login`).
    pub password_login: bool,
}

impl Layout {
    pub fn new(title: &str, visitor: &Visitor, state: &AppState) -> Layout {
        Layout {
            user_email: visitor.user.as_ref().map(|u| u.email.clone()),
            csrf: visitor.csrf.clone(),
            ..Layout::anonymous(title, state)
        }
    }

    /// The layout for a page rendered outside a handler (an error page): nobody logged in.
    pub fn anonymous(title: &str, state: &AppState) -> Layout {
        let config = &state.config;
        Layout {
            title: title.to_string(),
            user_email: None,
            csrf: String::new(),
            // Sign-up is a password form: with passwords off, accounts come from the provider.
            registration_open: config.registration_open && config.password_login,
            notice: None,
            error: None,
            mail_logged: config.smtp_url.is_empty(),
            field_errors: Vec::new(),
            sso_name: state.sso.as_ref().map(|sso| sso.display_name().to_string()),
            password_login: config.password_login,
        }
    }

    /// Shows `error` beside the field named `field` (and marks it `aria-invalid`).
    pub fn with_field_error(mut self, field: &'static str, error: impl Into<String>) -> Layout {
        self.field_errors.push((field, error.into()));
        self
    }

    /// The reason the field named `field` was refused, if it was.
    pub fn field_error(&self, field: &str) -> Option<&str> {
        self.field_errors
            .iter()
            .find(|(name, _)| *name == field)
            .map(|(_, error)| error.as_str())
    }

    pub fn with_error(mut self, error: impl Into<String>) -> Layout {
        self.error = Some(error.into());
        self
    }

    pub fn with_notice(mut self, notice: impl Into<String>) -> Layout {
        self.notice = Some(notice.into());
        self
    }
}

/// Renders a page with the status given, the visitor's CSRF cookie if it needs one, and the
/// headers every HTML page carries.
pub fn render_page(
    visitor: &Visitor,
    page: &impl Template,
    status: StatusCode,
) -> Result<HttpResponse, AppError> {
    let html = page
        .render()
        .map_err(|e| AppError::Internal(format!("template: {e}")))?;
    let mut builder = HttpResponse::build(status);
    builder.insert_header((
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    ));
    security_headers(&mut builder);
    Ok(visitor.finish(builder.body(html)))
}

/// The headers every HTML page carries (no caching, no sniffing, no framing, a strict CSP).
pub fn security_headers(builder: &mut actix_web::HttpResponseBuilder) {
    builder
        .insert_header((header::CACHE_CONTROL, HeaderValue::from_static("no-store")))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff")))
        .insert_header((header::REFERRER_POLICY, HeaderValue::from_static("same-origin")))
        .insert_header((header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY")))
        .insert_header((
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(
                "default-src 'self'; img-src 'self' blob: data:; style-src 'self'; script-src 'self'; \
                 frame-ancestors 'none'; form-action 'self'; base-uri 'none'; object-src 'none'",
            ),
        ));
}

/// 303 to a page on this site (never to a client-supplied URL).
pub fn see_other(path: &'static str) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, path))
        .finish()
}

/// An urlencoded form body, read with a size cap; repeated names keep every value.
pub struct FormData(Vec<(String, String)>);

impl FormData {
    /// The last value of `name`, or "" (the last one wins, as for query parameters).
    pub fn get(&self, name: &str) -> &str {
        self.0
            .iter()
            .rev()
            .find(|(key, _)| key == name)
            .map_or("", |(_, value)| value)
    }

    pub fn all(&self, name: &str) -> impl Iterator<Item = &str> {
        self.0
            .iter()
            .filter(move |(key, _)| key == name)
            .map(|(_, value)| value.as_str())
    }

    pub fn parse(body: &[u8]) -> FormData {
        FormData(
            form_urlencoded::parse(body)
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect(),
        )
    }
}

impl FromRequest for FormData {
    type Error = AppError;
    type Future = Pin<Box<dyn Future<Output = Result<FormData, AppError>>>>;

    fn from_request(_: &HttpRequest, payload: &mut actix_web::dev::Payload) -> Self::Future {
        let mut payload = payload.take();
        Box::pin(async move {
            let mut body = web::BytesMut::new();
            while let Some(chunk) = payload.next().await {
                let chunk =
                    chunk.map_err(|e| AppError::BadRequest(format!("reading the form: {e}")))?;
                if body.len() + chunk.len() > MAX_FORM_BYTES {
                    return Err(AppError::BadRequest("the form is too large".into()));
                }
                body.extend_from_slice(&chunk);
            }
            Ok(FormData::parse(&body))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn form_fields_keep_repeats_and_last_wins() {
        let form = FormData::parse(b"a=1&b=x%20y&a=2&address=3&address=4");
        assert_eq!(form.get("a"), "2");
        assert_eq!(form.get("b"), "x y");
        assert_eq!(form.get("missing"), "");
        assert_eq!(form.all("address").collect::<Vec<_>>(), vec!["3", "4"]);
    }
}
