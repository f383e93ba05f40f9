//! Stored photos: sizes, colours, formats, hashes, cache headers and freshness.

use crate::helpers::*;

#[tokio::test]
async fn photo_keeps_red_left_and_blue_right_at_every_size() {
    let app = spawn_app().await;
    app.add_photo("alice@example.org", &png(&red_blue_photo(300, 300)))
        .await;
    for size in [16u32, 80, 512] {
        let response = app
            .get(&format!("/avatar/{}?s={size}", md5_of("alice@example.org")))
            .await;
        assert_eq!(response.status(), 200);
        let image = decode(response).await;
        assert_eq!(image.dimensions(), (size, size));
        let middle = size / 2;
        assert!(
            near(image.get_pixel(size / 8, middle), RED, 40),
            "left is red at {size}"
        );
        assert!(
            near(image.get_pixel(size - 1 - size / 8, middle), BLUE, 40),
            "right is blue at {size}"
        );
    }
}

#[tokio::test]
async fn messy_and_clean_email_give_the_same_md5_and_sha256_and_both_serve() {
    let app = spawn_app().await;
    app.add_photo(" Alice@Example.ORG ", &png(&solid_photo(64, RED)))
        .await;
    assert_eq!(md5_of(" Alice@Example.ORG "), md5_of("alice@example.org"));
    assert_eq!(
        sha256_of(" Alice@Example.ORG "),
        sha256_of("alice@example.org")
    );
    for hash in [
        md5_of("alice@example.org"),
        sha256_of("alice@example.org"),
        md5_of("alice@example.org").to_uppercase(),
    ] {
        let response = app.get(&format!("/avatar/{hash}?s=20")).await;
        assert_eq!(response.status(), 200, "{hash}");
        let image = decode(response).await;
        assert!(near(image.get_pixel(10, 10), RED, 2), "{hash}");
    }
}

#[tokio::test]
async fn size_defaults_to_80_and_is_clamped_to_max() {
    let app = spawn_app().await;
    app.add_photo("bob@example.org", &png(&solid_photo(100, BLUE)))
        .await;
    let hash = md5_of("bob@example.org");
    for (query, expected) in [
        ("", 80),
        ("?s=0", 80),
        ("?s=-3", 80),
        ("?s=abc", 80),
        ("?s=", 80),
        ("?s=9999", 512),
        ("?size=33&s=10", 33),
        ("?s=1", 1),
    ] {
        let image = decode(app.get(&format!("/avatar/{hash}{query}")).await).await;
        assert_eq!(image.dimensions(), (expected, expected), "{query}");
    }
}

#[tokio::test]
async fn configured_max_size_allows_large_images() {
    let app = spawn_app_with(|c| c.max_size = 1024).await;
    app.add_photo("big@example.org", &png(&solid_photo(100, BLUE)))
        .await;
    let image = decode(
        app.get(&format!("/avatar/{}?s=1000", md5_of("big@example.org")))
            .await,
    )
    .await;
    assert_eq!(image.dimensions(), (1000, 1000));
    let image = decode(
        app.get(&format!("/avatar/{}?s=4000", md5_of("big@example.org")))
            .await,
    )
    .await;
    assert_eq!(image.dimensions(), (1024, 1024));
}

#[tokio::test]
async fn extension_picks_the_format_and_stored_format_is_the_default() {
    let app = spawn_app().await;
    app.add_photo(
        "jpeg@example.org",
        &encode(&solid_photo(90, RED), image::ImageFormat::Jpeg),
    )
    .await;
    let hash = md5_of("jpeg@example.org");
    let response = app.get(&format!("/avatar/{hash}?s=40")).await;
    assert_eq!(header(&response, "content-type"), "image/jpeg");
    assert!(near(decode(response).await.get_pixel(20, 20), RED, 20));
    for (extension, mime) in [
        ("png", "image/png"),
        ("jpg", "image/jpeg"),
        ("jpeg", "image/jpeg"),
        ("gif", "image/gif"),
        ("webp", "image/webp"),
        ("PNG", "image/png"),
    ] {
        let response = app.get(&format!("/avatar/{hash}.{extension}?s=40")).await;
        assert_eq!(response.status(), 200);
        assert_eq!(header(&response, "content-type"), mime);
        let image = decode(response).await;
        assert_eq!(image.dimensions(), (40, 40));
        assert!(near(image.get_pixel(20, 20), RED, 30), "{extension}");
    }
}

#[tokio::test]
async fn head_answers_like_get_without_a_body() {
    let app = spawn_app().await;
    app.add_photo("head@example.org", &png(&solid_photo(50, RED)))
        .await;
    let url = format!("{}/avatar/{}?s=30", app.base, md5_of("head@example.org"));
    let get = app.client.get(&url).send().await.unwrap();
    let head = app.client.head(&url).send().await.unwrap();
    assert_eq!(head.status(), 200);
    for name in [
        "content-type",
        "content-length",
        "etag",
        "cache-control",
        "last-modified",
    ] {
        assert_eq!(header(&head, name), header(&get, name), "{name}");
    }
    assert!(head.bytes().await.unwrap().is_empty());
}

