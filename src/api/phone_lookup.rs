//! The phone side of `/api/v1/lookup` (`phone=`): which providers a phone number or a
//! WhatsApp chat may be asked, and what each says.
//!
//! - `local`: a photo the operator set for the number (`cameo add +15551234567 …`); a copy
//!   a gateway left is that gateway's answer, not `local`'s. Group chats never go here.
//! - `gowa`, `greenapi`: the WhatsApp gateways ([`crate::gateways`]), paced and remembered
//!   there; a found picture is kept, so the answer's `image` is this server's own stable
//!   `/avatar/SHA256(E.164)`, never WhatsApp's expiring URL. The gateways' addresses are
//!   not disclosed: `source.url` is this server.

use super::lookup::{Outcome, Provider, Subject};
use crate::error::AppError;
use crate::gateways::{GatewayKind, Verdict};
use crate::phone::ChatId;
use crate::state::AppState;
use crate::store::gateway_copies::{self, PhotoOrigin};

/// Reads `phone=`: a number, a person's chat id or a group's.
pub fn parse_chat(
    text: &str,
    region: Option<phonenumber::country::Id>,
) -> Result<ChatId, AppError> {
    ChatId::parse(text, region).map_err(|e| AppError::Invalid("invalid_phone", e.to_string()))
}

/// The default order: `local`, then the gateways (groups: the gateways only).
pub fn default_providers(subject: &Subject) -> Vec<Provider> {
    match subject {
        Subject::Email(_) => Provider::FOR_EMAIL.to_vec(),
        Subject::Chat(chat) if chat.is_group() => vec![Provider::Gowa, Provider::Greenapi],
        Subject::Chat(_) => vec![Provider::Local, Provider::Gowa, Provider::Greenapi],
    }
}

/// Refuses a provider that cannot look `subject` up, saying which can.
pub fn check_providers(subject: &Subject, providers: &[Provider]) -> Result<(), AppError> {
    let allowed = default_providers(subject);
    match providers.iter().find(|p| !allowed.contains(p)) {
        None => Ok(()),
        Some(wrong) => {
            let what = match subject {
                Subject::Email(_) => "an email address",
                Subject::Chat(chat) if chat.is_group() => "a group chat",
                Subject::Chat(_) => "a phone number",
            };
            let names: Vec<&str> = allowed.iter().map(|p| p.name()).collect();
            Err(AppError::Invalid(
                "invalid_providers",
                format!(
                    "{} does not look up {what}; use {}",
                    wrong.name(),
                    names.join(", ")
                ),
            ))
        }
    }
}

pub fn gateway_of(provider: Provider) -> GatewayKind {
    match provider {
        Provider::Greenapi => GatewayKind::GreenApi,
        _ => GatewayKind::Gowa,
    }
}

/// What `provider` says about `chat`.
pub async fn ask(state: &AppState, provider: Provider, chat: &ChatId) -> Outcome {
    let found = || Outcome::Found {
        image: format!("{}/avatar/{}", state.config.base_url, chat.digest()),
        name: None,
        source_url: state.config.base_url.clone(),
    };
    match provider {
        Provider::Local => match gateway_copies::photo_origin(&state.pool, &chat.address()).await {
            Ok(PhotoOrigin::Here) => found(),
            Ok(_) => Outcome::NotFound,
            Err(error) => {
                tracing::error!(%error, "local phone lookup failed");
                Outcome::Failed
            }
        },
        Provider::Gowa | Provider::Greenapi => {
            match state.gateways.ask(gateway_of(provider), chat).await {
                Verdict::Avatar => found(),
                Verdict::NoAvatar => Outcome::NotFound,
                Verdict::Disabled => Outcome::Unavailable("disabled"),
                Verdict::Busy => Outcome::Unavailable("busy"),
                Verdict::TimedOut => Outcome::TimedOut,
                Verdict::Failed => Outcome::Failed,
            }
        }
        Provider::Libravatar | Provider::Gravatar => Outcome::Unavailable("disabled"),
    }
}

#[cfg(test)]
mod tests {
    use super::super::lookup::{Named, parse_lookup};
    use super::*;

    fn phone(text: &str) -> Named<'_> {
        Named {
            phone: Some(text),
            ..Named::default()
        }
    }

    #[test]
    fn phones_default_to_local_then_the_gateways_and_groups_to_the_gateways() {
        let lookup = parse_lookup(phone("+1 555 123 4567"), None, None).unwrap();
        assert_eq!(
            lookup.subject,
            Subject::Chat(ChatId::Person("+15551234567".into()))
        );
        assert_eq!(
            lookup.providers,
            vec![Provider::Local, Provider::Gowa, Provider::Greenapi]
        );
        let group = parse_lookup(phone("11001234567-1581234048@g.us"), None, None).unwrap();
        assert_eq!(group.providers, vec![Provider::Gowa, Provider::Greenapi]);
    }

    #[test]
    fn providers_that_cannot_look_the_subject_up_are_refused() {
        let refused = [
            (phone("+15551234567"), &["gravatar"][..]),
            (phone("1@g.us"), &["local"][..]),
            (
                Named {
                    email: Some("a@example.org"),
                    ..Named::default()
                },
                &["gowa"][..],
            ),
        ];
        for (named, providers) in refused {
            let error = parse_lookup(named, Some(providers), None).unwrap_err();
            assert_eq!(error.code(), "invalid_providers", "{named:?}");
        }
        let both = Named {
            email: Some("a@example.org"),
            phone: Some("+15551234567"),
            region: None,
        };
        assert_eq!(
            parse_lookup(both, None, None).unwrap_err().code(),
            "invalid_parameter"
        );
        let national = parse_lookup(phone("555 123 4567"), None, None).unwrap_err();
        assert_eq!(national.code(), "invalid_phone");
    }
}
