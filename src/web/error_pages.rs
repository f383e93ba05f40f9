//! Styled error pages for people: a browser that navigates to a page that fails (an unknown
//! URL, a malformed confirmation link, an unknown profile, a refused form, a server fault)
//! gets an HTML page in the site's look saying what happened and what to do next, instead
//! of the one line of plain text that [`crate::error::AppError`] answers.
//!
//! Only answers that are plain text become pages, only for requests that ask for HTML
//! (`Accept: text/html`, what a browser sends when it navigates), and never under `/avatar`
//! or `/api`: image and API clients keep the one-line bodies PROTOCOL.md promises. Status
//! and headers such as `Allow` and `Retry-After` stay as they were.

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderValue};
use actix_web::http::{Method, StatusCode};
use actix_web::middleware::Next;
use actix_web::{HttpResponse, web};
use askama::Template;

use super::pages::{Layout, security_headers};
use crate::state::AppState;

/// Longest reason carried over from the plain-text body.
const MAX_REASON_CHARS: usize = 300;

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage {
    layout: Layout,
    status: u16,
    heading: &'static str,
    reason: String,
    advice: &'static str,
}

/// What a person is told for `status`: a heading and what to do about it.
pub fn explain(status: StatusCode) -> (&'static str, &'static str) {
    match status.as_u16() {
        404 => (
            "Nothing here",
            "The address may be mistyped, or the page was removed. A link from a mail may be cut in two by your mail program: copy all of it.",
        ),
        410 => (
            "This link no longer works",
            "Links from mails work once and for a limited time. Ask for a new one.",
        ),
        401 | 403 => (
            "Not allowed",
            "Log in with the account this belongs to, or go back and try again.",
        ),
        405 => (
            "This page cannot do that",
            "Go back and use the page's own buttons; a bookmarked form cannot be sent again.",
        ),
        413 => (
            "Too large",
            "Send something smaller: a photo is best under a few megabytes.",
        ),
        429 => (
            "Too many tries",
            "Wait a little and try again; the limit protects you and others.",
        ),
        400..=499 => (
            "That did not work",
            "Go back, check what you entered, and try again.",
        ),
        503 => (
            "The server is busy",
            "Try again in a few seconds; nothing you did caused this.",
        ),
        _ => (
            "Something went wrong on the server",
            "Nothing you did caused this. Try again later; if it persists, tell the operator of this server.",
        ),
    }
}

/// Whether an answer to this request may become an HTML page (see the module comment).
pub fn wants_page(method: &Method, path: &str, accept: &str) -> bool {
    let for_machines = [
        "/avatar", "/api/", "/healthz", "/readyz", "/metrics", "/static/",
    ]
    .iter()
    .any(|prefix| path.starts_with(prefix));
    (method == Method::GET || method == Method::POST)
        && !for_machines
        && accept.contains("text/html")
}

/// The middleware: renders failed plain-text answers to page-navigating browsers as pages.
pub async fn styled_errors<B: MessageBody + 'static>(
    request: ServiceRequest,
    next: Next<B>,
) -> Result<ServiceResponse<EitherBody<B>>, actix_web::Error> {
    let accept = request
        .headers()
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let wanted = wants_page(request.method(), request.path(), accept);
    // Every other answer (the avatar hot path among them) passes as it is, unboxed.
    let response = next.call(request).await?;
    let status = response.status();
    let plain = response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"text/plain"));
    if !wanted || !plain || !(status.is_client_error() || status.is_server_error()) {
        return Ok(response.map_into_left_body());
    }
    let Some(state) = response
        .request()
        .app_data::<web::Data<AppState>>()
        .cloned()
    else {
        return Ok(response.map_into_left_body());
    };
    let (request, response) = response.into_parts();
    // Headers that say something about the answer (Allow, Retry-After…) stay; those about the
    // plain-text body are replaced.
    let kept: Vec<_> = response
        .headers()
        .iter()
        .filter(|(name, _)| {
            ![
                header::CONTENT_TYPE,
                header::CONTENT_LENGTH,
                header::CONTENT_SECURITY_POLICY,
            ]
            .contains(name)
        })
        .map(|(name, value)| (name.clone(), value.clone()))
        .collect();
    let body = actix_web::body::to_bytes_limited(response.into_body(), 4096)
        .await
        .ok()
        .and_then(Result::ok)
        .unwrap_or_default();
    let reason: String = String::from_utf8_lossy(&body)
        .trim()
        .chars()
        .take(MAX_REASON_CHARS)
        .collect();
    let page = page_for(&state, status, reason);
    let html = page.render().unwrap_or_else(|_| "error".into());
    let mut builder = HttpResponse::build(status);
    for header_pair in kept {
        builder.append_header(header_pair);
    }
    builder.insert_header((
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    ));
    security_headers(&mut builder);
    Ok(ServiceResponse::new(request, builder.body(html)).map_into_right_body())
}

fn page_for(state: &AppState, status: StatusCode, reason: String) -> ErrorPage {
    let (heading, advice) = explain(status);
    // A fault's body is already the generic line; a reason equal to the heading says nothing.
    let reason = if status.is_server_error() || reason == "not found" {
        String::new()
    } else {
        reason
    };
    ErrorPage {
        layout: Layout::anonymous(heading, state),
        status: status.as_u16(),
        heading,
        reason,
        advice,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_browsers_navigating_to_pages_get_styled_errors() {
        let html = "text/html,application/xhtml+xml,*/*;q=0.8";
        assert!(wants_page(&Method::GET, "/confirm/abc", html));
        assert!(wants_page(&Method::GET, "/nothing-here", html));
        assert!(wants_page(&Method::POST, "/account/addresses", html));
        assert!(
            !wants_page(&Method::GET, "/avatar/abc", html),
            "images stay plain"
        );
        assert!(
            !wants_page(&Method::GET, "/api/v1/lookup", html),
            "the API stays JSON"
        );
        assert!(!wants_page(
            &Method::GET,
            "/nothing-here",
            "image/avif,image/*"
        ));
        assert!(!wants_page(&Method::GET, "/nothing-here", ""));
        assert!(!wants_page(&Method::DELETE, "/nothing-here", html));
    }

    #[test]
    fn every_error_status_says_what_to_do() {
        for code in [400, 401, 403, 404, 405, 410, 413, 415, 429, 500, 502, 503] {
            let (heading, advice) = explain(StatusCode::from_u16(code).unwrap());
            assert!(!heading.is_empty() && advice.ends_with('.'), "{code}");
        }
        assert_eq!(explain(StatusCode::NOT_FOUND).0, "Nothing here");
    }
}
