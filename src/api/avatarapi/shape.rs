//! AvatarAPI's request and answer shapes (seed 000), and the pure decisions between them:
//! reading the body leniently as AvatarAPI does, mapping its provider names onto Cameo's, and
//! writing an answer or a failure exactly in its shape. Tested below.

use serde::{Deserialize, Serialize};

use crate::api::lookup::{LookupAnswer, Provider, Tried};
use crate::error::AppError;

/// Most provider names one request may list.
const MAX_PROVIDER_NAMES: usize = 32;
/// Longest provider name looked at.
const MAX_PROVIDER_NAME_CHARS: usize = 40;

/// The JSON body of every AvatarAPI call (sent as `text/plain` or `application/json`). Fields
/// Cameo has no use for (`overrideAccount`, `overridePassword`) are accepted and ignored, as an
/// AvatarAPI client may send them.
#[derive(Debug, Default, Deserialize)]
pub struct AvatarApiBody {
    #[serde(default)]
    pub username: Option<String>,
    #[serde(default)]
    pub password: Option<String>,
    #[serde(default)]
    pub email: Option<String>,
    /// `"Gravatar,Microsoft"`: the providers to try, in order.
    #[serde(default)]
    pub provider: Option<String>,
    #[serde(default, rename = "AllowDefaultProfilePictures")]
    pub allow_default: Option<Flag>,
}

/// A flag given as JSON `true` or as text (`"TRUE"`, as AvatarAPI's documents write it).
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub enum Flag {
    Bool(bool),
    Text(String),
}

impl Flag {
    pub fn value(&self) -> Result<bool, AppError> {
        match self {
            Flag::Bool(value) => Ok(*value),
            Flag::Text(text) => match text.trim().to_ascii_lowercase().as_str() {
                "true" | "1" | "yes" => Ok(true),
                "false" | "0" | "no" | "" => Ok(false),
                _ => Err(AppError::Invalid(
                    "invalid_parameter",
                    "AllowDefaultProfilePictures must be true or false".into(),
                )),
            },
        }
    }
}

/// Which of the named providers Cameo asks, and the names it does not have.
#[derive(Debug, PartialEq, Eq)]
pub struct ProviderChoice {
    pub providers: Vec<Provider>,
    pub skipped: Vec<String>,
}

/// Maps AvatarAPI's provider list onto Cameo's providers, in order and without repeats.
/// `Cache` (AvatarAPI's own store of answers) is this server's own addresses, like `Local`;
/// names Cameo does not have (`Microsoft`, `Google`, …) are skipped and reported. No list
/// means Cameo's default order.
pub fn choose_providers(list: Option<&str>) -> Result<ProviderChoice, AppError> {
    let Some(list) = list.filter(|l| !l.trim().is_empty()) else {
        return Ok(ProviderChoice {
            providers: Provider::FOR_EMAIL.to_vec(),
            skipped: Vec::new(),
        });
    };
    let names: Vec<&str> = list
        .split(',')
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .collect();
    if names.len() > MAX_PROVIDER_NAMES {
        return Err(AppError::Invalid(
            "invalid_parameter",
            format!("name at most {MAX_PROVIDER_NAMES} providers"),
        ));
    }
    let mut choice = ProviderChoice {
        providers: Vec::new(),
        skipped: Vec::new(),
    };
    for name in names {
        let provider = match name.to_ascii_lowercase().as_str() {
            "cache" | "local" | "cameo" => Some(Provider::Local),
            "libravatar" => Some(Provider::Libravatar),
            "gravatar" => Some(Provider::Gravatar),
            _ => None,
        };
        match provider {
            Some(p) if !choice.providers.contains(&p) => choice.providers.push(p),
            Some(_) => {}
            None => choice
                .skipped
                .push(name.chars().take(MAX_PROVIDER_NAME_CHARS).collect()),
        }
    }
    if choice.providers.is_empty() {
        return Err(AppError::Invalid(
            "invalid_parameter",
            format!(
                "none of the providers asked for is on this server (skipped: {}); it has \
                 Local (also called Cache), Libravatar and Gravatar",
                choice.skipped.join(", ")
            ),
        ));
    }
    Ok(choice)
}

