//! Opt-in public profiles on the HTML side: the owner's editing page (`/account/profile`)
//! and the public page every profile URL points at (`/profile/HASH`).
//!
//! Nothing is public until the owner ticks the box. The form is validated by
//! [`validate_profile`], a plain function; a refused form is shown again with every problem
//! in words, a saved one redirects (post/redirect/get) to `?done=saved`. The public page
//! answers the same 404 for an unknown hash, a private profile and an unconfirmed address.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;

use super::pages::{Layout, render_page, see_other};
use super::session::Visitor;
use super::user_form::UserForm;
use crate::error::AppError;
use crate::identity::{Digest, Identity};
use crate::state::AppState;
use crate::store::addresses;
use crate::store::profiles::{self, DetailField, Profile, ProfileDetails, ProfileLink};

pub const MAX_DISPLAY_NAME_CHARS: usize = 64;
pub const MAX_ABOUT_CHARS: usize = 500;
pub const MAX_LINKS: usize = 5;
pub const MAX_LINK_LABEL_CHARS: usize = 40;
pub const MAX_LINK_URL_CHARS: usize = 300;

/// The URL of the public page of the profile behind `hash` (lowercase hex).
pub fn profile_url(base_url: &str, hash: &str) -> String {
    format!("{base_url}/profile/{hash}")
}

/// One row of link inputs on the editing page.
pub struct LinkRow {
    pub label: String,
    pub url: String,
}

/// An address of the account with the public URL of its profile.
pub struct AddressLink {
    pub address: String,
    pub url: String,
}

#[derive(Template)]
#[template(path = "profile_edit.html")]
struct EditPage {
    layout: Layout,
    public: bool,
    display_name: String,
    about: String,
    links: Vec<LinkRow>,
    details: Vec<(DetailField, String)>,
    problems: Vec<String>,
    addresses: Vec<AddressLink>,
    max_display_name: usize,
    max_about: usize,
    max_label: usize,
    max_url: usize,
}

