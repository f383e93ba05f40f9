//! `cameo backup` and `cameo restore`: a consistent copy taken while the server serves and
//! writes, restored into another data directory that then serves the same bytes; and the
//! refusals (an existing FILE, a missing, foreign, damaged or newer file, a running server).

use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use sqlx::Connection;
use sqlx::sqlite::{SqliteConnectOptions, SqliteConnection};

use crate::helpers::*;

const GREEN: [u8; 3] = [0, 160, 0];

/// Runs the `cameo` binary off the async threads, so the in-process server keeps serving.
async fn cameo_in(dir: &Path, args: &[&str]) -> std::process::Output {
    let dir = dir.to_path_buf();
    let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
    tokio::task::spawn_blocking(move || {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        run_cameo(&dir, &args, &[])
    })
    .await
    .expect("cameo ran")
}

async fn avatar_bytes(app: &TestApp, address: &str) -> (u16, Vec<u8>) {
    let response = app
        .get(&format!("/avatar/{}?s=48&d=404", md5_of(address)))
        .await;
    let status = response.status().as_u16();
    (status, response.bytes().await.expect("body").to_vec())
}

async fn connect(path: &Path) -> SqliteConnection {
    let options = SqliteConnectOptions::from_str("sqlite://")
        .unwrap()
        .filename(path);
    SqliteConnection::connect_with(&options)
        .await
        .expect("opens")
}

