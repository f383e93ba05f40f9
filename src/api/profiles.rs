//! Opt-in public profiles for machines: `GET /api/v3/profiles/{hash}` (Gravatar's v3 profile,
//! every field a Cameo profile holds), and at the site root Gravatar's legacy formats
//! `/HASH.json`, `/HASH.xml` and `/HASH.php` (the same document; [`super::profile_formats`]),
//! `/HASH.vcf` (vCard 4.0) and `/HASH.qr` (a PNG QR code of the profile page's URL).
//!
//! A hash is the MD5 or SHA-256 of an address, as for avatars. Only a confirmed address of
//! an account whose owner made the profile public answers; an unknown hash, a private
//! profile and an unconfirmed address get the same 404, so nothing tells them apart.
//! Handlers only look up and respond; the formats are plain functions tested below.

use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpRequest, HttpResponse, HttpResponseBuilder, web};
use image::{GrayImage, ImageEncoder, Luma};
use serde_json::{Value, json};

use super::error::ApiError;
use super::profile_formats;
use crate::error::AppError;
use crate::identity::Digest;
use crate::state::AppState;
use crate::store::profiles::{self, ProfileDetails, ProfileLink, PublicProfile};
use crate::web::public_profile::profile_url;

/// QR code sizes in pixels (`?s=`).
pub const QR_DEFAULT_SIZE: u32 = 200;
pub const QR_MIN_SIZE: u32 = 64;
pub const QR_MAX_SIZE: u32 = 1024;
/// White modules around the code, as the QR specification asks.
const QR_QUIET_ZONE: u32 = 4;
/// vCard lines longer than this many octets are folded (RFC 6350 §3.2).
const VCARD_LINE_OCTETS: usize = 75;

/// A public profile with the URLs it is reached at, ready to be written in any format.
#[derive(Clone, Debug)]
pub struct ProfileView {
    /// Lowercase hex of the hash asked for.
    pub hash: String,
    pub avatar_url: String,
    pub profile_url: String,
    pub display_name: String,
    pub preferred_username: String,
    pub about: String,
    pub links: Vec<ProfileLink>,
    pub has_photo: bool,
    pub details: ProfileDetails,
    pub verified_openids: Vec<String>,
    /// When the owner last saved the profile (Unix seconds).
    pub last_edit: i64,
}

impl ProfileView {
    pub fn new(profile: PublicProfile, digest: &Digest, base_url: &str) -> ProfileView {
        let hash = digest.to_hex();
        ProfileView {
            avatar_url: format!("{base_url}/avatar/{hash}"),
            profile_url: profile_url(base_url, &hash),
            hash,
            display_name: profile.display_name,
            preferred_username: profile.preferred_username,
            about: profile.about,
            links: profile.links,
            has_photo: profile.has_photo,
            details: profile.details,
            verified_openids: profile.verified_openids,
            last_edit: profile.last_edit,
        }
    }
}

/// Gravatar's legacy `/HASH.json`: `{"entry": [ … ]}`. `requested` is the hash as it was
/// written in the URL (Gravatar echoes it as `requestHash`).
pub fn legacy_json(view: &ProfileView, requested: &str) -> Value {
    let mut entry = json!({
        "hash": view.hash,
        "requestHash": requested,
        "profileUrl": view.profile_url,
        "preferredUsername": view.preferred_username,
        "thumbnailUrl": view.avatar_url,
        "photos": [{ "value": view.avatar_url, "type": "thumbnail" }],
        "name": { "formatted": view.display_name },
        "displayName": view.display_name,
    });
    if !view.about.is_empty() {
        entry["aboutMe"] = json!(view.about);
    }
    let details = &view.details;
    for (key, value) in [
        ("currentLocation", &details.location),
        ("job_title", &details.job_title),
        ("company", &details.company),
        ("pronouns", &details.pronouns),
        ("pronunciation", &details.pronunciation),
    ] {
        if !value.is_empty() {
            entry[key] = json!(value);
        }
    }
    if !view.links.is_empty() {
        entry["urls"] = view
            .links
            .iter()
            .map(|l| json!({ "value": l.url, "title": l.label }))
            .collect();
    }
    json!({ "entry": [entry] })
}

