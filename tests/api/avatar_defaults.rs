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
async fn styles_not_drawn_yet_and_unknown_values_get_the_server_default() {
    let app =
        spawn_app_with(|c| c.default_style = DefaultStyle::Style(cameo::defaults::Style::Retro))
            .await;
    let expected = decode(
        app.get(&format!("/avatar/{}?d=retro&s=48", miss_hash(6)))
            .await,
    )
    .await;
    for value in [
        "wavatar",
        "monsterid",
        "robohash",
        "pagan",
        "initials",
        "nonsense",
        "",
    ] {
        let got = decode(
            app.get(&format!("/avatar/{}?d={value}&s=48", miss_hash(6)))
                .await,
        )
        .await;
        assert_eq!(got.as_raw(), expected.as_raw(), "d={value}");
    }
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
