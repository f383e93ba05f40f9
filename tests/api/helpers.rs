//! `spawn_app()` and the small helpers every test uses: pictures, fetching, decoding.

use std::path::{Path, PathBuf};
use std::process::Output;

use cameo::Application;
use cameo::config::Config;
use cameo::identity::Identity;
use cameo::store::{Db, Pool};
use image::{DynamicImage, ImageEncoder, Rgb, RgbImage, RgbaImage};

use crate::postgres::database_url_for;

pub struct TestApp {
    pub base: String,
    pub client: reqwest::Client,
    pub config: Config,
    /// A second connection pool on the same database, standing in for an operator's process.
    pub operator: Db,
    pub dir: tempfile::TempDir,
}

/// Starts Cameo with every default except a fresh data directory and an ephemeral port.
pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

/// Starts Cameo sending its mail to a fresh SMTP listener on loopback (returned, to read the
/// mails), after `adjust` has changed the configuration.
pub async fn spawn_app_with_mail(
    adjust: impl FnOnce(&mut Config),
) -> (TestApp, crate::smtp::SmtpSink) {
    let smtp = crate::smtp::SmtpSink::start().await;
    let url = smtp.url();
    let app = spawn_app_with(move |c| {
        c.smtp_url = url;
        adjust(c);
    })
    .await;
    (app, smtp)
}

/// Starts Cameo after `adjust` has changed the configuration.
pub async fn spawn_app_with(adjust: impl FnOnce(&mut Config)) -> TestApp {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut config = Config::for_data_dir(dir.path());
    config.image_workers = 2;
    // No internet here: tests that exercise the fallback point it at a local fake.
    config.gravatar_mode = cameo::config::GravatarMode::Off;
    config.libravatar_fallback = String::new();
    adjust(&mut config);
    if config.database_url.is_empty() {
        config.database_url = database_url_for(&config.data_dir);
    }
    let app = Application::build(config.clone())
        .await
        .expect("server builds");
    let base = format!("http://127.0.0.1:{}", app.port());
    // SQLite: a pool of its own, as another process opens the file; the server notices its
    // commits at once through the WAL index. PostgreSQL: the server notices other processes'
    // writes within its poll interval (store::changes), so the stand-in operator shares the
    // server's handle and its writes are served at once, as the tests expect (change_feed.rs
    // checks a separate pool's write within the interval).
    let operator = if crate::postgres::is_postgres() {
        app.db().clone()
    } else {
        open_store(&config).await
    };
    tokio::spawn(app.run_until_stopped());
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    TestApp {
        base,
        client,
        config,
        operator,
        dir,
    }
}

/// A pool on the database of `config` (its data directory's on the PostgreSQL run), as an
/// operator's process opens it.
pub async fn open_store(config: &Config) -> Db {
    let mut config = config.clone();
    if config.database_url.is_empty() {
        config.database_url = database_url_for(&config.data_dir);
    }
    cameo::store::connect(&config.database())
        .await
        .expect("the store opens")
}

/// A pool on the database of the data directory `dir`.
pub async fn open_store_in(dir: &Path) -> Db {
    open_store(&Config::for_data_dir(dir)).await
}

/// `SELECT COUNT(*) …` (or any one-integer query) on either backend.
pub async fn count(db: &Db, sql: &'static str) -> i64 {
    match db.pool() {
        Pool::Sqlite(pool) => sqlx::query_scalar(sql).fetch_one(pool).await,
        Pool::Postgres(pool) => sqlx::query_scalar(sql).fetch_one(pool).await,
    }
    .expect("count query")
}

/// A statement with text parameters (`$1`, `$2`, …) on either backend, as a test reaches
/// around the server to set a row up.
pub async fn execute(db: &Db, sql: &'static str, params: &[&str]) {
    match db.pool() {
        Pool::Sqlite(pool) => {
            let mut query = sqlx::query(sql);
            for param in params {
                query = query.bind(*param);
            }
            query.execute(pool).await.map(|_| ())
        }
        Pool::Postgres(pool) => {
            let mut query = sqlx::query(sql);
            for param in params {
                query = query.bind(*param);
            }
            query.execute(pool).await.map(|_| ())
        }
    }
    .expect("statement runs")
}

/// Every stored photo's bytes, oldest first.
pub async fn stored_photos(db: &Db) -> Vec<Vec<u8>> {
    let sql = "SELECT data FROM photos ORDER BY id";
    match db.pool() {
        Pool::Sqlite(pool) => sqlx::query_scalar(sql).fetch_all(pool).await,
        Pool::Postgres(pool) => sqlx::query_scalar(sql).fetch_all(pool).await,
    }
    .expect("photos read")
}

/// The bytes of the photo `address` shows.
pub async fn stored_photo_of(db: &Db, address: &str) -> Vec<u8> {
    let sql = "SELECT p.data FROM photos p JOIN addresses a ON a.photo_id = p.id
               WHERE a.address = $1";
    match db.pool() {
        Pool::Sqlite(pool) => sqlx::query_scalar(sql).bind(address).fetch_one(pool).await,
        Pool::Postgres(pool) => sqlx::query_scalar(sql).bind(address).fetch_one(pool).await,
    }
    .expect("the address has a photo")
}

