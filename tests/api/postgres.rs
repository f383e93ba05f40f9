//! Which backend this test binary runs on, and for `api_postgres` the PostgreSQL cluster.
//!
//! The suite is built twice from the same files (Cargo.toml): `api` runs on SQLite, as a
//! default install does; `api_postgres` gives every test's data directory its own database
//! (`t_<n>`, a copy of one migrated template, dropped when its `TestApp` is) on one
//! PostgreSQL cluster per test binary. The cluster is started on first use from the newest
//! `/usr/lib/postgresql/*/bin` in a temporary directory (as the `postgres` user when the
//! tests run as root: PostgreSQL refuses to run as root), with trust authentication on
//! loopback and fsync off. An `atexit` handler stops it
//! when the binary exits; a watcher process stops it too should the binary die without
//! running the handler, and deletes its directory once the binary is gone. Without
//! PostgreSQL installed the binary skips with one line, or fails under `CI`.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, OnceLock};

use sqlx::Connection;

/// Whether this binary is the PostgreSQL run of the suite.
pub fn is_postgres() -> bool {
    env!("CARGO_CRATE_NAME") == "api_postgres"
}

/// For a test that cannot mean anything on PostgreSQL: says why and returns true there.
pub fn skip_on_postgres(reason: &str) -> bool {
    if is_postgres() {
        say(&format!("skipped on PostgreSQL: {reason}"));
    }
    is_postgres()
}

/// For a test that needs the PostgreSQL cluster (it runs in the `api_postgres` target):
/// says so and returns true in the SQLite one.
pub fn skip_on_sqlite(reason: &str) -> bool {
    if !is_postgres() {
        say(&format!("runs in the PostgreSQL target only: {reason}"));
    }
    !is_postgres()
}

/// A line on the real stderr: libtest captures `eprintln!` of passing tests (and all of it
/// when the binary exits early), and these lines are meant to be seen.
fn say(line: &str) {
    use std::io::Write;
    let _ = writeln!(std::io::stderr(), "{line}");
}

/// The `database_url` for the data directory `dir`: empty (its SQLite file) on the SQLite
/// run; on the PostgreSQL run a database of its own, created the first time `dir` is named,
/// so the server, the operator's pool and the `cameo` binary all meet in it.
pub fn database_url_for(dir: &Path) -> String {
    if !is_postgres() {
        return String::new();
    }
    let mut databases = DATABASES.lock().unwrap_or_else(|e| e.into_inner());
    let databases = databases.get_or_insert_with(HashMap::new);
    if let Some(url) = databases.get(dir) {
        return url.clone();
    }
    let url = cluster().create_database();
    databases.insert(dir.to_path_buf(), url.clone());
    url
}

