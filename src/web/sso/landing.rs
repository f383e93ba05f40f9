//! What a checked sign-in does here: finds or makes the account ([`crate::sso::account`]
//! decides, this carries it out through the store), confirms the address the provider
//! vouches for, and imports the provider's picture once.
//!
//! The picture is somebody else's URL, so it takes the same road as "import from a web
//! address" (`web::data`): the account's room and hourly import limits, the guarded
//! outbound client (public addresses only, no redirects, capped body), the bounded intake.
//! It is tried at most once per link (`store::oidc::claim_picture_import`), and a failure
//! only costs a sentence on the way in: the sign-in itself stands.

use crate::error::AppError;
use crate::identity::Identity;
use crate::passwords::NO_PASSWORD;
use crate::photo_import::{fetch_url, parse_import_url};
use crate::sso::account::{Account, AddressStep, Facts, PlanRefusal, plan};
use crate::sso::token::ProviderIdentity;
use crate::state::{AppState, intake_limits};
use crate::store::{addresses, oidc, users};
use crate::web::data::import_steps::{Refused, make_room, spend_import, store};

/// The account signed in, and what to tell its holder on the way in.
pub struct Landed {
    pub user_id: i64,
    pub notes: Vec<String>,
}

pub async fn land(
    state: &AppState,
    issuer: &str,
    identity: &ProviderIdentity,
) -> Result<Result<Landed, PlanRefusal>, AppError> {
    let pool = &state.pool;
    let subject = identity.subject.as_str();
    let link = oidc::link_of(pool, issuer, subject).await?;
    let email = identity.verified_email();
    let (holder, login_name_of) = match email {
        Some(email) => (
            addresses::holder(pool, email).await?,
            users::by_email(pool, email.as_str()).await?.map(|u| u.id),
        ),
        None => (None, None),
    };
    let facts = Facts {
        linked: link.as_ref().map(|l| l.user_id),
        verified_email: email.is_some(),
        holder,
        login_name_of,
    };
    let plan = match plan(&facts) {
        Ok(plan) => plan,
        Err(refusal) => return Ok(Err(refusal)),
    };
    let user_id = match (plan.account, email) {
        (Account::Linked(user_id), _) => {
            oidc::note_login(pool, issuer, subject).await?;
            user_id
        }
        (Account::LinkTo(user_id), _) => {
            oidc::link(pool, issuer, subject, user_id).await?;
            user_id
        }
        (Account::Create, Some(email)) => {
            let created =
                oidc::create_linked_account(pool, email.as_str(), NO_PASSWORD, issuer, subject)
                    .await?;
            match created {
                Some(user_id) => user_id,
                // Another sign-in took the login name in between.
                None => return Ok(Err(PlanRefusal::UnconfirmedAccount)),
            }
        }
        (Account::Create, None) => return Ok(Err(PlanRefusal::NoVerifiedEmail)),
    };
    let mut notes = Vec::new();
    if let Some(email) = email {
        match plan.address {
            AddressStep::Confirm => addresses::confirm_for_user(pool, user_id, email).await?,
            AddressStep::HeldByAnother => notes.push(format!(
                "{email} is confirmed by another account on this server, so it stays there; \
                 this account does not show a photo for it.",
                email = email.as_str()
            )),
            AddressStep::Nothing => {}
        }
    }
    if let Some(picture) = &identity.picture
        && oidc::claim_picture_import(pool, issuer, subject).await?
        && let Err(note) = import_picture(state, user_id, email, picture).await
    {
        notes.push(note);
    }
    Ok(Ok(Landed { user_id, notes }))
}

/// Imports the provider's picture as a photo of the account and shows it for `email` when
/// that address has no photo yet. `Err` is the sentence to show.
async fn import_picture(
    state: &AppState,
    user_id: i64,
    email: Option<&Identity>,
    picture: &str,
) -> Result<(), String> {
    let imported = async {
        let url = parse_import_url(picture).map_err(Refused::from)?;
        make_room(state, user_id).await?;
        spend_import(state, user_id).await?;
        let max_bytes = intake_limits(&state.config).max_bytes as usize;
        let fetched = fetch_url(&state.outbound, &url, max_bytes).await;
        store(state, user_id, fetched).await
    }
    .await;
    let photo_id = match imported {
        Ok(photo_id) => photo_id,
        Err(Refused::Shown(reason, ..)) => {
            return Err(format!(
                "Your provider's picture was not imported: {reason}"
            ));
        }
        Err(Refused::Fault(error)) => {
            tracing::warn!(%error, "single sign-on: the provider's picture was not imported");
            return Err("Your provider's picture could not be imported.".into());
        }
    };
    let Some(email) = email else { return Ok(()) };
    show_for_address(state, user_id, email, photo_id)
        .await
        .map_err(|error| {
            tracing::warn!(%error, "single sign-on: the imported picture was not shown");
            "Your provider's picture is imported; choose the addresses that show it.".to_string()
        })
}

/// Points `email` at the photo when the account holds it and it shows no photo yet.
async fn show_for_address(
    state: &AppState,
    user_id: i64,
    email: &Identity,
    photo_id: i64,
) -> Result<(), sqlx::Error> {
    let owned = addresses::owned_by(&state.pool, user_id).await?;
    if let Some(address) = owned
        .iter()
        .find(|a| a.address == email.as_str() && a.photo_id.is_none())
    {
        addresses::assign_photo(&state.pool, user_id, address.id, Some(photo_id)).await?;
    }
    Ok(())
}
