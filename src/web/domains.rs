//! Domain administration (`/domains`): an account the operator named for a domain
//! (`cameo domain-admin add`) sees every address of it, takes a photo that breaks policy off
//! an address, and sets the domain's default image (a logo), served for its addresses that
//! show no photo wherever a drawn default would be (`d=404` stays 404, `f=y` still forces
//! the requested default).
//!
//! Every handler first checks that the signed-in account administers the domain in the path
//! ([`administered`]); another domain is a 404, so nothing about it is told. Forms are
//! CSRF-checked (the logo upload carries its token in the multipart body). Answers render
//! the domain page with the outcome, as the token page does.

use actix_multipart::Multipart;
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;

use super::pages::{Layout, render_page};
use super::photos::read_upload;
use super::session::Visitor;
use super::user_form::UserForm;
use crate::error::AppError;
use crate::identity::Digest;
use crate::imaging::{IntakeError, prepare_within_budget};
use crate::photo_store::offload;
use crate::state::{AppState, intake_limits};
use crate::store::domains::{self, DomainAddress, normalise_domain};
use crate::store::users::SessionUser;

/// One address as the page lists it.
pub struct AddressRow {
    pub id: i64,
    pub address: String,
    pub confirmed: bool,
    pub has_photo: bool,
    pub owner: String,
    /// SHA-256 of the address, for its avatar preview.
    pub sha256: String,
}

impl From<DomainAddress> for AddressRow {
    fn from(row: DomainAddress) -> AddressRow {
        AddressRow {
            sha256: Digest::sha256_of(&row.address).to_hex(),
            id: row.id,
            confirmed: row.confirmed,
            has_photo: row.photo_id.is_some(),
            owner: row.owner.unwrap_or_else(|| "the operator".into()),
            address: row.address,
        }
    }
}

#[derive(Template)]
#[template(path = "domains.html")]
struct DomainsPage {
    layout: Layout,
    domains: Vec<String>,
}

#[derive(Template)]
#[template(path = "domain.html")]
struct DomainPage {
    layout: Layout,
    domain: String,
    addresses: Vec<AddressRow>,
    /// Whether the domain has a default image (previewed on one of its photo-less addresses).
    has_default: bool,
    /// An address of the domain without a photo, to preview the default image on.
    preview_sha256: Option<String>,
}

/// The domain in the path, normalised, if `user` administers it; 404 otherwise.
async fn administered(
    state: &AppState,
    user: &SessionUser,
    typed: &str,
) -> Result<String, AppError> {
    let not_yours = || AppError::NotFound("you administer no such domain".into());
    let domain = normalise_domain(typed).ok_or_else(not_yours)?;
    if domains::administers(&state.pool, user.user_id, &domain).await? {
        Ok(domain)
    } else {
        Err(not_yours())
    }
}

/// `/domains`: the domains the account administers.
pub async fn domains_page(
    visitor: Visitor,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    let user = visitor.require_user()?;
    let page = DomainsPage {
        layout: Layout::new("Your domains", &visitor, &state),
        domains: domains::administered_by(&state.pool, user.user_id).await?,
    };
    render_page(&visitor, &page, StatusCode::OK)
}

/// Renders a domain's page with `layout` (which may carry the outcome of an action).
async fn domain_page(
    visitor: &Visitor,
    state: &AppState,
    domain: String,
    layout: Layout,
    status: StatusCode,
) -> Result<HttpResponse, AppError> {
    let addresses: Vec<AddressRow> = domains::addresses_in(&state.pool, &domain)
        .await?
        .into_iter()
        .map(AddressRow::from)
        .collect();
    let preview_sha256 = addresses
        .iter()
        .find(|a| a.confirmed && !a.has_photo)
        .map(|a| a.sha256.clone());
    let page = DomainPage {
        has_default: domains::default_photo(&state.pool, &domain)
            .await?
            .is_some(),
        layout,
        domain,
        addresses,
        preview_sha256,
    };
    render_page(visitor, &page, status)
}

