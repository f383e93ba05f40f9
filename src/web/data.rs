//! "Your data" (`/account/data`): the account's own export, as the JSON of `cameo export`,
//! and photos imported from a web address or from Gravatar ([`crate::photo_import`]).
//!
//! An import makes the server fetch, so it is bounded before any work starts: the input is
//! checked, the account must have room for a photo, then one hit is counted against the
//! account's hourly imports and against every account's together ([`IMPORTS_PER_ACCOUNT`],
//! [`IMPORTS_ON_SERVER`]); a web address also spends the client's outbound probe budget,
//! as any fetch from a host somebody else chose does. Every form is CSRF-checked and needs
//! a logged-in account; a refusal is shown beside its field with a matching status.

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;

use super::auth::{Limit, take};
use super::pages::{FormData, Layout, render_page};
use super::profile::after_action;
use super::session::Visitor;
use crate::error::AppError;
use crate::identity::Identity;
use crate::imaging::{IntakeError, prepare_within_budget};
use crate::operator::export::export_account;
use crate::photo_import::{
    GRAVATAR_SIDE, ImportRefusal, MAX_URL_CHARS, fetch_gravatar, fetch_url, gravatar_photo_url,
    parse_import_url,
};
use crate::photo_store::offload;
use crate::state::{AppState, intake_limits};
use crate::store::{addresses, photos};

const TITLE: &str = "Your data";

/// Photos one account imports in an hour (web addresses and Gravatar together).
pub const IMPORTS_PER_ACCOUNT: Limit = Limit {
    scope: "photo_import",
    max: 20,
    window_secs: 3600,
    refusal: "Your account imported many photos in the last hour.",
};
/// Photos every account together imports in an hour: what one server fetches for people.
pub const IMPORTS_ON_SERVER: Limit = Limit {
    scope: "photo_import_all",
    max: 1000,
    window_secs: 3600,
    refusal: "This server imported many photos in the last hour.",
};
/// Downloads of one account's data in an hour.
pub const EXPORTS_PER_ACCOUNT: Limit = Limit {
    scope: "data_export",
    max: 20,
    window_secs: 3600,
    refusal: "Your data was downloaded many times in the last hour.",
};

/// A confirmed email address Gravatar may be asked about.
pub struct EmailChoice {
    pub id: i64,
    pub address: String,
}

#[derive(Template)]
#[template(path = "your_data.html")]
struct DataPage {
    layout: Layout,
    emails: Vec<EmailChoice>,
    gravatar_available: bool,
    room: bool,
    max_photos: u32,
    max_upload_mb: u64,
    max_url: usize,
    /// The web address as typed, after a refused import.
    url: String,
    url_error: Option<String>,
    gravatar_error: Option<String>,
}

/// Which form a refusal belongs beside.
enum Field {
    Url,
    Gravatar,
}

async fn page(
    visitor: &Visitor,
    state: &AppState,
    refused: Option<(Field, String)>,
    url: String,
    status: StatusCode,
) -> Result<HttpResponse, AppError> {
    let user = visitor.require_user()?;
    let emails = addresses::owned_by(&state.pool, user.user_id)
        .await?
        .into_iter()
        .filter(|a| a.kind == "email")
        .map(|a| EmailChoice {
            id: a.id,
            address: a.address,
        })
        .collect();
    let max_photos = state.config.max_photos_per_account;
    let held = photos::count_owned(&state.pool, user.user_id).await?;
    let (url_error, gravatar_error) = match refused {
        Some((Field::Url, message)) => (Some(message), None),
        Some((Field::Gravatar, message)) => (None, Some(message)),
        None => (None, None),
    };
    let page = DataPage {
        layout: Layout::new(TITLE, visitor, state),
        emails,
        gravatar_available: !state.config.gravatar_upstream.is_empty(),
        room: held < i64::from(max_photos),
        max_photos,
        max_upload_mb: state.config.max_upload_bytes.div_ceil(1_000_000),
        max_url: MAX_URL_CHARS,
        url,
        url_error,
        gravatar_error,
    };
    render_page(visitor, &page, status)
}

pub async fn data_page(
    visitor: Visitor,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    page(&visitor, &state, None, String::new(), StatusCode::OK).await
}

