//! A real OpenLDAP server (Debian's `slapd` 2.5) for the directory-sync tests: started per
//! test, unprivileged, on a loopback port with a temporary mdb database and config file, and
//! stopped when dropped. A small test schema gives it Active Directory's `proxyAddresses`,
//! `thumbnailPhoto` and `userAccountControl` (an auxiliary class, `adStyleUser`).
//! Entries are added and changed with ldap-utils' `ldapmodify`, as an administrator would.
//!
//! When `slapd` is not installed the tests are skipped with one line; under `CI` they fail.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use base64::Engine;

use crate::helpers::free_port;

const SLAPD: &str = "/usr/sbin/slapd";
pub const BASE_DN: &str = "dc=example,dc=org";
pub const PEOPLE_DN: &str = "ou=people,dc=example,dc=org";
pub const ADMIN_DN: &str = "cn=admin,dc=example,dc=org";
pub const ADMIN_PASSWORD: &str = "admin-secret-42";
/// A user whose paged searches stop with an error after two entries (`size.prtotal`).
pub const LIMITED_DN: &str = "cn=limited,dc=example,dc=org";
pub const LIMITED_PASSWORD: &str = "limited-secret";

const TEST_SCHEMA: &str = "\
attributetype ( 1.3.6.1.4.1.4203.666.11.99.1 NAME 'proxyAddresses'
    EQUALITY caseIgnoreMatch SYNTAX 1.3.6.1.4.1.1466.115.121.1.15 )
attributetype ( 1.3.6.1.4.1.4203.666.11.99.2 NAME 'thumbnailPhoto'
    SYNTAX 1.3.6.1.4.1.1466.115.121.1.40 SINGLE-VALUE )
attributetype ( 1.3.6.1.4.1.4203.666.11.99.3 NAME 'userAccountControl'
    EQUALITY integerMatch SYNTAX 1.3.6.1.4.1.1466.115.121.1.27 SINGLE-VALUE )
objectclass ( 1.3.6.1.4.1.4203.666.11.99.4 NAME 'adStyleUser' AUXILIARY
    MAY ( proxyAddresses $ thumbnailPhoto $ userAccountControl ) )
";

pub struct Slapd {
    pub dir: tempfile::TempDir,
    pub port: u16,
    /// The `ldaps://` port, when started with TLS.
    pub tls_port: Option<u16>,
    child: Child,
}

/// One person of the test directory.
pub struct Person<'a> {
    pub uid: &'a str,
    pub mail: Option<&'a str>,
    pub proxy_addresses: &'a [&'a str],
    pub thumbnail_photo: Option<&'a [u8]>,
    pub jpeg_photo: Option<&'a [u8]>,
    pub user_account_control: Option<u32>,
    pub employee_type: Option<&'a str>,
}

impl Person<'_> {
    pub fn dn(&self) -> String {
        format!("uid={},{PEOPLE_DN}", self.uid)
    }

    /// The entry as LDIF for `ldapmodify -a`.
    pub fn ldif(&self) -> String {
        let b64 = |bytes: &[u8]| base64::engine::general_purpose::STANDARD.encode(bytes);
        let mut ldif = format!(
            "dn: {}\nobjectClass: inetOrgPerson\nobjectClass: adStyleUser\nuid: {}\ncn: {}\nsn: {}\n",
            self.dn(),
            self.uid,
            self.uid,
            self.uid
        );
        if let Some(mail) = self.mail {
            ldif.push_str(&format!("mail: {mail}\n"));
        }
        for value in self.proxy_addresses {
            ldif.push_str(&format!("proxyAddresses: {value}\n"));
        }
        if let Some(photo) = self.thumbnail_photo {
            ldif.push_str(&format!("thumbnailPhoto:: {}\n", b64(photo)));
        }
        if let Some(photo) = self.jpeg_photo {
            ldif.push_str(&format!("jpegPhoto:: {}\n", b64(photo)));
        }
        if let Some(flags) = self.user_account_control {
            ldif.push_str(&format!("userAccountControl: {flags}\n"));
        }
        if let Some(kind) = self.employee_type {
            ldif.push_str(&format!("employeeType: {kind}\n"));
        }
        ldif
    }
}

impl Slapd {
    /// A running slapd holding the base entries, or `None` (after one line) when slapd is not
    /// installed and this is not CI.
    pub fn start() -> Option<Slapd> {
        Slapd::start_with(false)
    }

    /// Like [`Slapd::start`], with a certificate for 127.0.0.1 from a test CA (its PEM is
    /// [`Slapd::ca_file`]): StartTLS on the `ldap://` port, and an `ldaps://` port too.
    pub fn start_tls() -> Option<Slapd> {
        Slapd::start_with(true)
    }

    pub fn ca_file(&self) -> PathBuf {
        self.path("tls/ca.pem")
    }

