//! `/tools/api`: the lookup and profile API explained for app developers, with examples in
//! curl, Python and JavaScript against this very server.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;

use super::pages::{Layout, render_page};
use super::session::Visitor;
use crate::error::AppError;
use crate::state::AppState;

#[derive(Template)]
#[template(path = "api.html")]
struct ApiPage<'a> {
    layout: Layout,
    base_url: &'a str,
    anonymous: bool,
    token_limit: u32,
    anonymous_limit: u32,
    address_limit: u32,
}

pub async fn api_page(
    visitor: Visitor,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    let config = &state.config;
    let page = ApiPage {
        layout: Layout::new("Lookup API", &visitor, &state),
        base_url: &config.base_url,
        anonymous: config.api_anonymous,
        token_limit: config.api_token_rate_limit,
        anonymous_limit: config.api_anonymous_rate_limit,
        address_limit: config.api_address_rate_limit,
    };
    render_page(&visitor, &page, StatusCode::OK)
}
