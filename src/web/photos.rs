//! Photos in an account: upload (multipart, bounded, through the shared intake and its memory
//! budget, with the browser cropper's square when it sent one), previews, assignment to
//! addresses, deletion.
//! Every query is scoped to the logged-in account, so another account's ids do nothing.

use actix_multipart::Multipart;
use actix_web::{HttpRequest, HttpResponse, web};
use futures_util::StreamExt;

use super::profile::{after_action, after_field_action};
use super::session::Visitor;
use super::user_form::UserForm;
use crate::account_photos::{AddRefused, Added, add_photo, owned_photo_response};
use crate::error::AppError;
use crate::imaging::{CropSquare, IntakeError};
use crate::state::{AppState, intake_limits};
use crate::store::{addresses, photos};

/// The upload form's file field, where its refusals are shown.
const PHOTO: Option<&str> = Some("photo-file");

/// Most parts a photo form may have, and the largest non-file part.
const MAX_PARTS: usize = 16;
const MAX_TEXT_PART: usize = 256;

/// What an upload form sent.
#[derive(Default)]
pub(super) struct UploadForm {
    pub csrf: String,
    pub photo: Option<Vec<u8>>,
    pub crop: [Option<u32>; 3],
}

/// Reads the multipart body with a cap on every part; the file (part `photo`) may not exceed
/// the intake's byte limit (plus one byte, so "too large" is detected rather than
/// truncated). A refusal is a sentence for the page.
pub(super) async fn read_upload(
    mut multipart: Multipart,
    max_file: u64,
) -> Result<UploadForm, String> {
    let mut form = UploadForm::default();
    let mut parts = 0;
    while let Some(field) = multipart.next().await {
        let mut field = field.map_err(|e| format!("The upload could not be read: {e}"))?;
        parts += 1;
        if parts > MAX_PARTS {
            return Err("The form has too many parts.".into());
        }
        let name = field.name().unwrap_or_default().to_string();
        let cap = if name == "photo" {
            max_file as usize + 1
        } else {
            MAX_TEXT_PART
        };
        let mut value = Vec::new();
        while let Some(chunk) = field.next().await {
            let chunk = chunk.map_err(|e| format!("The upload could not be read: {e}"))?;
            if value.len() + chunk.len() > cap {
                if name == "photo" {
                    let error = IntakeError::TooLarge {
                        size: (value.len() + chunk.len()) as u64,
                        limit: max_file,
                    };
                    return Err(format!("The photo was refused: {error}."));
                }
                return Err(format!("The form field {name} is too long."));
            }
            value.extend_from_slice(&chunk);
        }
        let text = || String::from_utf8_lossy(&value).trim().to_string();
        match name.as_str() {
            "csrf" => form.csrf = text(),
            "photo" => form.photo = Some(value),
            "crop_x" => form.crop[0] = text().parse().ok(),
            "crop_y" => form.crop[1] = text().parse().ok(),
            "crop_size" => form.crop[2] = text().parse().ok(),
            _ => {}
        }
    }
    Ok(form)
}

pub async fn upload(
    visitor: Visitor,
    state: web::Data<AppState>,
    multipart: Multipart,
) -> Result<HttpResponse, AppError> {
    let user = visitor.require_user()?;
    let limits = intake_limits(&state.config);
    let form = match read_upload(multipart, limits.max_bytes).await {
        Ok(form) => form,
        Err(message) => return after_field_action(&state, PHOTO, Err(message)).await,
    };
    visitor.check_csrf(&form.csrf)?;
    let Some(bytes) = form.photo.filter(|b| !b.is_empty()) else {
        return after_field_action(&state, PHOTO, Err("Choose a photo to upload.".into())).await;
    };
    let crop = match form.crop {
        [Some(x), Some(y), Some(size)] if size > 0 => Some(CropSquare { x, y, size }),
        _ => None,
    };
    let result = match add_photo(&state, user.user_id, bytes, crop).await? {
        Ok(Added { photo_id, side }) => {
            let notice = apply_first_photo(&state, user.user_id, photo_id).await?;
            Ok(match small_photo_warning(side) {
                Some(warning) => format!("{notice} {warning}"),
                None => notice,
            })
        }
        Err(full @ AddRefused::Full(_)) => {
            return after_action(&state, Err(full.to_string())).await;
        }
        Err(refused) => Err(refused.to_string()),
    };
    after_field_action(&state, PHOTO, result).await
}

