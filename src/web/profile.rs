//! The profile page (`/account`): every address with its current avatar and URLs, pending
//! claims, photos with their assignments, the upload form. After each action the browser is
//! redirected here (post/redirect/get) with a one-shot message in a short-lived cookie.

use actix_web::cookie::Cookie;
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;

use super::claims::proof_url;
use super::pages::{Layout, render_page, see_other};
use super::session::{Visitor, build_cookie};
use crate::error::AppError;
use crate::identity::Identity;
use crate::state::AppState;
use crate::store::{addresses, photos, tokens};

const FLASH_COOKIE: &str = "cameo_flash";
const MAX_FLASH_CHARS: usize = 300;

pub struct AddressView {
    pub id: i64,
    pub address: String,
    pub photo_id: Option<i64>,
    pub avatar_src: String,
    pub md5_url: Option<String>,
    pub sha256_url: String,
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
    pub format: String,
    pub side: i64,
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
        layout = if kind == "e" {
            layout.with_error(message)
        } else {
            layout.with_notice(message)
        };
    }
    let base = &state.config.base_url;
    let photos = photos::owned_by(&state.pool, user.user_id).await?;
    let addresses = addresses::owned_by(&state.pool, user.user_id)
        .await?
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
            AddressView {
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
        addresses,
        pending,
        photos: photos
            .into_iter()
            .map(|p| PhotoView {
                id: p.id,
                version: p.version,
                format: p.format,
                side: p.side,
            })
            .collect(),
        max_photos: state.config.max_photos_per_account as usize,
        max_upload_mb: state.config.max_upload_bytes.div_ceil(1_000_000),
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

/// Ends a profile action: back to the profile page, carrying the outcome to show once.
pub async fn after_action(
    state: &AppState,
    outcome: Result<String, String>,
) -> Result<HttpResponse, AppError> {
    let value = match outcome {
        Ok(notice) => format!("n{notice}"),
        Err(error) => format!("e{error}"),
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
