//! The home page: what this server is and how to embed an avatar URL.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;

use super::pages::{Layout, render_page};
use super::session::Visitor;
use crate::error::AppError;
use crate::identity::Identity;
use crate::state::AppState;

#[derive(Template)]
#[template(path = "home.html")]
struct HomePage<'a> {
    layout: Layout,
    base_url: &'a str,
    example_md5: String,
    example_sha256: String,
    max_size: u32,
    default_style: String,
}

pub async fn home_page(
    visitor: Visitor,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    let example = Identity::Email("alice@example.org".into()).digests();
    let page = HomePage {
        layout: Layout::new("Avatars", &visitor, &state),
        base_url: &state.config.base_url,
        example_md5: example[0].to_hex(),
        example_sha256: example[1].to_hex(),
        max_size: state.config.max_size,
        default_style: state.config.default_style.to_string(),
    };
    render_page(&visitor, &page, StatusCode::OK)
}
