//! The `cameo` binary: help, configuration layering and errors, add/remove/list/import.

use crate::helpers::*;

#[test]
fn help_lists_every_command() {
    let dir = tempfile::tempdir().unwrap();
    let help = stdout(&run_cameo(dir.path(), &["--help"], &[]));
    for command in [
        "serve",
        "add",
        "remove",
        "list",
        "import",
        "backup",
        "restore",
        "export",
        "import-export",
        "token",
        "check-domain",
        "directory",
        "config",
        "--data-dir",
        "--config",
    ] {
        assert!(help.contains(command), "{command} in help:\n{help}");
    }
    for command in [
        "serve",
        "add",
        "remove",
        "list",
        "import",
        "backup",
        "restore",
        "export",
        "import-export",
        "token",
        "check-domain",
        "directory",
        "config",
    ] {
        let output = run_cameo(dir.path(), &[command, "--help"], &[]);
        assert!(output.status.success(), "{command} --help");
        assert!(stdout(&output).contains("Usage: cameo"), "{command}");
    }
}

#[test]
fn config_layers_defaults_file_env_flags_in_order() {
    let dir = tempfile::tempdir().unwrap();
    let file = temp_file(
        dir.path(),
        "cameo.toml",
        b"max_size = 100\ncache_max_age = 60\nbind = \"127.0.0.1:1001\"\ndefault_style = \"retro\"\n",
    );
    let output = run_cameo(
        dir.path(),
        &[
            "--config",
            file.to_str().unwrap(),
            "--bind",
            "127.0.0.1:1003",
            "config",
        ],
        &[
            ("CAMEO_CACHE_MAX_AGE", "120"),
            ("CAMEO_BIND", "127.0.0.1:1002"),
        ],
    );
    assert!(output.status.success(), "{}", stderr(&output));
    let printed = stdout(&output);
    assert!(
        printed.contains("max_size = 100"),
        "file beats default:\n{printed}"
    );
    assert!(
        printed.contains("cache_max_age = 120"),
        "env beats file:\n{printed}"
    );
    assert!(
        printed.contains("bind = \"127.0.0.1:1003\""),
        "flag beats env:\n{printed}"
    );
    assert!(printed.contains("default_style = \"retro\""));
    assert!(
        printed.contains("render_cache_bytes = 67108864"),
        "default:\n{printed}"
    );

    let via_env = run_cameo(
        dir.path(),
        &["config"],
        &[("CAMEO_CONFIG", file.to_str().unwrap())],
    );
    assert!(
        stdout(&via_env).contains("max_size = 100"),
        "CAMEO_CONFIG names the file"
    );
}

#[test]
fn data_dir_defaults_to_data_in_the_working_directory() {
    let dir = tempfile::tempdir().unwrap();
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_cameo"))
        .arg("config")
        .current_dir(dir.path())
        .env_remove("CAMEO_DATA_DIR")
        .output()
        .unwrap();
    assert!(
        stdout(&output).contains("data_dir = \"./data\""),
        "{}",
        stdout(&output)
    );
    assert!(stdout(&output).contains("bind = \"127.0.0.1:8080\""));
}

