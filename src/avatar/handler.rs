//! `GET`/`HEAD /avatar/HASH[.ext]`: parse → photo or default → response with cache headers.
//!
//! Thin on purpose: parsing is `request`, lookups are `lookup`, pixels are `renderer`; this
//! file decides which answer applies and writes the HTTP headers PROTOCOL.md "Photos" lists.

use actix_web::http::header::{self, HeaderMap, HeaderValue};
use actix_web::{HttpRequest, HttpResponse, web};

use super::cache::Rendition;
use super::request::{AvatarRequest, DefaultAction, parse_avatar_request};
use crate::error::AppError;
use crate::gravatar::FallbackPlan;
use crate::imaging::PhotoFormat;
use crate::state::AppState;

pub async fn get_avatar(
    request: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    let segment = request.match_info().get("segment").unwrap_or_default();
    let avatar = parse_avatar_request(segment, request.query_string(), &state.rules)?;
    let photo = if avatar.force_default {
        None
    } else {
        state.lookup.photo_for(&avatar.digest).await?
    };
    // A domain's default image stands in for a drawn default only, after any fallback.
    let (photo, domain_default) = match photo {
        Some(logo) if logo.domain_default => (None, Some(logo)),
        own => (own, None),
    };
    if let Some(photo) = photo {
        return serve_photo(&request, &state, &avatar, &photo).await;
    }
    if !avatar.force_default {
        match state.gravatar.plan(&avatar) {
            FallbackPlan::Redirect(url) => return Ok(redirect(&state, &avatar, &url)),
            FallbackPlan::Proxy => {
                if let Some(rendition) = state.gravatar.proxy(&avatar).await {
                    return Ok(image_response(&request, &state, &avatar, &rendition, None));
                }
            }
            FallbackPlan::Skip => {}
        }
    }
    match domain_default {
        Some(logo) if replaces_the_default(&avatar.default) => {
            serve_photo(&request, &state, &avatar, &logo).await
        }
        _ => serve_default(&request, &state, &avatar).await,
    }
}

/// Whether a domain's default image replaces `default`: it does for a drawn image, never
/// for `d=404` (sites probing for a real photo still get 404) or a redirect the site chose.
fn replaces_the_default(default: &DefaultAction) -> bool {
    matches!(default, DefaultAction::Draw(_))
}

async fn serve_photo(
    request: &HttpRequest,
    state: &AppState,
    avatar: &AvatarRequest,
    photo: &crate::store::photos::PhotoRef,
) -> Result<HttpResponse, AppError> {
    let format = avatar.format.unwrap_or(photo.format);
    let rendition = state.renderer.photo(photo, avatar.size, format).await?;
    Ok(image_response(
        request,
        state,
        avatar,
        &rendition,
        Some(photo.modified_at),
    ))
}

/// `/avatar` and `/avatar/` with no hash go to the home page.
pub async fn avatar_without_hash() -> HttpResponse {
    HttpResponse::Found()
        .insert_header((header::LOCATION, "/"))
        .finish()
}

/// `OPTIONS /avatar/HASH` (and `/avatar` alone): as ivatar does, `Allow` lists the `d=` values this server draws
/// itself (plus `404`); the methods are in `Access-Control-Allow-Methods`, so a CORS
/// preflight gets a normal answer too.
pub async fn avatar_options() -> HttpResponse {
    let styles = allowed_defaults();
    HttpResponse::Ok()
        .insert_header((header::ALLOW, styles.as_str()))
        .insert_header((header::ACCESS_CONTROL_ALLOW_ORIGIN, "*"))
        .insert_header((header::ACCESS_CONTROL_ALLOW_METHODS, "GET, HEAD, OPTIONS"))
        .insert_header((header::ACCESS_CONTROL_MAX_AGE, "86400"))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .content_type("text/plain; charset=utf-8")
        .body(format!("methods: GET, HEAD, OPTIONS\ndefaults: {styles}\n"))
}

/// `404 mm mp identicon …`: every `d=` keyword a request may use.
fn allowed_defaults() -> String {
    let mut names = vec!["404", "mm"];
    names.extend(crate::defaults::style_names());
    names.join(" ")
}

async fn serve_default(
    request: &HttpRequest,
    state: &AppState,
    avatar: &AvatarRequest,
) -> Result<HttpResponse, AppError> {
    match &avatar.default {
        DefaultAction::NotFound => Ok(with_common_headers(HttpResponse::NotFound(), state, avatar)
            .content_type("text/plain; charset=utf-8")
            .body("no avatar for this hash\n")),
        DefaultAction::Redirect(url) => Ok(redirect(state, avatar, url)),
        DefaultAction::Draw(style) => {
            let format = avatar.format.unwrap_or(PhotoFormat::Png);
            let rendition = state
                .renderer
                .generated(*style, avatar.digest, avatar.size, format)
                .await?;
            Ok(image_response(request, state, avatar, &rendition, None))
        }
    }
}

