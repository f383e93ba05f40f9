//! Asking before destroying: "Remove" and "Delete" on the account page are links to a page
//! that names what goes and what follows, with the one button that does it (a POST with the
//! CSRF token) and a way back. Works without JavaScript; the POST routes stay as they were.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;

use super::pages::{Layout, render_page};
use super::session::Visitor;
use crate::error::AppError;
use crate::state::AppState;
use crate::store::{addresses, photos};

#[derive(Template)]
#[template(path = "ask_first.html")]
struct AskFirstPage {
    layout: Layout,
    heading: String,
    consequence: String,
    action: String,
    button: String,
    image: Option<String>,
}

pub async fn remove_address_form(
    visitor: Visitor,
    state: web::Data<AppState>,
    path: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    let user = visitor.require_user()?;
    let id = path.into_inner();
    let Some(address) = addresses::owned_by(&state.pool, user.user_id)
        .await?
        .into_iter()
        .find(|a| a.id == id)
    else {
        return Err(AppError::NotFound(
            "that address is not in your account".into(),
        ));
    };
    let page = AskFirstPage {
        layout: Layout::new("Remove an address", &visitor, &state),
        heading: format!("Remove {}?", address.address),
        consequence: format!(
            "Sites then show a default image for {}, and to use it again you confirm it again \
             from a mailed link. Your photos stay.",
            address.address
        ),
        action: format!("/account/addresses/{id}/remove"),
        button: format!("Remove {}", address.address),
        image: None,
    };
    render_page(&visitor, &page, StatusCode::OK)
}

pub async fn delete_photo_form(
    visitor: Visitor,
    state: web::Data<AppState>,
    path: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    let user = visitor.require_user()?;
    let id = path.into_inner();
    let Some(photo) = photos::owned_by(&state.pool, user.user_id)
        .await?
        .into_iter()
        .find(|p| p.id == id)
    else {
        return Err(AppError::NotFound(
            "that photo is not in your account".into(),
        ));
    };
    let shown_for: Vec<String> = addresses::owned_by(&state.pool, user.user_id)
        .await?
        .into_iter()
        .filter(|a| a.photo_id == Some(id))
        .map(|a| a.address)
        .collect();
    let consequence = if shown_for.is_empty() {
        "No address shows it, so no site's image changes. This cannot be undone.".to_string()
    } else {
        format!(
            "It is the live photo of {}: they show a default image afterwards. This cannot be \
             undone.",
            shown_for.join(", ")
        )
    };
    let page = AskFirstPage {
        layout: Layout::new("Delete a photo", &visitor, &state),
        heading: "Delete this photo?".into(),
        consequence,
        action: format!("/account/photos/{id}/delete"),
        button: "Delete the photo".into(),
        image: Some(format!(
            "/account/photos/{id}/preview?s=128&v={}",
            photo.version
        )),
    };
    render_page(&visitor, &page, StatusCode::OK)
}
