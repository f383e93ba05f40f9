//! Company directory sync against a real OpenLDAP server ([`crate::slapd`]): `cameo directory
//! sync` (the real binary) and the server's periodic sync fill addresses and photos from
//! entries with `mail`, AD-style `proxyAddresses`, `thumbnailPhoto` and `jpegPhoto`, and keep
//! them in step: changed photos replaced, removed and disabled entries taken back, owners'
//! photos ranked by the precedence rule, bad photos refused by name, failures changing
//! nothing. The avatars are checked by their pixels over HTTP.
//!
//! Here the shared set-up; the tests are in [`sync`] (adding, changing, removing,
//! precedence), [`failures`] (refusals and failures that change nothing) and [`server`]
//! (the periodic sync, the lease, TLS).

mod failures;
mod server;
mod sync;

use std::path::PathBuf;
use std::process::Output;

use image::ImageFormat;

use crate::helpers::*;
use crate::slapd::{ADMIN_DN, ADMIN_PASSWORD, PEOPLE_DN, Person, Slapd};

pub const GREEN: [u8; 3] = [0, 160, 0];

pub struct Directory {
    pub slapd: Slapd,
    pub app: TestApp,
    config: PathBuf,
}

/// The `[directory]` table for this slapd (password from a file, no periodic sync).
pub fn directory_table(slapd: &Slapd, extra: &str) -> String {
    let password_file = slapd.path("bind-password");
    std::fs::write(&password_file, format!("{ADMIN_PASSWORD}\n")).expect("password file");
    // `extra` comes first: a key given twice would be a TOML error, so `url` is left out
    // when `extra` sets it.
    let url = if extra.contains("url =") {
        String::new()
    } else {
        format!("url = \"{}\"\n", slapd.url())
    };
    format!(
        "[directory]\n{extra}\n{url}bind_dn = \"{ADMIN_DN}\"\nbind_password_file = \"{}\"\n\
         base_dn = \"{PEOPLE_DN}\"\nfilter = \"(objectClass=inetOrgPerson)\"\n\
         disabled_filter = \"(employeeType=disabled)\"\n",
        password_file.display()
    )
}

pub fn settings_of(table: &str) -> cameo::config::directory::DirectorySettings {
    let table: toml::Table = table.parse().expect("toml");
    cameo::config::directory::from_table(table.get("directory"), &Default::default())
        .expect("valid [directory]")
        .expect("a directory")
}

pub async fn directory() -> Option<Directory> {
    Some(directory_on(Slapd::start()?, "").await)
}

/// A server and a config file for `slapd`, the table's defaults changed by `extra` lines.
pub async fn directory_on(slapd: Slapd, extra: &str) -> Directory {
    let table = directory_table(&slapd, &format!("interval_s = 0\n{extra}"));
    let config = slapd.path("cameo.toml");
    std::fs::write(&config, &table).expect("config");
    let settings = settings_of(&table);
    let app = spawn_app_with(move |c| c.directory = Some(settings)).await;
    Directory { slapd, app, config }
}

impl Directory {
    /// `cameo --config … directory sync ARGS…`.
    pub fn sync(&self, args: &[&str]) -> Output {
        let mut all = vec![
            "--config",
            self.config.to_str().expect("utf-8 path"),
            "directory",
            "sync",
        ];
        all.extend_from_slice(args);
        run_cameo(self.app.dir.path(), &all, &[])
    }

    /// Syncs and expects success.
    pub async fn synced(&self, args: &[&str]) -> String {
        let output = self.sync(args);
        assert!(
            output.status.success(),
            "sync failed:\n{}\n{}",
            stdout(&output),
            stderr(&output)
        );
        self.app.noticed_another_process().await;
        stdout(&output)
    }

    /// The colour `address`'s avatar shows, or `None` when it serves none (404).
    pub async fn avatar_colour(&self, address: &str) -> Option<image::Rgba<u8>> {
        let response = self
            .app
            .get(&format!("/avatar/{}?s=32&d=404", md5_of(address)))
            .await;
        match response.status().as_u16() {
            404 => None,
            200 => Some(*decode(response).await.get_pixel(16, 16)),
            other => panic!("avatar of {address}: status {other}"),
        }
    }

    pub async fn shows(&self, address: &str, colour: [u8; 3]) {
        let pixel = self.avatar_colour(address).await;
        assert!(
            pixel.is_some_and(|p| near(&p, colour, 40)),
            "{address} shows {pixel:?}, expected {colour:?}"
        );
    }
}

pub fn ada(photo: &[u8]) -> Person<'_> {
    Person {
        uid: "ada",
        mail: Some("Ada@Example.org"),
        proxy_addresses: &[
            "SMTP:ada@example.org",
            "smtp:a.lovelace@example.org",
            "X500:/o=Example/cn=ada",
        ],
        thumbnail_photo: Some(photo),
        jpeg_photo: None,
        user_account_control: Some(512),
        employee_type: None,
    }
}

pub fn person<'a>(uid: &'a str, mail: &'a str, jpeg_photo: Option<&'a [u8]>) -> Person<'a> {
    Person {
        uid,
        mail: Some(mail),
        proxy_addresses: &[],
        thumbnail_photo: None,
        jpeg_photo,
        user_account_control: None,
        employee_type: None,
    }
}

pub fn jpeg(colour: [u8; 3]) -> Vec<u8> {
    encode(&solid_photo(48, colour), ImageFormat::Jpeg)
}
