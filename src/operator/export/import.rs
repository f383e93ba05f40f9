//! Applying one account (or the operator's holdings) of a document, in one write
//! transaction, so re-running an import, even one that was interrupted, changes nothing
//! already there and reports "unchanged".
//!
//! Rules, per account:
//! - the account is found by its login email or created (with the exported password hash
//!   and creation time; without a usable password if there is none);
//! - its photos are made ready by [`super::import_photos`] before the transaction starts;
//! - an address held, confirmed, by another account or by the operator is never taken: it is
//!   reported as skipped with the reason;
//! - a profile is written only when the account has none (or the same one) here.

use std::collections::HashMap;

use crate::store::Db;

use super::ExportError;
use super::format::{Account, Address, Holdings, NO_PASSWORD, Profile};
use super::import_photos::{PhotoIntake, ready_photos, short, store_photos};
use super::report::{AccountReport, Outcome};
use crate::identity::Identity;
use crate::store::export::{AddressUpdate, HeldAddress, ImportTransaction, NewAddress, account_id};
use crate::store::now;

/// Where a document came from: Cameo's digests are checked, ivatar's are only references.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Origin {
    Cameo,
    Ivatar,
}

/// What was written in one transaction.
#[derive(Default)]
pub(super) struct Written {
    pub(super) addresses: usize,
    pub(super) photos: usize,
    pub(super) profile: bool,
}

impl Written {
    fn any(&self) -> bool {
        self.addresses + self.photos > 0 || self.profile
    }
}

pub(super) async fn import_account(
    pool: &Db,
    intake: PhotoIntake<'_>,
    account: Account,
    origin: Origin,
) -> Result<AccountReport, ExportError> {
    let who = account.email.trim().to_string();
    let email = match Identity::parse(&account.email) {
        Ok(Identity::Email(email)) => email,
        Ok(Identity::OpenId(_) | Identity::Phone(_)) => {
            return Ok(AccountReport::skipped_account(
                who,
                "a login must be an email",
            ));
        }
        Err(error) => return Ok(AccountReport::skipped_account(who, &error.to_string())),
    };
    let existing = account_id(pool, &email).await?;
    let mut skipped = Vec::new();
    let ready = ready_photos(
        pool,
        intake,
        existing.map(Some),
        &account.photos,
        origin,
        &mut skipped,
    )
    .await?;

    let mut tx = ImportTransaction::begin(pool).await?;
    let now = now();
    let (user_id, created) = match tx.account_id(&email).await? {
        Some(id) => (id, false),
        None => {
            let password = account
                .password_hash
                .clone()
                .filter(|h| !h.is_empty())
                .unwrap_or_else(|| NO_PASSWORD.to_string());
            let created_at = account.created_at.unwrap_or(now);
            let id = tx
                .insert_account(&email, &password, created_at, now)
                .await?;
            (id, true)
        }
    };
    let mut written = Written::default();
    let holder = Some(user_id);
    let photo_ids = store_photos(&mut tx, holder, ready, now, &mut written).await?;
    let references: Vec<&str> = account.photos.iter().map(|p| p.digest.as_str()).collect();
    let target = Target {
        holder,
        photo_ids: &photo_ids,
        references: &references,
        now,
    };
    apply_addresses(
        &mut tx,
        &target,
        &account.addresses,
        &mut written,
        &mut skipped,
    )
    .await?;
    if let Some(profile) = &account.profile {
        apply_profile(&mut tx, user_id, profile, &mut written, &mut skipped).await?;
    }
    let outcome = finish(tx, created, &written).await?;
    Ok(AccountReport {
        who: email,
        outcome,
        addresses: written.addresses,
        photos: written.photos,
        profile: written.profile,
        skipped,
    })
}

pub(super) async fn import_operator(
    pool: &Db,
    intake: PhotoIntake<'_>,
    holdings: Holdings,
    origin: Origin,
) -> Result<AccountReport, ExportError> {
    let mut skipped = Vec::new();
    let ready = ready_photos(
        pool,
        intake,
        Some(None),
        &holdings.photos,
        origin,
        &mut skipped,
    )
    .await?;
    let mut tx = ImportTransaction::begin(pool).await?;
    let now = now();
    let mut written = Written::default();
    let photo_ids = store_photos(&mut tx, None, ready, now, &mut written).await?;
    let references: Vec<&str> = holdings.photos.iter().map(|p| p.digest.as_str()).collect();
    let target = Target {
        holder: None,
        photo_ids: &photo_ids,
        references: &references,
        now,
    };
    apply_addresses(
        &mut tx,
        &target,
        &holdings.addresses,
        &mut written,
        &mut skipped,
    )
    .await?;
    // Operator photos live only as long as an address shows them (as with `cameo add`).
    tx.delete_unreferenced_photos().await?;
    let outcome = finish(tx, false, &written).await?;
    Ok(AccountReport {
        who: "(operator addresses)".into(),
        outcome,
        addresses: written.addresses,
        photos: written.photos,
        profile: false,
        skipped,
    })
}

