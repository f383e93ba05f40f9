//! Misses: each `d=` value, the configured default, trusted redirects.

use cameo::config::DefaultStyle;

use crate::helpers::*;

fn miss_hash(n: u32) -> String {
    md5_of(&format!("nobody{n}@example.org"))
}

#[tokio::test]
async fn d_404_answers_404_without_an_image() {
    let app = spawn_app().await;
    let response = app.get(&format!("/avatar/{}?d=404", miss_hash(1))).await;
    assert_eq!(response.status(), 404);
    assert!(header(&response, "content-type").starts_with("text/plain"));
    assert_eq!(header(&response, "access-control-allow-origin"), "*");
}

#[tokio::test]
async fn mp_is_a_silhouette_at_the_requested_size_and_mm_is_the_same() {
    let app = spawn_app().await;
    let mp = app
        .get(&format!("/avatar/{}?d=mp&s=100", miss_hash(1)))
        .await;
    assert_eq!(mp.status(), 200, "served directly, no redirect");
    let mp = decode(mp).await;
    assert_eq!(mp.dimensions(), (100, 100));
    assert!(mp.pixels().all(|p| p.0[3] == 255), "opaque");
    let corner = mp.get_pixel(1, 1);
    assert!(
        mp.pixels()
            .filter(|p| p.0[..3]
                .iter()
                .zip(corner.0)
                .any(|(a, b)| a.abs_diff(b) > 30))
            .count()
            > 1000,
        "a figure stands out from the background"
    );
    let mm = decode(
        app.get(&format!("/avatar/{}?d=mm&s=100", miss_hash(2)))
            .await,
    )
    .await;
    assert_eq!(mp.as_raw(), mm.as_raw(), "mm is mp, whatever the hash");
}

#[tokio::test]
async fn blank_is_fully_transparent_png() {
    let app = spawn_app().await;
    for extension in ["", ".jpg"] {
        let response = app
            .get(&format!("/avatar/{}{extension}?d=blank&s=40", miss_hash(3)))
            .await;
        assert_eq!(header(&response, "content-type"), "image/png");
        let image = decode(response).await;
        assert_eq!(image.dimensions(), (40, 40));
        assert!(image.pixels().all(|p| p.0[3] == 0));
    }
}

#[tokio::test]
async fn identicon_and_retro_are_deterministic_and_differ_between_hashes() {
    let app = spawn_app().await;
    for style in ["identicon", "retro", "color"] {
        let first = decode(
            app.get(&format!("/avatar/{}?d={style}&s=64", miss_hash(4)))
                .await,
        )
        .await;
        let again = decode(
            app.get(&format!("/avatar/{}?d={style}&s=64", miss_hash(4)))
                .await,
        )
        .await;
        let other = decode(
            app.get(&format!("/avatar/{}?d={style}&s=64", miss_hash(5)))
                .await,
        )
        .await;
        assert_eq!(first.dimensions(), (64, 64), "{style}");
        assert_eq!(first.as_raw(), again.as_raw(), "{style} is deterministic");
        let differing = first
            .pixels()
            .zip(other.pixels())
            .filter(|(a, b)| a != b)
            .count();
        assert!(
            differing > 64,
            "{style}: different hashes differ ({differing} pixels)"
        );
    }
}

#[tokio::test]
async fn unknown_values_get_the_server_default() {
    let app =
        spawn_app_with(|c| c.default_style = DefaultStyle::Style(cameo::defaults::Style::Retro))
            .await;
    let expected = decode(
        app.get(&format!("/avatar/{}?d=retro&s=48", miss_hash(6)))
            .await,
    )
    .await;
    for value in ["nonsense", "", "Wavatar", "robohash2"] {
        let got = decode(
            app.get(&format!("/avatar/{}?d={value}&s=48", miss_hash(6)))
                .await,
        )
        .await;
        assert_eq!(got.as_raw(), expected.as_raw(), "d={value}");
    }
}

/// Every drawn style, served over HTTP: exact size, opaque, its own look, stable bytes.
#[tokio::test]
async fn every_style_is_served_at_exactly_the_size_asked_and_differs_from_the_others() {
    let app = spawn_app().await;
    let queries = [
        "d=mp",
        "d=identicon",
        "d=monsterid",
        "d=wavatar",
        "d=retro",
        "d=robohash",
        "d=robohash&robohash=set2",
        "d=robohash&robohash=set3",
        "d=pagan",
        "d=initials&name=Ada%20Lovelace",
        "d=color",
    ];
    let mut seen: Vec<(String, image::RgbaImage)> = Vec::new();
    for query in queries {
        for size in [16, 80, 512] {
            let url = format!("/avatar/{}?s={size}&{query}", miss_hash(9));
            let response = app.get(&url).await;
            assert_eq!(response.status(), 200, "{url}");
            assert_eq!(header(&response, "content-type"), "image/png", "{url}");
            let image = decode(response).await;
            assert_eq!(image.dimensions(), (size, size), "{url}");
            assert!(image.pixels().all(|p| p[3] == 255), "{url} is opaque");
            if size == 80 {
                let again = decode(app.get(&url).await).await;
                assert_eq!(again.as_raw(), image.as_raw(), "{url} is stable");
                for (other, picture) in &seen {
                    assert_ne!(
                        picture.as_raw(),
                        image.as_raw(),
                        "{query} looks like {other}"
                    );
                }
                seen.push((query.to_string(), image));
            }
        }
    }
}

