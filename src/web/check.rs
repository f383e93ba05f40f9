//! `/tools/check` (HTML form and report) and `/tools/check.json` (the same report as JSON):
//! the domain check of PROTOCOL.md "Federation". Thin: the query string is read here, the
//! check itself is [`crate::federation::check`].
//!
//! A check connects to whatever host and port a domain's SRV records name, so it spends the
//! client's outbound probe budget ([`probe_budget`]; 429 past it), and the probe is reported
//! only as "answers as an avatar server" or not ([`CheckReport::for_the_public`]).

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpRequest, HttpResponse, ResponseError, web};
use askama::Template;

use crate::error::AppError;
use crate::federation::check::{CheckError, MAX_QUERY_LEN, check, parse_query};
use crate::federation::report::{CheckReport, ServiceReport};
use crate::outbound::probe_budget;
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
        Some(query) => Some(public_check(&request, &state, query).await),
        None => None,
    };
    let (report, error, status) = match &outcome {
        Some(Ok(report)) => (Some(report), None, StatusCode::OK),
        Some(Err(error)) => (None, Some(error.public_message()), error.status_code()),
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
    let mut response = render_page(&visitor, &page, status)?;
    if let Some(seconds) = outcome.and_then(|o| o.err()).and_then(|e| e.retry_after()) {
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
    }
    Ok(response)
}

/// `GET /tools/check.json?q=…`: the report, or `{"error", "code"}` with 400 (bad query) or
/// 429 and `Retry-After` (probe budget spent).
pub async fn check_json(request: HttpRequest, state: web::Data<AppState>) -> HttpResponse {
    let result = match query_parameter(request.query_string()) {
        Some(query) => public_check(&request, &state, &query).await,
        None => Err(invalid(CheckError::Empty)),
    };
    match result {
        Ok(report) => HttpResponse::Ok().insert_header(no_store()).json(report),
        Err(error) => {
            let mut response = HttpResponse::build(error.status_code());
            response.insert_header(no_store());
            if let Some(seconds) = error.retry_after() {
                response.insert_header((header::RETRY_AFTER, seconds));
            }
            response.json(serde_json::json!({
                "error": error.public_message(),
                "code": error.code(),
            }))
        }
    }
}

/// Validates the query (free), spends one probe of the client's budget, runs the check and
/// keeps of each probe only whether the server answers as an avatar server.
async fn public_check(
    request: &HttpRequest,
    state: &AppState,
    query: &str,
) -> Result<CheckReport, AppError> {
    parse_query(query).map_err(invalid)?;
    probe_budget::spend(&state.pool, &state.config, request).await?;
    let report = check(&state.federation, query).await.map_err(invalid)?;
    Ok(report.for_the_public())
}

fn invalid(error: CheckError) -> AppError {
    AppError::Invalid(error.code(), error.to_string())
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
