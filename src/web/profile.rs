//! The profile page (`/account`): the upload form and the account's avatars first, then every
//! address with its photo (chosen from thumbnails), whether sites reach it (see [`super::reach`])
//! and, folded away for developers, its avatar URLs; pending claims; the photos. After each action the browser is
//! redirected here (post/redirect/get) with a one-shot message in a short-lived cookie.

use actix_web::cookie::Cookie;
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;

use super::claims::proof_url;
use super::pages::{Layout, render_page, see_other};
use super::reach::{self, Reach};
use super::session::{Visitor, build_cookie};
use crate::error::AppError;
use crate::federation::pointing::Pointing;
use crate::identity::Identity;
use crate::state::AppState;
use crate::store::{addresses, photos, tokens};

const FLASH_COOKIE: &str = "cameo_flash";
const MAX_FLASH_CHARS: usize = 700;

pub struct AddressView {
    pub id: i64,
    pub address: String,
    pub photo_id: Option<i64>,
    pub avatar_src: String,
    pub md5_url: Option<String>,
    pub sha256_url: String,
    pub domain: String,
    pub reach: Reach,
}

impl AddressView {
    /// Whether this address currently shows `photo`.
    pub fn shows(&self, photo: &PhotoView) -> bool {
        self.photo_id == Some(photo.id)
    }
}

pub struct PendingView {
    pub address: String,
    pub proof_link: Option<String>,
}

pub struct PhotoView {
    pub id: i64,
    pub version: i64,
    /// When it was uploaded (or last re-cropped), UTC, for its alt text.
    pub uploaded: String,
    /// The addresses that show it.
    pub shown_for: Vec<String>,
}

#[derive(Template)]
#[template(path = "profile.html")]
struct ProfilePage {
    layout: Layout,
    account_email: String,
    addresses: Vec<AddressView>,
    pending: Vec<PendingView>,
    photos: Vec<PhotoView>,
    max_photos: usize,
    max_upload_mb: u64,
    max_upload_bytes: u64,
    /// Whether the operator named this account a domain administrator (`/domains`).
    administers_domains: bool,
}

/// Fixed texts for `?done=` after flows that end on this page.
fn done_notice(query: &str) -> Option<&'static str> {
    match query {
        "done=password_changed" => Some(
            "Your password is changed. Other sessions are logged out, and reset links mailed earlier no longer work.",
        ),
        _ => None,
    }
}

pub async fn profile(
    request: HttpRequest,
    visitor: Visitor,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    let user = visitor.require_user()?;
    let mut layout = Layout::new("Your avatars", &visitor, &state);
    if let Some(notice) = done_notice(request.query_string()) {
        layout = layout.with_notice(notice);
    }
    let flash = request.cookie(FLASH_COOKIE).map(|c| {
        let decoded: String = form_urlencoded::parse(format!("m={}", c.value()).as_bytes())
            .map(|(_, value)| value.into_owned())
            .collect();
        decoded
    });
    if let Some(text) = &flash {
        let (kind, message) = text.split_at(1.min(text.len()));
        let message: String = message.chars().take(MAX_FLASH_CHARS).collect();
        layout = match (kind, field_of(&message)) {
            ("f", Some((field, message))) => layout.with_field_error(field, message),
            ("e" | "f", _) => layout.with_error(message),
            _ => layout.with_notice(message),
        };
    }
    let base = &state.config.base_url;
    let photos = photos::owned_by(&state.pool, user.user_id).await?;
    let owned = addresses::owned_by(&state.pool, user.user_id).await?;
    let mut domains: Vec<String> = owned
        .iter()
        .filter_map(|a| Identity::parse(&a.address).ok())
        .filter_map(|i| i.domain().map(str::to_string))
        .collect();
    domains.sort();
    domains.dedup();
    let pointings = reach::pointings(&state, domains).await;
    let addresses: Vec<AddressView> = owned
        .into_iter()
        .map(|a| {
            let digests = Identity::parse(&a.address)
                .map(|i| i.digests())
                .unwrap_or_default();
            let url = |d: &crate::identity::Digest| format!("{base}/avatar/{d}");
            let sha256 = digests
                .iter()
                .find(|d| !d.is_md5())
                .map(url)
                .unwrap_or_default();
            // The photo id in the query string busts the browser's cache when it changes.
            let avatar_src = format!("{sha256}?s=80&cb={}", a.photo_id.unwrap_or(0));
            let domain = Identity::parse(&a.address)
                .ok()
                .and_then(|i| i.domain().map(str::to_string))
                .unwrap_or_default();
            let pointing = pointings.get(&domain).cloned().unwrap_or(Pointing::Unknown);
            AddressView {
                reach: reach::reach_words(&domain, &pointing),
                domain,
                id: a.id,
                md5_url: digests.iter().find(|d| d.is_md5()).map(url),
                sha256_url: sha256,
                avatar_src,
                address: a.address,
                photo_id: a.photo_id,
            }
        })
        .collect();
    let pending = tokens::pending_claims(&state.pool, user.user_id)
        .await?
        .into_iter()
        .map(|c| PendingView {
            proof_link: c.proof.as_deref().map(|proof| proof_url(base, proof)),
            address: c.address,
        })
        .collect();
    let page = ProfilePage {
        layout,
        account_email: user.email.clone(),
        pending,
        photos: photos
            .into_iter()
            .map(|p| PhotoView {
                shown_for: addresses
                    .iter()
                    .filter(|a| a.photo_id == Some(p.id))
                    .map(|a| a.address.clone())
                    .collect(),
                id: p.id,
                version: p.version,
                uploaded: utc_minute(p.updated_at),
            })
            .collect(),
        addresses,
        max_photos: state.config.max_photos_per_account as usize,
        max_upload_mb: state.config.max_upload_bytes.div_ceil(1_000_000),
        max_upload_bytes: state.config.max_upload_bytes,
        administers_domains: !crate::store::domains::administered_by(&state.pool, user.user_id)
            .await?
            .is_empty(),
    };
    let mut response = render_page(&visitor, &page, StatusCode::OK)?;
    if flash.is_some() {
        let mut gone = Cookie::build(FLASH_COOKIE, "").path("/").finish();
        gone.make_removal();
        response
            .add_cookie(&gone)
            .map_err(|e| AppError::Internal(e.to_string()))?;
    }
    Ok(response)
}