/// Gravatar's v3 profile, with every field a Cameo profile holds (empty strings where the
/// owner gave nothing, as Gravatar answers). Verified accounts are the owner's confirmed
/// OpenIDs: this server checked each one before confirming it.
pub fn v3_json(view: &ProfileView) -> Value {
    let details = &view.details;
    let verified: Vec<Value> = view
        .verified_openids
        .iter()
        .map(|url| {
            json!({
                "service_type": "openid",
                "service_label": "OpenID",
                "service_icon": "",
                "url": url,
                "is_hidden": false,
            })
        })
        .collect();
    let links: Vec<Value> = view
        .links
        .iter()
        .map(|link| json!({ "label": link.label, "url": link.url }))
        .collect();
    json!({
        "hash": view.hash,
        "display_name": view.display_name,
        "profile_url": view.profile_url,
        "avatar_url": view.avatar_url,
        "avatar_alt_text": details.avatar_alt_text,
        "location": details.location,
        "description": view.about,
        "job_title": details.job_title,
        "company": details.company,
        "verified_accounts": verified,
        "pronunciation": details.pronunciation,
        "pronouns": details.pronouns,
        "links": links,
        "number_verified_accounts": view.verified_openids.len(),
        "last_profile_edit": crate::store::api_tokens::rfc3339_utc(view.last_edit),
    })
}

/// A vCard 4.0 (RFC 6350) with CRLF line endings and folded lines. `PHOTO` is only given
/// when the address shows an uploaded photo: a generated default is not a picture of anyone.
pub fn vcard(view: &ProfileView) -> String {
    let mut lines = vec![
        "BEGIN:VCARD".to_string(),
        "VERSION:4.0".to_string(),
        format!("FN:{}", escape_vcard_text(&view.display_name)),
        format!("NICKNAME:{}", escape_vcard_text(&view.preferred_username)),
    ];
    if !view.about.is_empty() {
        lines.push(format!("NOTE:{}", escape_vcard_text(&view.about)));
    }
    lines.push(format!("URL:{}", view.profile_url));
    lines.extend(view.links.iter().map(|l| format!("URL:{}", l.url)));
    if view.has_photo {
        lines.push(format!("PHOTO;MEDIATYPE=image/png:{}.png", view.avatar_url));
    }
    lines.push("END:VCARD".to_string());
    lines.iter().map(|line| fold_vcard_line(line)).collect()
}

/// Escapes a vCard text value: backslash, comma, semicolon and line breaks.
pub fn escape_vcard_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            ',' => out.push_str("\\,"),
            ';' => out.push_str("\\;"),
            '\n' => out.push_str("\\n"),
            '\r' => {}
            other => out.push(other),
        }
    }
    out
}

/// One content line, folded so no physical line exceeds 75 octets (continuations start
/// with a space), never inside a UTF-8 character, ending in CRLF.
pub fn fold_vcard_line(line: &str) -> String {
    let mut out = String::with_capacity(line.len() + line.len() / 32 + 2);
    let mut width = 0;
    for c in line.chars() {
        if width + c.len_utf8() > VCARD_LINE_OCTETS {
            out.push_str("\r\n ");
            width = 1;
        }
        out.push(c);
        width += c.len_utf8();
    }
    out.push_str("\r\n");
    out
}

/// The QR code's side in pixels from `?s=` (or `?size=`, the last one wins): default 200,
/// clamped to 64..=1024.
pub fn qr_size(query: &str) -> Result<u32, AppError> {
    let asked = form_urlencoded::parse(query.as_bytes())
        .filter(|(name, _)| name == "s" || name == "size")
        .last()
        .map(|(_, value)| value.into_owned());
    match asked {
        None => Ok(QR_DEFAULT_SIZE),
        Some(value) => value
            .parse::<u64>()
            .map(|s| s.clamp(u64::from(QR_MIN_SIZE), u64::from(QR_MAX_SIZE)) as u32)
            .map_err(|_| AppError::Invalid("invalid_size", "s must be a number of pixels".into())),
    }
}

/// Draws a QR code of `text` on a `size`×`size` white square: every module is a square of
/// the same whole number of pixels (nearest neighbour, no blur), with a quiet zone of at
/// least four modules; the leftover pixels are shared out as margin. A code too big for
/// `size` at one pixel per module is drawn at one pixel per module instead.
pub fn draw_qr(text: &str, size: u32) -> Result<GrayImage, AppError> {
    let code = qrcode::QrCode::new(text.as_bytes())
        .map_err(|e| AppError::Internal(format!("QR code of {text}: {e}")))?;
    let modules = code.width() as u32;
    let dark = code.to_colors();
    let total = modules + 2 * QR_QUIET_ZONE;
    let scale = (size / total).max(1);
    let side = size.max(total * scale);
    let offset = (side - total * scale) / 2 + QR_QUIET_ZONE * scale;
    let is_dark = |x: u32, y: u32| {
        let (Some(x), Some(y)) = (x.checked_sub(offset), y.checked_sub(offset)) else {
            return false;
        };
        let (mx, my) = (x / scale, y / scale);
        mx < modules && my < modules && dark[(my * modules + mx) as usize] == qrcode::Color::Dark
    };
    Ok(GrayImage::from_fn(side, side, |x, y| {
        Luma([if is_dark(x, y) { 0 } else { 255 }])
    }))
}

