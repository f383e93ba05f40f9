//! The query string the provider sends the browser back with: `code` and `state`, or
//! `error` (with an optional `error_description`) when it signed nobody in. Every value is
//! bounded; a provider's words are shortened and shown as text, never as markup.

use crate::error::AppError;

/// Longest `code` or `state` taken (providers' codes are far shorter).
const MAX_VALUE_BYTES: usize = 2048;
/// How much of a provider's error description is shown.
const MAX_SHOWN_CHARS: usize = 200;

#[derive(Debug, Default, PartialEq, Eq)]
pub struct CallbackQuery {
    pub code: Option<String>,
    pub state: Option<String>,
    pub error: Option<String>,
    pub error_description: Option<String>,
}

impl CallbackQuery {
    pub fn parse(query: &str) -> Result<CallbackQuery, AppError> {
        if query.len() > 4 * MAX_VALUE_BYTES {
            return Err(AppError::BadRequest(
                "The sign-in answer is too long.".into(),
            ));
        }
        let mut parsed = CallbackQuery::default();
        for (key, value) in form_urlencoded::parse(query.as_bytes()) {
            let slot = match key.as_ref() {
                "code" => &mut parsed.code,
                "state" => &mut parsed.state,
                "error" => &mut parsed.error,
                "error_description" => &mut parsed.error_description,
                _ => continue,
            };
            if value.len() > MAX_VALUE_BYTES {
                return Err(AppError::BadRequest(format!(
                    "The sign-in answer's `{key}` is too long."
                )));
            }
            *slot = Some(value.into_owned());
        }
        Ok(parsed)
    }

    /// What to tell the person when the provider answered with `error=`.
    pub fn provider_refusal(&self) -> Option<String> {
        let error = self.error.as_deref()?;
        let said = |text: &str| -> String {
            text.chars()
                .filter(|c| !c.is_control())
                .take(MAX_SHOWN_CHARS)
                .collect()
        };
        let reason = match error {
            "access_denied" => "You (or the provider) declined the sign-in.".to_string(),
            "login_required" | "interaction_required" | "consent_required" => {
                "The provider needs you to log in or agree there first.".to_string()
            }
            other => format!("The provider answered “{}”.", said(other)),
        };
        Some(match self.error_description.as_deref() {
            Some(description) if !description.trim().is_empty() => {
                format!("{reason} It said: {}", said(description))
            }
            _ => reason,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_code_and_state_are_read() {
        let query = CallbackQuery::parse("code=abc&state=s%2F1&iss=x").unwrap();
        assert_eq!(query.code.as_deref(), Some("abc"));
        assert_eq!(query.state.as_deref(), Some("s/1"));
        assert_eq!(query.provider_refusal(), None);
    }

    #[test]
    fn a_provider_error_becomes_a_sentence_without_control_characters() {
        let query =
            CallbackQuery::parse("error=access_denied&error_description=End-User+aborted%0A")
                .unwrap();
        assert_eq!(
            query.provider_refusal().unwrap(),
            "You (or the provider) declined the sign-in. It said: End-User aborted"
        );
        let odd = CallbackQuery::parse(&format!("error={}", "x".repeat(500))).unwrap();
        assert!(odd.provider_refusal().unwrap().chars().count() < 240);
    }

    #[test]
    fn oversized_values_are_refused() {
        assert!(CallbackQuery::parse(&format!("code={}", "a".repeat(3000))).is_err());
        assert!(CallbackQuery::parse(&"a".repeat(9000)).is_err());
    }
}