#[test]
fn bad_config_values_stop_with_one_line_naming_the_key() {
    let dir = tempfile::tempdir().unwrap();
    let bad_file = temp_file(dir.path(), "bad.toml", b"max_size = \"huge\"\n");
    let unknown_file = temp_file(dir.path(), "unknown.toml", b"colour = 3\n");
    let broken_file = temp_file(dir.path(), "broken.toml", b"max_size = = 3\n");
    type Case<'a> = (Vec<&'a str>, Vec<(&'a str, &'a str)>, &'a str);
    let cases: Vec<Case> = vec![
        (
            vec!["--set", "max_size=5000", "config"],
            vec![],
            "command-line `max_size`",
        ),
        (
            vec!["config"],
            vec![("CAMEO_MAX_SIZE", "abc")],
            "CAMEO_MAX_SIZE",
        ),
        (
            vec!["config"],
            vec![("CAMEO_BIND", "nowhere")],
            "CAMEO_BIND",
        ),
        (
            vec!["config"],
            vec![("CAMEO_DEFAULT_STYLE", "sparkles")],
            "identicon",
        ),
        (
            vec!["config"],
            vec![("CAMEO_RENDER_CACHE_BYTES", "lots")],
            "CAMEO_RENDER_CACHE_BYTES",
        ),
        (
            vec!["config"],
            vec![("CAMEO_BASE_URL", "ftp://x")],
            "CAMEO_BASE_URL",
        ),
        (
            vec!["config"],
            vec![("CAMEO_TRUSTED_DEFAULT_HOSTS", "a b")],
            "CAMEO_TRUSTED_DEFAULT_HOSTS",
        ),
        (
            vec!["--config", bad_file.to_str().unwrap(), "config"],
            vec![],
            "max_size",
        ),
        (
            vec!["--config", unknown_file.to_str().unwrap(), "config"],
            vec![],
            "colour",
        ),
        (
            vec!["--config", broken_file.to_str().unwrap(), "config"],
            vec![],
            "broken.toml",
        ),
        (
            vec!["--config", "/nonexistent.toml", "config"],
            vec![],
            "cannot read",
        ),
        (vec!["--set", "nonsense", "config"], vec![], "KEY=VALUE"),
    ];
    for (args, env, needle) in cases {
        let output = run_cameo(dir.path(), &args, &env);
        assert_eq!(output.status.code(), Some(2), "{args:?} {env:?}");
        let message = stderr(&output);
        assert_eq!(message.trim_end().lines().count(), 1, "one line: {message}");
        assert!(message.contains(needle), "{needle} in: {message}");
    }
}

#[test]
fn add_refuses_bad_files_and_addresses_with_reasons() {
    let dir = tempfile::tempdir().unwrap();
    let text = temp_file(dir.path(), "notes.txt", b"just some text");
    let good = temp_file(dir.path(), "ok.png", &png(&solid_photo(20, RED)));
    let bmp = temp_file(
        dir.path(),
        "pic.png",
        b"BM\x3a\0\0\0\0\0\0\0\x36\0\0\0\x28\0\0\0",
    );
    let mut damaged = png(&solid_photo(64, RED));
    damaged.truncate(60);
    let damaged = temp_file(dir.path(), "damaged.png", &damaged);
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (
            vec!["add", "a@example.org", "--photo", text.to_str().unwrap()],
            "not an image",
        ),
        (
            vec!["add", "a@example.org", "--photo", damaged.to_str().unwrap()],
            "not a valid image",
        ),
        (
            vec!["add", "a@example.org", "--photo", bmp.to_str().unwrap()],
            "BMP",
        ),
        (
            vec!["add", "a@example.org", "--photo", "/nonexistent.png"],
            "cannot read",
        ),
        (
            vec!["add", "not-an-address", "--photo", good.to_str().unwrap()],
            "neither an email",
        ),
        (
            vec!["add", "a@", "--photo", good.to_str().unwrap()],
            "no domain",
        ),
        (vec!["remove", "nobody@example.org"], "no such address"),
    ];
    for (args, needle) in cases {
        let output = run_cameo(dir.path(), &args, &[]);
        assert!(!output.status.success(), "{args:?}");
        assert!(
            stderr(&output).contains(needle),
            "{needle} in {}",
            stderr(&output)
        );
    }
    let listing = stdout(&run_cameo(dir.path(), &["list"], &[]));
    assert!(
        listing.contains("0 address(es)"),
        "nothing was stored:\n{listing}"
    );
}