/// `2026-12-05 01:58 UTC` for a Unix time in seconds.
pub fn utc_minute(unix_secs: i64) -> String {
    let days = unix_secs.div_euclid(86_400);
    let minutes = unix_secs.rem_euclid(86_400) / 60;
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02} UTC",
        minutes / 60,
        minutes % 60
    )
}

/// The form fields of the profile page that show their own errors (their `id`s).
const FIELDS: [&str; 3] = ["new-email", "new-openid", "photo-file"];

/// A field error's flash text `FIELD|MESSAGE`, split, if FIELD is one of [`FIELDS`].
fn field_of(text: &str) -> Option<(&'static str, &str)> {
    let (field, message) = text.split_once('|')?;
    FIELDS
        .iter()
        .find(|known| **known == field)
        .map(|known| (*known, message))
}

/// Ends a profile action: back to the profile page, carrying the outcome to show once.
pub async fn after_action(
    state: &AppState,
    outcome: Result<String, String>,
) -> Result<HttpResponse, AppError> {
    after_field_action(state, None, outcome).await
}

/// As [`after_action`], with a refusal shown beside the form field `field` (one of
/// [`FIELDS`]) rather than at the top of the page.
pub async fn after_field_action(
    state: &AppState,
    field: Option<&'static str>,
    outcome: Result<String, String>,
) -> Result<HttpResponse, AppError> {
    let value = match (outcome, field) {
        (Ok(notice), _) => format!("n{notice}"),
        (Err(error), Some(field)) => format!("f{field}|{error}"),
        (Err(error), None) => format!("e{error}"),
    };
    let value: String = value.chars().take(MAX_FLASH_CHARS).collect();
    // Cookie values cannot hold spaces or semicolons: the text travels percent-encoded.
    let value: String = form_urlencoded::byte_serialize(value.as_bytes()).collect();
    let secure = state.config.base_url.starts_with("https://");
    let mut response = see_other("/account");
    let cookie = build_cookie(FLASH_COOKIE, value, secure, Some(60));
    response
        .add_cookie(&cookie)
        .map_err(|e| AppError::Internal(e.to_string()))?;
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn field_errors_name_only_known_fields() {
        assert_eq!(field_of("new-email|Bad."), Some(("new-email", "Bad.")));
        assert_eq!(field_of("csrf|Bad."), None);
        assert_eq!(field_of("no separator"), None);
    }

    #[test]
    fn upload_times_read_as_utc_dates() {
        assert_eq!(utc_minute(0), "1970-01-01 00:00 UTC");
        assert_eq!(utc_minute(1_796_435_940), "2026-12-05 01:59 UTC");
        assert_eq!(utc_minute(951_782_400), "2000-02-29 00:00 UTC");
    }
}