#[tokio::test]
async fn robohash_sets_and_initials_options_change_the_picture_and_its_etag() {
    let app = spawn_app().await;
    let hash = miss_hash(10);
    let fetch = |query: &'static str| {
        let url = format!("/avatar/{hash}?s=64&{query}");
        let app = &app;
        async move {
            let response = app.get(&url).await;
            let etag = header(&response, "etag");
            (etag, decode(response).await)
        }
    };
    let (set1_tag, set1) = fetch("d=robohash").await;
    let (bogus_tag, bogus) = fetch("d=robohash&robohash=set7").await;
    let (set2_tag, set2) = fetch("d=robohash&robohash=set2").await;
    assert_eq!(set1.as_raw(), bogus.as_raw(), "an unknown set is set 1");
    assert_eq!(set1_tag, bogus_tag);
    assert_ne!(set1.as_raw(), set2.as_raw());
    assert_ne!(set1_tag, set2_tag);

    let (_, by_name) = fetch("d=initials&name=Grace%20Hopper").await;
    let (_, by_initials) = fetch("d=initials&initials=gh").await;
    let (_, other) = fetch("d=initials&initials=XY").await;
    assert_eq!(by_name.as_raw(), by_initials.as_raw(), "GH either way");
    assert_ne!(by_name.as_raw(), other.as_raw(), "the letters are drawn");
    let (_, none) = fetch("d=initials").await;
    assert_eq!(
        none.dimensions(),
        (64, 64),
        "no letters still gives a picture"
    );
}

#[tokio::test]
async fn options_lists_the_default_styles_in_allow() {
    let app = spawn_app().await;
    let url = format!("{}/avatar/{}", app.base, miss_hash(11));
    let response = app
        .client
        .request(reqwest::Method::OPTIONS, &url)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let allow = header(&response, "allow");
    for style in [
        "404",
        "mm",
        "mp",
        "identicon",
        "monsterid",
        "wavatar",
        "retro",
        "robohash",
        "pagan",
        "initials",
        "blank",
        "color",
    ] {
        assert!(
            allow.split(' ').any(|s| s == style),
            "{style} in Allow: {allow}"
        );
    }
    assert_eq!(header(&response, "access-control-allow-origin"), "*");
    assert!(header(&response, "access-control-allow-methods").contains("GET"));
}

#[tokio::test]
async fn the_gallery_shows_every_style_for_every_sample() {
    let app = spawn_app().await;
    let response = app.get("/tools/defaults").await;
    assert_eq!(response.status(), 200);
    // Attribute values come back with `&` escaped (askama writes `&#38;`).
    let html = response.text().await.unwrap().replace("&#38;", "&");
    for needle in [
        "monsterid",
        "wavatar",
        "robohash, set2",
        "pagan",
        "initials",
        "d=initials&name=",
        "alice@example.org",
    ] {
        assert!(html.contains(needle), "{needle} on the gallery page");
    }
    // 12 looks × 3 samples × 2 sizes.
    assert_eq!(html.matches("<img ").count(), 72);
}

#[tokio::test]
async fn configured_default_404_makes_misses_404() {
    let app = spawn_app_with(|c| c.default_style = DefaultStyle::NotFound).await;
    assert_eq!(
        app.get(&format!("/avatar/{}", miss_hash(7))).await.status(),
        404
    );
    assert_eq!(
        app.get(&format!("/avatar/{}?d=mp", miss_hash(7)))
            .await
            .status(),
        200
    );
}

#[tokio::test]
async fn url_default_redirects_only_to_trusted_hosts() {
    let app = spawn_app_with(|c| c.trusted_default_hosts = vec!["img.example.net".into()]).await;
    let trusted = "https://img.example.net/nobody.png";
    let encoded: String = form_urlencoded::byte_serialize(trusted.as_bytes()).collect();
    let response = app
        .get(&format!("/avatar/{}?d={encoded}", miss_hash(8)))
        .await;
    assert_eq!(response.status(), 302);
    assert_eq!(header(&response, "location"), trusted);

    for untrusted in [
        "https://evil.example/x.png",
        "https://img.example.net@evil.example/x.png",
        "https://img.example.net.evil.example/x.png",
    ] {
        let encoded: String = form_urlencoded::byte_serialize(untrusted.as_bytes()).collect();
        let response = app
            .get(&format!("/avatar/{}?d={encoded}&s=20", miss_hash(8)))
            .await;
        assert_eq!(response.status(), 200, "{untrusted} is not followed");
        assert!(header(&response, "location").is_empty());
        assert_eq!(decode(response).await.dimensions(), (20, 20));
    }
}

#[tokio::test]
async fn avatar_without_hash_goes_home() {
    let app = spawn_app().await;
    for path in ["/avatar/", "/avatar"] {
        let response = app.get(path).await;
        assert_eq!(response.status(), 302, "{path}");
        assert_eq!(header(&response, "location"), "/");
    }
    let home = app.get("/").await;
    assert_eq!(home.status(), 200);
    assert!(home.text().await.unwrap().contains("/avatar/"));
}

#[tokio::test]
async fn sha256_miss_gets_defaults_too() {
    let app = spawn_app().await;
    let hash = sha256_of("nobody@example.org");
    let image = decode(
        app.get(&format!("/avatar/{hash}.png?d=identicon&s=50"))
            .await,
    )
    .await;
    assert_eq!(image.dimensions(), (50, 50));
}
