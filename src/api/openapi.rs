//! `GET /api/openapi.json`: the OpenAPI 3.1 document of the lookup and profile API, generated
//! by utoipa from the handlers' `#[utoipa::path]` annotations and the response types, so it
//! cannot drift from the code.

use actix_web::HttpResponse;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use super::lookup::{
    EmailHash, ErrorBody, LookupAnswer, LookupBody, PhoneHash, Provider, Source, Tried,
};
use super::my_avatars::{Avatar, EmailHashBody};
use super::providers::{Pacing, ProviderInfo, ProviderList};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Cameo lookup, profile and avatar API",
        description = "Email address to avatar, name and source across this server, Libravatar \
                       federation and Gravatar; phone number to WhatsApp avatar through the \
                       configured gateways (GoWA, Green API), kept and served here; opted-in \
                       public profiles; an account's own photos (Gravatar's /v3/me/avatars, with \
                       a token that has the avatars:read or avatars:write scope). Errors are \
                       {\"error\", \"code\"} with real HTTP statuses; every response carries \
                       X-RateLimit-Limit, X-RateLimit-Remaining and X-RateLimit-Reset."
    ),
    paths(
        super::lookup::lookup_get,
        super::lookup::lookup_post,
        super::providers::list_providers,
        super::profiles::v3_profile,
        super::profiles::legacy_profile,
        super::profiles::xml_profile,
        super::profiles::php_profile,
        super::profiles::vcard_profile,
        super::profiles::qr_profile,
        super::my_avatars::list,
        super::my_avatars::upload,
        super::my_avatars::set_for_email,
        super::my_avatars::delete,
    ),
    components(schemas(
        LookupAnswer,
        LookupBody,
        EmailHash,
        PhoneHash,
        Source,
        Tried,
        Provider,
        ErrorBody,
        ProviderInfo,
        ProviderList,
        Pacing,
        Avatar,
        EmailHashBody
    )),
    modifiers(&BearerAuth),
    tags(
        (name = "lookup", description = "Find the avatar of an email address"),
        (name = "profiles", description = "Public profiles their owners opted in to"),
        (name = "avatars", description = "The token owner's own photos: list, upload, choose, delete")
    )
)]
pub struct ApiDoc;

/// Declares the `bearer` security scheme the paths refer to.
struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some(
                        "An API token from /account/tokens or `cameo token create`",
                    ))
                    .build(),
            ),
        );
    }
}

pub async fn openapi_json() -> HttpResponse {
    HttpResponse::Ok()
        .insert_header(("access-control-allow-origin", "*"))
        .insert_header(("cache-control", "public, max-age=300"))
        .json(ApiDoc::openapi())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_document_has_every_path_and_schema() {
        let json = serde_json::to_value(ApiDoc::openapi()).unwrap();
        assert!(json["openapi"].as_str().unwrap().starts_with("3."));
        let paths = json["paths"].as_object().unwrap();
        assert!(paths["/api/v1/lookup"]["get"].is_object());
        assert!(paths["/api/v1/lookup"]["post"].is_object());
        assert!(paths["/api/v1/providers"]["get"].is_object());
        for path in [
            "/api/v3/profiles/{hash}",
            "/{hash}.json",
            "/{hash}.vcf",
            "/{hash}.qr",
        ] {
            assert!(paths[path]["get"].is_object(), "{path}");
        }
        let schemas = json["components"]["schemas"].as_object().unwrap();
        for name in ["LookupAnswer", "ErrorBody", "ProviderList"] {
            assert!(schemas.contains_key(name), "{name}");
        }
        assert_eq!(
            json["components"]["securitySchemes"]["bearer"]["scheme"],
            "bearer"
        );
    }
}
