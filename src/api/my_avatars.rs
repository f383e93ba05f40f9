//! Gravatar's `/v3/me/avatars` family, so an app can set its user's avatar in one call: an
//! account's photos listed, uploaded, chosen for one of its confirmed addresses, deleted.
//! Callers authenticate with one of the account's API tokens (behind
//! [`super::gate::account_gate`], which spends the token's budget); listing needs the
//! `avatars:read` scope, changing `avatars:write` (else `insufficient_scope`, 403).
//!
//! - `GET /api/v3/me/avatars[?selected_email_hash=H]`: every photo, `selected` for the one H
//!   shows.
//! - `POST /api/v3/me/avatars[?selected_email_hash=H&select_avatar=true]`: multipart with
//!   the file in `image`. As Gravatar, a photo must already be square (`uncropped_image`) in
//!   a format Cameo reads (`unsupported_image`), both 400; Cameo's own intake limits answer
//!   with their own codes (`file_too_large` 413, …). With H it is shown for H at once.
//! - `POST /api/v3/me/avatars/{image_id}/email` with `{"email_hash": H}`: show it for H (204).
//! - `DELETE /api/v3/me/avatars/{image_id}`: delete it (204); addresses showing it show none.
//! - `GET /api/v3/me/avatars/{image_id}/image[?s=]`: the photo itself, for a photo no address
//!   shows yet (its `image_url`).
//!
//! H is the SHA-256 (or MD5) of one of the account's confirmed addresses; any other hash is
//! 404, as is another account's photo id.

use actix_multipart::Multipart;
use actix_web::{HttpRequest, HttpResponse, web};
use futures_util::StreamExt;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::error::ApiError;
use super::gate::TokenOwner;
use super::scopes::Scope;
use crate::account_photos::{AddRefused, add_photo, owned_photo_response};
use crate::error::AppError;
use crate::identity::{Digest, Identity};
use crate::imaging::IntakeError;
use crate::imaging::intake::inspect;
use crate::state::{AppState, intake_limits};
use crate::store::addresses::{self, OwnedAddress};
use crate::store::api_tokens::rfc3339_utc;
use crate::store::{photos, profiles};

/// Most parts an upload may have, and the largest non-file part.
const MAX_PARTS: usize = 8;
const MAX_TEXT_PART: usize = 256;

/// One of the account's photos, in Gravatar's shape.
#[derive(Debug, Serialize, ToSchema)]
pub struct Avatar {
    /// Opaque id of the photo in this account.
    pub image_id: String,
    /// A URL that serves it: the public `/avatar/HASH` of an address it shows for, else this
    /// API's private `/image` URL (which needs the token).
    pub image_url: String,
    /// Always `G`: this server serves every photo at every rating.
    pub rating: &'static str,
    /// The account's avatar alt text (from its profile).
    pub alt_text: String,
    /// Whether it is the photo `selected_email_hash` shows.
    pub selected: bool,
    /// When it last changed, RFC 3339.
    pub updated_date: String,
}

/// The query of the list and upload calls.
#[derive(Debug, Default, Deserialize)]
pub struct Selection {
    #[serde(default)]
    selected_email_hash: Option<String>,
    #[serde(default)]
    select_avatar: Option<bool>,
}

/// The body of the set call.
#[derive(Debug, Deserialize, ToSchema)]
pub struct EmailHashBody {
    /// SHA-256 (or MD5) of one of the account's confirmed addresses.
    pub email_hash: String,
}

/// The account's confirmed address whose hash is `hash`, or 404.
fn address_of_hash<'a>(
    owned: &'a [OwnedAddress],
    hash: &str,
) -> Result<&'a OwnedAddress, AppError> {
    let not_yours =
        || AppError::NotFound("no confirmed address of this account has that hash".into());
    let digest = Digest::parse_hex(hash.trim()).map_err(|_| {
        AppError::Invalid(
            "invalid_hash",
            "the email hash must be 64 (SHA-256) or 32 (MD5) hex digits".into(),
        )
    })?;
    owned
        .iter()
        .find(|a| Identity::parse(&a.address).is_ok_and(|i| i.digests().contains(&digest)))
        .ok_or_else(not_yours)
}