/// Drops the database of `dir` once its test is done (a `TestApp` is dropped), so the
/// cluster holds only the databases of running tests: each is a copy of `template1`, and
/// ~190 of them took 2 GB of a shared disk.
pub fn drop_database_for(dir: &Path) {
    if !is_postgres() {
        return;
    }
    let url = DATABASES
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .as_mut()
        .and_then(|databases| databases.remove(dir));
    if let (Some(url), Some(cluster)) = (url, CLUSTER.get()) {
        let name = url.rsplit('/').next().unwrap_or_default();
        // FORCE: the test's server may still hold connections. In the background: the next
        // test need not wait for the files to go.
        drop(cluster.admin(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")));
    }
}

/// A cluster of one test's own, which it may stop and start again (the shared one serves
/// every other test at the same time), durable like a production server. Stopped when
/// dropped; its files go with the watcher, as the shared cluster's do.
pub struct OwnCluster(Cluster);

impl OwnCluster {
    pub fn start() -> OwnCluster {
        let (version, bin) = newest_postgres_bin().expect("PostgreSQL is installed");
        let cluster = Cluster::start(version, bin);
        // Make it durable: restart with fsync and synchronous commits on.
        cluster.stop();
        cluster.pg_start(true);
        OwnCluster(cluster)
    }

    /// A durable cluster that takes connections only over TLS (`hostssl` in `pg_hba.conf`),
    /// with a certificate for `127.0.0.1` signed by a CA of its own; returns the CA's file,
    /// for `sslrootcert`. The certificates are made with the `openssl` program, which
    /// Debian's PostgreSQL packages depend on.
    pub fn start_with_tls() -> (OwnCluster, PathBuf) {
        let (version, bin) = newest_postgres_bin().expect("PostgreSQL is installed");
        let mut cluster = Cluster::start(version, bin);
        cluster.stop();
        let ca = cluster.require_tls();
        cluster.pg_start(true);
        (OwnCluster(cluster), ca)
    }

    /// A fresh, migrated database in this cluster.
    pub fn database(&self) -> String {
        self.0.create_database()
    }

    /// Stops the server at once (`-m immediate`, as a crash would).
    pub fn stop(&self) {
        self.0.stop();
    }

    /// Starts the server again on the same port and data.
    pub fn start_again(&self) {
        self.0.pg_start(true);
    }
}

impl Drop for OwnCluster {
    fn drop(&mut self) {
        self.0.stop();
    }
}

/// The migrated database every test's database is a copy of.
const TEMPLATE: &str = "cameo_template";

/// The database of each data directory named so far.
static DATABASES: Mutex<Option<HashMap<PathBuf, String>>> = Mutex::new(None);

/// A running cluster: where it lives and how to reach it.
struct Cluster {
    bin: PathBuf,
    /// The major version (`/usr/lib/postgresql/VERSION/bin`).
    version: u32,
    root: PathBuf,
    port: u16,
    as_postgres: bool,
    next_database: AtomicU64,
    /// The server's certificate and key, once [`Cluster::require_tls`] made them.
    tls: Option<(PathBuf, PathBuf)>,
}

static CLUSTER: OnceLock<Cluster> = OnceLock::new();

fn cluster() -> &'static Cluster {
    CLUSTER.get_or_init(|| {
        let Some((version, bin)) = newest_postgres_bin() else {
            let line =
                "install postgresql (apt-get install postgresql) to run the PostgreSQL suite";
            if std::env::var_os("CI").is_some() {
                panic!("{line}");
            }
            // Skips the whole binary: every test of it would need the cluster.
            say(line);
            std::process::exit(0);
        };
        let cluster = Cluster::start(version, bin);
        // SAFETY: registers a plain `extern "C" fn` that only reads a `OnceLock`.
        unsafe { libc::atexit(stop_cluster_at_exit) };
        cluster
    })
}

extern "C" fn stop_cluster_at_exit() {
    if let Some(cluster) = CLUSTER.get() {
        cluster.stop();
    }
}

/// The `bin` directory of the newest installed PostgreSQL that has `initdb`.
fn newest_postgres_bin() -> Option<(u32, PathBuf)> {
    let versions = std::fs::read_dir("/usr/lib/postgresql").ok()?;
    versions
        .filter_map(|entry| {
            let entry = entry.ok()?;
            let version: u32 = entry.file_name().to_str()?.parse().ok()?;
            let bin = entry.path().join("bin");
            bin.join("initdb").exists().then_some((version, bin))
        })
        .max_by_key(|(version, _)| *version)
}

impl Cluster {
    fn start(version: u32, bin: PathBuf) -> Cluster {
        let root = tempfile::Builder::new()
            .prefix("cameo-pg-")
            .tempdir()
            .expect("temp dir for PostgreSQL")
            .keep();
        // SAFETY: geteuid has no preconditions.
        let as_postgres = unsafe { libc::geteuid() } == 0;
        if as_postgres {
            let status = Command::new("chown")
                .args(["postgres:postgres"])
                .arg(&root)
                .status()
                .expect("chown runs");
            assert!(status.success(), "chown of {} failed", root.display());
        }
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let cluster = Cluster {
            bin,
            version,
            root,
            port,
            as_postgres,
            next_database: AtomicU64::new(0),
            tls: None,
        };
        let data = cluster.root.join("data");
        cluster.run(
            "initdb",
            &[
                "-D".as_ref(),
                data.as_os_str(),
                "-A".as_ref(),
                "trust".as_ref(),
                "-U".as_ref(),
                "postgres".as_ref(),
                "-E".as_ref(),
                "UTF8".as_ref(),
                "--no-sync".as_ref(),
            ],
        );
        cluster.pg_start(false);
        cluster.watch_for_exit();
        cluster.prepare_template();
        cluster
    }

    /// Starts the server on the cluster's data. The shared cluster trades durability for
    /// speed (no fsync, asynchronous commits); a `durable` one keeps every commit it
    /// reported, across an immediate stop, as a production server does.
    fn pg_start(&self, durable: bool) {
        let speed = if durable {
            ""
        } else {
            "-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        };
        let tls = match &self.tls {
            Some((certificate, key)) => format!(
                "-c ssl=on -c ssl_cert_file={} -c ssl_key_file={}",
                certificate.display(),
                key.display()
            ),
            None => String::new(),
        };
        let options = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1 {speed} {tls} -c max_connections=400 \
             -c wal_level=minimal -c max_wal_senders=0 -c max_wal_size=64MB",
            self.port,
            self.root.display()
        );
        let (data, log) = (self.root.join("data"), self.root.join("postgres.log"));
        self.run(
            "pg_ctl",
            &[
                "-D".as_ref(),
                data.as_os_str(),
                "-l".as_ref(),
                log.as_os_str(),
                "-o".as_ref(),
                options.as_ref(),
                "-w".as_ref(),
                "start".as_ref(),
            ],
        );
    }

    /// Makes a CA and a certificate for `127.0.0.1` signed by it, and lets clients in over
    /// TLS only (local socket connections stay open for `pg_ctl`). Returns the CA's file.
    fn require_tls(&mut self) -> PathBuf {
        let dir = self.root.join("tls");
        std::fs::create_dir_all(&dir).expect("tls dir");
        std::fs::write(
            dir.join("server.ext"),
            "subjectAltName=IP:127.0.0.1,DNS:localhost\n",
        )
        .expect("extension file");
        let script = "set -e
            openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
              -keyout ca.key -out ca.pem -days 2 -subj /CN=cameo-test-ca
            openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
              -keyout server.key -out server.csr -subj /CN=127.0.0.1
            openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial \
              -out server.pem -days 2 -extfile server.ext
            chmod 600 server.key";
        let output = Command::new("sh")
            .args(["-c", script])
            .current_dir(&dir)
            .stdin(Stdio::null())
            .output()
            .expect("openssl runs");
        assert!(
            output.status.success(),
            "making the test certificates failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        if self.as_postgres {
            let status = Command::new("chown")
                .args(["-R", "postgres:postgres"])
                .arg(&dir)
                .status()
                .expect("chown runs");
            assert!(status.success(), "chown of {} failed", dir.display());
        }
        std::fs::write(
            self.root.join("data").join("pg_hba.conf"),
            "local all all trust\nhostssl all all 127.0.0.1/32 trust\n",
        )
        .expect("pg_hba.conf");
        self.tls = Some((dir.join("server.pem"), dir.join("server.key")));
        dir.join("ca.pem")
    }

    /// Creates `cameo_template`, migrated by the store itself, which every test's database
    /// is copied from: each test's server then finds its migrations applied (same checksums)
    /// instead of running them. Its pool is closed again, as a template must have no
    /// connections while it is copied.
    fn prepare_template(&self) {
        self.admin(format!("CREATE DATABASE {TEMPLATE}"))
            .join()
            .expect("the template was created");
        let url = format!("postgres://postgres@127.0.0.1:{}/{TEMPLATE}", self.port);
        on_a_thread_of_its_own(async move {
            let db = cameo::store::open_postgres(&url)
                .await
                .expect("the template migrates");
            db.close().await;
        })
        .join()
        .expect("the template was migrated");
    }

    /// Runs a PostgreSQL program (as `postgres` when we are root), output to the log.
    fn run(&self, program: &str, args: &[&std::ffi::OsStr]) {
        let path = self.bin.join(program);
        let mut command = if self.as_postgres {
            let mut command = Command::new("runuser");
            command.args(["-u", "postgres", "--"]).arg(&path);
            command
        } else {
            Command::new(&path)
        };
        let output = command
            .args(args)
            .current_dir(&self.root)
            .stdin(Stdio::null())
            .output()
            .unwrap_or_else(|e| panic!("{program} cannot run: {e}"));
        assert!(
            output.status.success(),
            "{program} failed: {}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
    }

    /// A process that outlives this one only to stop the cluster and delete it, should this
    /// binary die without running its `atexit` handler (a signal, an abort).
    // Never waited for: it is meant to outlive this process.
    #[allow(clippy::zombie_processes)]
    fn watch_for_exit(&self) {
        let script = format!(
            "while kill -0 {pid} 2>/dev/null; do sleep 0.2; done; \
             {stop} -D {data} -m immediate stop >/dev/null 2>&1; rm -rf {root}",
            pid = std::process::id(),
            stop = self.pg_ctl_as_user(),
            data = self.root.join("data").display(),
            root = self.root.display(),
        );
        Command::new("sh")
            .args(["-c", &script])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("the cluster's watcher starts");
    }

    fn pg_ctl_as_user(&self) -> String {
        let pg_ctl = self.bin.join("pg_ctl");
        if self.as_postgres {
            format!("runuser -u postgres -- {}", pg_ctl.display())
        } else {
            pg_ctl.display().to_string()
        }
    }

    fn stop(&self) {
        let data = self.root.join("data");
        let _ = Command::new("sh")
            .args([
                "-c",
                &format!(
                    "{} -D {} -m immediate -w stop",
                    self.pg_ctl_as_user(),
                    data.display()
                ),
            ])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
        // The directory is left to the watcher, which deletes it once this process is gone:
        // deleting a few hundred megabytes here would hold up the end of `cargo test`.
    }

    /// Creates a fresh, empty database and returns its URL.
    fn create_database(&self) -> String {
        let n = self.next_database.fetch_add(1, Ordering::SeqCst);
        let name = format!("t_{n}");
        // FILE_COPY (PostgreSQL 15+) copies the template's files instead of writing all of
        // them into the WAL as well.
        let strategy = if self.version >= 15 {
            " STRATEGY = FILE_COPY"
        } else {
            ""
        };
        self.admin(format!(
            "CREATE DATABASE {name} TEMPLATE {TEMPLATE}{strategy}"
        ))
        .join()
        .expect("the database was created");
        format!("postgres://postgres@127.0.0.1:{}/{name}", self.port)
    }

    /// Runs one statement as the superuser, on a thread of its own (callers may be inside a
    /// runtime, or not); join the thread to wait for it.
    fn admin(&self, statement: String) -> std::thread::JoinHandle<()> {
        let admin = format!("postgres://postgres@127.0.0.1:{}/postgres", self.port);
        on_a_thread_of_its_own(async move {
            let mut connection = sqlx::PgConnection::connect(&admin)
                .await
                .expect("the test cluster answers");
            sqlx::raw_sql(sqlx::AssertSqlSafe(statement.clone()))
                .execute(&mut connection)
                .await
                .unwrap_or_else(|e| panic!("{statement}: {e}"));
        })
    }
}

/// Runs `work` to completion on a new thread with a runtime of its own (callers may be
/// inside a runtime, or not); join the thread to wait for it.
fn on_a_thread_of_its_own(
    work: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::thread::JoinHandle<()> {
    std::thread::spawn(move || {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime")
            .block_on(work);
    })
}