/// `/domains/{domain}`: its addresses and its default image.
pub async fn show(
    visitor: Visitor,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let user = visitor.require_user()?;
    let domain = administered(&state, user, &path).await?;
    let layout = Layout::new(&domain, &visitor, &state);
    domain_page(&visitor, &state, domain, layout, StatusCode::OK).await
}

/// Takes the photo off one address of the domain.
pub async fn take_photo_off(
    UserForm { visitor, user, .. }: UserForm,
    state: web::Data<AppState>,
    path: web::Path<(String, i64)>,
) -> Result<HttpResponse, AppError> {
    let (typed, address_id) = path.into_inner();
    let domain = administered(&state, &user, &typed).await?;
    let layout = Layout::new(&domain, &visitor, &state);
    let (layout, status) = if domains::take_photo_off(&state.pool, &domain, address_id).await? {
        tracing::info!(admin = user.user_id, %domain, address_id, "a domain administrator took a photo off an address");
        let notice = "The photo is taken off the address; it shows the domain's default now.";
        (layout.with_notice(notice), StatusCode::OK)
    } else {
        let error = "That address of this domain shows no photo.";
        (layout.with_error(error), StatusCode::NOT_FOUND)
    };
    domain_page(&visitor, &state, domain, layout, status).await
}

/// Sets the domain's default image from an upload (any shape: it is cut to a centred
/// square by the same bounded intake as photos).
pub async fn set_default(
    visitor: Visitor,
    state: web::Data<AppState>,
    path: web::Path<String>,
    multipart: Multipart,
) -> Result<HttpResponse, AppError> {
    let user = visitor.require_user()?;
    // Who may is known from the path: nobody else's upload is read at all.
    let domain = administered(&state, user, &path).await?;
    let limits = intake_limits(&state.config);
    let form = match read_upload(multipart, limits.max_bytes).await {
        Ok(form) => form,
        Err(message) => {
            let layout = Layout::new(&domain, &visitor, &state).with_error(message);
            return domain_page(&visitor, &state, domain, layout, StatusCode::BAD_REQUEST).await;
        }
    };
    visitor.check_csrf(&form.csrf)?;
    let user_id = user.user_id;
    let layout = Layout::new(&domain, &visitor, &state);
    let Some(bytes) = form.photo.filter(|b| !b.is_empty()) else {
        let layout = layout.with_error("Choose an image to upload.");
        return domain_page(&visitor, &state, domain, layout, StatusCode::BAD_REQUEST).await;
    };
    let photo = match prepare_within_budget(&state.image_budget, bytes, limits, None).await {
        Ok(photo) => photo,
        Err(IntakeError::Busy { retry_after }) => {
            return Err(AppError::Overloaded {
                reason: "The server is busy with other images; try again in a few seconds.".into(),
                retry_after,
            });
        }
        Err(refused) => {
            let status = refused.status();
            let layout = layout.with_error(format!("The image was refused: {refused}."));
            return domain_page(&visitor, &state, domain, layout, status).await;
        }
    };
    let photo = offload(state.photo_bucket.as_ref(), photo).await?;
    domains::set_default(&state.pool, &domain, &photo, user_id).await?;
    let layout = layout
        .with_notice("The default image is set: addresses of this domain without a photo show it.");
    domain_page(&visitor, &state, domain, layout, StatusCode::OK).await
}

/// Removes the domain's default image.
pub async fn remove_default(
    UserForm { visitor, user, .. }: UserForm,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let domain = administered(&state, &user, &path).await?;
    let layout = Layout::new(&domain, &visitor, &state);
    let layout = if domains::remove_default(&state.pool, &domain).await? {
        layout.with_notice("The default image is removed: those addresses show drawn defaults.")
    } else {
        layout.with_error("This domain has no default image.")
    };
    domain_page(&visitor, &state, domain, layout, StatusCode::OK).await
}
