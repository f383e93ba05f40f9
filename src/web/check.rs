//! `/tools/check` (HTML form and report) and `/tools/check.json` (the same report as JSON):
//! the domain check of PROTOCOL.md "Federation". Thin: the query string is read here, the
//! check itself is [`crate::federation::check`].

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;

use crate::error::AppError;
use crate::federation::check::{CheckError, MAX_QUERY_LEN, check};
use crate::federation::report::{CheckReport, ServiceReport};
use crate::state::AppState;
use crate::web::pages::{Layout, render_page};
use crate::web::session::Visitor;

#[derive(Template)]
#[template(path = "check.html")]
struct CheckPage<'a> {
    layout: Layout,
    query: &'a str,
    report: Option<&'a CheckReport>,
    /// The report's two services, http first, for one loop in the template.
    services: Vec<&'a ServiceReport>,
    error: Option<String>,
}

/// `GET /tools/check?q=…`: the form, and the report when `q` is given.
pub async fn check_page(
    request: HttpRequest,
    visitor: Visitor,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    let query = query_parameter(request.query_string());
    let outcome = match &query {
        Some(query) => Some(check(&state.federation, query).await),
        None => None,
    };
    let (report, error, status) = match &outcome {
        Some(Ok(report)) => (Some(report), None, StatusCode::OK),
        Some(Err(error)) => (None, Some(error.to_string()), StatusCode::BAD_REQUEST),
        None => (None, None, StatusCode::OK),
    };
    // A refused query is not echoed back whole into the form.
    let shown_query: String = query
        .unwrap_or_default()
        .chars()
        .take(MAX_QUERY_LEN)
        .collect();
    let title = match report {
        Some(report) => format!("Domain check: {}", report.domain),
        None => "Domain check".to_string(),
    };
    let page = CheckPage {
        layout: Layout::new(&title, &visitor, &state),
        query: &shown_query,
        report,
        services: report.map_or_else(Vec::new, |r| vec![&r.http, &r.https]),
        error,
    };
    render_page(&visitor, &page, status)
}

/// `GET /tools/check.json?q=…`: the report, or `{"error", "code"}` with 400.
pub async fn check_json(request: HttpRequest, state: web::Data<AppState>) -> HttpResponse {
    let result = match query_parameter(request.query_string()) {
        Some(query) => check(&state.federation, &query).await,
        None => Err(CheckError::Empty),
    };
    match result {
        Ok(report) => HttpResponse::Ok().insert_header(no_store()).json(report),
        Err(error) => HttpResponse::BadRequest()
            .insert_header(no_store())
            .json(serde_json::json!({ "error": error.to_string(), "code": error.code() })),
    }
}

/// The last `q` in the query string (the protocol's "last one wins"), `None` when absent.
fn query_parameter(query_string: &str) -> Option<String> {
    form_urlencoded::parse(query_string.as_bytes())
        .filter(|(name, _)| name == "q")
        .last()
        .map(|(_, value)| value.into_owned())
}

/// Reports are live diagnostics: never cached.
fn no_store() -> (header::HeaderName, HeaderValue) {
    (header::CACHE_CONTROL, HeaderValue::from_static("no-store"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_last_q_wins_and_is_decoded() {
        assert_eq!(
            query_parameter("q=a.example&q=alice%40example.org"),
            Some("alice@example.org".to_string())
        );
        assert_eq!(query_parameter("x=1"), None);
        assert_eq!(query_parameter("q="), Some(String::new()));
    }
}
