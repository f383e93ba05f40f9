//! Claiming addresses: an email is confirmed by a single-use link mailed to it; an OpenID by
//! a `rel="me"` link on its page pointing back at a proof URL on this server (IndieAuth
//! style). Until then a claim is only a token: the address row, if another account holds it,
//! moves only when the claim is confirmed.
//!
//! Mail is throttled so that no one can turn the server into a mail cannon: every mail draws
//! on the asking client's budget, the asking account's, and the recipient's (at most a few an
//! hour whoever asks), in that order, so a throttled asker cannot use up a recipient's budget.
//! A pending link is not mailed again until its mail is [`MAIL_COOL_DOWN_SECS`] old, and
//! cancelling a claim gives no budget back. A refused mail leaves no claim behind: the outbox
//! place is reserved before the claim is stored.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;

use super::account::message;
use super::auth::{
    self, MAIL_COOL_DOWN_SECS, MAILS_PER_ACCOUNT, MAILS_PER_CLIENT, MAILS_PER_RECIPIENT,
    link_token, random_token, token_hash, wait_words,
};
use super::pages::{Layout, render_page};
use super::session::{Visitor, start_session};
use super::user_form::{CheckedForm, UserForm};
use crate::error::AppError;
use crate::identity::Identity;
use crate::mail::{Outgoing, check_recipient};
use crate::outbound::probe_budget;
use crate::state::AppState;
use crate::store::tokens::{self, NewToken, Purpose};
use crate::store::{addresses, users};

/// How long a confirmation link or an OpenID proof stays valid.
const CLAIM_LIFETIME_SECS: i64 = 24 * 3600;
/// Largest OpenID page read when looking for the proof.
const MAX_OPENID_PAGE_BYTES: usize = 256 * 1024;

#[derive(Template)]
#[template(path = "confirm.html")]
struct ConfirmPage {
    layout: Layout,
    token: String,
    address: String,
}

/// Checks the account may claim `identity`, in words for the page.
async fn check_claim(state: &AppState, user_id: i64, identity: &Identity) -> Result<(), String> {
    if state.config.restrict_addresses_to_domains {
        let allowed = identity
            .domain()
            .is_some_and(|d| state.config.domains.iter().any(|x| x == d));
        if !allowed {
            return Err(format!(
                "This server only takes addresses at {}.",
                state.config.domains.join(", ")
            ));
        }
    }
    let holder = addresses::holder(&state.pool, identity)
        .await
        .map_err(|e| e.to_string())?;
    if holder == Some(Some(user_id)) {
        return Err(format!("{identity} is already in your account."));
    }
    let pending = tokens::pending_claims(&state.pool, user_id)
        .await
        .map_err(|e| e.to_string())?;
    if let Some(claim) = pending
        .iter()
        .find(|c| c.address == identity.as_str() && c.purpose == "confirm_address")
    {
        let age = crate::store::now() - claim.created_at;
        if let Some(wait) = cool_down_left(age) {
            return Err(format!(
                "We mailed a link to {identity} a few minutes ago; look for it (and in the spam \
                 folder). You can ask for a new one {}.",
                wait_words(wait)
            ));
        }
    }
    let limit = state.config.max_unconfirmed_addresses as usize;
    if pending.len() >= limit {
        return Err(format!(
            "You have {limit} addresses waiting for confirmation. Confirm or cancel one first."
        ));
    }
    Ok(())
}

/// Seconds until a pending link whose mail is `age_secs` old may be mailed again, if any.
pub fn cool_down_left(age_secs: i64) -> Option<u64> {
    (age_secs < MAIL_COOL_DOWN_SECS).then(|| (MAIL_COOL_DOWN_SECS - age_secs.max(0)) as u64)
}

/// Takes one mail from each budget it draws on, the asker's first (see the module comment).
pub async fn take_mail_budget(
    state: &AppState,
    client: &str,
    account: Option<i64>,
    recipient: &str,
) -> Result<(), AppError> {
    auth::take(&state.pool, MAILS_PER_CLIENT, client).await?;
    if let Some(account) = account {
        auth::take(&state.pool, MAILS_PER_ACCOUNT, &account.to_string()).await?;
    }
    auth::take(&state.pool, MAILS_PER_RECIPIENT, recipient).await?;
    Ok(())
}

