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

mod upload_rules;

use actix_multipart::Multipart;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::error::ApiError;
use super::gate::TokenOwner;
use super::scopes::Scope;
use crate::account_photos::{AddRefused, add_photo, owned_photo_response};
use crate::error::AppError;
use crate::identity::{Digest, Identity};
use crate::state::{AppState, intake_limits};
use crate::store::addresses::{self, OwnedAddress};
use crate::store::api_tokens::rfc3339_utc;
use crate::store::{photos, profiles};
use upload_rules::{gravatar_refusal, read_image};

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

/// The account's photos as Gravatar lists them, `selected` for `selected` (an address),
/// with `owned` its confirmed addresses as they are now.
async fn avatars_of(
    state: &AppState,
    user_id: i64,
    owned: &[OwnedAddress],
    selected: Option<&OwnedAddress>,
) -> Result<Vec<Avatar>, AppError> {
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
    let avatars = avatars_of(&state, owner.user_id, &owned, selected).await?;
    Ok(HttpResponse::Ok()
        .insert_header(("cache-control", "no-store"))
        .json(avatars))
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
    let avatar = avatars_of(&state, owner.user_id, &shown, selected)
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
}
