//! Crash safety: the real server binary and a stream of `cameo add` processes write to one
//! data directory; the server and every in-flight writer are SIGKILLed mid-stream, a few
//! rounds over. After each crash the database passes `PRAGMA integrity_check`, and every write
//! that was reported done (a `cameo add` that exited 0, a sign-up the server answered) is
//! still there: each address serves exactly its own solid-colour photo, each account logs in.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use crate::browser::{Browser, PASSWORD, csrf_in};
use crate::helpers::*;

const ROUNDS: usize = 3;
const WRITERS: usize = 3;
const WRITE_WINDOW: Duration = Duration::from_millis(1500);
const SIDE: u32 = 24;

/// The photo of write number `n`: a solid colour that differs from its neighbours'.
fn colour_of(n: usize) -> [u8; 3] {
    [
        (n * 67 % 256) as u8,
        (n * 131 % 256) as u8,
        (255 - n * 29 % 256) as u8,
    ]
}

fn address_of(n: usize) -> String {
    format!("writer{n}@crash.example")
}

/// The server binary, with the port it reported. Its log is drained so it never blocks.
struct Server {
    child: Child,
    base: String,
}

fn start_server(data_dir: &Path) -> Server {
    let mut child = Command::new(env!("CARGO_BIN_EXE_cameo"))
        .arg("--data-dir")
        .arg(data_dir)
        .args(["--bind", "127.0.0.1:0", "serve"])
        .env("RUST_LOG", "info")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("server starts");
    let log = child.stderr.take().expect("stderr");
    let (port_sender, port) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(log).lines().map_while(Result::ok) {
            if let Some(rest) = line.split("port=").nth(1) {
                let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
                let _ = port_sender.send(digits);
            }
        }
    });
    let port = port
        .recv_timeout(Duration::from_secs(10))
        .expect("the server logs its port");
    Server {
        child,
        base: format!("http://127.0.0.1:{port}"),
    }
}

/// Runs `cameo add` processes back to back until `stop`; a process still running when
/// `stop` is set is SIGKILLed. Returns the write numbers whose process reported success.
fn writer(
    data_dir: PathBuf,
    photos: PathBuf,
    next: Arc<AtomicUsize>,
    stop: Arc<AtomicBool>,
) -> Vec<usize> {
    let mut done = Vec::new();
    while !stop.load(Ordering::SeqCst) {
        let n = next.fetch_add(1, Ordering::SeqCst);
        let photo = photos.join(format!("{n}.png"));
        std::fs::write(&photo, png(&solid_photo(SIDE, colour_of(n)))).expect("photo");
        let mut child = Command::new(env!("CARGO_BIN_EXE_cameo"))
            .arg("--data-dir")
            .arg(&data_dir)
            .args(["add", &address_of(n), "--photo"])
            .arg(&photo)
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("cameo add starts");
        let status = loop {
            if stop.load(Ordering::SeqCst) {
                let _ = child.kill();
                let _ = child.wait();
                break None;
            }
            match child.try_wait().expect("wait") {
                Some(status) => break Some(status),
                None => std::thread::sleep(Duration::from_millis(2)),
            }
        };
        if status.is_some_and(|s| s.success()) {
            done.push(n);
        }
    }
    done
}

/// A cookie-keeping client. Built without `spawn_app`, which would otherwise have installed
/// reqwest's TLS provider.
fn browser_for(base: &str) -> Browser {
    cameo::outbound::install_tls_provider();
    Browser {
        client: reqwest::Client::builder()
            .cookie_store(true)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap(),
        base: base.to_string(),
    }
}

/// Signs accounts up over HTTP until `stop`; the server's own writes. Returns those it
/// confirmed (303 to the welcome page).
async fn sign_ups(base: String, round: usize, stop: Arc<AtomicBool>) -> Vec<String> {
    let mut done = Vec::new();
    let mut n = 0;
    while !stop.load(Ordering::SeqCst) {
        let email = format!("member{round}-{n}@crash.example");
        n += 1;
        let browser = browser_for(&base);
        let Ok(page) = browser.client.get(format!("{base}/signup")).send().await else {
            break;
        };
        let Ok(html) = page.text().await else { break };
        let form = form_urlencoded::Serializer::new(String::new())
            .extend_pairs([
                ("csrf", csrf_in(&html).as_str()),
                ("email", &email),
                ("password", PASSWORD),
                ("password_again", PASSWORD),
            ])
            .finish();
        let Ok(response) = browser
            .client
            .post(format!("{base}/signup"))
            .header("Content-Type", "application/x-www-form-urlencoded")
            .body(form)
            .send()
            .await
        else {
            break;
        };
        if response.status() == 303 {
            done.push(email);
        }
    }
    done
}

