//! What an operator sees of a running server, request by request: a request id (echoed in
//! `X-Request-Id` and carried by every log line of the request through a tracing span), one
//! access-log line, the HTTP metrics; the health probes `/healthz` and `/readyz`; and the
//! masking of email addresses in logs.
//!
//! The access log names the route *pattern* (`/avatar/{segment:.*}`), never the path or the
//! query string: those carry hashes, `name=` and `email=` values, and would also make the
//! metrics' label sets unbounded. The access line's target is `cameo::access`, so an operator
//! who does not want it sets `RUST_LOG=info,cameo::access=off` (formatting and writing it is
//! most of what this module costs a cached avatar).

use std::borrow::Cow;
use std::cell::Cell;
use std::time::{Duration, Instant};

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderMap, HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{HttpResponse, web};
use tracing::Instrument as _;

use crate::state::AppState;
use crate::store;

pub const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");
/// The route label of requests no resource matched (404s, scanners).
pub const UNMATCHED_ROUTE: &str = "other";
/// How long `/readyz` waits for the database.
const READY_TIMEOUT: Duration = Duration::from_secs(1);
/// Longest incoming request id reused.
const MAX_REQUEST_ID_LEN: usize = 64;

/// The middleware (`from_fn`) around every request: id, span, metrics, access log.
pub async fn observe_request(
    request: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let started = Instant::now();
    let id = incoming_or_new_id(request.headers());
    let state = request.app_data::<web::Data<AppState>>().cloned();
    // The route joins the span once routing has matched it: asking the resource map before
    // routing would run every pattern's regex a second time (+10% CPU on a cached avatar).
    // Lines the handler logs carry the id and method; the access line carries the route too.
    let span = tracing::info_span!(
        "request",
        id = %id,
        method = %request.method(),
        route = tracing::field::Empty,
    );
    let outcome = async move { next.call(request).await }
        .instrument(span.clone())
        .await;
    let elapsed = started.elapsed();
    let (status, route) = match &outcome {
        Ok(response) => (response.status(), response.request().match_pattern()),
        Err(error) => (error.as_response_error().status_code(), None),
    };
    let route = route.unwrap_or_else(|| UNMATCHED_ROUTE.to_string());
    span.record("route", tracing::field::display(&route));
    if let Some(state) = state {
        state
            .metrics
            .record_request(&route, status.as_u16(), elapsed);
    }
    span.in_scope(|| {
        tracing::info!(
            target: "cameo::access",
            status = status.as_u16(),
            duration_ms = elapsed.as_micros() as f64 / 1000.0,
            "answered"
        );
    });
    let mut response = outcome?;
    if let Ok(value) = HeaderValue::from_str(&id) {
        response.headers_mut().insert(REQUEST_ID, value);
    }
    Ok(response)
}

/// The client's `X-Request-Id` when it is a sensible one (so a proxy's id follows the
/// request through), else a fresh one.
fn incoming_or_new_id(headers: &HeaderMap) -> String {
    headers
        .get(REQUEST_ID)
        .and_then(|value| value.to_str().ok())
        .filter(|id| is_valid_request_id(id))
        .map_or_else(new_request_id, str::to_owned)
}

/// 1 to 64 characters of `A-Z a-z 0-9 - _`: safe in a header, a log line and a URL.
pub fn is_valid_request_id(id: &str) -> bool {
    (1..=MAX_REQUEST_ID_LEN).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

thread_local! {
    /// Each worker thread's request-id sequence, seeded once from the OS random source. Ids
    /// must be unique in the logs, not unguessable, and a syscall per request showed in
    /// profiles of the hot path.
    static REQUEST_ID_STATE: Cell<u64> = Cell::new(request_id_seed());
}

/// 16 hex digits: the next value of this thread's SplitMix64 sequence. SplitMix64 is a
/// bijection of its counter, so a thread never repeats an id; threads start at random
/// points of the 2^64 cycle.
pub fn new_request_id() -> String {
    let id = REQUEST_ID_STATE.with(|state| {
        let next = state.get().wrapping_add(0x9E37_79B9_7F4A_7C15);
        state.set(next);
        let mut z = next;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    });
    format!("{id:016x}")
}

/// A random seed; should the OS source fail, the clock (each thread seeds at its own
/// nanosecond).
fn request_id_seed() -> u64 {
    let mut bytes = [0u8; 8];
    if getrandom::fill(&mut bytes).is_ok() {
        return u64::from_le_bytes(bytes);
    }
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64)
}

/// `GET /healthz`: the process is alive and answering HTTP.
pub async fn healthz() -> HttpResponse {
    probe_answer(HttpResponse::Ok(), "ok\n")
}

