//! `GET /api/v1/providers`: every lookup provider with what it returns, whether asking it
//! leaves this server, and its cost in outbound requests, so callers can tune speed, privacy
//! and coverage (the seed's "Get All Providers").

use actix_web::{HttpResponse, web};
use serde::Serialize;
use utoipa::ToSchema;

use super::lookup::Provider;
use crate::config::GravatarMode;
use crate::state::AppState;

#[derive(Debug, Serialize, ToSchema)]
pub struct ProviderInfo {
    pub name: Provider,
    /// What the provider covers.
    pub description: &'static str,
    /// Fields a match from this provider fills in.
    pub expected_fields: Vec<&'static str>,
    /// Whether asking this provider sends the address's hash to another server.
    pub leaves_server: bool,
    /// Outbound HTTP requests a lookup costs here: (fewest, most). DNS queries not counted.
    pub outbound_requests: (u8, u8),
    /// Whether this server has the provider switched on.
    pub enabled: bool,
    /// Position in the default order.
    pub default_rank: u8,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ProviderList {
    pub default_order: Vec<Provider>,
    pub providers: Vec<ProviderInfo>,
}

/// The providers as this server runs them.
pub fn describe(gravatar_mode: GravatarMode, libravatar_fallback: &str) -> ProviderList {
    let common = vec!["email_hash", "image", "is_default", "source"];
    let with_name = || {
        let mut fields = common.clone();
        fields.push("name");
        fields
    };
    ProviderList {
        default_order: Provider::ALL.to_vec(),
        providers: vec![
            ProviderInfo {
                name: Provider::Local,
                description: "Confirmed addresses on this server; the name when the owner's \
                              profile is public.",
                expected_fields: with_name(),
                leaves_server: false,
                outbound_requests: (0, 0),
                enabled: true,
                default_rank: 1,
            },
            ProviderInfo {
                name: Provider::Libravatar,
                description: if libravatar_fallback.is_empty() {
                    "The avatar server the email's domain publishes in DNS \
                     (_avatars-sec._tcp SRV), asked with d=404."
                } else {
                    "The avatar server the email's domain publishes in DNS \
                     (_avatars-sec._tcp SRV), or the central Libravatar server when it \
                     publishes none, asked with d=404."
                },
                expected_fields: common.clone(),
                leaves_server: true,
                outbound_requests: (0, 1),
                enabled: true,
                default_rank: 2,
            },
            ProviderInfo {
                name: Provider::Gravatar,
                description: "The configured Gravatar upstream, asked with d=404, and its public \
                              profile for the name.",
                expected_fields: with_name(),
                leaves_server: true,
                outbound_requests: (1, 2),
                enabled: gravatar_mode != GravatarMode::Off,
                default_rank: 3,
            },
        ],
    }
}

#[utoipa::path(
    get,
    path = "/api/v1/providers",
    tag = "lookup",
    responses((status = 200, description = "Every provider", body = ProviderList)),
    security((), ("bearer" = []))
)]
pub async fn list_providers(state: web::Data<AppState>) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header(("cache-control", "no-store"))
        .json(describe(
            state.config.gravatar_mode,
            &state.config.libravatar_fallback,
        ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_provider_is_described_in_the_default_order() {
        let list = describe(GravatarMode::Proxy, "https://seccdn.libravatar.org");
        let names: Vec<Provider> = list.providers.iter().map(|p| p.name).collect();
        assert_eq!(names, list.default_order);
        assert!(!list.providers[0].leaves_server);
        assert!(list.providers[2].expected_fields.contains(&"name"));
        assert!(list.providers.iter().all(|p| p.enabled));
    }

    #[test]
    fn gravatar_off_is_shown_as_disabled() {
        let list = describe(GravatarMode::Off, "");
        assert!(!list.providers[2].enabled);
        assert!(!list.providers[1].description.contains("central"));
    }
}
