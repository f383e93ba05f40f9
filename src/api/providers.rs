//! `GET /api/v1/providers`: every lookup provider with what it returns, whether asking it
//! leaves this server, and its cost in outbound requests, so callers can tune speed, privacy
//! and coverage (the seed's "Get All Providers"). Email providers and the phone providers
//! (WhatsApp gateways, with how long their answers are remembered and how fast they are
//! asked) each have their own default order.

use actix_web::{HttpResponse, web};
use serde::Serialize;
use utoipa::ToSchema;

use super::lookup::Provider;
use crate::config::GravatarMode;
use crate::gateways::GatewayKind;
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
    /// Position in the default order (of email lookups, or of phone lookups for
    /// `looks_up: ["phone"]`).
    pub default_rank: u8,
    /// What it looks up: `email`, `phone` (numbers and WhatsApp chat ids), `group`
    /// (WhatsApp group chat ids).
    pub looks_up: Vec<&'static str>,
    /// For the WhatsApp gateways: how they are asked.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pacing: Option<Pacing>,
}

/// How a gateway is asked and how long its answers hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
pub struct Pacing {
    /// Seconds a found avatar is remembered before the gateway is asked again.
    pub found_ttl_s: u64,
    /// Seconds "no avatar" is remembered.
    pub not_found_ttl_s: u64,
    /// Calls in flight at once.
    pub concurrency: usize,
    /// Milliseconds between the starts of two calls.
    pub min_interval_ms: u64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ProviderList {
    pub default_order: Vec<Provider>,
    /// The default order of `phone=` lookups.
    pub phone_default_order: Vec<Provider>,
    pub providers: Vec<ProviderInfo>,
}

/// What the server has switched on, as far as describing providers goes.
#[derive(Debug, Clone, Copy)]
pub struct Switches<'a> {
    pub gravatar_mode: GravatarMode,
    pub libravatar_fallback: &'a str,
    pub gowa: bool,
    pub greenapi: bool,
    pub pacing: Pacing,
}

/// The providers as this server runs them.
pub fn describe(switches: Switches<'_>) -> ProviderList {
    let Switches {
        gravatar_mode,
        libravatar_fallback,
        ..
    } = switches;
    let common = vec!["email_hash", "image", "is_default", "source"];
    let with_name = || {
        let mut fields = common.clone();
        fields.push("name");
        fields
    };
    let phone_fields = vec!["phone_hash", "image", "is_default", "source"];
    let gateway = |name, description, enabled, rank| ProviderInfo {
        name,
        description,
        expected_fields: phone_fields.clone(),
        leaves_server: true,
        // The API call, then the picture (none when remembered or unchanged).
        outbound_requests: (0, 2),
        enabled,
        default_rank: rank,
        looks_up: vec!["phone", "group"],
        pacing: Some(switches.pacing),
    };
    ProviderList {
        default_order: Provider::FOR_EMAIL.to_vec(),
        phone_default_order: vec![Provider::Local, Provider::Gowa, Provider::Greenapi],
        providers: vec![
            ProviderInfo {
                name: Provider::Local,
                description: "Confirmed addresses and phone numbers on this server; the name \
                              when the owner's profile is public.",
                expected_fields: with_name(),
                leaves_server: false,
                outbound_requests: (0, 0),
                enabled: true,
                default_rank: 1,
                looks_up: vec!["email", "phone"],
                pacing: None,
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
                looks_up: vec!["email"],
                pacing: None,
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
                looks_up: vec!["email"],
                pacing: None,
            },
            gateway(
                Provider::Gowa,
                "WhatsApp through the configured GoWA gateway (GET /user/avatar); the picture \
                 is kept here and served from this server's /avatar/HASH, since WhatsApp's \
                 URLs expire.",
                switches.gowa,
                2,
            ),
            gateway(
                Provider::Greenapi,
                "WhatsApp through the configured Green API instance (getAvatar); the picture \
                 is kept here and served from this server's /avatar/HASH, since WhatsApp's \
                 URLs expire.",
                switches.greenapi,
                3,
            ),
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
    let gateways = &state.config.gateways;
    let switches = Switches {
        gravatar_mode: state.config.gravatar_mode,
        libravatar_fallback: &state.config.libravatar_fallback,
        gowa: state.gateways.is_enabled(GatewayKind::Gowa),
        greenapi: state.gateways.is_enabled(GatewayKind::GreenApi),
        pacing: Pacing {
            found_ttl_s: gateways.positive_ttl.as_secs(),
            not_found_ttl_s: gateways.negative_ttl.as_secs(),
            concurrency: gateways.concurrency,
            min_interval_ms: gateways.min_interval.as_millis() as u64,
        },
    };
    HttpResponse::Ok()
        .insert_header(("cache-control", "no-store"))
        .json(describe(switches))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn switches(gravatar_mode: GravatarMode, fallback: &str, gateways: bool) -> Switches<'_> {
        Switches {
            gravatar_mode,
            libravatar_fallback: fallback,
            gowa: gateways,
            greenapi: gateways,
            pacing: Pacing {
                found_ttl_s: 21600,
                not_found_ttl_s: 900,
                concurrency: 2,
                min_interval_ms: 1000,
            },
        }
    }

    #[test]
    fn every_provider_is_described_in_the_default_orders() {
        let list = describe(switches(
            GravatarMode::Proxy,
            "https://seccdn.libravatar.org",
            true,
        ));
        let names: Vec<Provider> = list.providers.iter().map(|p| p.name).collect();
        assert_eq!(names, Provider::ALL.to_vec());
        assert_eq!(names[..3], list.default_order[..]);
        assert!(!list.providers[0].leaves_server);
        assert!(list.providers[2].expected_fields.contains(&"name"));
        assert!(list.providers.iter().all(|p| p.enabled));
        for gateway in &list.providers[3..] {
            assert_eq!(gateway.looks_up, vec!["phone", "group"]);
            assert_eq!(gateway.pacing.unwrap().min_interval_ms, 1000);
            assert!(gateway.expected_fields.contains(&"phone_hash"));
        }
    }

    #[test]
    fn gravatar_off_and_unconfigured_gateways_are_shown_as_disabled() {
        let list = describe(switches(GravatarMode::Off, "", false));
        assert!(!list.providers[2].enabled);
        assert!(!list.providers[1].description.contains("central"));
        assert!(!list.providers[3].enabled && !list.providers[4].enabled);
    }
}
