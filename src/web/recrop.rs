//! Cropping a stored photo again without uploading it again: the cropper opens the stored
//! original (served to its owner only), and the chosen square goes through the same bounded
//! intake as an upload. The result replaces the photo: it is stored as a new photo, every
//! address that showed the old one shows the new one, and the old one is deleted.

use actix_web::http::{StatusCode, header};
use actix_web::{HttpResponse, web};
use askama::Template;

use super::pages::{Layout, render_page};
use super::profile::after_action;
use super::session::Visitor;
use super::user_form::UserForm;
use crate::error::AppError;
use crate::imaging::{CropSquare, IntakeError, prepare_within_budget};
use crate::photo_store::{offload, original_bytes};
use crate::state::{AppState, intake_limits};
use crate::store::{addresses, photos};

#[derive(Template)]
#[template(path = "recrop.html")]
struct RecropPage {
    layout: Layout,
    id: i64,
    version: i64,
}

/// The stored original's bytes of one of the account's photos, with its version.
async fn owned_original(
    state: &AppState,
    user_id: i64,
    photo_id: i64,
) -> Result<(Vec<u8>, i64), AppError> {
    let photo = photos::owned_ref(&state.pool, user_id, photo_id)
        .await?
        .ok_or_else(|| AppError::NotFound("that photo is not in your account".into()))?;
    let (inline, digest) = photos::photo_data(&state.pool, photo.id, photo.version)
        .await?
        .ok_or_else(|| AppError::NotFound("that photo changed meanwhile; try again".into()))?;
    let bytes = original_bytes(state.photo_bucket.as_ref(), inline, &digest)
        .await
        .map_err(|e| AppError::Internal(e.to_string()))?;
    Ok((bytes, photo.version))
}

pub async fn crop_form(
    visitor: Visitor,
    state: web::Data<AppState>,
    path: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    let user = visitor.require_user()?;
    let photo = photos::owned_ref(&state.pool, user.user_id, path.into_inner())
        .await?
        .ok_or_else(|| AppError::NotFound("that photo is not in your account".into()))?;
    let page = RecropPage {
        layout: Layout::new("Crop your photo again", &visitor, &state),
        id: photo.id,
        version: photo.version,
    };
    render_page(&visitor, &page, StatusCode::OK)
}

/// The stored original, for the owner's cropper.
pub async fn original(
    visitor: Visitor,
    state: web::Data<AppState>,
    path: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    let user = visitor.require_user()?;
    let (bytes, _) = owned_original(&state, user.user_id, path.into_inner()).await?;
    let content_type = match image::guess_format(&bytes) {
        Ok(image::ImageFormat::Jpeg) => "image/jpeg",
        Ok(image::ImageFormat::Gif) => "image/gif",
        Ok(image::ImageFormat::WebP) => "image/webp",
        _ => "image/png",
    };
    Ok(HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, content_type))
        .insert_header((header::CACHE_CONTROL, "private, no-cache"))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .body(bytes))
}

pub async fn crop(
    UserForm { user, form, .. }: UserForm,
    state: web::Data<AppState>,
    path: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    let old_id = path.into_inner();
    let number = |name: &str| form.get(name).trim().parse::<u32>().ok();
    let Some(crop) = (match (number("crop_x"), number("crop_y"), number("crop_size")) {
        (Some(x), Some(y), Some(size)) if size > 0 => Some(CropSquare { x, y, size }),
        _ => None,
    }) else {
        return after_action(&state, Err("Choose a square to crop to.".into())).await;
    };
    let (bytes, _) = owned_original(&state, user.user_id, old_id).await?;
    let mut limits = intake_limits(&state.config);
    // The stored original was accepted once; a later, lower byte limit does not lock it.
    limits.max_bytes = limits.max_bytes.max(bytes.len() as u64);
    let prepared = match prepare_within_budget(&state.image_budget, bytes, limits, Some(crop)).await
    {
        Ok(prepared) => prepared,
        Err(IntakeError::Busy { retry_after }) => {
            return Err(AppError::Overloaded {
                reason: "The server is busy with other photos; try again in a few seconds.".into(),
                retry_after,
            });
        }
        Err(error) => return after_action(&state, Err(format!("The crop failed: {error}."))).await,
    };
    let prepared = offload(state.photo_bucket.as_ref(), prepared)
        .await
        .map_err(|e| AppError::Internal(e.to_string()))?;
    // One above the limit: the old photo goes right after.
    let limit = state.config.max_photos_per_account.saturating_add(1);
    let Some(new_id) = photos::insert_owned(&state.pool, user.user_id, &prepared, limit).await?
    else {
        return after_action(&state, Err("Delete a photo first.".into())).await;
    };
    for address in addresses::owned_by(&state.pool, user.user_id).await? {
        if address.photo_id == Some(old_id) {
            addresses::assign_photo(&state.pool, user.user_id, address.id, Some(new_id)).await?;
        }
    }
    photos::delete_owned(&state.pool, user.user_id, old_id).await?;
    after_action(&state, Ok("The photo is cropped again.".to_string())).await
}
