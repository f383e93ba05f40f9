//! The home page: what this server is and how to embed an avatar URL.

use actix_web::HttpResponse;
use actix_web::http::header::{self, HeaderValue};
use actix_web::web;
use askama::Template;

use crate::error::AppError;
use crate::identity::Identity;
use crate::state::AppState;

#[derive(Template)]
#[template(path = "home.html")]
struct HomePage<'a> {
    base_url: &'a str,
    example_md5: String,
    example_sha256: String,
    max_size: u32,
    default_style: String,
}

pub async fn home_page(state: web::Data<AppState>) -> Result<HttpResponse, AppError> {
    let example = Identity::Email("alice@example.org".into()).digests();
    let page = HomePage {
        base_url: &state.config.base_url,
        example_md5: example[0].to_hex(),
        example_sha256: example[1].to_hex(),
        max_size: state.config.max_size,
        default_style: state.config.default_style.to_string(),
    };
    let html = page
        .render()
        .map_err(|e| AppError::Internal(format!("template: {e}")))?;
    Ok(HttpResponse::Ok()
        .insert_header((
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/html; charset=utf-8"),
        ))
        .insert_header((
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .body(html))
}
