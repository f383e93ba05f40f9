//! One budget of outbound probes per client. `/tools/check` (HTML and JSON), an OpenID's
//! "Check now" and API lookups that ask other servers all make Cameo connect to a host and
//! port somebody else chose (through SRV records or a URL); unbounded, that is a port
//! scanner for hire. Each such request spends one hit of the client's hourly budget
//! (`outbound_probe_limit`), counted in the database before any connection is made, so the
//! budget holds across nodes and a parallel burst cannot slip past it.

use crate::store::Db;
use actix_web::HttpRequest;

use crate::config::Config;
use crate::error::AppError;
use crate::store::throttles;

/// The throttle scope the budget is counted under.
pub const SCOPE: &str = "outbound_probe";
/// The budget's window.
pub const WINDOW_SECS: i64 = 3600;

/// Spends one probe of the asking client's budget; `Throttled` (429 + Retry-After) past it.
pub async fn spend(pool: &Db, config: &Config, request: &HttpRequest) -> Result<(), AppError> {
    spend_for(pool, config, &crate::client::limit_key_of(request, config)).await
}

/// [`spend`] for a client key already worked out (`client::limit_key_of`).
pub async fn spend_for(pool: &Db, config: &Config, client_key: &str) -> Result<(), AppError> {
    let verdict = throttles::hit(
        pool,
        SCOPE,
        client_key,
        config.outbound_probe_limit,
        WINDOW_SECS,
    )
    .await?;
    if verdict.allowed() {
        return Ok(());
    }
    Err(AppError::Throttled {
        reason: format!(
            "too many checks of other servers from your address (at most {} an hour); \
             try again in {} minutes",
            verdict.limit,
            verdict.retry_after.div_ceil(60)
        ),
        retry_after: verdict.retry_after,
    })
}
