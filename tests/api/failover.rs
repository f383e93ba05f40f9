//! A node killed under load costs no client a request: two Cameo processes on one database
//! behind a real nginx using deploy/multi-node/cameo-proxy.conf; one is SIGKILLed while
//! clients keep asking, and every answer is still a correct 200.
//!
//! Needs nginx (`apt-get install nginx`): skipped with one line without it, failed under CI.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use crate::helpers::*;
use crate::postgres::database_url_for;

const NGINX: &str = "/usr/sbin/nginx";

/// A child process stopped with `signal` when dropped: SIGKILL for a Cameo node (a crash,
/// which is the point), SIGTERM for nginx, whose master then stops its workers (a SIGKILLed
/// master leaves them running).
struct Running {
    child: Child,
    signal: i32,
}

impl Drop for Running {
    fn drop(&mut self) {
        // SAFETY: kill(2) on our own child's pid; the child is not yet reaped, so the pid
        // cannot have been reused.
        unsafe { libc::kill(self.child.id() as i32, self.signal) };
        let _ = self.child.wait();
    }
}

async fn wait_ready(url: &str) {
    let client = reqwest::Client::new();
    for _ in 0..200 {
        if let Ok(response) = client.get(url).send().await
            && response.status().is_success()
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("{url} never became ready");
}

async fn start_node(data_dir: &Path) -> (Running, u16) {
    let port = free_port();
    let child = Command::new(env!("CARGO_BIN_EXE_cameo"))
        .arg("--data-dir")
        .arg(data_dir)
        .args(["--bind", &format!("127.0.0.1:{port}")])
        .args([
            "--set",
            "gravatar_mode=off",
            "--set",
            "libravatar_fallback=",
        ])
        .args(["--set", "trusted_proxies=127.0.0.1"])
        .env("RUST_LOG", "warn")
        // One PostgreSQL database for both nodes on the PostgreSQL run.
        .env("CAMEO_DATABASE_URL", database_url_for(data_dir))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("cameo starts");
    let running = Running {
        child,
        signal: libc::SIGKILL,
    };
    wait_ready(&format!("http://127.0.0.1:{port}/readyz")).await;
    (running, port)
}

fn start_nginx(dir: &Path, ports: [u16; 2]) -> (Running, u16) {
    let port = free_port();
    let shared = Path::new(env!("CARGO_MANIFEST_DIR")).join("deploy/multi-node/cameo-proxy.conf");
    let config = dir.join("nginx.conf");
    std::fs::write(
        &config,
        format!(
            r#"worker_processes 1;
daemon off;
pid {dir}/nginx.pid;
error_log {dir}/error.log warn;
events {{ worker_connections 512; }}
http {{
    access_log off;
    client_body_temp_path {dir}/body;
    proxy_temp_path {dir}/proxy;
    upstream cameo {{
        server 127.0.0.1:{a} max_fails=1 fail_timeout=5s;
        server 127.0.0.1:{b} max_fails=1 fail_timeout=5s;
        keepalive 16;
    }}
    server {{
        listen 127.0.0.1:{port};
        location / {{
            proxy_pass http://cameo;
            include {shared};
        }}
    }}
}}
"#,
            dir = dir.display(),
            a = ports[0],
            b = ports[1],
            shared = shared.display(),
        ),
    )
    .unwrap();
    let child = Command::new(NGINX)
        .args(["-p", &dir.display().to_string(), "-c"])
        .arg(&config)
        .args(["-e", &dir.join("error.log").display().to_string()])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("nginx starts");
    (
        Running {
            child,
            signal: libc::SIGTERM,
        },
        port,
    )
}

#[tokio::test]
async fn a_node_killed_under_load_costs_no_client_a_request() {
    if !Path::new(NGINX).exists() {
        assert!(
            std::env::var_os("CI").is_none(),
            "{NGINX} is needed (apt-get install nginx)"
        );
        eprintln!("skipping: {NGINX} is not installed (apt-get install nginx)");
        return;
    }
    cameo::outbound::install_tls_provider();
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let (first, first_port) = start_node(&data).await;
    let (_second, second_port) = start_node(&data).await;
    let photo = dir.path().join("alice.png");
    std::fs::write(&photo, png(&solid_photo(64, RED))).unwrap();
    let added = run_cameo(
        &data,
        &[
            "add",
            "alice@example.org",
            "--photo",
            photo.to_str().unwrap(),
        ],
        &[],
    );
    assert!(added.status.success(), "{}", stderr(&added));
    let nginx_dir = dir.path().join("nginx");
    std::fs::create_dir_all(&nginx_dir).unwrap();
    let (_nginx, port) = start_nginx(&nginx_dir, [first_port, second_port]);
    let base = format!("http://127.0.0.1:{port}");
    wait_ready(&format!("{base}/readyz")).await;

    let alice = md5_of("alice@example.org");
    let stop = Arc::new(AtomicBool::new(false));
    let (answered, failed) = (Arc::new(AtomicU64::new(0)), Arc::new(AtomicU64::new(0)));
    let clients: Vec<_> = (0..16u32)
        .map(|n| {
            let (stop, answered, failed) = (stop.clone(), answered.clone(), failed.clone());
            let (base, alice) = (base.clone(), alice.clone());
            tokio::spawn(async move {
                let client = reqwest::Client::new();
                let mut round = 0u32;
                while !stop.load(Ordering::Relaxed) {
                    round += 1;
                    // Stored photos at a few sizes, and generated defaults for new hashes.
                    let url = if round.is_multiple_of(2) {
                        format!("{base}/avatar/{alice}?s={}", 16 + (round % 4) * 16)
                    } else {
                        format!(
                            "{base}/avatar/{:032x}?s=32&d=identicon",
                            n * 100_000 + round
                        )
                    };
                    match client.get(&url).send().await {
                        Ok(response) if response.status() == 200 => {
                            let bytes = response.bytes().await.unwrap_or_default();
                            if image::load_from_memory(&bytes).is_ok() {
                                answered.fetch_add(1, Ordering::Relaxed);
                                continue;
                            }
                            failed.fetch_add(1, Ordering::Relaxed);
                        }
                        Ok(_) | Err(_) => {
                            failed.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                }
            })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(800)).await;
    let before_kill = answered.load(Ordering::Relaxed);
    drop(first); // SIGKILL, as a crash or an OOM kill would.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    stop.store(true, Ordering::Relaxed);
    for client in clients {
        client.await.unwrap();
    }
    let (answered, failed) = (
        answered.load(Ordering::Relaxed),
        failed.load(Ordering::Relaxed),
    );
    assert!(before_kill > 50, "load ran before the kill: {before_kill}");
    assert!(answered > before_kill + 50, "and after it: {answered}");
    assert_eq!(
        failed,
        0,
        "{failed} of {} requests failed",
        answered + failed
    );
    let red = decode(
        reqwest::get(format!("{base}/avatar/{alice}?s=16"))
            .await
            .unwrap(),
    )
    .await;
    assert!(
        near(red.get_pixel(8, 8), RED, 8),
        "the survivor serves alice"
    );
}
