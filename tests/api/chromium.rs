//! Headless Chromium driven over WebDriver (Debian's `chromium` and `chromium-driver`), for
//! the tests that need a real browser: scripts, forms and image loading as users get them.
//!
//! [`Chromium::launch`] starts its own `chromedriver` on a free loopback port and a browser
//! with a fresh profile. When the browser is not installed the UI tests are skipped with a
//! message, except under CI (`CI` set), where a missing browser fails the test: `.ci/run`
//! installs both packages.

use crate::helpers::free_port;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use fantoccini::{Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;
use serde_json::json;

const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
/// The flags the project's brief asks for, plus a window large enough for every page and
/// reduced motion (the stylesheet scrolls smoothly otherwise, and WebDriver clicks land on a
/// page still moving).
const FLAGS: [&str; 10] = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-dev-shm-usage",
    "--window-size=1280,1600",
    "--force-prefers-reduced-motion",
];

pub struct Chromium {
    pub client: Client,
    driver: Child,
    _profile: tempfile::TempDir,
}

impl Chromium {
    /// A browser session, or `None` (after saying why) when Chromium is not installed and
    /// this is not CI.
    pub async fn launch() -> Option<Chromium> {
        Chromium::launch_with(&[]).await
    }

    /// As [`Chromium::launch`], with more command-line flags (e.g. `--force-dark-mode`).
    pub async fn launch_with(extra_flags: &[&str]) -> Option<Chromium> {
        let installed =
            std::path::Path::new(CHROMIUM).exists() && std::path::Path::new(CHROMEDRIVER).exists();
        if !installed {
            assert!(
                std::env::var_os("CI").is_none(),
                "{CHROMIUM} and {CHROMEDRIVER} are needed (apt-get install chromium chromium-driver)"
            );
            eprintln!("skipping: {CHROMIUM} or {CHROMEDRIVER} is not installed");
            return None;
        }
        let port = free_port();
        let driver = Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver starts");
        let profile = tempfile::tempdir().expect("profile dir");
        let mut args: Vec<String> = FLAGS.iter().map(|f| f.to_string()).collect();
        args.push(format!("--user-data-dir={}", profile.path().display()));
        args.extend(extra_flags.iter().map(|flag| flag.to_string()));
        let capabilities = json!({
            "goog:chromeOptions": { "binary": CHROMIUM, "args": args }
        });
        let serde_json::Value::Object(capabilities) = capabilities else {
            unreachable!("a JSON object literal")
        };
        let url = format!("http://127.0.0.1:{port}");
        let mut last_error = String::new();
        // chromedriver takes a moment to listen; a session takes a moment to start.
        for _ in 0..100 {
            match ClientBuilder::new(HttpConnector::new())
                .capabilities(capabilities.clone())
                .connect(&url)
                .await
            {
                Ok(client) => {
                    return Some(Chromium {
                        client,
                        driver,
                        _profile: profile,
                    });
                }
                Err(error) => last_error = error.to_string(),
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("no WebDriver session from chromedriver: {last_error}");
    }

    /// Waits (up to 10 s) until `script` (a JS expression) is truthy.
    pub async fn wait_until(&self, script: &str) {
        for _ in 0..200 {
            let value = self
                .client
                .execute(&format!("return !!({script});"), vec![])
                .await
                .expect("script runs");
            if value == json!(true) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let page = self.client.source().await.unwrap_or_default();
        panic!("timed out waiting for `{script}` on:\n{page}");
    }

    /// The value of a JS expression.
    pub async fn eval(&self, script: &str) -> serde_json::Value {
        self.client
            .execute(&format!("return ({script});"), vec![])
            .await
            .expect("script runs")
    }

    pub async fn fill(&self, css: &str, text: &str) {
        let field = self.client.find(Locator::Css(css)).await.expect(css);
        field.clear().await.expect("clear");
        field.send_keys(text).await.expect("type");
    }

    pub async fn click(&self, css: &str) {
        self.client
            .find(Locator::Css(css))
            .await
            .expect(css)
            .click()
            .await
            .expect("click");
    }

    /// Ends the session (which closes the browser) and stops chromedriver.
    pub async fn quit(mut self) {
        let _ = self.client.clone().close().await;
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

impl Drop for Chromium {
    fn drop(&mut self) {
        // A failed test never reaches `quit`; do not leave chromedriver running.
        let _ = self.driver.kill();
    }
}