async fn assert_intact(database: &Path) {
    let pool = cameo::store::open(database).await.expect("reopens");
    let report: Vec<String> = sqlx::query_scalar("PRAGMA integrity_check")
        .fetch_all(pool.sqlite().expect("a SQLite file"))
        .await
        .unwrap();
    assert_eq!(report, ["ok"], "integrity_check after the crash");
    pool.close().await;
}

async fn assert_served(server: &Server, writes: &[usize], accounts: &[String]) {
    let client = browser_for(&server.base).client;
    for &n in writes {
        let url = format!(
            "{}/avatar/{}?s={SIDE}&d=404",
            server.base,
            md5_of(&address_of(n))
        );
        let response = client.get(url).send().await.expect("request");
        assert_eq!(response.status(), 200, "write {n} was reported done");
        let image = decode(response).await;
        assert_eq!(image.dimensions(), (SIDE, SIDE), "write {n}");
        for (x, y) in [(0, 0), (SIDE / 2, SIDE / 2), (SIDE - 1, SIDE - 1)] {
            assert!(
                near(image.get_pixel(x, y), colour_of(n), 2),
                "write {n}: pixel ({x},{y}) is {:?}, not {:?}",
                image.get_pixel(x, y),
                colour_of(n)
            );
        }
    }
    for email in accounts {
        let browser = browser_for(&server.base);
        let csrf = browser.csrf_from("/login").await;
        let (status, _, _) = browser
            .post(
                "/login",
                &[("csrf", &csrf), ("email", email), ("password", PASSWORD)],
            )
            .await;
        assert_eq!(status, 303, "{email} signed up before the crash");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn every_write_reported_done_survives_sigkill() {
    if crate::postgres::skip_on_postgres(
        "SIGKILL durability of the SQLite file (WAL, synchronous=NORMAL)",
    ) {
        return;
    }
    let started = Instant::now();
    let dir = tempfile::tempdir().unwrap();
    let data_dir = dir.path().join("data");
    let photos = dir.path().join("photos");
    std::fs::create_dir_all(&photos).unwrap();
    let next = Arc::new(AtomicUsize::new(0));
    let mut accounts: Vec<String> = Vec::new();
    let mut writes: Vec<usize> = Vec::new();
    let mut server = start_server(&data_dir);
    for round in 0..ROUNDS {
        let stop = Arc::new(AtomicBool::new(false));
        let writers: Vec<_> = (0..WRITERS)
            .map(|_| {
                let (data_dir, photos) = (data_dir.clone(), photos.clone());
                let (next, stop) = (next.clone(), stop.clone());
                std::thread::spawn(move || writer(data_dir, photos, next, stop))
            })
            .collect();
        let members = tokio::spawn(sign_ups(server.base.clone(), round, stop.clone()));
        tokio::time::sleep(WRITE_WINDOW).await;

        // The crash: the server first, then every writer still running.
        server.child.kill().expect("SIGKILL the server");
        server.child.wait().expect("reaped");
        stop.store(true, Ordering::SeqCst);
        for writer in writers {
            writes.extend(writer.join().expect("writer thread"));
        }
        accounts.extend(members.await.expect("sign-ups"));

        assert_intact(&data_dir.join("cameo.db")).await;
        server = start_server(&data_dir);
        assert!(
            writes.len() > round,
            "round {round}: some writes finished ({writes:?})"
        );
        assert_served(&server, &writes, &accounts).await;
        eprintln!(
            "round {round}: {} writes and {} sign-ups reported done so far, all intact",
            writes.len(),
            accounts.len()
        );
    }
    let _ = server.child.kill();
    let _ = server.child.wait();
    assert!(
        !accounts.is_empty(),
        "the server's own writes were exercised"
    );
    assert!(
        started.elapsed() < Duration::from_secs(60),
        "took {:?}",
        started.elapsed()
    );
}

/// Keeps an eye on the helpers' assumptions: distinct neighbouring colours.
#[test]
fn neighbouring_writes_have_distinct_colours() {
    let colours: Vec<[u8; 3]> = (0..64).map(colour_of).collect();
    for pair in colours.windows(2) {
        assert_ne!(pair[0], pair[1]);
    }
}
