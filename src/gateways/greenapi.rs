//! Green API, seed 004: `POST {base}/waInstance{id}/getAvatar/{token}` with
//! `{"chatId": "…@c.us"}` (or a group's `…@g.us`). The answer is `{urlAvatar, reason?}`:
//! an empty `urlAvatar` means the chat has no avatar; `reason` reports a check that did not
//! succeed, with HTTP 200 ("bad request data", "get avatar timeout limit exceeded"). Green
//! API gives no picture id, so a change is told by the bytes' digest.
//!
//! The token is part of the URL: it is only ever written into the request, never into a
//! log line or an error (errors of [`crate::outbound::send_capped`] carry no URL).

use serde::Deserialize;

use super::GatewayAnswer;
use crate::config::GatewaySettings;

/// The request for `chat_id`'s avatar.
pub fn request(
    client: &reqwest::Client,
    settings: &GatewaySettings,
    chat_id: &str,
) -> reqwest::RequestBuilder {
    let url = format!(
        "{}/waInstance{}/getAvatar/{}",
        settings.greenapi_url,
        settings.greenapi_instance_id,
        settings.greenapi_token.expose()
    );
    client
        .post(url)
        .json(&serde_json::json!({ "chatId": chat_id }))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Answer {
    #[serde(default)]
    url_avatar: String,
    #[serde(default)]
    reason: Option<String>,
}

/// The one `reason` that means "ask again later" rather than "this request is wrong".
const TIMEOUT_REASON: &str = "get avatar timeout limit exceeded";

pub fn read_answer(status: u16, body: &[u8]) -> GatewayAnswer {
    if status != 200 {
        return GatewayAnswer::Failed(format!("Green API answered HTTP {status}"));
    }
    let Ok(answer) = serde_json::from_slice::<Answer>(body) else {
        return GatewayAnswer::Failed("Green API answered without its JSON".into());
    };
    match answer.reason.as_deref().map(str::trim) {
        Some(TIMEOUT_REASON) => return GatewayAnswer::TimedOut,
        Some(reason) if !reason.is_empty() => {
            let reason: String = reason
                .chars()
                .filter(|c| !c.is_control())
                .take(60)
                .collect();
            return GatewayAnswer::Failed(format!("Green API: {reason}"));
        }
        _ => {}
    }
    if answer.url_avatar.is_empty() {
        GatewayAnswer::NoAvatar
    } else {
        GatewayAnswer::Avatar {
            url: answer.url_avatar,
            id: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_seed_answer_gives_the_url_and_an_empty_one_no_avatar() {
        let body = br#"{"urlAvatar":"https://pps.whatsapp.net/v/link/to/the/image"}"#;
        assert_eq!(
            read_answer(200, body),
            GatewayAnswer::Avatar {
                url: "https://pps.whatsapp.net/v/link/to/the/image".into(),
                id: None
            }
        );
        assert_eq!(
            read_answer(200, br#"{"urlAvatar":""}"#),
            GatewayAnswer::NoAvatar
        );
    }

    #[test]
    fn the_seed_reasons_are_a_failure_and_a_timeout() {
        let bad = br#"{"urlAvatar":"","reason":"bad request data"}"#;
        assert_eq!(
            read_answer(200, bad),
            GatewayAnswer::Failed("Green API: bad request data".into())
        );
        let slow = br#"{"urlAvatar":"","reason":"get avatar timeout limit exceeded"}"#;
        assert_eq!(read_answer(200, slow), GatewayAnswer::TimedOut);
        assert!(matches!(
            read_answer(200, b"{not json"),
            GatewayAnswer::Failed(_)
        ));
        assert!(matches!(read_answer(401, b""), GatewayAnswer::Failed(r) if r.contains("401")));
    }
}