/// The public URL `address` is served at.
fn avatar_url(base_url: &str, address: &str) -> String {
    format!("{base_url}/avatar/{}", Digest::sha256_of(address).to_hex())
}

/// The account's photos as Gravatar lists them, `selected` for `selected` (an address).
async fn avatars_of(
    state: &AppState,
    user_id: i64,
    selected: Option<&OwnedAddress>,
) -> Result<Vec<Avatar>, AppError> {
    let owned = addresses::owned_by(&state.pool, user_id).await?;
    let alt_text = profiles::load(&state.pool, user_id)
        .await?
        .details
        .avatar_alt_text;
    let base = &state.config.base_url;
    Ok(photos::owned_by(&state.pool, user_id)
        .await?
        .into_iter()
        .map(|photo| {
            let shown_for = owned.iter().find(|a| a.photo_id == Some(photo.id));
            Avatar {
                image_id: photo.id.to_string(),
                image_url: match shown_for {
                    Some(address) => avatar_url(base, &address.address),
                    None => format!("{base}/api/v3/me/avatars/{}/image", photo.id),
                },
                rating: "G",
                alt_text: alt_text.clone(),
                selected: selected.is_some_and(|a| a.photo_id == Some(photo.id)),
                updated_date: rfc3339_utc(photo.updated_at),
            }
        })
        .collect())
}

#[utoipa::path(
    get,
    path = "/api/v3/me/avatars",
    tag = "avatars",
    params(("selected_email_hash" = Option<String>, Query, description = "Mark the photo this address (SHA-256 or MD5 of one of yours) shows")),
    responses(
        (status = 200, description = "The account's photos", body = [Avatar]),
        (status = 401, description = "No or a bad token"),
        (status = 403, description = "The token lacks avatars:read (insufficient_scope)"),
        (status = 404, description = "The hash is not one of the account's confirmed addresses"),
    ),
    security(("bearer" = []))
)]
pub async fn list(
    owner: TokenOwner,
    state: web::Data<AppState>,
    query: web::Query<Selection>,
) -> Result<HttpResponse, ApiError> {
    owner.require(Scope::AvatarsRead)?;
    let owned = addresses::owned_by(&state.pool, owner.user_id).await?;
    let selected = match query.selected_email_hash.as_deref() {
        Some(hash) => Some(address_of_hash(&owned, hash)?),
        None => None,
    };
    let avatars = avatars_of(&state, owner.user_id, selected).await?;
    Ok(HttpResponse::Ok()
        .insert_header(("cache-control", "no-store"))
        .json(avatars))
}

/// Reads the multipart body: the first file part (`image`, or `file`/`photo`), capped at
/// the intake's byte limit plus one byte, so "too large" is detected rather than truncated.
async fn read_image(mut multipart: Multipart, max_file: u64) -> Result<Vec<u8>, AppError> {
    let unreadable = |e: actix_multipart::MultipartError| {
        AppError::BadRequest(format!("the upload could not be read: {e}"))
    };
    let mut parts = 0;
    while let Some(field) = multipart.next().await {
        let mut field = field.map_err(unreadable)?;
        parts += 1;
        if parts > MAX_PARTS {
            return Err(AppError::BadRequest("the upload has too many parts".into()));
        }
        let is_file = matches!(field.name(), Some("image" | "file" | "photo"));
        let cap = if is_file {
            max_file as usize + 1
        } else {
            MAX_TEXT_PART
        };
        let mut value = Vec::new();
        while let Some(chunk) = field.next().await {
            let chunk = chunk.map_err(unreadable)?;
            if value.len() + chunk.len() > cap {
                return Err(if is_file {
                    IntakeError::TooLarge {
                        size: (value.len() + chunk.len()) as u64,
                        limit: max_file,
                    }
                    .into()
                } else {
                    AppError::BadRequest("a form field is too long".into())
                });
            }
            value.extend_from_slice(&chunk);
        }
        if is_file {
            return Ok(value);
        }
    }
    Err(AppError::BadRequest(
        "send the image as a multipart/form-data part named image".into(),
    ))
}