/// Starts the claim of an email address from the profile page: checks it, takes the mail
/// budget, stores a token and queues the link. Returns the notice to show.
pub async fn start_email_claim(
    state: &AppState,
    user_id: i64,
    identity: &Identity,
    client: &str,
) -> Result<String, String> {
    check_claim(state, user_id, identity).await?;
    take_mail_budget(state, client, Some(user_id), identity.as_str())
        .await
        .map_err(|e| e.to_string())?;
    mail_claim_link(state, user_id, identity).await?;
    Ok(if state.config.smtp_url.is_empty() {
        format!("This server sends no mail: the confirmation link for {identity} is in its log.")
    } else {
        format!("We sent a confirmation link to {identity}.")
    })
}

/// Claims a new account's own address after sign-up (its mail budget is already taken).
pub async fn claim_account_address(
    state: &AppState,
    user_id: i64,
    identity: &Identity,
) -> Result<(), String> {
    check_claim(state, user_id, identity).await?;
    mail_claim_link(state, user_id, identity).await
}

/// Stores a confirmation token and queues its link; nothing is stored if the mail cannot go.
async fn mail_claim_link(
    state: &AppState,
    user_id: i64,
    identity: &Identity,
) -> Result<(), String> {
    check_recipient(identity.as_str()).map_err(|e| e.to_string())?;
    let base = &state.config.base_url;
    mail_link(
        state,
        LinkMail {
            purpose: Purpose::ConfirmAddress,
            user_id,
            address: Some(identity.as_str()),
            lifetime_secs: CLAIM_LIFETIME_SECS,
            to: identity.as_str(),
            subject: "Confirm your address for Cameo",
        },
        |token| {
            format!(
                "Someone (hopefully you) asked to show a photo for {identity} with Cameo at {base}.\n\n\
                 Confirm the address here (the link works once, for 24 hours):\n{base}/confirm/{token}\n\n\
                 If it was not you, ignore this mail.\n"
            )
        },
    )
    .await
}

/// A mailed single-use link: what its token is for, and where the mail goes.
pub(super) struct LinkMail<'a> {
    pub purpose: Purpose,
    pub user_id: i64,
    pub address: Option<&'a str>,
    pub lifetime_secs: i64,
    pub to: &'a str,
    pub subject: &'a str,
}

/// Reserves a place in the outbox, stores a fresh token (hashed) and queues the mail whose
/// body `body` writes around the token; nothing is stored if the mail cannot go.
pub(super) async fn mail_link(
    state: &AppState,
    link: LinkMail<'_>,
    body: impl FnOnce(&str) -> String,
) -> Result<(), String> {
    let place = state.outbox.reserve().map_err(|e| e.to_string())?;
    let token = random_token();
    tokens::insert(
        &state.pool,
        NewToken {
            token_hash: &token_hash(&token),
            purpose: link.purpose,
            user_id: link.user_id,
            address: link.address,
            proof: None,
            lifetime_secs: link.lifetime_secs,
        },
    )
    .await
    .map_err(|e| e.to_string())?;
    place.send(Outgoing {
        to: link.to.to_string(),
        subject: link.subject.into(),
        body: body(&token),
    });
    Ok(())
}