/// "backup FILE: N bytes, P photos, A addresses, U accounts, integrity ok" → (P, A).
fn counts(line: &str) -> (u64, u64) {
    let number_before = |word: &str| -> u64 {
        let end = line
            .find(word)
            .unwrap_or_else(|| panic!("{word} in {line}"));
        line[..end]
            .trim_end()
            .rsplit(' ')
            .next()
            .unwrap()
            .parse()
            .unwrap()
    };
    (number_before(" photos"), number_before(" addresses"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_backup_taken_while_serving_restores_into_a_fresh_data_dir() {
    if crate::postgres::skip_on_postgres(
        "cameo backup/restore copy the SQLite file (PostgreSQL: pg_dump)",
    ) {
        return;
    }
    let app = spawn_app().await;
    app.add_photo("red@example.org", &png(&solid_photo(40, RED)))
        .await;
    app.add_photo("split@example.org", &png(&red_blue_photo(60, 40)))
        .await;

    // Readers and a writer keep the server busy while the copy is taken.
    let stop = Arc::new(AtomicBool::new(false));
    let busy = {
        let stop = stop.clone();
        let (base, config) = (app.base.clone(), app.config.clone());
        let operator = app.operator.clone();
        let dir = app.dir.path().to_path_buf();
        tokio::spawn(async move {
            let client = reqwest::Client::new();
            let mut n = 0u32;
            while !stop.load(Ordering::Relaxed) {
                let hash = md5_of("red@example.org");
                let response = client
                    .get(format!("{base}/avatar/{hash}?s={}", 16 + n % 64))
                    .send()
                    .await
                    .expect("request");
                assert_eq!(response.status(), 200);
                let path = dir.join(format!("busy-{n}.png"));
                std::fs::write(&path, png(&solid_photo(20, [n as u8, 9, 9]))).unwrap();
                cameo::operator::add(&operator, &config, &format!("busy{n}@example.org"), &path)
                    .await
                    .expect("added");
                n += 1;
            }
            n
        })
    };
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    let file = app.dir.path().join("nightly.db");
    let output = cameo_in(app.dir.path(), &["backup", file.to_str().unwrap()]).await;
    stop.store(true, Ordering::Relaxed);
    let writes = busy.await.expect("busy task");
    assert!(output.status.success(), "{}", stderr(&output));
    let line = stdout(&output);
    assert!(line.contains("integrity ok"), "{line}");
    let (photos, addresses) = counts(&line);
    assert!(writes > 0 && addresses >= 2, "{line}");
    assert_eq!(
        photos, addresses,
        "one snapshot: every address with its photo"
    );
    let mut copy = connect(&file).await;
    let mode: String = sqlx::query_scalar("PRAGMA journal_mode")
        .fetch_one(&mut copy)
        .await
        .unwrap();
    assert_eq!(mode, "delete", "the backup is a single self-contained file");
    copy.close().await.unwrap();

    // Restore over a data directory that already has a database of its own.
    let fresh = tempfile::tempdir().unwrap();
    let green = temp_file(fresh.path(), "green.png", &png(&solid_photo(30, GREEN)));
    let added = run_cameo(
        fresh.path(),
        &[
            "add",
            "green@example.org",
            "--photo",
            green.to_str().unwrap(),
        ],
        &[],
    );
    assert!(added.status.success(), "{}", stderr(&added));
    let restored = cameo_in(fresh.path(), &["restore", file.to_str().unwrap()]).await;
    assert!(restored.status.success(), "{}", stderr(&restored));
    assert!(stdout(&restored).contains("kept the previous database as"));
    let aside: Vec<PathBuf> = std::fs::read_dir(fresh.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.to_string_lossy().contains("cameo.db.before-restore-"))
        .collect();
    assert_eq!(aside.len(), 1, "the old database is kept: {aside:?}");

    let fresh_dir = fresh.path().to_path_buf();
    let restored_app = spawn_app_with(move |c| c.data_dir = fresh_dir).await;
    for address in ["red@example.org", "split@example.org"] {
        let (status, bytes) = avatar_bytes(&restored_app, address).await;
        assert_eq!(status, 200, "{address}");
        assert_eq!(
            bytes,
            avatar_bytes(&app, address).await.1,
            "{address}: same bytes"
        );
    }
    let (status, _) = avatar_bytes(&restored_app, "green@example.org").await;
    assert_eq!(status, 404, "the replaced database's address is gone");
}

#[tokio::test]
async fn backup_does_not_overwrite_a_file_without_force() {
    if crate::postgres::skip_on_postgres(
        "cameo backup/restore copy the SQLite file (PostgreSQL: pg_dump)",
    ) {
        return;
    }
    let app = spawn_app().await;
    app.add_photo("a@example.org", &png(&solid_photo(20, RED)))
        .await;
    let file = temp_file(app.dir.path(), "taken.db", b"precious");
    let output = cameo_in(app.dir.path(), &["backup", file.to_str().unwrap()]).await;
    assert!(!output.status.success());
    assert!(stderr(&output).contains("--force"), "{}", stderr(&output));
    assert_eq!(std::fs::read(&file).unwrap(), b"precious");

    let forced = cameo_in(
        app.dir.path(),
        &["backup", "--force", file.to_str().unwrap()],
    )
    .await;
    assert!(forced.status.success(), "{}", stderr(&forced));
    assert!(stdout(&forced).contains("1 photos, 1 addresses, 0 accounts"));
}

#[tokio::test]
async fn restore_refuses_bad_files_and_leaves_the_database_alone() {
    if crate::postgres::skip_on_postgres(
        "cameo backup/restore copy the SQLite file (PostgreSQL: pg_dump)",
    ) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let photo = temp_file(dir.path(), "red.png", &png(&solid_photo(20, RED)));
    let data = dir.path().join("data");
    let add = run_cameo(
        &data,
        &[
            "add",
            "keep@example.org",
            "--photo",
            photo.to_str().unwrap(),
        ],
        &[],
    );
    assert!(add.status.success(), "{}", stderr(&add));
    let good = dir.path().join("good.db");
    assert!(
        run_cameo(&data, &["backup", good.to_str().unwrap()], &[])
            .status
            .success()
    );

    let text = temp_file(
        dir.path(),
        "notes.db",
        b"these are not the pages you are looking for",
    );
    let foreign = dir.path().join("foreign.db");
    let mut conn = SqliteConnection::connect_with(
        &SqliteConnectOptions::from_str("sqlite://")
            .unwrap()
            .filename(&foreign)
            .create_if_missing(true),
    )
    .await
    .unwrap();
    sqlx::query("CREATE TABLE recipes (name TEXT)")
        .execute(&mut conn)
        .await
        .unwrap();
    conn.close().await.unwrap();
    let newer = dir.path().join("newer.db");
    std::fs::copy(&good, &newer).unwrap();
    let mut conn = connect(&newer).await;
    sqlx::query(
        "INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time)
         VALUES (9999, 'from the future', 1, x'00', 0)",
    )
    .execute(&mut conn)
    .await
    .unwrap();
    conn.close().await.unwrap();

    let cases = [
        (dir.path().join("missing.db"), "No such file"),
        (text, "is not an SQLite database"),
        (foreign, "is not a Cameo database"),
        (newer, "comes from a newer Cameo (schema migration 9999"),
    ];
    for (file, needle) in cases {
        let output = run_cameo(&data, &["restore", file.to_str().unwrap()], &[]);
        assert!(!output.status.success(), "{file:?}");
        let message = stderr(&output);
        assert!(message.contains(needle), "{needle} in: {message}");
    }
    let entries: Vec<String> = std::fs::read_dir(&data)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(
        entries.iter().all(|name| !name.contains("restor")),
        "nothing set aside or left behind: {entries:?}"
    );
    let list = run_cameo(&data, &["list"], &[]);
    assert!(stdout(&list).contains("keep@example.org"));
}

#[tokio::test]
async fn restore_refuses_while_the_server_holds_the_database() {
    if crate::postgres::skip_on_postgres(
        "cameo backup/restore copy the SQLite file (PostgreSQL: pg_dump)",
    ) {
        return;
    }
    let app = spawn_app().await;
    app.add_photo("live@example.org", &png(&solid_photo(20, RED)))
        .await;
    let file = app.dir.path().join("copy.db");
    let backup = cameo_in(app.dir.path(), &["backup", file.to_str().unwrap()]).await;
    assert!(backup.status.success(), "{}", stderr(&backup));
    let output = cameo_in(app.dir.path(), &["restore", file.to_str().unwrap()]).await;
    assert!(!output.status.success());
    assert!(
        stderr(&output).contains("in use (is `cameo serve` running?)"),
        "{}",
        stderr(&output)
    );
    assert_eq!(avatar_bytes(&app, "live@example.org").await.0, 200);
}

/// The permission bits of a file.
fn mode_of(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .permissions()
        .mode()
        & 0o777
}

#[tokio::test]
async fn the_database_its_wal_and_a_backup_are_owner_only() {
    if crate::postgres::skip_on_postgres("file modes of the SQLite file and its WAL") {
        return;
    }
    let app = spawn_app().await;
    app.add_photo("private@example.org", &png(&solid_photo(20, RED)))
        .await;
    let database = app.config.database_path();
    for suffix in ["", "-wal", "-shm"] {
        let path = PathBuf::from(format!("{}{suffix}", database.display()));
        assert_eq!(mode_of(&path), 0o600, "{}", path.display());
    }
    let file = app.dir.path().join("private-copy.db");
    let output = cameo_in(app.dir.path(), &["backup", file.to_str().unwrap()]).await;
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(mode_of(&file), 0o600);
}

#[tokio::test]
async fn a_readable_database_is_made_owner_only_at_start_and_a_restore_stays_so() {
    if crate::postgres::skip_on_postgres("file modes of the SQLite file and its WAL") {
        return;
    }
    use std::os::unix::fs::PermissionsExt;
    let app = spawn_app().await;
    let file = app.dir.path().join("group-readable.db");
    let output = cameo_in(app.dir.path(), &["backup", file.to_str().unwrap()]).await;
    assert!(output.status.success(), "{}", stderr(&output));
    // What an operator does who lets the service group read backups (README).
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o640)).unwrap();

    let fresh = tempfile::tempdir().unwrap();
    let restored = cameo_in(fresh.path(), &["restore", file.to_str().unwrap()]).await;
    assert!(restored.status.success(), "{}", stderr(&restored));
    let database = fresh.path().join("cameo.db");
    assert_eq!(mode_of(&database), 0o600, "the restored database");

    std::fs::set_permissions(&database, std::fs::Permissions::from_mode(0o644)).unwrap();
    let list = cameo_in(fresh.path(), &["list"]).await;
    assert!(list.status.success(), "{}", stderr(&list));
    assert_eq!(mode_of(&database), 0o600, "tightened when opened");
    assert!(
        stderr(&list).contains("made it owner-only"),
        "{}",
        stderr(&list)
    );
}

#[tokio::test]
async fn on_postgresql_backup_and_restore_point_at_pg_dump() {
    if !crate::postgres::is_postgres() {
        return;
    }
    let app = spawn_app().await;
    let file = app.dir.path().join("backup.db");
    for args in [
        vec!["backup", file.to_str().unwrap()],
        vec!["restore", file.to_str().unwrap()],
    ] {
        let output = cameo_in(app.dir.path(), &args).await;
        assert!(!output.status.success(), "{args:?}");
        let message = stderr(&output);
        assert!(message.contains("pg_dump"), "{args:?}: {message}");
        assert_eq!(message.trim_end().lines().count(), 1, "one line: {message}");
    }
    assert!(!file.exists());
}