/// Commits what was written; rolls back (and says "unchanged") when nothing was.
async fn finish(
    tx: ImportTransaction,
    created: bool,
    written: &Written,
) -> Result<Outcome, sqlx::Error> {
    if !created && !written.any() {
        tx.rollback().await?;
        return Ok(Outcome::Unchanged);
    }
    tx.commit().await?;
    Ok(if created {
        Outcome::Imported
    } else {
        Outcome::Updated
    })
}

/// Whose addresses are being written and the photos they may name.
struct Target<'a> {
    holder: Option<i64>,
    photo_ids: &'a HashMap<String, i64>,
    /// Every photo reference in the document, stored or skipped.
    references: &'a [&'a str],
    now: i64,
}

async fn apply_addresses(
    tx: &mut ImportTransaction,
    target: &Target<'_>,
    addresses: &[Address],
    written: &mut Written,
    skipped: &mut Vec<String>,
) -> Result<(), sqlx::Error> {
    for address in addresses {
        // Phones are stored in E.164, which reads back without a default region.
        let identity = match Identity::parse_with_phones(&address.address, None) {
            Ok(identity) => identity,
            Err(error) => {
                skipped.push(format!("address {:?}: {error}", address.address));
                continue;
            }
        };
        let photo_id = address.photo.as_deref().and_then(|reference| {
            let id = target.photo_ids.get(reference).copied();
            if id.is_none() && !target.references.contains(&reference) {
                skipped.push(format!(
                    "the photo of {identity}: {} is not in the export",
                    short(reference)
                ));
            }
            id
        });
        let row = tx.address(identity.as_str()).await?;
        let confirmed_at = address
            .confirmed
            .then(|| address.confirmed_at.unwrap_or(target.now));
        let Some(HeldAddress {
            id,
            user_id: holder,
            photo_id: current_photo,
            confirmed_at: current_confirmed,
        }) = row
        else {
            tx.insert_address(NewAddress {
                identity: &identity,
                holder: target.holder,
                photo_id,
                confirmed_at,
                created_at: address.created_at.unwrap_or(target.now),
                updated_at: target.now,
            })
            .await?;
            written.addresses += 1;
            continue;
        };
        let ours = holder == target.holder;
        if !ours && current_confirmed.is_some() {
            skipped.push(format!(
                "address {identity}: {}",
                if holder.is_some() {
                    "held by another account here"
                } else {
                    "held by the operator here (cameo add)"
                }
            ));
            continue;
        }
        // Ours, or an unconfirmed row that holds nothing: make it what the export says,
        // without undoing a confirmation or clearing a photo the export does not name.
        let new_photo = if ours {
            photo_id.or(current_photo)
        } else {
            photo_id
        };
        let new_confirmed = current_confirmed.or(confirmed_at);
        if ours && new_photo == current_photo && new_confirmed == current_confirmed {
            continue;
        }
        let update = AddressUpdate {
            holder: target.holder,
            photo_id: new_photo,
            confirmed_at: new_confirmed,
            updated_at: target.now,
        };
        tx.update_address(id, update).await?;
        written.addresses += 1;
    }
    Ok(())
}

/// Writes the profile if the account has none here; the same one is left as it is; a
/// different one is kept and the exported one reported as skipped.
async fn apply_profile(
    tx: &mut ImportTransaction,
    user_id: i64,
    profile: &Profile,
    written: &mut Written,
    skipped: &mut Vec<String>,
) -> Result<(), sqlx::Error> {
    let links: Vec<(&str, &str)> = profile
        .links
        .iter()
        .map(|l| (l.label.as_str(), l.url.as_str()))
        .collect();
    let checked = (
        crate::web::public_profile::validate_profile(
            profile.public,
            &profile.display_name,
            &profile.about,
            &links,
        ),
        crate::web::public_profile::validate_details(&profile.details),
    );
    let valid = match checked {
        (Ok(valid), Ok(details)) => crate::store::profiles::Profile { details, ..valid },
        (profile, details) => {
            let problems: Vec<String> = [profile.err(), details.err()]
                .into_iter()
                .flatten()
                .flatten()
                .collect();
            skipped.push(format!("profile: {}", problems.join(" ")));
            return Ok(());
        }
    };
    match tx.profile(user_id).await? {
        None => {
            tx.insert_profile(user_id, &valid).await?;
            written.profile = true;
        }
        Some(current)
            if current.public == valid.public
                && current.display_name == valid.display_name
                && current.about == valid.about
                && current.links.as_ref() == Some(&valid.links)
                && current.details == valid.details => {}
        Some(_) => skipped.push("profile: the account already has a different one here".into()),
    }
    Ok(())
}