#[derive(Template)]
#[template(path = "public_profile.html")]
struct PublicPage {
    layout: Layout,
    hash: String,
    display_name: String,
    about_lines: Vec<String>,
    links: Vec<ProfileLink>,
    /// The short facts given, with their labels (the alt text goes on the picture instead).
    facts: Vec<(&'static str, String)>,
    avatar_alt: String,
}

/// Checks the editing form's fields and returns the profile to store, or every problem.
/// Blank link rows are skipped; text is trimmed; the about text keeps its line breaks.
pub fn validate_profile(
    public: bool,
    display_name: &str,
    about: &str,
    links: &[(&str, &str)],
) -> Result<Profile, Vec<String>> {
    let mut problems = Vec::new();
    let display_name = display_name.trim();
    let about = about.replace("\r\n", "\n").trim().to_string();
    if display_name.chars().any(char::is_control) {
        problems.push("The display name cannot contain line breaks or control characters.".into());
    }
    let name_chars = display_name.chars().count();
    if name_chars > MAX_DISPLAY_NAME_CHARS {
        problems.push(format!(
            "The display name is too long: {name_chars} characters, at most {MAX_DISPLAY_NAME_CHARS}."
        ));
    }
    if public && display_name.is_empty() {
        problems.push("A public profile needs a display name.".into());
    }
    if about.chars().any(|c| c.is_control() && c != '\n') {
        problems.push("The about text cannot contain control characters.".into());
    }
    let about_chars = about.chars().count();
    if about_chars > MAX_ABOUT_CHARS {
        problems.push(format!(
            "The about text is too long: {about_chars} characters, at most {MAX_ABOUT_CHARS}."
        ));
    }
    let filled: Vec<(&str, &str)> = links
        .iter()
        .map(|(label, url)| (label.trim(), url.trim()))
        .filter(|(label, url)| !label.is_empty() || !url.is_empty())
        .collect();
    if filled.len() > MAX_LINKS {
        problems.push(format!("At most {MAX_LINKS} links, please."));
    }
    for (index, (label, url)) in filled.iter().enumerate() {
        problems.extend(link_problems(index + 1, label, url));
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    Ok(Profile {
        public,
        display_name: display_name.to_string(),
        about,
        links: filled
            .into_iter()
            .map(|(label, url)| ProfileLink {
                label: label.to_string(),
                url: url.to_string(),
            })
            .collect(),
        details: ProfileDetails::default(),
    })
}

/// Checks the profile's short facts: each trimmed, on one line, within its length. Returns
/// them trimmed, or every problem.
pub fn validate_details(details: &ProfileDetails) -> Result<ProfileDetails, Vec<String>> {
    let mut problems = Vec::new();
    for (field, value) in details.values() {
        let value = value.trim();
        if value.chars().any(char::is_control) {
            problems.push(format!(
                "{} cannot contain line breaks or control characters.",
                field.label
            ));
        }
        let chars = value.chars().count();
        if chars > field.max_chars {
            problems.push(format!(
                "{} is too long: {chars} characters, at most {}.",
                field.label, field.max_chars
            ));
        }
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    let values = details.values();
    Ok(ProfileDetails::from_values(|name| {
        values
            .iter()
            .find(|(field, _)| field.name == name)
            .map_or_else(String::new, |(_, value)| value.trim().to_string())
    }))
}

/// What is wrong with link number `n` (1-based), in words.
fn link_problems(n: usize, label: &str, url: &str) -> Vec<String> {
    let mut problems = Vec::new();
    if label.is_empty() {
        problems.push(format!("Link {n} needs a label."));
    } else if label.chars().count() > MAX_LINK_LABEL_CHARS {
        problems.push(format!(
            "The label of link {n} is too long: at most {MAX_LINK_LABEL_CHARS} characters."
        ));
    } else if label.chars().any(char::is_control) {
        problems.push(format!(
            "The label of link {n} cannot contain control characters."
        ));
    }
    let lower = url.get(..8).unwrap_or(url).to_ascii_lowercase();
    if url.is_empty() {
        problems.push(format!("Link {n} needs a URL."));
    } else if url.chars().count() > MAX_LINK_URL_CHARS {
        problems.push(format!(
            "The URL of link {n} is too long: at most {MAX_LINK_URL_CHARS} characters."
        ));
    } else if !(lower.starts_with("https://") || lower.starts_with("http://")) {
        problems.push(format!(
            "The URL of link {n} must start with https:// or http://."
        ));
    } else if url.chars().any(|c| c.is_whitespace() || c.is_control())
        || url::Url::parse(url).map_or(true, |u| u.host_str().is_none_or(str::is_empty))
    {
        problems.push(format!("The URL of link {n} is not a valid web address."));
    }
    problems
}

/// The account's addresses with the public URL each one's hash gives its profile.
async fn address_links(state: &AppState, user_id: i64) -> Result<Vec<AddressLink>, AppError> {
    let base = &state.config.base_url;
    Ok(addresses::owned_by(&state.pool, user_id)
        .await?
        .into_iter()
        .filter_map(|a| {
            let digests = Identity::parse(&a.address).ok()?.digests();
            let sha256 = digests.iter().find(|d| !d.is_md5())?.to_hex();
            Some(AddressLink {
                url: profile_url(base, &sha256),
                address: a.address,
            })
        })
        .collect())
}

fn edit_page(
    layout: Layout,
    profile: &Profile,
    problems: Vec<String>,
    addresses: Vec<AddressLink>,
) -> EditPage {
    let mut links: Vec<LinkRow> = profile
        .links
        .iter()
        .map(|l| LinkRow {
            label: l.label.clone(),
            url: l.url.clone(),
        })
        .collect();
    while links.len() < MAX_LINKS {
        links.push(LinkRow {
            label: String::new(),
            url: String::new(),
        });
    }
    EditPage {
        layout,
        public: profile.public,
        display_name: profile.display_name.clone(),
        about: profile.about.clone(),
        links,
        details: profile
            .details
            .values()
            .into_iter()
            .map(|(field, value)| (field, value.to_string()))
            .collect(),
        problems,
        addresses,
        max_display_name: MAX_DISPLAY_NAME_CHARS,
        max_about: MAX_ABOUT_CHARS,
        max_label: MAX_LINK_LABEL_CHARS,
        max_url: MAX_LINK_URL_CHARS,
    }
}

pub async fn edit_form(
    request: HttpRequest,
    visitor: Visitor,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    let user = visitor.require_user()?;
    let mut layout = Layout::new("Public profile", &visitor, &state);
    if request.query_string() == "done=saved" {
        layout = layout.with_notice("Your profile is saved.");
    }
    let profile = profiles::load(&state.pool, user.user_id).await?;
    let addresses = address_links(&state, user.user_id).await?;
    let page = edit_page(layout, &profile, Vec::new(), addresses);
    render_page(&visitor, &page, StatusCode::OK)
}

pub async fn save(
    UserForm {
        visitor,
        user,
        form,
    }: UserForm,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    let links: Vec<(&str, &str)> = form.all("link_label").zip(form.all("link_url")).collect();
    let public = form.get("public") == "yes";
    let details = ProfileDetails::from_values(|name| form.get(name).to_string());
    let checked = (
        validate_profile(public, form.get("display_name"), form.get("about"), &links),
        validate_details(&details),
    );
    match checked {
        (Ok(profile), Ok(details)) => {
            let profile = Profile { details, ..profile };
            profiles::save(&state.pool, user.user_id, &profile).await?;
            Ok(see_other("/account/profile?done=saved"))
        }
        (profile, details_checked) => {
            let problems: Vec<String> = [profile.err(), details_checked.err()]
                .into_iter()
                .flatten()
                .flatten()
                .collect();
            // Shown again as typed (within the form's size cap), so nothing has to be retyped.
            let typed = Profile {
                public,
                display_name: form.get("display_name").to_string(),
                about: form.get("about").to_string(),
                links: links
                    .iter()
                    .take(MAX_LINKS)
                    .map(|(label, url)| ProfileLink {
                        label: label.to_string(),
                        url: url.to_string(),
                    })
                    .collect(),
                details,
            };
            let layout = Layout::new("Public profile", &visitor, &state)
                .with_error("The profile was not saved. Please fix the problems below.");
            let addresses = address_links(&state, user.user_id).await?;
            let page = edit_page(layout, &typed, problems, addresses);
            render_page(&visitor, &page, StatusCode::BAD_REQUEST)
        }
    }
}

/// `GET /profile/HASH`: the public page of an opted-in profile.
pub async fn public_page(
    visitor: Visitor,
    state: web::Data<AppState>,
    hash: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let digest = Digest::parse_hex(&hash)
        .map_err(|e| AppError::BadRequest(format!("invalid profile hash: {e}")))?;
    let profile = profiles::public_profile_for_digest(&state.pool, &digest)
        .await?
        .ok_or_else(|| AppError::NotFound("there is no public profile for this hash".into()))?;
    let page = PublicPage {
        layout: Layout::new(&profile.display_name, &visitor, &state),
        hash: digest.to_hex(),
        about_lines: profile
            .about
            .lines()
            .filter(|line| !line.trim().is_empty())
            .map(str::to_string)
            .collect(),
        facts: profile
            .details
            .values()
            .into_iter()
            .filter(|(field, value)| field.name != "avatar_alt_text" && !value.is_empty())
            .map(|(field, value)| (field.label, value.to_string()))
            .collect(),
        avatar_alt: profile.details.avatar_alt_text.clone(),
        display_name: profile.display_name,
        links: profile.links,
    };
    render_page(&visitor, &page, StatusCode::OK)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn problems_of(result: Result<Profile, Vec<String>>) -> Vec<String> {
        result.expect_err("refused")
    }

    #[test]
    fn a_valid_form_is_trimmed_and_blank_link_rows_are_skipped() {
        let profile = validate_profile(
            true,
            "  Ada  ",
            " Hi\r\nthere ",
            &[("", ""), (" Blog ", " https://ada.example/ "), ("", "")],
        )
        .unwrap();
        assert_eq!(profile.display_name, "Ada");
        assert_eq!(profile.about, "Hi\nthere");
        assert_eq!(
            profile.links,
            vec![ProfileLink {
                label: "Blog".into(),
                url: "https://ada.example/".into()
            }]
        );
    }

    #[test]
    fn a_private_profile_may_have_no_display_name() {
        assert!(validate_profile(false, "", "", &[]).is_ok());
        let problems = problems_of(validate_profile(true, " ", "", &[]));
        assert_eq!(problems, vec!["A public profile needs a display name."]);
    }

    #[test]
    fn lengths_are_counted_in_characters_and_capped() {
        assert!(validate_profile(true, &"é".repeat(64), &"ü".repeat(500), &[]).is_ok());
        let problems = problems_of(validate_profile(
            true,
            &"é".repeat(65),
            &"x".repeat(501),
            &[],
        ));
        assert_eq!(problems.len(), 2, "{problems:?}");
        assert!(problems[0].contains("display name is too long"));
        assert!(problems[1].contains("about text is too long"));
    }

    #[test]
    fn link_urls_must_be_http_or_https_web_addresses() {
        for bad in [
            "javascript:alert(1)",
            "ftp://x.example",
            "https://",
            "https://a b.example",
        ] {
            let problems = problems_of(validate_profile(false, "", "", &[("Site", bad)]));
            assert_eq!(problems.len(), 1, "{bad}: {problems:?}");
        }
        assert!(validate_profile(false, "", "", &[("Site", "HTTP://x.example/a?b=c")]).is_ok());
    }

    #[test]
    fn each_link_needs_a_short_label_and_a_short_url() {
        let long_label = "l".repeat(41);
        let long_url = format!("https://x.example/{}", "p".repeat(300));
        let problems = problems_of(validate_profile(
            false,
            "",
            "",
            &[
                ("", "https://x.example"),
                ("Site", ""),
                (&long_label, "https://x.example"),
                ("Site", &long_url),
            ],
        ));
        assert_eq!(
            problems,
            vec![
                "Link 1 needs a label.",
                "Link 2 needs a URL.",
                "The label of link 3 is too long: at most 40 characters.",
                "The URL of link 4 is too long: at most 300 characters.",
            ]
        );
    }

    #[test]
    fn more_than_five_links_are_refused() {
        let links = vec![("Site", "https://x.example"); 6];
        let problems = problems_of(validate_profile(false, "", "", &links));
        assert_eq!(problems, vec!["At most 5 links, please."]);
    }

    #[test]
    fn control_characters_in_the_name_are_refused() {
        let problems = problems_of(validate_profile(true, "Ada\nLovelace", "", &[]));
        assert!(problems[0].contains("control characters"));
    }
}
