//! The `cameo` binary as an operator meets it: typos in `--set`, which database a read
//! opens (and that it creates none), a backup into a missing folder, `cameo export | head`
//! and `cameo list | head`,
//! the address `add` stored, each command's own help, and the URL the server log names.

use std::io::{BufRead, BufReader, Read};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::helpers::*;
use crate::postgres::database_url_for;

/// The real binary with this test's data directory (and database, on the PostgreSQL run).
fn cameo_command(data_dir: &std::path::Path, args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_cameo"));
    command
        .arg("--data-dir")
        .arg(data_dir)
        .args(args)
        .env("RUST_LOG", "warn")
        .env("CAMEO_DATABASE_URL", database_url_for(data_dir));
    command
}

/// A photo of noise, which no encoder shrinks much: a big export.
fn noise_photo(side: u32) -> Vec<u8> {
    let mut state: u32 = 12345;
    let image = image::RgbImage::from_fn(side, side, |_, _| {
        state = state.wrapping_mul(1_103_515_245).wrapping_add(12_345);
        let [a, b, c, _] = state.to_le_bytes();
        image::Rgb([a, b, c])
    });
    png(&image)
}

#[test]
fn an_unknown_set_key_fails_like_an_unknown_config_file_key() {
    let dir = tempfile::tempdir().unwrap();
    for args in [
        vec!["--set", "max_sise=3", "config"],
        vec!["list", "--set", "max_sise=3"],
    ] {
        let output = run_cameo(dir.path(), &args, &[]);
        assert_eq!(output.status.code(), Some(2), "{args:?}");
        let message = stderr(&output);
        assert_eq!(message.trim_end().lines().count(), 1, "one line: {message}");
        assert!(
            message.contains("--set: unknown key `max_sise` (known keys: "),
            "{message}"
        );
        assert!(message.contains("max_size"), "{message}");
    }
}

#[test]
fn reads_of_a_missing_data_dir_are_refused_and_create_nothing() {
    if crate::postgres::skip_on_postgres("a PostgreSQL database is never created by cameo") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let nowhere = dir.path().join("not-the-data-dir");
    let backup = dir.path().join("copy.db");
    for (args, name) in [
        (vec!["list"], "list"),
        (vec!["export"], "export"),
        (vec!["backup", backup.to_str().unwrap()], "backup"),
        (vec!["token", "list"], "token list"),
    ] {
        let output = run_cameo(&nowhere, &args, &[]);
        assert!(!output.status.success(), "{args:?}");
        let message = stderr(&output);
        let expected = format!(
            "cameo: {name}: there is no database at {}",
            nowhere.join("cameo.db").display()
        );
        assert!(message.starts_with(&expected), "{expected} in: {message}");
        assert!(message.contains("--data-dir"), "{message}");
        assert!(stdout(&output).is_empty(), "{args:?}");
    }
    assert!(!nowhere.exists(), "no data directory was made");
    assert!(!backup.exists());
}

#[test]
fn reads_say_which_database_they_opened() {
    let dir = tempfile::tempdir().unwrap();
    let photo = temp_file(dir.path(), "p.png", &png(&solid_photo(20, RED)));
    let added = run_cameo(
        dir.path(),
        &[
            "add",
            "  Alice@Example.ORG ",
            "--photo",
            photo.to_str().unwrap(),
        ],
        &[],
    );
    assert!(added.status.success(), "{}", stderr(&added));
    assert_eq!(
        stdout(&added),
        "imported alice@example.org\n",
        "the stored form"
    );
    let listed = run_cameo(dir.path(), &["list"], &[]);
    assert!(listed.status.success());
    let message = stderr(&listed);
    if crate::postgres::is_postgres() {
        assert!(
            message.starts_with("cameo: list: database postgres://"),
            "{message}"
        );
    } else {
        let file = dir.path().join("cameo.db");
        assert_eq!(
            message,
            format!("cameo: list: database {}\n", file.display())
        );
    }
    assert!(stdout(&listed).contains("alice@example.org"));
}

#[test]
fn a_backup_into_a_missing_folder_says_so() {
    if crate::postgres::skip_on_postgres("cameo backup copies the SQLite file") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let photo = temp_file(dir.path(), "p.png", &png(&solid_photo(20, RED)));
    let added = run_cameo(
        dir.path(),
        &["add", "a@example.org", "--photo", photo.to_str().unwrap()],
        &[],
    );
    assert!(added.status.success());
    let folder = dir.path().join("backups");
    let target = folder.join("cameo.db");
    let output = run_cameo(dir.path(), &["backup", target.to_str().unwrap()], &[]);
    assert!(!output.status.success());
    let message = stderr(&output);
    assert!(
        message.contains(&format!(
            "backup: the folder {} does not exist; create it first (mkdir -p {})",
            folder.display(),
            folder.display()
        )),
        "{message}"
    );
    assert!(!folder.exists());
}