/// The account's data as one `cameo export` document, downloaded as a file.
pub async fn export_download(
    visitor: Visitor,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    let user = visitor.require_user()?;
    take(&state.pool, EXPORTS_PER_ACCOUNT, &user.user_id.to_string()).await?;
    let mut document = Vec::new();
    export_account(
        &state.pool,
        state.photo_bucket.as_ref(),
        user.user_id,
        &mut document,
    )
    .await
    .map_err(|e| AppError::Internal(format!("export of account {}: {e}", user.user_id)))?;
    let response = HttpResponse::Ok()
        .insert_header((
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        ))
        .insert_header((
            header::CONTENT_DISPOSITION,
            HeaderValue::from_static("attachment; filename=\"cameo-data.json\""),
        ))
        .insert_header((header::CACHE_CONTROL, HeaderValue::from_static("no-store")))
        .insert_header((
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .body(document);
    Ok(visitor.finish(response))
}

pub async fn import_from_url(
    request: HttpRequest,
    visitor: Visitor,
    state: web::Data<AppState>,
    form: FormData,
) -> Result<HttpResponse, AppError> {
    let user = visitor.require_user()?;
    visitor.check_csrf(form.get("csrf"))?;
    let typed: String = form.get("url").chars().take(MAX_URL_CHARS + 1).collect();
    let outcome = async {
        let url = parse_import_url(&typed).map_err(Refused::from)?;
        make_room(&state, user.user_id).await?;
        spend_import(&state, user.user_id).await?;
        let client = crate::client::limit_key_of(&request, &state.config);
        spend(crate::outbound::probe_budget::spend_for(
            &state.pool,
            &state.config,
            &client,
        ))
        .await?;
        let max_bytes = intake_limits(&state.config).max_bytes as usize;
        let fetched = fetch_url(&state.outbound, &url, max_bytes).await;
        store(&state, user.user_id, fetched).await
    }
    .await;
    match outcome {
        Ok(_) => {
            let notice = "The photo is imported. Choose the addresses that show it.";
            after_action(&state, Ok(notice.into())).await
        }
        Err(Refused::Shown(message, status, retry_after)) => {
            let refused = Some((Field::Url, message));
            let response = page(&visitor, &state, refused, typed, status).await?;
            Ok(with_retry_after(response, retry_after))
        }
        Err(Refused::Fault(error)) => Err(error),
    }
}

pub async fn import_from_gravatar(
    visitor: Visitor,
    state: web::Data<AppState>,
    form: FormData,
) -> Result<HttpResponse, AppError> {
    let user = visitor.require_user()?;
    visitor.check_csrf(form.get("csrf"))?;
    let chosen = form.get("address").parse::<i64>().ok();
    let outcome = async {
        let owned = addresses::owned_by(&state.pool, user.user_id).await?;
        let Some(address) = owned
            .into_iter()
            .find(|a| Some(a.id) == chosen && a.kind == "email")
        else {
            let message = "Choose one of your confirmed email addresses.";
            return Err(Refused::Shown(message.into(), StatusCode::BAD_REQUEST, None));
        };
        let upstream = &state.config.gravatar_upstream;
        if upstream.is_empty() {
            let message = "This server is not set up to ask Gravatar.";
            return Err(Refused::Shown(message.into(), StatusCode::NOT_FOUND, None));
        }
        let digest = Identity::parse(&address.address)
            .ok()
            .and_then(|identity| identity.digests().into_iter().find(|d| !d.is_md5()))
            .ok_or_else(|| AppError::Internal(format!("address {} does not parse", address.id)))?;
        make_room(&state, user.user_id).await?;
        spend_import(&state, user.user_id).await?;
        let url = gravatar_photo_url(upstream, &digest, GRAVATAR_SIDE.min(state.config.max_size));
        let max_bytes = intake_limits(&state.config).max_bytes as usize;
        let fetched = fetch_gravatar(&state.outbound, &url, max_bytes, &address.address).await;
        let photo_id = store(&state, user.user_id, fetched).await?;
        // The address asked about shows its Gravatar photo, unless it shows one already.
        if address.photo_id.is_some() {
            return Ok(format!(
                "Your Gravatar photo is imported. {} still shows its own: choose which one it shows.",
                address.address
            ));
        }
        addresses::assign_photo(&state.pool, user.user_id, address.id, Some(photo_id)).await?;
        Ok(format!(
            "Your Gravatar photo is imported and {} shows it.",
            address.address
        ))
    }
    .await;
    match outcome {
        Ok(notice) => after_action(&state, Ok(notice)).await,
        Err(Refused::Shown(message, status, retry_after)) => {
            let refused = Some((Field::Gravatar, message));
            let response = page(&visitor, &state, refused, String::new(), status).await?;
            Ok(with_retry_after(response, retry_after))
        }
        Err(Refused::Fault(error)) => Err(error),
    }
}

/// Why an import stopped: a refusal shown beside its field (with its status, and when to
/// try again for a limit), or a fault of the server's.
enum Refused {
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
async fn spend(
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

fn with_retry_after(mut response: HttpResponse, retry_after: Option<u64>) -> HttpResponse {
    if let Some(seconds) = retry_after {
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
    }
    response
}

/// Refuses (409) when the account holds as many photos as it may: checked before anything
/// is counted or fetched (the check that holds is in [`photos::insert_owned`]).
async fn make_room(state: &AppState, user_id: i64) -> Result<(), Refused> {
    let max = state.config.max_photos_per_account;
    if photos::count_owned(&state.pool, user_id).await? < i64::from(max) {
        return Ok(());
    }
    let message = format!("An account keeps at most {max} photos; delete one first.");
    Err(Refused::Shown(message, StatusCode::CONFLICT, None))
}

/// Counts one import against the account's and the server's hourly limits.
async fn spend_import(state: &AppState, user_id: i64) -> Result<(), Refused> {
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
async fn store(
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
