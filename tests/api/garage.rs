//! A real S3-compatible object store for the photo-bucket tests: Garage (the `garage`
//! binary, `cargo install garage --locked`), one single-node cluster per test, on loopback
//! ports in a temporary directory, stopped when the test ends.
//!
//! When `garage` is not installed the tests are skipped with one line saying so; under `CI`
//! they fail instead.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use crate::helpers::free_port;

/// The access key imported into every test cluster (Garage's formats: `GK` + 24 hex digits,
/// a 64-hex-digit secret).
pub const KEY_ID: &str = "GK0123456789abcdef01234567";
pub const SECRET: &str = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
pub const BUCKET: &str = "cameo-photos";

pub struct Garage {
    child: Option<Child>,
    binary: PathBuf,
    config: PathBuf,
    dir: tempfile::TempDir,
    s3_port: u16,
}

/// Where `garage` is: on `PATH`, or where `cargo install` puts it.
fn garage_binary() -> Option<PathBuf> {
    let from_path = std::env::var_os("PATH").into_iter().flat_map(|paths| {
        std::env::split_paths(&paths)
            .map(|dir| dir.join("garage"))
            .collect::<Vec<_>>()
    });
    let cargo_home = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|home| Path::new(&home).join(".cargo")));
    from_path
        .chain(cargo_home.map(|home| home.join("bin").join("garage")))
        .find(|path| path.is_file())
}

impl Garage {
    /// A running single-node Garage with [`BUCKET`] readable and writable by [`KEY_ID`], or
    /// `None` (after saying why) when Garage is not installed and this is not CI.
    pub async fn start() -> Option<Garage> {
        let Some(binary) = garage_binary() else {
            assert!(
                std::env::var_os("CI").is_none(),
                "garage is needed for the photo-bucket tests (cargo install garage --locked)"
            );
            eprintln!("skipping: garage is not installed (cargo install garage --locked)");
            return None;
        };
        let dir = tempfile::tempdir().expect("temp dir");
        let (rpc_port, s3_port) = (free_port(), free_port());
        let config = dir.path().join("garage.toml");
        std::fs::write(
            &config,
            format!(
                r#"metadata_dir = "{meta}"
data_dir = "{data}"
db_engine = "sqlite"
replication_factor = 1
rpc_bind_addr = "127.0.0.1:{rpc_port}"
rpc_public_addr = "127.0.0.1:{rpc_port}"
rpc_secret = "{secret}"

[s3_api]
s3_region = "garage"
api_bind_addr = "127.0.0.1:{s3_port}"
root_domain = ".s3.garage.localhost"
"#,
                meta = dir.path().join("meta").display(),
                data = dir.path().join("data").display(),
                secret = SECRET,
            ),
        )
        .expect("garage config");
        let mut garage = Garage {
            child: None,
            binary,
            config,
            dir,
            s3_port,
        };
        garage.run_server();
        garage.set_up_cluster().await;
        Some(garage)
    }

    fn run_server(&mut self) {
        let log = std::fs::File::create(self.dir.path().join("garage.log")).expect("log file");
        let child = Command::new(&self.binary)
            .arg("-c")
            .arg(&self.config)
            .arg("server")
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("garage starts");
        self.child = Some(child);
    }

    /// `garage …` against this cluster: its standard output, or a panic with its error.
    fn cli(&self, args: &[&str]) -> Result<String, String> {
        let output = Command::new(&self.binary)
            .arg("-c")
            .arg(&self.config)
            .args(args)
            .env("RUST_LOG", "warn")
            .output()
            .expect("garage runs");
        if output.status.success() {
            Ok(String::from_utf8_lossy(&output.stdout).into_owned())
        } else {
            Err(String::from_utf8_lossy(&output.stderr).into_owned())
        }
    }

    /// Waits until the server answers over RPC (`garage status`; `node id` reads the key
    /// from disk and answers before the server listens).
    async fn wait_for_rpc(&self) {
        let mut answer = Err(String::new());
        for _ in 0..150 {
            answer = self.cli(&["status"]);
            if answer.is_ok() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("garage never answered: {answer:?}{}", self.log());
    }

    /// Waits for the node, gives it a layout, then the key and the bucket.
    async fn set_up_cluster(&self) {
        self.wait_for_rpc().await;
        let node = self
            .cli(&["node", "id", "-q"])
            .unwrap_or_else(|e| panic!("garage node id: {e}{}", self.log()));
        let node_id = node
            .trim()
            .split('@')
            .next()
            .unwrap_or_default()
            .to_string();
        let steps: [&[&str]; 5] = [
            &["layout", "assign", "-z", "dc1", "-c", "1G", &node_id],
            &["layout", "apply", "--version", "1"],
            &["key", "import", "--yes", "-n", "cameo", KEY_ID, SECRET],
            &["bucket", "create", BUCKET],
            &[
                "bucket", "allow", "--read", "--write", "--owner", BUCKET, "--key", KEY_ID,
            ],
        ];
        for step in steps {
            if let Err(error) = self.cli(step) {
                panic!("garage {step:?} failed: {error}{}", self.log());
            }
        }
    }

    fn log(&self) -> String {
        let log = std::fs::read_to_string(self.dir.path().join("garage.log")).unwrap_or_default();
        format!("\n--- garage log ---\n{log}")
    }

    /// The S3 endpoint, `http://127.0.0.1:PORT`.
    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.s3_port)
    }

    /// Points `config` at this cluster's bucket.
    pub fn configure(&self, config: &mut cameo::config::Config) {
        config.photo_store = cameo::photo_store::PhotoStoreSetting::S3 {
            bucket: BUCKET.into(),
            prefix: "photos".into(),
        };
        config.s3_endpoint = self.endpoint();
        config.s3_region = "garage".into();
        config.s3_access_key_id = KEY_ID.into();
        config.s3_secret_access_key = SECRET.into();
    }

    /// Stops the server (as a crash would: SIGKILL).
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts the server again on the same ports and data.
    pub async fn restart(&mut self) {
        self.stop();
        self.run_server();
        self.wait_for_rpc().await;
    }
}

impl Drop for Garage {
    fn drop(&mut self) {
        self.stop();
    }
}
