//! What a lookup asks: the request's parameters (`GET` query or `POST` JSON) parsed and
//! checked into a [`LookupRequest`] — one email or phone number, the providers to try in
//! order, and whether a miss may answer with a generated default. Pure functions, tested
//! below.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::super::phone_lookup;
use crate::error::AppError;
use crate::identity::Identity;
use crate::phone::ChatId;

/// Longest query string or JSON body accepted.
pub const MAX_REQUEST_BYTES: usize = 4096;
/// Longest email address accepted.
const MAX_EMAIL_LEN: usize = 254;

/// A provider of avatars, in the order a lookup may try them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Provider {
    Local,
    Libravatar,
    Gravatar,
    Gowa,
    Greenapi,
}

impl Provider {
    pub const ALL: [Provider; 5] = [
        Provider::Local,
        Provider::Libravatar,
        Provider::Gravatar,
        Provider::Gowa,
        Provider::Greenapi,
    ];
    /// The default order of an email lookup.
    pub const FOR_EMAIL: [Provider; 3] =
        [Provider::Local, Provider::Libravatar, Provider::Gravatar];

    pub fn name(self) -> &'static str {
        match self {
            Provider::Local => "local",
            Provider::Libravatar => "libravatar",
            Provider::Gravatar => "gravatar",
            Provider::Gowa => "gowa",
            Provider::Greenapi => "greenapi",
        }
    }

    fn from_name(name: &str) -> Option<Provider> {
        Provider::ALL.into_iter().find(|p| p.name() == name)
    }
}

/// What is looked up.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Subject {
    /// Trimmed and lowercased.
    Email(String),
    /// A phone number (E.164) or a WhatsApp group.
    Chat(ChatId),
}

/// A validated lookup.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct LookupRequest {
    pub subject: Subject,
    pub providers: Vec<Provider>,
    pub allow_default: bool,
}

/// The JSON body of `POST /api/v1/lookup`: `email` or `phone`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LookupBody {
    /// The email address to look up.
    #[serde(default)]
    pub email: Option<String>,
    /// Or a phone number: `+15551234567`, a WhatsApp chat id (`15551234567@c.us`,
    /// `…@s.whatsapp.net`, a group's `…@g.us`), or a national number read in the server's
    /// `phone_default_region`. Default providers then: `local,gowa,greenapi`.
    #[serde(default)]
    pub phone: Option<String>,
    /// Providers in the order to try: `"local,gravatar"` or `["local", "gravatar"]`.
    /// Default: `local,libravatar,gravatar`.
    #[serde(default)]
    #[schema(value_type = Option<String>, example = "local,libravatar,gravatar")]
    pub providers: Option<ProviderList>,
    /// On a miss, answer with a generated default image (`is_default: true`) instead of 404.
    #[serde(default)]
    pub allow_default: Option<bool>,
}

/// Providers as a comma-separated string or as an array of names.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub enum ProviderList {
    Text(String),
    Names(Vec<String>),
}

/// What a lookup names, as given: an email or a phone (exactly one).
#[derive(Clone, Copy, Debug, Default)]
pub struct Named<'a> {
    pub email: Option<&'a str>,
    pub phone: Option<&'a str>,
    /// Where national phone numbers are read (`phone_default_region`).
    pub region: Option<phonenumber::country::Id>,
}

/// Validates an email or a phone, a provider list and the `allow_default` flag.
pub fn parse_lookup(
    named: Named<'_>,
    providers: Option<&[&str]>,
    allow_default: Option<bool>,
) -> Result<LookupRequest, AppError> {
    let subject = match (named.email, named.phone) {
        (Some(_), Some(_)) => {
            return Err(AppError::Invalid(
                "invalid_parameter",
                "give email or phone, not both".into(),
            ));
        }
        (None, Some(phone)) => Subject::Chat(phone_lookup::parse_chat(phone, named.region)?),
        (email, None) => Subject::Email(parse_email(email)?),
    };
    let providers = match providers {
        None => phone_lookup::default_providers(&subject),
        Some(names) => parse_providers(names)?,
    };
    phone_lookup::check_providers(&subject, &providers)?;
    Ok(LookupRequest {
        subject,
        providers,
        allow_default: allow_default.unwrap_or(false),
    })
}

