//! A real, certified OpenID provider for the single sign-on tests: panva's `oidc-provider`
//! (npm), run by `tests/oidc/provider.mjs` under Node on a loopback port, one per test,
//! stopped when the test ends.
//!
//! [`sign_in_at_provider`] walks its login and consent forms as a browser would.
//!
//! When `node` or `tests/oidc/node_modules` is missing the tests are skipped with one line
//! saying what to install; under `CI` they fail instead (`.ci/run` runs `npm ci`).

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde_json::json;

use crate::browser::Browser;

/// Cameo's callback path, as registered at the provider.
pub const CALLBACK: &str = "/login/sso/callback";

pub const CLIENT_ID: &str = "cameo-test";
pub const CLIENT_SECRET: &str = "a-client-secret-only-these-tests-know";

/// One account at the provider: its login name (the `sub`) and claims.
pub struct Person {
    pub login: &'static str,
    pub email: &'static str,
    pub email_verified: bool,
    pub picture: Option<String>,
}

pub struct Provider {
    pub issuer: String,
    child: Child,
    _dir: tempfile::TempDir,
}

fn oidc_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/oidc")
}

fn node() -> Option<PathBuf> {
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|dir| dir.join("node"))
            .find(|path| path.is_file())
    })
}

impl Provider {
    /// A running provider that lets `people` log in (any password) and sends them back to
    /// `redirect_uri`; `None` (after one line) when Node or the package is missing outside CI.
    pub async fn start(redirect_uri: &str, people: &[Person]) -> Option<Provider> {
        let installed = oidc_dir().join("node_modules/oidc-provider").is_dir();
        let Some(node) = node().filter(|_| installed) else {
            assert!(
                std::env::var_os("CI").is_none(),
                "node and tests/oidc/node_modules are needed (npm ci --prefix tests/oidc)"
            );
            eprintln!(
                "skipping: node or tests/oidc/node_modules is missing (npm ci --prefix tests/oidc)"
            );
            return None;
        };
        let accounts: serde_json::Map<String, serde_json::Value> = people
            .iter()
            .map(|person| {
                let mut claims = json!({
                    "email": person.email,
                    "email_verified": person.email_verified,
                    "name": person.login,
                });
                if let Some(picture) = &person.picture {
                    claims["picture"] = json!(picture);
                }
                (person.login.to_string(), claims)
            })
            .collect();
        let config = json!({
            "port": 0,
            "client_id": CLIENT_ID,
            "client_secret": CLIENT_SECRET,
            "redirect_uri": redirect_uri,
            "accounts": accounts,
        });
        // Its own working directory, so nothing it writes lands in the tree.
        let dir = tempfile::tempdir().expect("temp dir");
        let log = std::fs::File::create(dir.path().join("provider.log")).expect("log file");
        let mut child = Command::new(node)
            .arg(oidc_dir().join("provider.mjs"))
            .arg(config.to_string())
            .current_dir(dir.path())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(log)
            .spawn()
            .expect("node starts");
        let stdout = child.stdout.take().expect("piped stdout");
        let issuer = tokio::time::timeout(
            Duration::from_secs(20),
            tokio::task::spawn_blocking(move || {
                let mut line = String::new();
                BufReader::new(stdout).read_line(&mut line).ok();
                line.trim().strip_prefix("ISSUER ").map(str::to_string)
            }),
        )
        .await
        .expect("the provider starts within 20 s")
        .expect("reading its first line")
        .expect("the provider prints `ISSUER <url>`");
        Some(Provider {
            issuer,
            child,
            _dir: dir,
        })
    }
}

impl Drop for Provider {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        // A failed test shows what the provider said (its warnings and errors).
        if std::thread::panicking() {
            let log = std::fs::read_to_string(self._dir.path().join("provider.log"));
            eprintln!("oidc-provider's log:\n{}", log.unwrap_or_default());
        }
    }
}

/// The value of `attribute="…"` in the first tag of `html` holding `marker`.
fn attribute_after(html: &str, marker: &str, attribute: &str) -> String {
    let from = html
        .find(marker)
        .unwrap_or_else(|| panic!("{marker} in {html}"));
    let tag_start = html[..from].rfind('<').unwrap();
    let tag = &html[tag_start..];
    let key = format!("{attribute}=\"");
    let at = tag.find(&key).unwrap() + key.len();
    tag[at..at + tag[at..].find('"').unwrap()].replace("&amp;", "&")
}

/// Starts a login at Cameo and walks the provider's login and consent forms as `login`,
/// returning the callback URL the provider sends the browser back with (not yet followed).
pub async fn sign_in_at_provider(browser: &Browser, provider: &Provider, login: &str) -> String {
    sign_in_from(browser, provider, login, "/login/sso").await
}

/// As [`sign_in_at_provider`], starting at `start` (a path with its query).
pub async fn sign_in_from(
    browser: &Browser,
    provider: &Provider,
    login: &str,
    start: &str,
) -> String {
    let mut url = format!("{}{start}", browser.base);
    for _ in 0..20 {
        if url.starts_with(&format!("{}{CALLBACK}", browser.base)) {
            return url;
        }
        let response = browser.client.get(&url).send().await.unwrap();
        if response.status().is_redirection() {
            let location = response.headers()["location"].to_str().unwrap().to_string();
            url = reqwest::Url::parse(&url)
                .unwrap()
                .join(&location)
                .unwrap()
                .to_string();
            continue;
        }
        let html = response.text().await.unwrap();
        let action = attribute_after(&html, "<form", "action");
        let fields: Vec<(&str, &str)> = if html.contains("value=\"login\"") {
            vec![("prompt", "login"), ("login", login), ("password", "any")]
        } else {
            vec![("prompt", "consent")]
        };
        let target = reqwest::Url::parse(&provider.issuer)
            .unwrap()
            .join(&action)
            .unwrap();
        let body: String = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(&fields)
            .finish();
        let response = browser
            .client
            .post(target)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body)
            .send()
            .await
            .unwrap();
        assert!(response.status().is_redirection(), "{}", response.status());
        let location = response.headers()["location"].to_str().unwrap().to_string();
        url = reqwest::Url::parse(&provider.issuer)
            .unwrap()
            .join(&location)
            .unwrap()
            .to_string();
    }
    panic!("the provider never sent the browser back");
}