/// The name a provider goes by in AvatarAPI answers and in the providers call.
pub fn display_name(provider: &str) -> &'static str {
    match provider {
        "local" => "Local",
        "libravatar" => "Libravatar",
        "gravatar" => "Gravatar",
        "gowa" => "GoWA",
        "greenapi" => "GreenAPI",
        _ => "Default",
    }
}

/// An answer, in AvatarAPI's field names.
#[derive(Debug, Serialize, PartialEq, Eq)]
#[serde(rename_all = "PascalCase")]
pub struct Found {
    pub name: String,
    pub image: String,
    pub valid: bool,
    pub city: String,
    pub country: String,
    pub is_default: bool,
    pub success: bool,
    pub raw_data: String,
    pub source: SourceName,
}

#[derive(Debug, Serialize, PartialEq, Eq)]
#[serde(rename_all = "PascalCase")]
pub struct SourceName {
    pub name: String,
}

/// A failure, in AvatarAPI's shape (`success: false` and the last error), with what was
/// tried and skipped in `RawData` when there is anything to say.
#[derive(Debug, Serialize, PartialEq, Eq)]
pub struct Failed {
    pub success: bool,
    pub error: String,
    #[serde(rename = "RawData", skip_serializing_if = "Option::is_none")]
    pub raw_data: Option<String>,
}

impl Failed {
    pub fn new(error: String, raw_data: Option<String>) -> Failed {
        Failed {
            success: false,
            error,
            raw_data,
        }
    }
}

/// `answer` as AvatarAPI writes it. `RawData` holds Cameo's own answer (hashes, the serving
/// URL, what was tried) plus the skipped provider names, as a JSON string.
pub fn found(answer: &LookupAnswer, skipped: &[String]) -> Found {
    let mut raw = serde_json::to_value(answer).unwrap_or_default();
    raw["skipped"] = serde_json::json!(skipped);
    Found {
        name: answer.name.clone().unwrap_or_default(),
        image: answer.image.clone(),
        valid: true,
        city: String::new(),
        country: String::new(),
        is_default: answer.is_default,
        success: true,
        raw_data: raw.to_string(),
        source: SourceName {
            name: display_name(&answer.source.name).to_string(),
        },
    }
}

/// `RawData` of a failed lookup: what was tried and skipped.
pub fn failure_raw_data(tried: &[Tried], skipped: &[String]) -> String {
    serde_json::json!({ "tried": tried, "skipped": skipped }).to_string()
}

/// The text of a miss, as AvatarAPI words it.
pub const NOT_FOUND: &str = "Not found";

/// One entry of the providers call.
#[derive(Debug, Serialize, PartialEq, Eq)]
#[serde(rename_all = "PascalCase")]
pub struct ProviderEntry {
    pub name: &'static str,
    /// Credits a request that reaches this provider costs: always 1 here, since Cameo counts
    /// one request against the hourly budget whichever providers it asks.
    pub cost: u32,
    pub expected_profile_fields: Vec<&'static str>,
}