fn redirect(state: &AppState, avatar: &AvatarRequest, url: &str) -> HttpResponse {
    with_common_headers(HttpResponse::Found(), state, avatar)
        .insert_header((header::LOCATION, url))
        .finish()
}

/// What every answer for an avatar URL carries, the 404 of `d=404` and redirects included:
/// caching rules, CORS, and the hash as a surrogate key (`Surrogate-Key` for Fastly and
/// Varnish-style caches, `Cache-Tag` for Cloudflare and others), so a CDN can purge exactly
/// one person's answers when the change feed names their digests.
fn with_common_headers(
    mut builder: actix_web::HttpResponseBuilder,
    state: &AppState,
    avatar: &AvatarRequest,
) -> actix_web::HttpResponseBuilder {
    let key = HeaderValue::from_str(&avatar.digest.to_hex())
        .unwrap_or_else(|_| HeaderValue::from_static("avatar"));
    builder
        .insert_header((header::CACHE_CONTROL, state.cache_control.clone()))
        .insert_header(("surrogate-key", key.clone()))
        .insert_header(("cache-tag", key))
        .insert_header((
            header::ACCESS_CONTROL_ALLOW_ORIGIN,
            HeaderValue::from_static("*"),
        ))
        .insert_header((
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ));
    builder
}

/// 200 with the image, or 304 when the client's validators still match.
fn image_response(
    request: &HttpRequest,
    state: &AppState,
    avatar: &AvatarRequest,
    rendition: &Rendition,
    modified_at: Option<i64>,
) -> HttpResponse {
    let last_modified = modified_at.map(http_date);
    let fresh = client_copy_is_fresh(request.headers(), &rendition.etag, modified_at);
    let builder = if fresh {
        HttpResponse::NotModified()
    } else {
        HttpResponse::Ok()
    };
    let mut builder = with_common_headers(builder, state, avatar);
    builder.insert_header((header::ETAG, rendition.etag.clone()));
    if let Some(value) = last_modified {
        builder.insert_header((header::LAST_MODIFIED, value));
    }
    if fresh {
        builder.finish()
    } else {
        builder
            .insert_header((header::CONTENT_TYPE, rendition.content_type.clone()))
            .body(rendition.body.clone())
    }
}

fn http_date(unix_seconds: i64) -> String {
    let time = std::time::UNIX_EPOCH + std::time::Duration::from_secs(unix_seconds.max(0) as u64);
    httpdate::fmt_http_date(time)
}

/// RFC 9110 §13.1: If-None-Match (weak comparison) decides when present; otherwise
/// If-Modified-Since against the photo's modification time.
fn client_copy_is_fresh(headers: &HeaderMap, etag: &HeaderValue, modified_at: Option<i64>) -> bool {
    if let Some(value) = headers.get(header::IF_NONE_MATCH) {
        return value
            .to_str()
            .is_ok_and(|list| etag_list_matches(list, etag.as_bytes()));
    }
    let (Some(since), Some(modified_at)) = (headers.get(header::IF_MODIFIED_SINCE), modified_at)
    else {
        return false;
    };
    since
        .to_str()
        .ok()
        .and_then(|text| httpdate::parse_http_date(text).ok())
        .and_then(|time| time.duration_since(std::time::UNIX_EPOCH).ok())
        .is_some_and(|since| since.as_secs() as i64 >= modified_at)
}

fn etag_list_matches(list: &str, etag: &[u8]) -> bool {
    list.split(',')
        .map(str::trim)
        .any(|candidate| candidate == "*" || candidate.trim_start_matches("W/").as_bytes() == etag)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_domains_default_image_replaces_only_drawn_defaults() {
        let drawn = DefaultAction::Draw(crate::defaults::Style::Identicon);
        assert!(replaces_the_default(&drawn));
        assert!(!replaces_the_default(&DefaultAction::NotFound));
        assert!(!replaces_the_default(&DefaultAction::Redirect(
            "https://example.org/x.png".into()
        )));
    }

    #[test]
    fn etag_lists_match_weakly_and_with_star() {
        assert!(etag_list_matches("\"abc\"", b"\"abc\""));
        assert!(etag_list_matches("\"x\", W/\"abc\"", b"\"abc\""));
        assert!(etag_list_matches("*", b"\"abc\""));
        assert!(!etag_list_matches("\"abd\"", b"\"abc\""));
    }

    #[test]
    fn if_modified_since_compares_seconds() {
        let etag = HeaderValue::from_static("\"e\"");
        let mut headers = HeaderMap::new();
        headers.insert(
            header::IF_MODIFIED_SINCE,
            HeaderValue::from_str(&http_date(1_000)).unwrap(),
        );
        assert!(client_copy_is_fresh(&headers, &etag, Some(1_000)));
        assert!(!client_copy_is_fresh(&headers, &etag, Some(1_001)));
        assert!(!client_copy_is_fresh(&headers, &etag, None));
    }
}