    fn start_with(tls: bool) -> Option<Slapd> {
        if !Path::new(SLAPD).is_file() {
            assert!(
                std::env::var_os("CI").is_none(),
                "slapd is needed for the directory-sync tests (apt-get install slapd ldap-utils)"
            );
            eprintln!("skipping: slapd is not installed (apt-get install slapd ldap-utils)");
            return None;
        }
        let dir = tempfile::tempdir().expect("temp dir");
        let port = free_port();
        let root = dir.path();
        std::fs::create_dir(root.join("db")).expect("db dir");
        std::fs::write(root.join("ad.schema"), TEST_SCHEMA).expect("schema");
        let tls_port = tls.then(free_port);
        let global = if tls {
            make_certificates(&root.join("tls"))
        } else {
            String::new()
        };
        let config = format!(
            "include /etc/ldap/schema/core.schema\n\
             include /etc/ldap/schema/cosine.schema\n\
             include /etc/ldap/schema/inetorgperson.schema\n\
             include {root}/ad.schema\n\
             pidfile {root}/slapd.pid\n\
             modulepath /usr/lib/ldap\n\
             moduleload back_mdb\n\
             {global}\n\
             database mdb\n\
             maxsize 2147483648\n\
             suffix \"{BASE_DN}\"\n\
             rootdn \"{ADMIN_DN}\"\n\
             rootpw {ADMIN_PASSWORD}\n\
             directory {root}/db\n\
             limits dn.exact=\"{LIMITED_DN}\" size.prtotal=2\n\
             access to * by * read\n",
            root = root.display(),
        );
        std::fs::write(root.join("slapd.conf"), config).expect("config");
        let scheme = match tls_port {
            Some(tls_port) => format!("ldap://127.0.0.1:{port}/ ldaps://127.0.0.1:{tls_port}/"),
            None => format!("ldap://127.0.0.1:{port}/"),
        };
        let child = Command::new(SLAPD)
            .args(["-d", "0", "-h", &scheme, "-f"])
            .arg(root.join("slapd.conf"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("slapd starts");
        let slapd = Slapd {
            dir,
            port,
            tls_port,
            child,
        };
        slapd.wait_until_listening();
        slapd.add(&format!(
            "dn: {BASE_DN}\nobjectClass: dcObject\nobjectClass: organization\no: Example\ndc: example\n\n\
             dn: {PEOPLE_DN}\nobjectClass: organizationalUnit\nou: people\n\n\
             dn: {LIMITED_DN}\nobjectClass: person\ncn: limited\nsn: limited\nuserPassword: {LIMITED_PASSWORD}\n"
        ));
        Some(slapd)
    }

    pub fn url(&self) -> String {
        format!("ldap://127.0.0.1:{}", self.port)
    }

    fn wait_until_listening(&self) {
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            assert!(Instant::now() < deadline, "slapd did not start listening");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Adds entries (LDIF, separated by blank lines).
    pub fn add(&self, ldif: &str) {
        self.ldapmodify(&["-a"], ldif);
    }

    pub fn add_person(&self, person: &Person<'_>) {
        self.add(&person.ldif());
    }

    /// Applies an LDIF change (`changetype: modify` / `delete`).
    pub fn modify(&self, ldif: &str) {
        self.ldapmodify(&[], ldif);
    }

    pub fn delete(&self, dn: &str) {
        self.modify(&format!("dn: {dn}\nchangetype: delete\n"));
    }

    fn ldapmodify(&self, extra: &[&str], ldif: &str) {
        let mut child = Command::new("ldapmodify")
            .args([
                "-x",
                "-H",
                &self.url(),
                "-D",
                ADMIN_DN,
                "-w",
                ADMIN_PASSWORD,
            ])
            .args(extra)
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("ldapmodify runs (apt-get install ldap-utils)");
        child
            .stdin
            .take()
            .expect("stdin")
            .write_all(ldif.as_bytes())
            .expect("ldif written");
        let output = child.wait_with_output().expect("ldapmodify ends");
        assert!(
            output.status.success(),
            "ldapmodify: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }

    /// A file in the server's temp dir (for configs and passwords the tests write).
    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }
}

/// A CA and a certificate for 127.0.0.1 signed by it, made with the `openssl` program in
/// `dir`; returns slapd.conf's TLS lines.
fn make_certificates(dir: &Path) -> String {
    std::fs::create_dir_all(dir).expect("tls dir");
    std::fs::write(
        dir.join("server.ext"),
        "subjectAltName=IP:127.0.0.1,DNS:localhost\n",
    )
    .expect("extension file");
    let script = "set -e
        openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
          -keyout ca.key -out ca.pem -days 2 -subj /CN=cameo-test-ldap-ca
        openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
          -keyout server.key -out server.csr -subj /CN=127.0.0.1
        openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial \
          -out server.pem -days 2 -extfile server.ext";
    let output = Command::new("sh")
        .args(["-c", script])
        .current_dir(dir)
        .stdin(Stdio::null())
        .output()
        .expect("openssl runs");
    assert!(
        output.status.success(),
        "making the test certificates failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    format!(
        "TLSCACertificateFile {dir}/ca.pem\nTLSCertificateFile {dir}/server.pem\nTLSCertificateKeyFile {dir}/server.key",
        dir = dir.display()
    )
}

impl Drop for Slapd {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
