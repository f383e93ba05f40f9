//! The steps every photo import of [`super`] takes, in order: room in the account, the
//! hourly limits (counted before any fetch), then the intake and the store; and how a step
//! that stops the import reports it ([`Refused`]).

use actix_web::http::StatusCode;

use super::{IMPORTS_ON_SERVER, IMPORTS_PER_ACCOUNT};
use crate::error::AppError;
use crate::imaging::{IntakeError, prepare_within_budget};
use crate::photo_import::ImportRefusal;
use crate::photo_store::offload;
use crate::state::{AppState, intake_limits};
use crate::store::photos;
use crate::web::auth::take;

/// Why an import stopped: a refusal shown beside its field (with its status, and when to
/// try again for a limit), or a fault of the server's.
pub(crate) enum Refused {
    Shown(String, StatusCode, Option<u64>),
    Fault(AppError),
}

impl From<ImportRefusal> for Refused {
    fn from(refusal: ImportRefusal) -> Refused {
        let status = refusal.status();
        Refused::Shown(refusal.to_string(), status, None)
    }
}

impl From<AppError> for Refused {
    fn from(error: AppError) -> Refused {
        Refused::Fault(error)
    }
}

impl From<sqlx::Error> for Refused {
    fn from(error: sqlx::Error) -> Refused {
        Refused::Fault(error.into())
    }
}

/// A limit used up becomes a refusal on the page (429 with `Retry-After`).
pub(crate) async fn spend(
    counted: impl std::future::Future<Output = Result<(), AppError>>,
) -> Result<(), Refused> {
    match counted.await {
        Ok(()) => Ok(()),
        Err(AppError::Throttled {
            reason,
            retry_after,
        }) => Err(Refused::Shown(
            reason,
            StatusCode::TOO_MANY_REQUESTS,
            Some(retry_after),
        )),
        Err(other) => Err(Refused::Fault(other)),
    }
}

/// Refuses (409) when the account holds as many photos as it may: checked before anything
/// is counted or fetched (the check that holds is in [`photos::insert_owned`]).
pub(crate) async fn make_room(state: &AppState, user_id: i64) -> Result<(), Refused> {
    let max = state.config.max_photos_per_account;
    if photos::count_owned(&state.pool, user_id).await? < i64::from(max) {
        return Ok(());
    }
    let message = format!("An account keeps at most {max} photos; delete one first.");
    Err(Refused::Shown(message, StatusCode::CONFLICT, None))
}

/// Counts one import against the account's and the server's hourly limits.
pub(crate) async fn spend_import(state: &AppState, user_id: i64) -> Result<(), Refused> {
    let account = user_id.to_string();
    spend(async {
        take(&state.pool, IMPORTS_PER_ACCOUNT, &account)
            .await
            .map(|_| ())
    })
    .await?;
    spend(async {
        take(&state.pool, IMPORTS_ON_SERVER, "all")
            .await
            .map(|_| ())
    })
    .await
}

/// Runs fetched bytes through the intake and stores them as the account's photo.
pub(crate) async fn store(
    state: &AppState,
    user_id: i64,
    fetched: Result<bytes::Bytes, ImportRefusal>,
) -> Result<i64, Refused> {
    let bytes = fetched?;
    let limits = intake_limits(&state.config);
    let photo = match prepare_within_budget(&state.image_budget, bytes.to_vec(), limits, None).await
    {
        Ok(photo) => photo,
        Err(IntakeError::Busy { retry_after }) => {
            return Err(Refused::Fault(AppError::Overloaded {
                reason: "The server is busy with other photos; try again in a few seconds.".into(),
                retry_after,
            }));
        }
        Err(error) => return Err(ImportRefusal::Refused(error).into()),
    };
    let max = state.config.max_photos_per_account;
    let photo = offload(state.photo_bucket.as_ref(), photo)
        .await
        .map_err(AppError::from)?;
    match photos::insert_owned(&state.pool, user_id, &photo, max).await? {
        Some(id) => Ok(id),
        None => {
            let message = format!("An account keeps at most {max} photos; delete one first.");
            Err(Refused::Shown(message, StatusCode::CONFLICT, None))
        }
    }
}
