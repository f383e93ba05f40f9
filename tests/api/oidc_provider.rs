//! A real, certified OpenID provider for the single sign-on tests: panva's `oidc-provider`
//! (npm), run by `tests/oidc/provider.mjs` under Node on a loopback port, one per test,
//! stopped when the test ends.
//!
//! When `node` or `tests/oidc/node_modules` is missing the tests are skipped with one line
//! saying what to install; under `CI` they fail instead (`.ci/run` runs `npm ci`).

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde_json::json;

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