/// Shows a new photo for every confirmed address of the account that shows none yet (so a
/// first upload is live at once), and says where it shows.
async fn apply_first_photo(
    state: &AppState,
    user_id: i64,
    photo_id: i64,
) -> Result<String, AppError> {
    let mut applied = Vec::new();
    for address in addresses::owned_by(&state.pool, user_id).await? {
        if address.photo_id.is_none()
            && addresses::assign_photo(&state.pool, user_id, address.id, Some(photo_id)).await?
        {
            applied.push(address.address);
        }
    }
    Ok(upload_notice(&applied))
}

/// Below this side a photo is accepted with a warning: sites show avatars up to 128 px and
/// more on sharp screens.
const SMALL_SIDE: u32 = 128;

/// The warning for a photo `side` pixels square, if it is small.
pub fn small_photo_warning(side: u32) -> Option<String> {
    (side < SMALL_SIDE).then(|| {
        format!(
            "It is only {side}×{side} pixels, so it looks blurry where sites show avatars \
             large; a photo of at least {SMALL_SIDE}×{SMALL_SIDE} looks better."
        )
    })
}

/// What the page says after an upload that was shown for `applied`.
pub fn upload_notice(applied: &[String]) -> String {
    if applied.is_empty() {
        "The photo is uploaded. Choose it for an address below to show it.".to_string()
    } else {
        format!(
            "The photo is uploaded and live for {}. Sites show it as soon as their cache \
             expires (a few minutes).",
            applied.join(", ")
        )
    }
}

pub async fn delete(
    UserForm { user, .. }: UserForm,
    state: web::Data<AppState>,
    path: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    let result = if photos::delete_owned(&state.pool, user.user_id, path.into_inner()).await? {
        Ok("The photo is deleted.".to_string())
    } else {
        Err("That photo is not in your account.".to_string())
    };
    after_action(&state, result).await
}

/// Shows one photo for every checked address; addresses unchecked that showed it show none.
pub async fn assign_to_addresses(
    UserForm { user, form, .. }: UserForm,
    state: web::Data<AppState>,
    path: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    let photo_id = path.into_inner();
    if photos::owned_ref(&state.pool, user.user_id, photo_id)
        .await?
        .is_none()
    {
        return after_action(&state, Err("That photo is not in your account.".into())).await;
    }
    let checked: Vec<i64> = form
        .all("address")
        .filter_map(|id| id.parse().ok())
        .collect();
    let owned = addresses::owned_by(&state.pool, user.user_id).await?;
    if checked.iter().any(|id| !owned.iter().any(|a| a.id == *id)) {
        return after_action(
            &state,
            Err("An address you chose is not in your account.".into()),
        )
        .await;
    }
    for address in owned {
        let wanted = checked.contains(&address.id);
        if wanted && address.photo_id != Some(photo_id) {
            addresses::assign_photo(&state.pool, user.user_id, address.id, Some(photo_id)).await?;
        } else if !wanted && address.photo_id == Some(photo_id) {
            addresses::assign_photo(&state.pool, user.user_id, address.id, None).await?;
        }
    }
    after_action(&state, Ok("Saved.".to_string())).await
}

/// Sets the photo of one address (or none).
pub async fn assign_to_address(
    UserForm { user, form, .. }: UserForm,
    state: web::Data<AppState>,
    path: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    let photo = match form.get("photo") {
        "" => None,
        id => Some(
            id.parse::<i64>()
                .map_err(|_| AppError::BadRequest("photo must be a number".into()))?,
        ),
    };
    let result =
        if addresses::assign_photo(&state.pool, user.user_id, path.into_inner(), photo).await? {
            Ok("Saved. Sites show the new image as soon as their cache expires.".to_string())
        } else {
            Err("That address or photo is not in your account.".to_string())
        };
    after_action(&state, result).await
}

/// A private preview of one of the account's photos, at `?s=` (default 80).
pub async fn preview(
    request: HttpRequest,
    visitor: Visitor,
    state: web::Data<AppState>,
    path: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    let user = visitor.require_user()?;
    owned_photo_response(
        &state,
        user.user_id,
        path.into_inner(),
        request.query_string(),
    )
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_photos_are_accepted_with_a_warning() {
        assert!(small_photo_warning(64).unwrap().contains("64×64"));
        assert_eq!(small_photo_warning(128), None);
    }

    #[test]
    fn the_upload_notice_says_where_the_photo_went_live() {
        assert!(upload_notice(&[]).contains("Choose it for an address"));
        let notice = upload_notice(&["a@example.org".into(), "b@example.org".into()]);
        assert!(
            notice.starts_with("The photo is uploaded and live for a@example.org, b@example.org.")
        );
    }
}