#[tokio::test]
async fn responses_carry_cache_and_cors_headers_and_etag_gives_304() {
    let app = spawn_app().await;
    app.add_photo("etag@example.org", &png(&solid_photo(50, RED)))
        .await;
    let hash = md5_of("etag@example.org");
    let response = app.get(&format!("/avatar/{hash}?s=30")).await;
    assert_eq!(
        header(&response, "cache-control"),
        "public, max-age=300, stale-while-revalidate=3600, stale-if-error=86400"
    );
    assert_eq!(header(&response, "access-control-allow-origin"), "*");
    assert_eq!(header(&response, "x-content-type-options"), "nosniff");
    assert!(!header(&response, "last-modified").is_empty());
    let etag = header(&response, "etag");
    assert!(
        etag.starts_with('"') && etag.len() > 10,
        "strong ETag: {etag}"
    );

    let other_size = app.get(&format!("/avatar/{hash}?s=31")).await;
    assert_ne!(header(&other_size, "etag"), etag, "size changes the ETag");
    let other_format = app.get(&format!("/avatar/{hash}.jpg?s=30")).await;
    assert_ne!(
        header(&other_format, "etag"),
        etag,
        "format changes the ETag"
    );

    let revalidated = app
        .client
        .get(format!("{}/avatar/{hash}?s=30", app.base))
        .header("If-None-Match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(revalidated.status(), 304);
    assert_eq!(header(&revalidated, "etag"), etag);
    assert_eq!(header(&revalidated, "surrogate-key"), hash);
    assert!(revalidated.bytes().await.unwrap().is_empty());

    let stale = app
        .client
        .get(format!("{}/avatar/{hash}?s=30", app.base))
        .header("If-None-Match", "\"something-else\"")
        .send()
        .await
        .unwrap();
    assert_eq!(stale.status(), 200);
}

#[tokio::test]
async fn configured_cache_max_age_is_used() {
    let app = spawn_app_with(|c| {
        c.cache_max_age = 3600;
        c.cache_stale_while_revalidate = 0;
        c.cache_stale_if_error = 600;
    })
    .await;
    let response = app
        .get(&format!("/avatar/{}", md5_of("nobody@example.org")))
        .await;
    assert_eq!(
        header(&response, "cache-control"),
        "public, max-age=3600, stale-if-error=600"
    );
}

#[tokio::test]
async fn every_answer_names_its_hash_for_cdn_purges() {
    let app = spawn_app_with(|c| c.trusted_default_hosts = vec!["example.com".into()]).await;
    app.add_photo("tagged@example.org", &png(&solid_photo(50, RED)))
        .await;
    let (md5, sha256) = (
        md5_of("tagged@example.org"),
        sha256_of("tagged@example.org"),
    );
    let nobody = sha256_of("nobody@example.org");
    for (path, status, key) in [
        (format!("/avatar/{md5}"), 200, &md5),
        (format!("/avatar/{sha256}.webp?s=20"), 200, &sha256),
        (
            format!("/avatar/{}?f=y&d=identicon", md5.to_uppercase()),
            200,
            &md5,
        ),
        (format!("/avatar/{nobody}?d=404"), 404, &nobody),
        (
            format!("/avatar/{nobody}?d=https://example.com/x.png"),
            302,
            &nobody,
        ),
    ] {
        let response = app.get(&path).await;
        assert_eq!(response.status(), status, "{path}");
        assert_eq!(&header(&response, "surrogate-key"), key, "{path}");
        assert_eq!(&header(&response, "cache-tag"), key, "{path}");
        assert!(
            header(&response, "cache-control").contains("stale-while-revalidate=3600"),
            "{path}"
        );
    }
}

#[tokio::test]
async fn replaced_photo_is_served_new_at_once_through_the_cli() {
    let app = spawn_app().await;
    let red = temp_file(app.dir.path(), "red.png", &png(&solid_photo(64, RED)));
    let blue = temp_file(app.dir.path(), "blue.png", &png(&solid_photo(64, BLUE)));
    let url = format!("/avatar/{}?s=32", md5_of("carol@example.org"));

    let output = app.cameo(&["add", "carol@example.org", "--photo", red.to_str().unwrap()]);
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(stdout(&output).trim(), "imported carol@example.org");
    app.noticed_another_process().await;
    let first = app.get(&url).await;
    let first_etag = header(&first, "etag");
    assert!(near(decode(first).await.get_pixel(16, 16), RED, 2));

    let output = app.cameo(&[
        "add",
        "carol@example.org",
        "--photo",
        blue.to_str().unwrap(),
    ]);
    assert_eq!(stdout(&output).trim(), "updated carol@example.org");
    app.noticed_another_process().await;
    let second = app.get(&url).await;
    assert_ne!(header(&second, "etag"), first_etag);
    assert!(
        near(decode(second).await.get_pixel(16, 16), BLUE, 2),
        "new photo at once"
    );

    let output = app.cameo(&["remove", "carol@example.org"]);
    assert!(output.status.success());
    app.noticed_another_process().await;
    let third = app.get(&format!("{url}&d=404")).await;
    assert_eq!(third.status(), 404, "removed address serves no photo");
}

#[tokio::test]
async fn unconfirmed_address_serves_no_photo() {
    let app = spawn_app().await;
    app.add_photo("dave@example.org", &png(&solid_photo(32, RED)))
        .await;
    crate::helpers::execute(
        &app.operator,
        "UPDATE addresses SET confirmed_at = NULL WHERE address = 'dave@example.org'",
        &[],
    )
    .await;
    let response = app
        .get(&format!("/avatar/{}?d=404", md5_of("dave@example.org")))
        .await;
    assert_eq!(response.status(), 404);
}

#[tokio::test]
async fn forced_default_hides_the_photo() {
    let app = spawn_app().await;
    app.add_photo("erin@example.org", &png(&solid_photo(32, RED)))
        .await;
    let hash = md5_of("erin@example.org");
    let response = app.get(&format!("/avatar/{hash}?f=y&d=404")).await;
    assert_eq!(response.status(), 404);
    let response = app
        .get(&format!("/avatar/{hash}?forcedefault=y&d=blank"))
        .await;
    assert!(decode(response).await.pixels().all(|p| p.0[3] == 0));
    let response = app.get(&format!("/avatar/{hash}?f=n&d=404")).await;
    assert_eq!(response.status(), 200, "any other value is ignored");
}

#[tokio::test]
async fn openid_is_found_by_its_sha256_and_variants() {
    let app = spawn_app().await;
    let photo = temp_file(app.dir.path(), "o.png", &png(&solid_photo(32, BLUE)));
    let output = app.cameo(&[
        "add",
        "HTTPS://Example.COM/Bob",
        "--photo",
        photo.to_str().unwrap(),
    ]);
    assert!(output.status.success(), "{}", stderr(&output));
    app.noticed_another_process().await;
    for url in [
        "https://example.com/Bob",
        "http://example.com/Bob",
        "https://example.com/Bob/",
    ] {
        let hash = cameo::identity::Digest::sha256_of(url).to_hex();
        let response = app.get(&format!("/avatar/{hash}?d=404&s=10")).await;
        assert_eq!(response.status(), 200, "{url}");
        assert!(near(decode(response).await.get_pixel(5, 5), BLUE, 2));
    }
}

#[tokio::test]
async fn landscape_upload_is_centre_cropped() {
    let app = spawn_app().await;
    // 300x100: blue, red in the middle third, blue.
    let image = image::RgbImage::from_fn(300, 100, |x, _| {
        image::Rgb(if (100..200).contains(&x) { RED } else { BLUE })
    });
    app.add_photo("wide@example.org", &png(&image)).await;
    let square = decode(
        app.get(&format!("/avatar/{}?s=64", md5_of("wide@example.org")))
            .await,
    )
    .await;
    assert!(near(square.get_pixel(2, 32), RED, 30) && near(square.get_pixel(61, 32), RED, 30));
}

#[tokio::test]
async fn animated_gif_stays_animated_at_the_requested_size() {
    use image::AnimationDecoder;
    let app = spawn_app().await;
    let frames = [RED, BLUE].map(|c| {
        let frame = image::RgbaImage::from_pixel(64, 64, image::Rgba([c[0], c[1], c[2], 255]));
        image::Frame::from_parts(frame, 0, 0, image::Delay::from_numer_denom_ms(100, 1))
    });
    let mut gif = Vec::new();
    {
        let mut encoder = image::codecs::gif::GifEncoder::new(&mut gif);
        encoder
            .set_repeat(image::codecs::gif::Repeat::Infinite)
            .unwrap();
        encoder.encode_frames(frames).unwrap();
    }
    app.add_photo("anim@example.org", &gif).await;
    let hash = md5_of("anim@example.org");

    let response = app.get(&format!("/avatar/{hash}?s=24")).await;
    assert_eq!(header(&response, "content-type"), "image/gif");
    let bytes = response.bytes().await.unwrap();
    let decoder = image::codecs::gif::GifDecoder::new(std::io::Cursor::new(bytes)).unwrap();
    let frames = decoder.into_frames().collect_frames().unwrap();
    assert_eq!(frames.len(), 2, "still animated");
    assert_eq!(frames[1].buffer().dimensions(), (24, 24));
    assert!(near(frames[0].buffer().get_pixel(12, 12), RED, 40));
    assert!(near(frames[1].buffer().get_pixel(12, 12), BLUE, 40));

    let still = decode(app.get(&format!("/avatar/{hash}.png?s=24")).await).await;
    assert!(
        near(still.get_pixel(12, 12), RED, 40),
        "other formats get the first frame"
    );
}