/// A greyscale PNG of the picture.
fn encode_png(picture: &GrayImage) -> Result<Vec<u8>, AppError> {
    let mut out = Vec::new();
    image::codecs::png::PngEncoder::new(&mut out)
        .write_image(
            picture.as_raw(),
            picture.width(),
            picture.height(),
            image::ExtendedColorType::L8,
        )
        .map_err(|e| AppError::Internal(format!("encoding a QR code: {e}")))?;
    Ok(out)
}

/// The public profile behind `hash`: 400 for a malformed hash, one 404 for everything else.
async fn find(state: &AppState, hash: &str) -> Result<ProfileView, ApiError> {
    let digest = Digest::parse_hex(hash)
        .map_err(|e| AppError::Invalid("invalid_hash", format!("invalid profile hash: {e}")))?;
    let profile = profiles::public_profile_for_digest(&state.pool, &digest)
        .await?
        .ok_or_else(|| AppError::NotFound("profile not found".into()))?;
    Ok(ProfileView::new(profile, &digest, &state.config.base_url))
}

/// A 200 that any site may read and caches may keep for a while.
fn public_ok(state: &AppState, content_type: &'static str) -> HttpResponseBuilder {
    let mut response = HttpResponse::Ok();
    response
        .insert_header((header::CONTENT_TYPE, HeaderValue::from_static(content_type)))
        .insert_header((
            header::ACCESS_CONTROL_ALLOW_ORIGIN,
            HeaderValue::from_static("*"),
        ))
        .insert_header((header::CACHE_CONTROL, state.cache_control.clone()))
        .insert_header((
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ));
    response
}

#[utoipa::path(
    get,
    path = "/api/v3/profiles/{hash}",
    tag = "profiles",
    params(("hash" = String, Path, description = "MD5 or SHA-256 (hex) of the email address")),
    responses(
        (status = 200, description = "hash, display_name, avatar_url, profile_url, description", content_type = "application/json"),
        (status = 400, description = "Malformed hash", body = super::lookup::ErrorBody),
        (status = 404, description = "Unknown, unconfirmed or private", body = super::lookup::ErrorBody),
        (status = 429, description = "Rate limit exceeded", body = super::lookup::ErrorBody),
    ),
    security((), ("bearer" = []))
)]
pub async fn v3_profile(
    state: web::Data<AppState>,
    hash: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let view = find(&state, &hash).await?;
    Ok(public_ok(&state, "application/json").body(v3_json(&view).to_string()))
}

#[utoipa::path(
    get,
    path = "/{hash}.json",
    tag = "profiles",
    params(("hash" = String, Path, description = "MD5 or SHA-256 (hex) of the email address")),
    responses(
        (status = 200, description = "Gravatar's legacy profile: entry[] with hash, requestHash, profileUrl, preferredUsername, thumbnailUrl, photos, name, displayName", content_type = "application/json"),
        (status = 400, description = "Malformed hash", body = super::lookup::ErrorBody),
        (status = 404, description = "Unknown, unconfirmed or private", body = super::lookup::ErrorBody),
        (status = 429, description = "Rate limit exceeded", body = super::lookup::ErrorBody),
    ),
    security((), ("bearer" = []))
)]
pub async fn legacy_profile(
    state: web::Data<AppState>,
    hash: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let view = find(&state, &hash).await?;
    Ok(public_ok(&state, "application/json").body(legacy_json(&view, &hash).to_string()))
}