#[test]
fn export_into_a_pipe_closed_early_ends_quietly() {
    let dir = tempfile::tempdir().unwrap();
    let photo = temp_file(dir.path(), "noise.png", &noise_photo(400));
    let added = run_cameo(
        dir.path(),
        &["add", "a@example.org", "--photo", photo.to_str().unwrap()],
        &[],
    );
    assert!(added.status.success(), "{}", stderr(&added));
    // As `cameo export | head -c 100`: read a little, then close the pipe.
    let mut child = cameo_command(dir.path(), &["export"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut start = [0u8; 100];
    child.stdout.take().unwrap().read_exact(&mut start).unwrap();
    assert!(start.starts_with(br#"{"format":"cameo-export""#));
    let output = child.wait_with_output().unwrap();
    let message = stderr(&output);
    assert!(
        !message.contains("panicked")
            && !message.contains("Broken pipe")
            && !message.contains("error"),
        "quiet: {message}"
    );
    assert!(
        !message.contains("exported"),
        "no summary of an export cut short: {message}"
    );
    assert_eq!(
        message.lines().count(),
        1,
        "the database line only: {message}"
    );
    assert_eq!(
        output.status.code(),
        Some(141),
        "as a writer killed by SIGPIPE"
    );
}

#[test]
fn a_listing_into_a_closed_pipe_ends_quietly() {
    let dir = tempfile::tempdir().unwrap();
    let photo = temp_file(dir.path(), "p.png", &png(&solid_photo(20, RED)));
    let added = run_cameo(
        dir.path(),
        &["add", "a@example.org", "--photo", photo.to_str().unwrap()],
        &[],
    );
    assert!(added.status.success(), "{}", stderr(&added));
    for args in [vec!["list"], vec!["list", "--json"], vec!["token", "list"]] {
        let mut child = cameo_command(dir.path(), &args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        drop(child.stdout.take());
        let output = child.wait_with_output().unwrap();
        let message = stderr(&output);
        assert!(
            !message.contains("panicked") && !message.contains("Broken pipe"),
            "{args:?}: {message}"
        );
        assert_eq!(
            message.lines().count(),
            1,
            "{args:?}: the database line only: {message}"
        );
        assert_eq!(output.status.code(), Some(141), "{args:?}");
    }
}

#[test]
fn each_command_help_shows_its_own_options() {
    let dir = tempfile::tempdir().unwrap();
    let help = |args: &[&str]| stdout(&run_cameo(dir.path(), args, &[]));
    let top = help(&["--help"]);
    assert!(
        top.contains("--bind") && top.contains("--data-dir"),
        "{top}"
    );
    for command in [
        vec!["add"],
        vec!["list"],
        vec!["export"],
        vec!["token", "create"],
    ] {
        let mut args = command.clone();
        args.push("--help");
        let text = help(&args);
        assert!(text.contains("--data-dir"), "{command:?}:\n{text}");
        assert!(
            !text.contains("--bind") && !text.contains("--base-url"),
            "{command:?} shows serve's options:\n{text}"
        );
    }
    assert!(help(&["add", "--help"]).contains("--photo"));
    let serve = help(&["serve", "--help"]);
    assert!(
        serve.contains("--bind") && serve.contains("--base-url"),
        "{serve}"
    );
}

#[test]
fn the_start_up_log_names_the_url_to_open() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let bind = format!("127.0.0.1:{port}");
    let mut child = cameo_command(dir.path(), &["serve", "--bind", &bind])
        .env("RUST_LOG", "info")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let (sender, lines) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if sender.send(line).is_err() {
                break;
            }
        }
    });
    let wanted = format!("open http://127.0.0.1:{port}/ in a browser");
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut seen = Vec::new();
    let mut found = false;
    while !found && Instant::now() < deadline {
        if let Ok(line) = lines.recv_timeout(Duration::from_millis(200)) {
            found = line.contains(&wanted);
            seen.push(line);
        }
    }
    child.kill().ok();
    child.wait().ok();
    assert!(found, "{wanted} not logged:\n{}", seen.join("\n"));
}
