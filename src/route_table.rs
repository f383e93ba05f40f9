//! Every route in one list per area, from which both the router and the route table are
//! built ([`routes!`]), so a route cannot be registered without being listed (RFC 9110 §9):
//!
//! - each path is one resource that takes the listed methods; any other method gets `405`
//!   with an `Allow` header naming what the path takes (not a `404`, which actix gives when
//!   every method is a separately guarded resource);
//! - `HEAD` is answered wherever `GET` is: [`head_as_get`] routes a `HEAD` request as `GET`,
//!   and actix-http, which saw `HEAD` on the wire, sends the same status and headers
//!   (`Content-Length` included) without the body;
//! - unknown paths stay `404` (the app's default service).
//!
//! `tests/api/routes.rs` walks [`all_routes`] with `HEAD` and with a method each route does
//! not take.

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderValue};
use actix_web::http::{Method, StatusCode};
use actix_web::middleware::Next;
use actix_web::{HttpRequest, HttpResponse, ResponseError, web};

use crate::api::error::ApiError;
use crate::error::AppError;

/// One path and the methods it takes (`HEAD` is implied by `GET`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RouteSpec {
    /// The pattern as registered, relative to its scope.
    pub path: &'static str,
    pub methods: &'static [&'static str],
}

/// Registers a list of routes and records it: `routes!(pub fn configure, pub const ROUTES;
/// "/login" => { GET => login_form, POST => login }, "/x" wrap mw => { GET => x })`
/// expands to `configure(cfg)`, registering one resource per path (wrapped in `mw` where
/// given) with a 405 for other methods, and `ROUTES`, the same list as data.
#[macro_export]
macro_rules! routes {
    (
        $(#[$configure_doc:meta])* $vis:vis fn $configure:ident,
        $(#[$table_doc:meta])* $table_vis:vis const $table:ident;
        $( $path:literal $(wrap $wrap:expr)? => { $( $method:ident => $handler:expr ),+ $(,)? } ),* $(,)?
    ) => {
        $(#[$configure_doc])*
        $vis fn $configure(cfg: &mut ::actix_web::web::ServiceConfig) {
            $(
                let resource = $crate::route_table::resource($path, &[$(stringify!($method)),+])
                    $( .route(::actix_web::web::route()
                        .method(::actix_web::http::Method::$method)
                        .to($handler)) )+;
                $( let resource = resource.wrap($wrap); )?
                cfg.service(resource);
            )*
        }
        $(#[$table_doc])*
        $table_vis const $table: &[$crate::route_table::RouteSpec] = &[
            $( $crate::route_table::RouteSpec {
                path: $path,
                methods: &[$(stringify!($method)),+],
            } ),*
        ];
    };
}

/// A resource for `path` whose other methods get 405 with `Allow` listing `methods`.
pub fn resource(path: &str, methods: &[&str]) -> actix_web::Resource {
    let allow = allow_header(methods);
    web::resource(path).default_service(web::to(move |request: HttpRequest| {
        let allow = allow.clone();
        async move { method_not_allowed(&request, &allow) }
    }))
}

/// `GET, HEAD, POST`: the methods in order, `HEAD` after `GET`.
pub fn allow_header(methods: &[&str]) -> String {
    let mut allowed: Vec<&str> = Vec::new();
    for method in methods {
        allowed.push(method);
        if *method == "GET" {
            allowed.push("HEAD");
        }
    }
    allowed.join(", ")
}

/// 405 with `Allow`, in the shape of the app's other errors (the plain-text page with the
/// security headers, or the API's `{"error", "code"}` under `/api/`).
fn method_not_allowed(request: &HttpRequest, allow: &str) -> HttpResponse {
    let error = AppError::Invalid("method_not_allowed", format!("this URL takes {allow}"));
    let mut response = if request.path().starts_with("/api/") {
        ApiError(error).error_response()
    } else {
        error.error_response()
    };
    *response.status_mut() = StatusCode::METHOD_NOT_ALLOWED;
    if let Ok(value) = HeaderValue::from_str(allow) {
        response.headers_mut().insert(header::ALLOW, value);
    }
    response
}

/// Routes `HEAD` as `GET` (the middleware nearest the router): every `GET` route answers
/// `HEAD` too, and a path without `GET` answers 405 with its `Allow`.
pub async fn head_as_get(
    mut request: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    if request.method() == Method::HEAD {
        request.head_mut().method = Method::GET;
    }
    next.call(request).await
}

/// Every route of the server with its full path, in registration order.
pub fn all_routes() -> Vec<(String, &'static [&'static str])> {
    let scoped = |prefix: &str, table: &[RouteSpec]| -> Vec<(String, &'static [&'static str])> {
        table
            .iter()
            .map(|route| (format!("{prefix}{}", route.path), route.methods))
            .collect()
    };
    [
        scoped("", crate::AVATAR_ROUTES),
        scoped("", crate::web::ROUTES),
        scoped("/api/v3/me", crate::api::ME_ROUTES),
        scoped("/api", crate::api::SCOPED_ROUTES),
        scoped("", crate::api::ROOT_ROUTES),
        scoped("", crate::api::AVATARAPI_ROUTES),
        scoped("", crate::SITE_ROUTES),
    ]
    .concat()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn allow_lists_head_after_get() {
        assert_eq!(allow_header(&["GET"]), "GET, HEAD");
        assert_eq!(allow_header(&["GET", "POST"]), "GET, HEAD, POST");
        assert_eq!(allow_header(&["POST"]), "POST");
        assert_eq!(allow_header(&["GET", "OPTIONS"]), "GET, HEAD, OPTIONS");
    }

    #[test]
    fn every_path_is_listed_once_with_at_least_one_method() {
        let routes = all_routes();
        for (index, (path, methods)) in routes.iter().enumerate() {
            assert!(!methods.is_empty(), "{path}");
            assert!(
                routes[index + 1..].iter().all(|(other, _)| other != path),
                "{path} listed twice: its methods belong in one entry"
            );
        }
    }
}