#[utoipa::path(
    get,
    path = "/{hash}.xml",
    tag = "profiles",
    params(("hash" = String, Path, description = "MD5 or SHA-256 (hex) of the email address")),
    responses(
        (status = 200, description = "The legacy JSON profile as XML: <response><entry>…</entry></response>", content_type = "application/xml"),
        (status = 400, description = "Malformed hash", body = super::lookup::ErrorBody),
        (status = 404, description = "Unknown, unconfirmed or private", body = super::lookup::ErrorBody),
        (status = 429, description = "Rate limit exceeded", body = super::lookup::ErrorBody),
    ),
    security((), ("bearer" = []))
)]
pub async fn xml_profile(
    state: web::Data<AppState>,
    hash: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let view = find(&state, &hash).await?;
    let xml = profile_formats::to_xml(&legacy_json(&view, &hash));
    Ok(public_ok(&state, "application/xml; charset=utf-8").body(xml))
}

#[utoipa::path(
    get,
    path = "/{hash}.php",
    tag = "profiles",
    params(("hash" = String, Path, description = "MD5 or SHA-256 (hex) of the email address")),
    responses(
        (status = 200, description = "The legacy JSON profile as PHP serialize() output", content_type = "text/plain"),
        (status = 400, description = "Malformed hash", body = super::lookup::ErrorBody),
        (status = 404, description = "Unknown, unconfirmed or private", body = super::lookup::ErrorBody),
        (status = 429, description = "Rate limit exceeded", body = super::lookup::ErrorBody),
    ),
    security((), ("bearer" = []))
)]
pub async fn php_profile(
    state: web::Data<AppState>,
    hash: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let view = find(&state, &hash).await?;
    let php = profile_formats::to_php(&legacy_json(&view, &hash));
    Ok(public_ok(&state, "text/plain; charset=utf-8").body(php))
}

#[utoipa::path(
    get,
    path = "/{hash}.vcf",
    tag = "profiles",
    params(("hash" = String, Path, description = "MD5 or SHA-256 (hex) of the email address")),
    responses(
        (status = 200, description = "vCard 4.0", content_type = "text/vcard"),
        (status = 400, description = "Malformed hash", body = super::lookup::ErrorBody),
        (status = 404, description = "Unknown, unconfirmed or private", body = super::lookup::ErrorBody),
        (status = 429, description = "Rate limit exceeded", body = super::lookup::ErrorBody),
    ),
    security((), ("bearer" = []))
)]
pub async fn vcard_profile(
    state: web::Data<AppState>,
    hash: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let view = find(&state, &hash).await?;
    Ok(public_ok(&state, "text/vcard; charset=utf-8").body(vcard(&view)))
}

