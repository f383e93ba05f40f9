//! Adding a photo to an account, whichever way it comes in (the upload form, the
//! `/api/v3/me/avatars` API): the account's photo limit is checked before any decode, the
//! bytes go through the bounded intake within the image memory budget, reach the photo
//! bucket (if any) before the row that needs them, and the row is inserted with the limit
//! held inside its transaction, so parallel uploads cannot pass it. Showing one of the
//! account's photos privately (the form's previews, the API's image URL) is here too.

use actix_web::HttpResponse;
use actix_web::http::header;

use crate::avatar::request::parse_size;
use crate::error::AppError;
use crate::imaging::{CropSquare, IntakeError, prepare_within_budget};
use crate::photo_store::offload;
use crate::state::{AppState, intake_limits};
use crate::store::photos;

/// A photo added: its id and the side of the stored square.
#[derive(Clone, Copy, Debug)]
pub struct Added {
    pub photo_id: i64,
    pub side: u32,
}

/// Why a photo was not added, in words for the account holder.
#[derive(Debug, thiserror::Error)]
pub enum AddRefused {
    #[error("An account keeps at most {0} photos; delete one first.")]
    Full(u32),
    #[error("The photo was refused: {0}.")]
    Intake(IntakeError),
}

/// Adds `bytes` (cut to `crop`, if given) to `user_id`'s photos. A busy image budget is an
/// error (503 with `Retry-After`), not a refusal.
pub async fn add_photo(
    state: &AppState,
    user_id: i64,
    bytes: Vec<u8>,
    crop: Option<CropSquare>,
) -> Result<Result<Added, AddRefused>, AppError> {
    let max_photos = state.config.max_photos_per_account;
    // Cheap, to spare a decode; the check that holds is inside `insert_owned`'s transaction.
    if photos::count_owned(&state.pool, user_id).await? >= i64::from(max_photos) {
        return Ok(Err(AddRefused::Full(max_photos)));
    }
    let limits = intake_limits(&state.config);
    let photo = match prepare_within_budget(&state.image_budget, bytes, limits, crop).await {
        Ok(photo) => photo,
        Err(IntakeError::Busy { retry_after }) => {
            return Err(AppError::Overloaded {
                reason: "The server is busy with other photos; try again in a few seconds.".into(),
                retry_after,
            });
        }
        Err(refused) => return Ok(Err(AddRefused::Intake(refused))),
    };
    let side = photo.side;
    let stored = offload(state.photo_bucket.as_ref(), photo).await?;
    Ok(
        match photos::insert_owned(&state.pool, user_id, &stored, max_photos).await? {
            Some(photo_id) => Ok(Added { photo_id, side }),
            None => Err(AddRefused::Full(max_photos)),
        },
    )
}

/// One of `user_id`'s photos at `?s=` (default 80) from `query`, privately cached; 404 when
/// the photo is not the account's.
pub async fn owned_photo_response(
    state: &AppState,
    user_id: i64,
    photo_id: i64,
    query: &str,
) -> Result<HttpResponse, AppError> {
    let Some(photo) = photos::owned_ref(&state.pool, user_id, photo_id).await? else {
        return Err(AppError::NotFound("no such photo".into()));
    };
    let size_param = form_urlencoded::parse(query.as_bytes())
        .find(|(key, _)| key == "s")
        .map(|(_, value)| value.into_owned());
    let size = parse_size(size_param.as_deref(), state.config.max_size);
    let rendition = state.renderer.photo(&photo, size, photo.format).await?;
    Ok(HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, rendition.content_type.clone()))
        .insert_header((header::CACHE_CONTROL, "private, no-cache"))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .body(rendition.body.clone()))
}