/// Gravatar's refusals for what it does not take: a format Cameo does not read is
/// `unsupported_image`, a picture that is not square `uncropped_image` (both 400). Other
/// intake limits keep Cameo's own codes.
pub fn gravatar_refusal(bytes: &[u8], limits: crate::imaging::IntakeLimits) -> Option<AppError> {
    match inspect(bytes, limits) {
        Err(refused @ (IntakeError::NotAnImage | IntakeError::UnsupportedFormat(_))) => {
            Some(AppError::Invalid("unsupported_image", format!("{refused}")))
        }
        Err(other) => Some(other.into()),
        Ok(shape) if shape.width != shape.height => Some(AppError::Invalid(
            "uncropped_image",
            format!(
                "the image is {}×{} pixels; crop it to a square (1:1) before uploading",
                shape.width, shape.height
            ),
        )),
        Ok(_) => None,
    }
}

#[utoipa::path(
    post,
    path = "/api/v3/me/avatars",
    tag = "avatars",
    params(
        ("selected_email_hash" = Option<String>, Query, description = "Show the new photo for this address of yours at once"),
        ("select_avatar" = Option<bool>, Query, description = "With selected_email_hash: whether to show it (default true)"),
    ),
    request_body(content_type = "multipart/form-data", description = "The square image in a part named image (PNG, JPEG, GIF or WebP)"),
    responses(
        (status = 200, description = "The photo as stored", body = Avatar),
        (status = 400, description = "uncropped_image, unsupported_image, or an unreadable upload"),
        (status = 403, description = "The token lacks avatars:write (insufficient_scope)"),
        (status = 413, description = "Larger than this server's limits (file_too_large, too_many_pixels, …)"),
        (status = 503, description = "The server is busy decoding other images; Retry-After says when to come back"),
    ),
    security(("bearer" = []))
)]
pub async fn upload(
    owner: TokenOwner,
    state: web::Data<AppState>,
    query: web::Query<Selection>,
    multipart: Multipart,
) -> Result<HttpResponse, ApiError> {
    owner.require(Scope::AvatarsWrite)?;
    let owned = addresses::owned_by(&state.pool, owner.user_id).await?;
    // The address is checked before the upload is read: a wrong hash costs no decode.
    let target = match query.selected_email_hash.as_deref() {
        Some(hash) if query.select_avatar != Some(false) => Some(address_of_hash(&owned, hash)?),
        _ => None,
    };
    let limits = intake_limits(&state.config);
    let bytes = read_image(multipart, limits.max_bytes).await?;
    if let Some(refusal) = gravatar_refusal(&bytes, limits) {
        return Err(refusal.into());
    }
    let added = match add_photo(&state, owner.user_id, bytes, None).await? {
        Ok(added) => added,
        Err(AddRefused::Full(max)) => {
            return Err(AppError::Invalid(
                "too_many_photos",
                format!("an account keeps at most {max} photos; delete one first"),
            )
            .into());
        }
        Err(AddRefused::Intake(refused)) => return Err(AppError::from(refused).into()),
    };
    if let Some(address) = target {
        addresses::assign_photo(&state.pool, owner.user_id, address.id, Some(added.photo_id))
            .await?;
    }
    let shown = addresses::owned_by(&state.pool, owner.user_id).await?;
    let selected = target.and_then(|t| shown.iter().find(|a| a.id == t.id));
    let avatar = avatars_of(&state, owner.user_id, selected)
        .await?
        .into_iter()
        .find(|a| a.image_id == added.photo_id.to_string())
        .ok_or_else(|| AppError::Internal("the photo just added is not listed".into()))?;
    Ok(HttpResponse::Ok()
        .insert_header(("cache-control", "no-store"))
        .json(avatar))
}

/// The photo id in the path, as this account's: 404 otherwise.
async fn own_photo(state: &AppState, user_id: i64, image_id: &str) -> Result<i64, AppError> {
    let missing = || AppError::NotFound("this account has no photo with that id".into());
    let id: i64 = image_id.parse().map_err(|_| missing())?;
    match photos::owned_ref(&state.pool, user_id, id).await? {
        Some(_) => Ok(id),
        None => Err(missing()),
    }
}