#[utoipa::path(
    get,
    path = "/{hash}.qr",
    tag = "profiles",
    params(("hash" = String, Path, description = "MD5 or SHA-256 (hex) of the email address"),
        ("s" = Option<u32>, Query, description = "Size in pixels, 64 to 1024 (default 200)")),
    responses(
        (status = 200, description = "QR code (PNG) of the profile page URL", content_type = "image/png"),
        (status = 400, description = "Malformed hash", body = super::lookup::ErrorBody),
        (status = 404, description = "Unknown, unconfirmed or private", body = super::lookup::ErrorBody),
        (status = 429, description = "Rate limit exceeded", body = super::lookup::ErrorBody),
    ),
    security((), ("bearer" = []))
)]
pub async fn qr_profile(
    request: HttpRequest,
    state: web::Data<AppState>,
    hash: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let size = qr_size(request.query_string())?;
    let view = find(&state, &hash).await?;
    // Drawing and encoding up to a megapixel is blocking work: off the async executor.
    let png = web::block(move || draw_qr(&view.profile_url, size).and_then(|p| encode_png(&p)))
        .await
        .map_err(|e| AppError::Internal(format!("QR code worker: {e}")))??;
    Ok(public_ok(&state, "image/png").body(png))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn view() -> ProfileView {
        let profile = PublicProfile {
            user_id: 3,
            display_name: "Ada Lovelace".into(),
            about: "Analyst; poet, of sorts".into(),
            links: vec![ProfileLink {
                label: "Notes".into(),
                url: "https://ada.example/notes".into(),
            }],
            preferred_username: "ada-lovelace".into(),
            has_photo: true,
            details: ProfileDetails {
                location: "London".into(),
                job_title: "Analyst".into(),
                pronouns: "she/her".into(),
                avatar_alt_text: "Ada in a dark dress".into(),
                ..ProfileDetails::default()
            },
            verified_openids: vec!["https://ada.example/".into()],
            last_edit: 1_700_000_000,
        };
        let digest = Digest::parse_hex("0BC83CB571CD1C50BA6F3E8A78EF1346").unwrap();
        ProfileView::new(profile, &digest, "https://cameo.example")
    }

    #[test]
    fn legacy_json_has_gravatars_field_names() {
        let body = legacy_json(&view(), "0BC83CB571CD1C50BA6F3E8A78EF1346");
        let entry = &body["entry"][0];
        assert_eq!(entry["hash"], "0bc83cb571cd1c50ba6f3e8a78ef1346");
        assert_eq!(entry["requestHash"], "0BC83CB571CD1C50BA6F3E8A78EF1346");
        assert_eq!(
            entry["profileUrl"],
            "https://cameo.example/profile/0bc83cb571cd1c50ba6f3e8a78ef1346"
        );
        let avatar = "https://cameo.example/avatar/0bc83cb571cd1c50ba6f3e8a78ef1346";
        assert_eq!(entry["thumbnailUrl"], avatar);
        assert_eq!(
            entry["photos"],
            json!([{ "value": avatar, "type": "thumbnail" }])
        );
        assert_eq!(entry["preferredUsername"], "ada-lovelace");
        assert_eq!(entry["name"]["formatted"], "Ada Lovelace");
        assert_eq!(entry["displayName"], "Ada Lovelace");
        assert_eq!(entry["aboutMe"], "Analyst; poet, of sorts");
        assert_eq!(
            entry["urls"],
            json!([{ "value": "https://ada.example/notes", "title": "Notes" }])
        );
    }

    #[test]
    fn legacy_json_leaves_out_empty_about_and_links() {
        let mut bare = view();
        bare.about.clear();
        bare.links.clear();
        let body = legacy_json(&bare, &bare.hash.clone());
        assert!(body["entry"][0].get("aboutMe").is_none());
        assert!(body["entry"][0].get("urls").is_none());
    }

    #[test]
    fn v3_json_has_every_field_a_profile_holds() {
        let body = v3_json(&view());
        assert_eq!(body["hash"], "0bc83cb571cd1c50ba6f3e8a78ef1346");
        assert_eq!(body["display_name"], "Ada Lovelace");
        assert_eq!(body["location"], "London");
        assert_eq!(body["job_title"], "Analyst");
        assert_eq!(body["company"], "");
        assert_eq!(body["pronouns"], "she/her");
        assert_eq!(body["avatar_alt_text"], "Ada in a dark dress");
        assert_eq!(body["description"], "Analyst; poet, of sorts");
        assert_eq!(
            body["links"],
            json!([{ "label": "Notes", "url": "https://ada.example/notes" }])
        );
        assert_eq!(body["number_verified_accounts"], 1);
        assert_eq!(body["verified_accounts"][0]["service_type"], "openid");
        assert_eq!(body["verified_accounts"][0]["url"], "https://ada.example/");
        assert_eq!(body["last_profile_edit"], "2023-11-14T22:13:20Z");
        assert!(
            body["avatar_url"]
                .as_str()
                .unwrap()
                .ends_with("/avatar/0bc83cb571cd1c50ba6f3e8a78ef1346")
        );
        assert!(
            body["profile_url"]
                .as_str()
                .unwrap()
                .ends_with("/profile/0bc83cb571cd1c50ba6f3e8a78ef1346")
        );
    }

    #[test]
    fn vcard_text_escapes_backslash_comma_semicolon_and_newlines() {
        assert_eq!(
            escape_vcard_text("a\\b,c;d\r\ne\nf"),
            "a\\\\b\\,c\\;d\\ne\\nf"
        );
    }

    #[test]
    fn vcard_lines_fold_at_75_octets_without_splitting_characters() {
        let folded = fold_vcard_line(&format!("NOTE:{}", "é".repeat(100)));
        assert!(folded.ends_with("\r\n"));
        let physical: Vec<&str> = folded.trim_end_matches("\r\n").split("\r\n").collect();
        assert!(physical.len() > 1);
        for (index, line) in physical.iter().enumerate() {
            assert!(line.len() <= 75, "line {index} has {} octets", line.len());
            assert_eq!(index > 0, line.starts_with(' '));
        }
        let unfolded: String = folded.replace("\r\n ", "");
        assert_eq!(unfolded, format!("NOTE:{}\r\n", "é".repeat(100)));
        assert_eq!(fold_vcard_line("FN:Ada"), "FN:Ada\r\n");
    }

    #[test]
    fn vcard_has_the_profile_fields_and_crlf_line_endings() {
        let card = vcard(&view());
        assert!(card.starts_with("BEGIN:VCARD\r\nVERSION:4.0\r\n"));
        assert!(card.ends_with("END:VCARD\r\n"));
        assert!(!card.replace("\r\n", "").contains('\n'), "no bare LF");
        assert!(card.contains("FN:Ada Lovelace\r\n"));
        assert!(card.contains("NOTE:Analyst\\; poet\\, of sorts\r\n"));
        assert!(
            card.contains("URL:https://cameo.example/profile/0bc83cb571cd1c50ba6f3e8a78ef1346\r\n")
        );
        assert!(card.contains("URL:https://ada.example/notes\r\n"));
        let unfolded = card.replace("\r\n ", "");
        assert!(unfolded.contains(
            "PHOTO;MEDIATYPE=image/png:https://cameo.example/avatar/0bc83cb571cd1c50ba6f3e8a78ef1346.png\r\n"
        ));
    }

    #[test]
    fn vcard_has_no_photo_for_an_address_without_one() {
        let mut plain = view();
        plain.has_photo = false;
        assert!(!vcard(&plain).contains("PHOTO"));
    }

    #[test]
    fn qr_size_defaults_and_clamps() {
        assert_eq!(qr_size("").unwrap(), 200);
        assert_eq!(qr_size("s=10").unwrap(), 64);
        assert_eq!(qr_size("s=5000").unwrap(), 1024);
        assert_eq!(qr_size("s=300&size=400").unwrap(), 400);
        assert!(qr_size("s=big").is_err());
    }

    /// The module grid of a drawn code: (top-left offset, pixels per module, modules).
    fn grid(picture: &GrayImage, text: &str) -> (u32, u32, u32) {
        let modules = qrcode::QrCode::new(text).unwrap().width() as u32;
        let dark: Vec<(u32, u32)> = picture
            .enumerate_pixels()
            .filter(|(_, _, p)| p.0[0] == 0)
            .map(|(x, y, _)| (x, y))
            .collect();
        let left = dark.iter().map(|p| p.0).min().unwrap();
        let right = dark.iter().map(|p| p.0).max().unwrap();
        let top = dark.iter().map(|p| p.1).min().unwrap();
        assert_eq!(
            left, top,
            "the finder patterns start the code at its corner"
        );
        let width = right - left + 1;
        assert_eq!(width % modules, 0, "a whole number of pixels per module");
        (left, width / modules, modules)
    }

    #[test]
    fn qr_code_has_the_requested_size_and_only_black_and_white() {
        let text = "https://cameo.example/profile/0bc83cb571cd1c50ba6f3e8a78ef1346";
        for size in [64, 200, 333, 1024] {
            let picture = draw_qr(text, size).unwrap();
            assert_eq!(picture.dimensions(), (size, size));
            assert!(picture.pixels().all(|p| p.0[0] == 0 || p.0[0] == 255));
        }
    }

    #[test]
    fn qr_quiet_zone_is_white_and_at_least_four_modules_wide() {
        let text = "https://cameo.example/profile/0bc83cb571cd1c50ba6f3e8a78ef1346";
        let picture = draw_qr(text, 333).unwrap();
        let (offset, scale, modules) = grid(&picture, text);
        assert!(offset >= 4 * scale);
        let end = offset + modules * scale;
        assert!(picture.width() - end >= 4 * scale);
        for (x, y, p) in picture.enumerate_pixels() {
            let inside = (offset..end).contains(&x) && (offset..end).contains(&y);
            if !inside {
                assert_eq!(p.0[0], 255, "({x}, {y}) is in the quiet zone");
            }
        }
    }

    #[test]
    fn qr_modules_are_square_blocks_of_equal_size() {
        let text = "https://cameo.example/profile/0bc83cb571cd1c50ba6f3e8a78ef1346";
        let picture = draw_qr(text, 500).unwrap();
        let (offset, scale, modules) = grid(&picture, text);
        assert!(scale > 1);
        for my in 0..modules {
            for mx in 0..modules {
                let (x0, y0) = (offset + mx * scale, offset + my * scale);
                let colour = picture.get_pixel(x0, y0).0[0];
                for dy in 0..scale {
                    for dx in 0..scale {
                        assert_eq!(picture.get_pixel(x0 + dx, y0 + dy).0[0], colour);
                    }
                }
            }
        }
    }

    #[test]
    fn qr_png_decodes_at_the_drawn_size() {
        let png = encode_png(&draw_qr("https://cameo.example/profile/x", 128).unwrap()).unwrap();
        let decoded = image::load_from_memory(&png).unwrap();
        assert_eq!((decoded.width(), decoded.height()), (128, 128));
    }
}