#[test]
fn import_reports_each_file_is_idempotent_and_fails_if_anything_was_skipped() {
    let dir = tempfile::tempdir().unwrap();
    let photos = dir.path().join("photos");
    std::fs::create_dir(&photos).unwrap();
    temp_file(
        &photos,
        "alice@example.org.png",
        &png(&solid_photo(30, RED)),
    );
    temp_file(
        &photos,
        "Bob@Example.org.JPG",
        &encode(&solid_photo(30, BLUE), image::ImageFormat::Jpeg),
    );
    temp_file(&photos, "notes.txt", b"hello");
    temp_file(&photos, "carol@example.org.png", b"not really a png");
    let truncated = png(&red_blue_photo(64, 64));
    temp_file(
        &photos,
        "dave@example.org.png",
        &truncated[..truncated.len() / 2],
    );
    temp_file(&photos, "no-at-sign.png", &png(&solid_photo(10, RED)));

    let first = run_cameo(dir.path(), &["import", photos.to_str().unwrap()], &[]);
    let report = stdout(&first);
    assert_eq!(
        first.status.code(),
        Some(1),
        "skips make the exit status non-zero:\n{report}"
    );
    assert!(report.contains("imported  alice@example.org"), "{report}");
    assert!(report.contains("imported  bob@example.org"), "{report}");
    assert!(
        report.contains("skipped   notes.txt: extension .txt"),
        "{report}"
    );
    assert!(
        report.contains("skipped   carol@example.org.png: this is not an image"),
        "{report}"
    );
    assert!(
        report.contains(
            "skipped   dave@example.org.png: the image could not be read, it is not a valid image"
        ),
        "{report}"
    );
    assert!(report.contains("skipped   no-at-sign.png"), "{report}");
    assert!(
        report.contains("2 imported, 0 updated, 0 unchanged, 4 skipped"),
        "{report}"
    );
    assert_eq!(
        report.lines().count(),
        7,
        "one line per file plus the summary:\n{report}"
    );

    let second = run_cameo(dir.path(), &["import", photos.to_str().unwrap()], &[]);
    assert!(
        stdout(&second).contains("0 imported, 0 updated, 2 unchanged, 4 skipped"),
        "{}",
        stdout(&second)
    );

    temp_file(
        &photos,
        "alice@example.org.png",
        &png(&solid_photo(30, BLUE)),
    );
    for name in [
        "notes.txt",
        "carol@example.org.png",
        "dave@example.org.png",
        "no-at-sign.png",
    ] {
        std::fs::remove_file(photos.join(name)).unwrap();
    }
    let third = run_cameo(dir.path(), &["import", photos.to_str().unwrap()], &[]);
    assert!(third.status.success(), "{}", stdout(&third));
    assert!(
        stdout(&third).contains("updated   alice@example.org"),
        "{}",
        stdout(&third)
    );
    assert!(stdout(&third).contains("unchanged bob@example.org"));

    let listing = stdout(&run_cameo(dir.path(), &["list"], &[]));
    assert!(listing.contains("alice@example.org") && listing.contains("bob@example.org"));
    assert!(listing.contains("2 address(es)"), "{listing}");
    let json = stdout(&run_cameo(dir.path(), &["list", "--json"], &[]));
    let rows: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(rows.as_array().unwrap().len(), 2);
    assert_eq!(rows[0]["address"], "alice@example.org");
    assert_eq!(rows[0]["confirmed"], true);
}

#[test]
fn import_of_a_missing_folder_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let output = run_cameo(dir.path(), &["import", "/nonexistent/folder"], &[]);
    assert!(!output.status.success());
    assert!(stderr(&output).contains("cannot read /nonexistent/folder"));
}

#[tokio::test]
async fn database_is_created_in_wal_mode() {
    if crate::postgres::skip_on_postgres("the SQLite file's journal mode") {
        return;
    }
    let app = spawn_app().await;
    let mode: String = sqlx::query_scalar("PRAGMA journal_mode")
        .fetch_one(app.operator.sqlite().expect("a SQLite file"))
        .await
        .unwrap();
    assert_eq!(mode, "wal");
    assert!(app.config.database_path().exists());
}