pub async fn add_email(
    request: HttpRequest,
    UserForm { user, form, .. }: UserForm,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    let client = crate::client::limit_key_of(&request, &state.config);
    let result = match Identity::parse(form.get("email")) {
        Ok(identity @ Identity::Email(_)) => {
            match start_email_claim(&state, user.user_id, &identity, &client).await {
                Ok(notice) => {
                    let domain = identity.domain().unwrap_or_default();
                    Ok(
                        match super::reach::warning_for_new_address(&state, domain).await {
                            Some(warning) => format!("{notice} {warning}"),
                            None => notice,
                        },
                    )
                }
                Err(error) => Err(error),
            }
        }
        Ok(Identity::OpenId(_)) => Err("That is a URL: add it as an OpenID below.".into()),
        // `parse` yields no phones: nobody can confirm one on these pages.
        Ok(Identity::Phone(_)) => Err("Phone numbers cannot be added here.".into()),
        Err(error) => Err(format!("That email address does not work: {error}.")),
    };
    // "Send the link again" beside a pending address shows its answer at the top.
    let field = (form.get("resend").is_empty()).then_some("new-email");
    super::profile::after_field_action(&state, field, result).await
}

pub async fn add_openid(
    UserForm { user, form, .. }: UserForm,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    let result = match Identity::parse(form.get("openid")) {
        Ok(identity @ Identity::OpenId(_)) => {
            start_openid_claim(&state, user.user_id, &identity).await
        }
        Ok(Identity::Email(_)) => Err("That is an email address: add it above.".into()),
        Ok(Identity::Phone(_)) => Err("Phone numbers cannot be added here.".into()),
        Err(error) => Err(format!("That OpenID does not work: {error}.")),
    };
    super::profile::after_field_action(&state, Some("new-openid"), result).await
}

async fn start_openid_claim(
    state: &AppState,
    user_id: i64,
    identity: &Identity,
) -> Result<String, String> {
    check_claim(state, user_id, identity).await?;
    let proof = random_token();
    tokens::insert(
        &state.pool,
        NewToken {
            token_hash: &token_hash(&random_token()),
            purpose: Purpose::OpenIdProof,
            user_id,
            address: Some(identity.as_str()),
            proof: Some(&proof),
            lifetime_secs: CLAIM_LIFETIME_SECS,
        },
    )
    .await
    .map_err(|e| e.to_string())?;
    Ok(format!(
        "Now add the rel=me link shown below to {identity}, then press Check now."
    ))
}

/// The URL an OpenID page must link to with `rel="me"`.
pub fn proof_url(base_url: &str, proof: &str) -> String {
    format!("{base_url}/openid/proof/{proof}")
}

/// "Check now" on a pending OpenID: fetches the page (guarded: public addresses only) and
/// looks for the `rel="me"` proof link. The fetch goes wherever the URL points, so it spends
/// the client's outbound probe budget (429 past it), and every way of failing to read the
/// page reads the same: refused, timed out and HTTP 503 are not told apart, so this form
/// cannot map other people's ports.
pub async fn verify_openid(
    request: HttpRequest,
    UserForm { user, form, .. }: UserForm,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    let address = form.get("address");
    let result = match tokens::openid_proof(&state.pool, user.user_id, address).await? {
        None => Err("There is no pending claim for that OpenID; add it again.".to_string()),
        Some((token_hash, proof)) => {
            probe_budget::spend(&state.pool, &state.config, &request).await?;
            let expected = proof_url(&state.config.base_url, &proof);
            match state
                .outbound
                .get_guarded(address, MAX_OPENID_PAGE_BYTES)
                .await
            {
                Ok(page) if page.status == 200 => {
                    let html = String::from_utf8_lossy(&page.body);
                    if super::openid::rel_me_links(&html).contains(&expected) {
                        confirm_claim(&state, &token_hash, Purpose::OpenIdProof).await?;
                        Ok(format!("{address} is confirmed."))
                    } else {
                        Err(format!("{address} has no rel=me link to {expected} yet."))
                    }
                }
                _ => Err(format!(
                    "We could not read a page at {address}: it must be on a public address \
                     and answer 200 within a few seconds."
                )),
            }
        }
    };
    super::profile::after_action(&state, result).await
}

/// Uses a claim token and confirms its address for its account: the account and the
/// address, or `None` if the token is unknown, used or expired.
async fn confirm_claim(
    state: &AppState,
    token_hash: &str,
    purpose: Purpose,
) -> Result<Option<(i64, Identity)>, AppError> {
    let Some((user_id, Some(address))) = tokens::take(&state.pool, token_hash, purpose).await?
    else {
        return Ok(None);
    };
    let identity = Identity::parse(&address).map_err(|e| AppError::Internal(e.to_string()))?;
    addresses::confirm_for_user(&state.pool, user_id, &identity).await?;
    Ok(Some((user_id, identity)))
}