#[utoipa::path(
    post,
    path = "/api/v3/me/avatars/{image_id}/email",
    tag = "avatars",
    params(("image_id" = String, Path, description = "The photo's id")),
    request_body = EmailHashBody,
    responses(
        (status = 204, description = "The address shows the photo"),
        (status = 403, description = "The token lacks avatars:write (insufficient_scope)"),
        (status = 404, description = "Not this account's photo, or not one of its confirmed addresses"),
    ),
    security(("bearer" = []))
)]
pub async fn set_for_email(
    owner: TokenOwner,
    state: web::Data<AppState>,
    path: web::Path<String>,
    body: web::Json<EmailHashBody>,
) -> Result<HttpResponse, ApiError> {
    owner.require(Scope::AvatarsWrite)?;
    let photo_id = own_photo(&state, owner.user_id, &path).await?;
    let owned = addresses::owned_by(&state.pool, owner.user_id).await?;
    let address = address_of_hash(&owned, &body.email_hash)?;
    addresses::assign_photo(&state.pool, owner.user_id, address.id, Some(photo_id)).await?;
    Ok(HttpResponse::NoContent().finish())
}

#[utoipa::path(
    delete,
    path = "/api/v3/me/avatars/{image_id}",
    tag = "avatars",
    params(("image_id" = String, Path, description = "The photo's id")),
    responses(
        (status = 204, description = "Deleted; addresses that showed it show none"),
        (status = 403, description = "The token lacks avatars:write (insufficient_scope)"),
        (status = 404, description = "Not this account's photo"),
    ),
    security(("bearer" = []))
)]
pub async fn delete(
    owner: TokenOwner,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    owner.require(Scope::AvatarsWrite)?;
    let photo_id = own_photo(&state, owner.user_id, &path).await?;
    photos::delete_owned(&state.pool, owner.user_id, photo_id).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// The photo itself, for apps showing one no address shows yet (needs `avatars:read`).
pub async fn image(
    owner: TokenOwner,
    request: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    owner.require(Scope::AvatarsRead)?;
    let photo_id = own_photo(&state, owner.user_id, &path).await?;
    Ok(owned_photo_response(&state, owner.user_id, photo_id, request.query_string()).await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn owned(address: &str) -> OwnedAddress {
        OwnedAddress {
            id: 7,
            address: address.into(),
            kind: "email".into(),
            photo_id: None,
        }
    }

    #[test]
    fn a_hash_finds_an_own_address_by_sha256_or_md5_and_nothing_else() {
        let list = [owned("ada@example.org")];
        let sha = Digest::sha256_of("ada@example.org").to_hex();
        let md5 = Digest::md5_of("ada@example.org").to_hex();
        assert_eq!(address_of_hash(&list, &sha).unwrap().id, 7);
        assert_eq!(address_of_hash(&list, &md5.to_uppercase()).unwrap().id, 7);
        let other = Digest::sha256_of("bob@example.org").to_hex();
        assert_eq!(
            address_of_hash(&list, &other).unwrap_err().code(),
            "not_found"
        );
        assert_eq!(
            address_of_hash(&list, "xyz").unwrap_err().code(),
            "invalid_hash"
        );
    }

    #[test]
    fn only_square_images_in_known_formats_pass_gravatars_rules() {
        let limits = crate::imaging::IntakeLimits {
            max_bytes: 1 << 20,
            max_pixels: 1 << 22,
        };
        let png = |w, h| {
            let mut out = std::io::Cursor::new(Vec::new());
            image::RgbImage::new(w, h)
                .write_to(&mut out, image::ImageFormat::Png)
                .unwrap();
            out.into_inner()
        };
        assert!(gravatar_refusal(&png(8, 8), limits).is_none());
        let wide = gravatar_refusal(&png(8, 4), limits).unwrap();
        assert_eq!(wide.code(), "uncropped_image");
        assert!(wide.to_string().contains("8×4"));
        let text = gravatar_refusal(b"<svg xmlns='http://www.w3.org/2000/svg'/>", limits);
        assert_eq!(text.unwrap().code(), "unsupported_image");
        let big = gravatar_refusal(&vec![0; (1 << 20) + 1], limits).unwrap();
        assert_eq!(big.code(), "file_too_large");
    }
}
