//! The API tokens page (`/account/tokens`): the account's live tokens, making one, revoking
//! one. Every query is scoped to the logged-in account, so another account's ids do nothing.
//!
//! A new token is shown once, on the page that answers the creating POST (200, not a
//! redirect): a redirect would have to carry the secret in a URL or cookie. That page, like
//! every page, is `Cache-Control: no-store`, so it is not kept in the history or a cache.
//! Revoking is post/redirect/get with a fixed `?done=revoked` notice.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;

use super::pages::{Layout, render_page, see_other};
use super::session::Visitor;
use super::user_form::UserForm;
use crate::api::scopes::{Scope, Scopes};
use crate::error::AppError;
use crate::state::AppState;
use crate::store::api_tokens::{self, MAX_LIVE_TOKENS, MAX_NAME_CHARS, TokenRow, utc_text};

const TITLE: &str = "API tokens";

/// One token as the page lists it.
pub struct TokenView {
    pub id: i64,
    pub name: String,
    pub prefix: String,
    pub scopes: String,
    pub created: String,
    pub last_used: String,
}

impl From<TokenRow> for TokenView {
    fn from(row: TokenRow) -> TokenView {
        TokenView {
            id: row.id,
            created: utc_text(row.created_at),
            last_used: row
                .last_used_at
                .map_or_else(|| "never".to_string(), utc_text),
            name: row.name,
            prefix: row.prefix,
            scopes: row.scopes,
        }
    }
}

#[derive(Template)]
#[template(path = "tokens.html")]
struct TokensPage {
    layout: Layout,
    tokens: Vec<TokenView>,
    /// The token just made, shown this once.
    new_token: Option<String>,
    /// The name field as typed, after a refused creation.
    name: String,
    max_tokens: i64,
    max_name: usize,
    base_url: String,
    /// Every scope a token may have, for the form's checkboxes.
    scopes: [Scope; 3],
}

/// Renders the page for `user_id` with the tokens as they are now.
async fn page(
    visitor: &Visitor,
    state: &AppState,
    layout: Layout,
    new_token: Option<String>,
    name: String,
    status: StatusCode,
) -> Result<HttpResponse, AppError> {
    let user = visitor.require_user()?;
    let tokens = api_tokens::list_for_user(&state.pool, user.user_id)
        .await?
        .into_iter()
        .map(TokenView::from)
        .collect();
    let page = TokensPage {
        layout,
        tokens,
        new_token,
        name,
        max_tokens: MAX_LIVE_TOKENS,
        max_name: MAX_NAME_CHARS,
        base_url: state.config.base_url.clone(),
        scopes: Scope::ALL,
    };
    render_page(visitor, &page, status)
}

pub async fn tokens_page(
    request: HttpRequest,
    visitor: Visitor,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    visitor.require_user()?;
    let mut layout = Layout::new(TITLE, &visitor, &state);
    if request.query_string() == "done=revoked" {
        layout = layout.with_notice("The token is revoked: requests that send it are refused.");
    }
    page(
        &visitor,
        &state,
        layout,
        None,
        String::new(),
        StatusCode::OK,
    )
    .await
}

pub async fn create(
    UserForm {
        visitor,
        user,
        form,
    }: UserForm,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    let layout = Layout::new(TITLE, &visitor, &state);
    let chosen: Vec<Scope> = Scope::ALL
        .into_iter()
        .filter(|scope| form.all("scope").any(|name| name == scope.name()))
        .collect();
    let scopes = Scopes::of(&chosen);
    match api_tokens::create(&state.pool, user.user_id, form.get("name"), scopes).await {
        Ok((row, plaintext)) => {
            let notice = format!(
                "Token \u{201c}{}\u{201d} is created. Copy it now: it is not shown again.",
                row.name
            );
            let layout = layout.with_notice(notice);
            page(
                &visitor,
                &state,
                layout,
                Some(plaintext),
                String::new(),
                StatusCode::OK,
            )
            .await
        }
        Err(refused @ AppError::Invalid(..)) => {
            let layout = layout.with_error(refused.to_string());
            let typed: String = form.get("name").chars().take(MAX_NAME_CHARS * 2).collect();
            page(
                &visitor,
                &state,
                layout,
                None,
                typed,
                StatusCode::BAD_REQUEST,
            )
            .await
        }
        Err(other) => Err(other),
    }
}

pub async fn revoke(
    UserForm { visitor, user, .. }: UserForm,
    state: web::Data<AppState>,
    path: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    if api_tokens::revoke(&state.pool, path.into_inner(), Some(user.user_id)).await? {
        return Ok(see_other("/account/tokens?done=revoked"));
    }
    // Someone else's token and no token at all look the same.
    let layout =
        Layout::new(TITLE, &visitor, &state).with_error("That token is not in your account.");
    page(
        &visitor,
        &state,
        layout,
        None,
        String::new(),
        StatusCode::NOT_FOUND,
    )
    .await
}