fn parse_email(email: Option<&str>) -> Result<String, AppError> {
    let email = email.map(str::trim).unwrap_or_default();
    if email.is_empty() {
        return Err(AppError::Invalid(
            "invalid_email",
            "the email (or phone) parameter is required".into(),
        ));
    }
    match Identity::parse(email) {
        // RFC 5321's limit on a forward path.
        Ok(Identity::Email(email)) if email.len() <= MAX_EMAIL_LEN => Ok(email),
        _ => Err(AppError::Invalid(
            "invalid_email",
            "the email parameter is not a valid email address".into(),
        )),
    }
}

fn parse_providers(names: &[&str]) -> Result<Vec<Provider>, AppError> {
    let mut chosen = Vec::new();
    for name in names.iter().map(|n| n.trim().to_ascii_lowercase()) {
        let provider = Provider::from_name(&name).ok_or_else(|| {
            AppError::Invalid(
                "invalid_providers",
                "providers are local, libravatar, gravatar, gowa and greenapi, comma-separated"
                    .into(),
            )
        })?;
        if chosen.contains(&provider) {
            return Err(AppError::Invalid(
                "invalid_providers",
                format!("provider {name} is listed twice"),
            ));
        }
        chosen.push(provider);
    }
    if chosen.is_empty() {
        return Err(AppError::Invalid(
            "invalid_providers",
            "name at least one provider".into(),
        ));
    }
    Ok(chosen)
}

/// `true`/`false`, `1`/`0`, `yes`/`no`.
pub(super) fn parse_flag(text: &str) -> Result<bool, AppError> {
    match text.trim().to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" | "y" => Ok(true),
        "false" | "0" | "no" | "n" | "" => Ok(false),
        _ => Err(AppError::Invalid(
            "invalid_parameter",
            "allow_default is true or false".into(),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn email(text: &str) -> Named<'_> {
        Named {
            email: Some(text),
            ..Named::default()
        }
    }

    #[test]
    fn emails_are_normalised_and_bad_ones_refused_with_invalid_email() {
        let lookup = parse_lookup(email("  Alice@Example.ORG "), None, None).unwrap();
        assert_eq!(lookup.subject, Subject::Email("alice@example.org".into()));
        assert_eq!(lookup.providers, Provider::FOR_EMAIL.to_vec());
        assert!(!lookup.allow_default);
        for bad in [
            None,
            Some(""),
            Some("no-at-sign"),
            Some("https://example.org/openid"),
        ] {
            let named = Named {
                email: bad,
                ..Named::default()
            };
            let error = parse_lookup(named, None, None).unwrap_err();
            assert_eq!(error.code(), "invalid_email", "{bad:?}");
        }
        let long = format!("{}@example.org", "a".repeat(400));
        assert_eq!(
            parse_lookup(email(&long), None, None).unwrap_err().code(),
            "invalid_email"
        );
    }

    #[test]
    fn providers_keep_their_order_and_unknown_or_repeated_ones_are_refused() {
        let lookup = parse_lookup(
            email("a@example.org"),
            Some(&["gravatar", " Local "]),
            Some(true),
        )
        .unwrap();
        assert_eq!(lookup.providers, vec![Provider::Gravatar, Provider::Local]);
        assert!(lookup.allow_default);
        for bad in [&["facebook"][..], &["local", "local"], &[], &[""]] {
            assert_eq!(
                parse_lookup(email("a@example.org"), Some(bad), None)
                    .unwrap_err()
                    .code(),
                "invalid_providers",
                "{bad:?}"
            );
        }
    }

    #[test]
    fn flags_read_true_and_false_words() {
        assert!(parse_flag("TRUE").unwrap());
        assert!(parse_flag("1").unwrap());
        assert!(!parse_flag("false").unwrap());
        assert!(parse_flag("maybe").is_err());
    }

    #[test]
    fn json_bodies_take_a_string_or_an_array_of_providers() {
        let text: LookupBody =
            serde_json::from_str(r#"{"email":"a@example.org","providers":"local,gravatar"}"#)
                .unwrap();
        assert!(matches!(text.providers, Some(ProviderList::Text(_))));
        let names: LookupBody = serde_json::from_str(
            r#"{"email":"a@example.org","providers":["local"],"allow_default":true}"#,
        )
        .unwrap();
        assert!(matches!(names.providers, Some(ProviderList::Names(_))));
        assert!(serde_json::from_str::<LookupBody>(r#"{"email":"a@example.org","x":1}"#).is_err());
    }
}