impl Drop for TestApp {
    fn drop(&mut self) {
        crate::postgres::drop_database_for(&self.config.data_dir);
    }
}

impl TestApp {
    pub async fn get(&self, path_and_query: &str) -> reqwest::Response {
        self.client
            .get(format!("{}{path_and_query}", self.base))
            .send()
            .await
            .expect("request")
    }

    /// Gives `address` the photo `bytes`, as `cameo add` does, through the operator's pool.
    pub async fn add_photo(&self, address: &str, bytes: &[u8]) {
        let path = self
            .dir
            .path()
            .join(format!("upload-{}.img", rand_suffix()));
        std::fs::write(&path, bytes).expect("write photo");
        cameo::operator::add(&self.operator, &self.config, address, &path)
            .await
            .expect("photo added");
    }

    /// Gives the server time to notice another process's write: none on SQLite (the WAL
    /// index tells at once), the poll interval on PostgreSQL (`store::changes`).
    pub async fn noticed_another_process(&self) {
        if crate::postgres::is_postgres() {
            tokio::time::sleep(cameo::store::changes::POLL_INTERVAL * 2).await;
        }
    }

    /// Runs the real `cameo` binary against this app's data directory.
    pub fn cameo(&self, args: &[&str]) -> Output {
        run_cameo(self.dir.path(), args, &[])
    }
}

/// Runs the `cameo` binary with `--data-dir DIR` and extra environment variables (on the
/// PostgreSQL run, with the database of that directory).
pub fn run_cameo(data_dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_cameo"));
    command
        .arg("--data-dir")
        .arg(data_dir)
        .args(args)
        .env("RUST_LOG", "warn")
        .env("CAMEO_DATABASE_URL", database_url_for(data_dir));
    for (key, value) in env {
        command.env(key, value);
    }
    command.output().expect("cameo runs")
}

pub fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

pub fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// A loopback port nothing listens on right now (for servers the tests start).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}

fn rand_suffix() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    COUNTER.fetch_add(1, Ordering::Relaxed)
}

pub fn md5_of(address: &str) -> String {
    Identity::parse(address).unwrap().digests()[0].to_hex()
}

pub fn sha256_of(address: &str) -> String {
    Identity::parse(address).unwrap().digests()[1].to_hex()
}

pub const RED: [u8; 3] = [255, 0, 0];
pub const BLUE: [u8; 3] = [0, 0, 255];

/// A photo that is red on its left half and blue on its right half.
pub fn red_blue_photo(width: u32, height: u32) -> RgbImage {
    RgbImage::from_fn(width, height, |x, _| {
        if x < width / 2 { Rgb(RED) } else { Rgb(BLUE) }
    })
}

pub fn solid_photo(side: u32, colour: [u8; 3]) -> RgbImage {
    RgbImage::from_pixel(side, side, Rgb(colour))
}

pub fn encode(image: &RgbImage, format: image::ImageFormat) -> Vec<u8> {
    let mut out = std::io::Cursor::new(Vec::new());
    DynamicImage::ImageRgb8(image.clone())
        .write_to(&mut out, format)
        .expect("encode");
    out.into_inner()
}

pub fn png(image: &RgbImage) -> Vec<u8> {
    let mut out = Vec::new();
    image::codecs::png::PngEncoder::new(&mut out)
        .write_image(
            image.as_raw(),
            image.width(),
            image.height(),
            image::ExtendedColorType::Rgb8,
        )
        .expect("png");
    out
}

/// Decodes a response body, checking the Content-Type matches the bytes.
pub async fn decode(response: reqwest::Response) -> RgbaImage {
    let content_type = header(&response, "content-type");
    let bytes = response.bytes().await.expect("body");
    let format = image::guess_format(&bytes).expect("an image");
    assert_eq!(
        format.to_mime_type(),
        content_type,
        "Content-Type matches the bytes"
    );
    image::load_from_memory(&bytes)
        .expect("decodes")
        .into_rgba8()
}

pub fn header(response: &reqwest::Response, name: &str) -> String {
    response
        .headers()
        .get(name)
        .map(|v| v.to_str().expect("ascii header").to_string())
        .unwrap_or_default()
}

/// Whether a pixel is close to an RGB colour (lossy formats move values a little).
pub fn near(pixel: &image::Rgba<u8>, colour: [u8; 3], tolerance: u8) -> bool {
    pixel.0[..3]
        .iter()
        .zip(colour)
        .all(|(a, b)| a.abs_diff(b) <= tolerance)
}

pub fn temp_file(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, bytes).expect("write file");
    path
}

impl TestApp {
    /// The value of one series in `/metrics` (`name` or `name{labels}`), 0 when absent.
    pub async fn metric(&self, name_and_labels: &str) -> f64 {
        let text = self.get("/metrics").await.text().await.expect("metrics");
        series(&text, name_and_labels).unwrap_or(0.0)
    }
}

/// The value of one exact series (`name` or `name{labels}`) of a metrics text, or None when
/// it is absent.
pub fn series(text: &str, name_and_labels: &str) -> Option<f64> {
    text.lines().find_map(|line| {
        let value = line.strip_prefix(name_and_labels)?.strip_prefix(' ')?;
        Some(value.parse().expect("a number"))
    })
}
