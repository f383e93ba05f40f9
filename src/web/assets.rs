//! The stylesheet, the scripts and the favicon, compiled into the binary (one file to deploy) and
//! served with a content hash in their ETag and a day of caching.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use sha2::{Digest as _, Sha256};

struct Asset {
    name: &'static str,
    content_type: &'static str,
    body: &'static str,
}

const ASSETS: [Asset; 4] = [
    Asset {
        name: "style.css",
        content_type: "text/css; charset=utf-8",
        body: include_str!("../../static/style.css"),
    },
    Asset {
        name: "cropper.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_str!("../../static/cropper.js"),
    },
    Asset {
        name: "lookup.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_str!("../../static/lookup.js"),
    },
    Asset {
        name: "favicon.svg",
        content_type: "image/svg+xml",
        body: include_str!("../../static/favicon.svg"),
    },
];

pub async fn static_file(request: HttpRequest, name: web::Path<String>) -> HttpResponse {
    let Some(asset) = ASSETS.iter().find(|a| a.name == name.as_str()) else {
        return HttpResponse::NotFound()
            .content_type("text/plain; charset=utf-8")
            .body("not found\n");
    };
    let etag = format!(
        "\"{}\"",
        hex::encode(&Sha256::digest(asset.body.as_bytes())[..8])
    );
    let cached = request
        .headers()
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == etag));
    let mut builder = if cached {
        HttpResponse::NotModified()
    } else {
        HttpResponse::Ok()
    };
    builder
        .insert_header((header::ETAG, etag))
        .insert_header((header::CACHE_CONTROL, "public, max-age=86400"))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"));
    if cached {
        builder.finish()
    } else {
        builder.content_type(asset.content_type).body(asset.body)
    }
}
