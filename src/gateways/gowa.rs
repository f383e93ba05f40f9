//! GoWA (go-whatsapp-web-multidevice), seed 003: `GET {base}/user/avatar?phone=JID`
//! (`&is_preview=true` for the small picture), Basic auth, `X-Device-Id` when configured.
//! Success is `{code, message, results: {url, id, type}}`; errors are
//! `{code, message, results: null}` with HTTP 400 or 500. The `id` tells when the picture
//! changed, so an unchanged picture is not fetched again.
//!
//! The seed documents no "no avatar" answer: a success whose `results` is null or whose
//! `url` is empty is read as no avatar; every error status is a failure.

use serde::Deserialize;

use super::GatewayAnswer;
use crate::config::GatewaySettings;

/// The request for `jid`'s avatar.
pub fn request(
    client: &reqwest::Client,
    settings: &GatewaySettings,
    jid: &str,
) -> reqwest::RequestBuilder {
    let mut query = vec![("phone", jid)];
    if settings.gowa_preview {
        query.push(("is_preview", "true"));
    }
    let query = form_urlencoded::Serializer::new(String::new())
        .extend_pairs(query)
        .finish();
    let mut request = client.get(format!("{}/user/avatar?{query}", settings.gowa_url));
    if !settings.gowa_username.is_empty() {
        request = request.basic_auth(
            &settings.gowa_username,
            Some(settings.gowa_password.expose()),
        );
    }
    if !settings.gowa_device_id.is_empty() {
        request = request.header("X-Device-Id", &settings.gowa_device_id);
    }
    request
}

#[derive(Deserialize)]
struct Envelope {
    code: Option<serde_json::Value>,
    results: Option<Results>,
}

#[derive(Deserialize)]
struct Results {
    #[serde(default)]
    url: String,
    #[serde(default)]
    id: Option<serde_json::Value>,
}

/// Reads GoWA's answer. Reasons are for the log: status and GoWA's code, never its message
/// (which could echo what was sent).
pub fn read_answer(status: u16, body: &[u8]) -> GatewayAnswer {
    let Ok(envelope) = serde_json::from_slice::<Envelope>(body) else {
        return GatewayAnswer::Failed(format!("GoWA answered HTTP {status} without its JSON"));
    };
    if status != 200 {
        let code = short_code(envelope.code.as_ref());
        return GatewayAnswer::Failed(format!("GoWA answered HTTP {status}, code {code}"));
    }
    match envelope.results {
        Some(results) if !results.url.is_empty() => GatewayAnswer::Avatar {
            url: results.url,
            id: results.id.as_ref().map(id_text).filter(|id| !id.is_empty()),
        },
        _ => GatewayAnswer::NoAvatar,
    }
}

/// GoWA's `id` is a string in the seed; a number is taken too. Bounded: it is stored.
fn id_text(value: &serde_json::Value) -> String {
    let text = match value {
        serde_json::Value::String(text) => text.clone(),
        serde_json::Value::Number(number) => number.to_string(),
        _ => String::new(),
    };
    text.chars()
        .filter(|c| c.is_ascii_graphic())
        .take(128)
        .collect()
}

fn short_code(code: Option<&serde_json::Value>) -> String {
    code.map(id_text)
        .filter(|c| !c.is_empty())
        .unwrap_or_else(|| "none".into())
        .chars()
        .take(40)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_seed_success_gives_the_url_and_the_id() {
        let body = br#"{"code":"SUCCESS","message":"Success","results":{"url":"https://pps.whatsapp.net/v/t61/x.jpg?oe=620AA726","id":"1635239861","type":"image"}}"#;
        assert_eq!(
            read_answer(200, body),
            GatewayAnswer::Avatar {
                url: "https://pps.whatsapp.net/v/t61/x.jpg?oe=620AA726".into(),
                id: Some("1635239861".into()),
            }
        );
    }

    #[test]
    fn the_seed_errors_are_failures_and_an_empty_result_is_no_avatar() {
        let bad_request = br#"{"code":"400","message":"Invalid file format","results":null}"#;
        assert!(
            matches!(read_answer(400, bad_request), GatewayAnswer::Failed(r) if r.contains("400"))
        );
        let internal = br#"{"code":"INTERNAL_SERVER_ERROR","message":"Failed to update avatar","results":null}"#;
        assert!(
            matches!(read_answer(500, internal), GatewayAnswer::Failed(r) if r.contains("INTERNAL_SERVER_ERROR"))
        );
        assert!(matches!(
            read_answer(200, b"<html>oops"),
            GatewayAnswer::Failed(_)
        ));
        assert!(matches!(
            read_answer(401, b"Unauthorized"),
            GatewayAnswer::Failed(_)
        ));
        let none = br#"{"code":"SUCCESS","message":"Success","results":null}"#;
        assert_eq!(read_answer(200, none), GatewayAnswer::NoAvatar);
        let empty = br#"{"code":"SUCCESS","message":"Success","results":{"url":"","id":"","type":"image"}}"#;
        assert_eq!(read_answer(200, empty), GatewayAnswer::NoAvatar);
    }
}