/// The entry for one of Cameo's email providers.
pub fn provider_entry(provider: Provider) -> ProviderEntry {
    let fields = match provider {
        Provider::Local | Provider::Gravatar => vec!["Image", "Name"],
        _ => vec!["Image"],
    };
    ProviderEntry {
        name: display_name(provider.name()),
        cost: 1,
        expected_profile_fields: fields,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::lookup::{EmailHash, Source};

    #[test]
    fn the_seed_bodies_are_read() {
        let body: AvatarApiBody = serde_json::from_str(
            r#"{"username":"YOUR_USERNAME","password":"YOUR_PASSWORD","email":"","provider":"Gravatar,Microsoft"}"#,
        )
        .unwrap();
        assert_eq!(body.username.as_deref(), Some("YOUR_USERNAME"));
        assert_eq!(body.provider.as_deref(), Some("Gravatar,Microsoft"));
        let extra: AvatarApiBody = serde_json::from_str(
            r#"{"username":"u","password":"p","email":"a@b.c","AllowDefaultProfilePictures":"TRUE","overrideAccount":"x","overridePassword":"y"}"#,
        )
        .unwrap();
        assert!(extra.allow_default.unwrap().value().unwrap());
        let flag: AvatarApiBody =
            serde_json::from_str(r#"{"AllowDefaultProfilePictures":false}"#).unwrap();
        assert!(!flag.allow_default.unwrap().value().unwrap());
        assert!(Flag::Text("maybe".into()).value().is_err());
    }

    #[test]
    fn providers_map_in_order_skip_unknown_names_and_need_one_known() {
        let choice = choose_providers(Some("Gravatar, Microsoft,cache,gravatar,Google")).unwrap();
        assert_eq!(choice.providers, vec![Provider::Gravatar, Provider::Local]);
        assert_eq!(choice.skipped, vec!["Microsoft", "Google"]);
        let default = choose_providers(None).unwrap();
        assert_eq!(default.providers, Provider::FOR_EMAIL.to_vec());
        assert_eq!(choose_providers(Some(" ")).unwrap(), default);
        let none = choose_providers(Some("Microsoft,Skype"))
            .unwrap_err()
            .to_string();
        assert!(none.contains("Microsoft, Skype"), "{none}");
        let many = vec!["Adobe"; 33].join(",");
        assert!(choose_providers(Some(&many)).is_err());
    }

    fn answer(name: Option<&str>, source: &str, is_default: bool) -> LookupAnswer {
        LookupAnswer {
            success: true,
            email_hash: Some(EmailHash {
                md5: "m".into(),
                sha256: "s".into(),
            }),
            phone_hash: None,
            image: "https://avatars.example/avatar/s".into(),
            name: name.map(str::to_string),
            is_default,
            source: Source {
                name: source.into(),
                url: "https://avatars.example".into(),
            },
            tried: Vec::new(),
        }
    }

    #[test]
    fn an_answer_has_the_seed_shape_with_cameos_answer_in_raw_data() {
        let written = serde_json::to_value(found(
            &answer(Some("Ada"), "gravatar", false),
            &["Microsoft".into()],
        ))
        .unwrap();
        let keys: Vec<&str> = written
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        let mut expected = vec![
            "Name",
            "Image",
            "Valid",
            "City",
            "Country",
            "IsDefault",
            "Success",
            "RawData",
            "Source",
        ];
        expected.sort();
        let mut keys = keys;
        keys.sort();
        assert_eq!(keys, expected);
        assert_eq!(written["Name"], "Ada");
        assert_eq!(written["Source"]["Name"], "Gravatar");
        assert_eq!(written["Success"], true);
        let raw: serde_json::Value =
            serde_json::from_str(written["RawData"].as_str().unwrap()).unwrap();
        assert_eq!(raw["skipped"][0], "Microsoft");
        assert_eq!(raw["email_hash"]["sha256"], "s");
        let drawn = found(&answer(None, "default", true), &[]);
        assert_eq!((drawn.name.as_str(), drawn.is_default), ("", true));
        assert_eq!(drawn.source.name, "Default");
    }

    #[test]
    fn a_failure_has_the_seed_shape() {
        let written = serde_json::to_value(Failed::new(NOT_FOUND.into(), None)).unwrap();
        assert_eq!(
            written,
            serde_json::json!({"success": false, "error": "Not found"})
        );
        let with_raw = Failed::new("x".into(), Some(failure_raw_data(&[], &["Adobe".into()])));
        let written = serde_json::to_value(with_raw).unwrap();
        assert!(written["RawData"].as_str().unwrap().contains("Adobe"));
    }

    #[test]
    fn provider_entries_name_what_they_return() {
        let entry = serde_json::to_value(provider_entry(Provider::Gravatar)).unwrap();
        assert_eq!(
            entry,
            serde_json::json!({"Name": "Gravatar", "Cost": 1, "ExpectedProfileFields": ["Image", "Name"]})
        );
    }
}
