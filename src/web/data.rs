//! "Your data" (`/account/data`): the account's own export, as the JSON of `cameo export`,
//! and photos imported from a web address or from Gravatar ([`crate::photo_import`]).
//!
//! An import makes the server fetch, so it is bounded before any work starts: the input is
//! checked, the account must have room for a photo, then one hit is counted against the
//! account's hourly imports and against every account's together ([`IMPORTS_PER_ACCOUNT`],
//! [`IMPORTS_ON_SERVER`]); a web address also spends the client's outbound probe budget,
//! as any fetch from a host somebody else chose does. Every form is CSRF-checked and needs
//! a logged-in account; a refusal is shown beside its field with a matching status.

pub(crate) mod import_steps;

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;

use super::auth::{Limit, take};
use super::pages::{Layout, render_page};
use super::profile::after_action;
use super::session::Visitor;
use super::user_form::UserForm;
use crate::error::AppError;
use crate::identity::Identity;
use crate::operator::export::export_account;
use crate::photo_import::{
    GRAVATAR_SIDE, MAX_URL_CHARS, fetch_gravatar, fetch_url, gravatar_photo_url, parse_import_url,
};
use crate::state::{AppState, intake_limits};
use crate::store::{addresses, photos};
use import_steps::{Refused, make_room, spend, spend_import, store};

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
    UserForm {
        visitor,
        user,
        form,
    }: UserForm,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
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
        Err(refused) => refusal_page(&visitor, &state, Field::Url, typed, refused).await,
    }
}

pub async fn import_from_gravatar(
    UserForm {
        visitor,
        user,
        form,
    }: UserForm,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
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
        Err(refused) => {
            refusal_page(&visitor, &state, Field::Gravatar, String::new(), refused).await
        }
    }
}

/// The page again with the refusal beside `field` (and `Retry-After` for a limit used up);
/// a fault of the server's goes to the error page instead.
async fn refusal_page(
    visitor: &Visitor,
    state: &AppState,
    field: Field,
    typed: String,
    refused: Refused,
) -> Result<HttpResponse, AppError> {
    let (message, status, retry_after) = match refused {
        Refused::Shown(message, status, retry_after) => (message, status, retry_after),
        Refused::Fault(error) => return Err(error),
    };
    let mut response = page(visitor, state, Some((field, message)), typed, status).await?;
    if let Some(seconds) = retry_after {
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
    }
    Ok(response)
}