pub async fn cancel_claim(
    UserForm { user, form, .. }: UserForm,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    let result = if tokens::cancel_claim(&state.pool, user.user_id, form.get("address")).await? {
        Ok("The claim is cancelled.".to_string())
    } else {
        Err("There was no such claim.".to_string())
    };
    super::profile::after_action(&state, result).await
}

/// The mailed link shows a button rather than confirming on GET, so mail scanners that
/// fetch links cannot use up the token.
pub async fn confirm_form(
    visitor: Visitor,
    state: web::Data<AppState>,
    token: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let token = link_token(token)?;
    let Some(address) =
        tokens::live_address(&state.pool, &token_hash(&token), Purpose::ConfirmAddress).await?
    else {
        return dead_confirmation_link(&visitor, &state);
    };
    let page = ConfirmPage {
        layout: Layout::new("Confirm your address", &visitor, &state),
        token,
        address,
    };
    render_page(&visitor, &page, StatusCode::OK)
}

/// The page for a confirmation link that is unknown, used or expired.
fn dead_confirmation_link(visitor: &Visitor, state: &AppState) -> Result<HttpResponse, AppError> {
    message(
        visitor,
        state,
        StatusCode::GONE,
        "This link no longer works",
        "Confirmation links work once, for 24 hours. Log in and press \"Send the link again\" \
         beside the address on your avatars page, or add the address again."
            .into(),
        Some(("/account", "Your avatars")),
    )
}

pub async fn confirm(
    CheckedForm { visitor, .. }: CheckedForm,
    state: web::Data<AppState>,
    token: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let token = link_token(token)?;
    match confirm_claim(&state, &token_hash(&token), Purpose::ConfirmAddress).await? {
        Some((user_id, identity)) => {
            // Sign-up does not log in: the link mailed to the account's own login address
            // does, for an anonymous visitor. A secondary address proves nothing about the
            // account, and a visitor logged in as someone stays who they are.
            let owner = users::by_id(&state.pool, user_id).await?;
            let logs_in = visitor.user.is_none()
                && owner.is_some_and(|owner| owner.email == identity.as_str());
            let mut response = message(
                &visitor,
                &state,
                StatusCode::OK,
                "Address confirmed",
                format!("{identity} is confirmed. Give it a photo on your avatars page."),
                Some(("/account", "Your avatars")),
            )?;
            if logs_in {
                let cookie = start_session(&state, user_id).await?;
                response
                    .add_cookie(&cookie)
                    .map_err(|e| AppError::Internal(e.to_string()))?;
            }
            Ok(response)
        }
        None => dead_confirmation_link(&visitor, &state),
    }
}

/// The page OpenID proofs point at; it only says what it is for.
pub async fn proof_page(proof: web::Path<String>) -> Result<HttpResponse, AppError> {
    link_token(proof)?;
    Ok(HttpResponse::Ok()
        .content_type("text/plain; charset=utf-8")
        .body("This URL proves that a Cameo account controls the OpenID page linking here.\n"))
}

pub async fn remove_address(
    UserForm { user, .. }: UserForm,
    state: web::Data<AppState>,
    path: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    let result = if addresses::remove_owned(&state.pool, user.user_id, path.into_inner()).await? {
        Ok("The address is removed; it shows a default image now.".to_string())
    } else {
        Err("That address is not in your account.".to_string())
    };
    super::profile::after_action(&state, result).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pending_link_is_mailed_again_only_after_the_cool_down() {
        assert_eq!(cool_down_left(0), Some(600));
        assert_eq!(cool_down_left(599), Some(1));
        assert_eq!(cool_down_left(600), None);
        assert_eq!(
            cool_down_left(-5),
            Some(600),
            "a clock step back waits the full time"
        );
    }
}