/// `GET /readyz`: the database answers `SELECT 1` within a second.
pub async fn readyz(state: web::Data<AppState>) -> HttpResponse {
    match tokio::time::timeout(READY_TIMEOUT, store::stats::ping(&state.pool)).await {
        Ok(Ok(())) => probe_answer(HttpResponse::Ok(), "ready\n"),
        Ok(Err(error)) => {
            tracing::warn!(%error, "readiness probe: the database failed");
            probe_answer(HttpResponse::ServiceUnavailable(), "database unavailable\n")
        }
        Err(_) => {
            tracing::warn!("readiness probe: the database did not answer within 1 s");
            probe_answer(HttpResponse::ServiceUnavailable(), "database unavailable\n")
        }
    }
}

fn probe_answer(mut builder: actix_web::HttpResponseBuilder, body: &'static str) -> HttpResponse {
    builder
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .content_type("text/plain; charset=utf-8")
        .body(body)
}

/// `alice@example.org` → `a***@example.org`: enough to tell addresses apart in a log, not
/// enough to collect them. Without an `@` nothing is shown.
pub fn mask_email(address: &str) -> String {
    match address.rsplit_once('@') {
        Some((local, domain)) => match local.chars().next() {
            Some(first) => format!("{first}***@{domain}"),
            None => format!("***@{domain}"),
        },
        None => "***".to_string(),
    }
}

/// Free text (an SMTP server's reply, an error chain) with every `local@domain` in it
/// masked by [`mask_email`]; the rest is kept as it is.
pub fn mask_emails_in(text: &str) -> Cow<'_, str> {
    if !text.contains('@') {
        return Cow::Borrowed(text);
    }
    let mut masked = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find(part_of_address) {
        masked.push_str(&rest[..start]);
        let word = &rest[start..];
        let end = word.find(|c| !part_of_address(c)).unwrap_or(word.len());
        masked.push_str(&mask_word(&word[..end]));
        rest = &word[end..];
    }
    masked.push_str(rest);
    Cow::Owned(masked)
}

/// Characters of `local@domain` (RFC 5322 atoms and dots); anything else ends a word.
fn part_of_address(c: char) -> bool {
    c.is_alphanumeric() || "._%+-!#$&*/=?^`{|}~@".contains(c)
}

fn mask_word(word: &str) -> Cow<'_, str> {
    match word.rsplit_once('@') {
        Some((local, domain)) if !local.is_empty() && !domain.is_empty() => {
            Cow::Owned(mask_email(word))
        }
        _ => Cow::Borrowed(word),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sensible_incoming_request_ids_are_valid() {
        assert!(is_valid_request_id("abc-DEF_123"));
        assert!(is_valid_request_id(&"a".repeat(64)));
    }

    #[test]
    fn long_empty_or_odd_request_ids_are_invalid() {
        assert!(!is_valid_request_id(""));
        assert!(!is_valid_request_id(&"a".repeat(65)));
        assert!(!is_valid_request_id("has space"));
        assert!(!is_valid_request_id("semi;colon"));
        assert!(!is_valid_request_id("ünïcode"));
        assert!(!is_valid_request_id("line\nbreak"));
    }

    #[test]
    fn new_request_ids_are_16_hex_digits_and_differ() {
        let ids: std::collections::HashSet<String> =
            (0..10_000).map(|_| new_request_id()).collect();
        assert_eq!(ids.len(), 10_000);
        let other_thread = std::thread::spawn(new_request_id).join().unwrap();
        assert!(!ids.contains(&other_thread));
        for id in ids.iter().take(100).chain([&other_thread]) {
            assert_eq!(id.len(), 16);
            assert!(id.bytes().all(|c| c.is_ascii_hexdigit()));
            assert!(is_valid_request_id(id));
        }
    }

    #[test]
    fn incoming_id_is_reused_only_when_valid() {
        let mut headers = HeaderMap::new();
        headers.insert(REQUEST_ID, HeaderValue::from_static("proxy-id-42"));
        assert_eq!(incoming_or_new_id(&headers), "proxy-id-42");
        headers.insert(REQUEST_ID, HeaderValue::from_static("not valid"));
        let replaced = incoming_or_new_id(&headers);
        assert_eq!(replaced.len(), 16);
    }

    #[test]
    fn email_keeps_its_first_letter_and_domain() {
        assert_eq!(mask_email("alice@example.org"), "a***@example.org");
        assert_eq!(mask_email("élodie@example.org"), "é***@example.org");
        assert_eq!(mask_email("@example.org"), "***@example.org");
        assert_eq!(mask_email("not an address"), "***");
    }

    #[test]
    fn addresses_in_free_text_are_masked() {
        assert_eq!(
            mask_emails_in("550 5.1.1 <bob.smith@example.org>: Recipient address rejected"),
            "550 5.1.1 <b***@example.org>: Recipient address rejected"
        );
        assert_eq!(
            mask_emails_in("to a@x.org, c+tag@y.net;"),
            "to a***@x.org, c***@y.net;"
        );
        assert_eq!(
            mask_emails_in("smtp://user:p4ss@mail.example.org:587"),
            "smtp://user:p***@mail.example.org:587"
        );
        assert_eq!(mask_emails_in("no address @ all"), "no address @ all");
        assert_eq!(mask_emails_in("plain text"), "plain text");
    }
}
