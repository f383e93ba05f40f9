//! The LDAP side of a sync (ldap3 on rustls with ring, no OpenSSL): connect over `ldap://`,
//! `ldaps://` or `ldap://` + StartTLS, bind, and search with the Simple Paged Results control
//! (RFC 2696), so a directory of 100,000 entries comes a page at a time and a server's size
//! limit per request does not cut it short.
//!
//! A search is complete only when its final result says success: a page that fails, a
//! connection that drops or a size limit hit part-way is an error, and the caller then
//! applies nothing (an entry missing from a partial result has not left the directory).

use std::sync::Arc;

use ldap3::adapters::PagedResults;
use ldap3::{Ldap, LdapConnAsync, LdapConnSettings, Scope, SearchEntry, SearchStream};

use super::entry::RawEntry;
use crate::config::directory::{DirectorySettings, PasswordSource};
use crate::secrets::Secret;

#[derive(Debug, thiserror::Error)]
pub enum DirectoryError {
    #[error("cannot read the bind password: {0}")]
    Password(String),
    #[error("cannot use ca_file {path}: {reason}")]
    CaFile { path: String, reason: String },
    #[error("cannot reach the directory at {url}: {reason}")]
    Unreachable { url: String, reason: String },
    #[error("the directory refused the bind as {dn:?} (wrong DN or password?): {reason}")]
    BindRefused { dn: String, reason: String },
    #[error("the search failed after {seen} entries, so nothing was changed: {reason}")]
    SearchFailed { seen: u64, reason: String },
}

/// The bind password, read now from where the settings say (a file's trailing newline is
/// not part of it).
pub fn read_password(source: &PasswordSource) -> Result<Option<Secret>, DirectoryError> {
    match source {
        PasswordSource::None => Ok(None),
        PasswordSource::Env(name) => std::env::var(name)
            .map(|value| Some(Secret::new(value)))
            .map_err(|_| {
                DirectoryError::Password(format!("the environment variable {name} is not set"))
            }),
        PasswordSource::File(path) => {
            let text = std::fs::read_to_string(path)
                .map_err(|e| DirectoryError::Password(format!("{}: {e}", path.display())))?;
            Ok(Some(Secret::new(
                text.trim_end_matches(['\r', '\n']).to_string(),
            )))
        }
    }
}

/// Connects and binds (anonymously when no bind DN is set).
pub async fn open(
    settings: &DirectorySettings,
    password: Option<&Secret>,
) -> Result<Ldap, DirectoryError> {
    let mut connection = LdapConnSettings::new()
        .set_conn_timeout(settings.timeout)
        .set_starttls(settings.starttls);
    if let Some(ca_file) = &settings.ca_file {
        connection = connection.set_config(tls_config(ca_file)?);
    }
    let unreachable = |reason: String| DirectoryError::Unreachable {
        url: settings.url.clone(),
        reason,
    };
    let (driver, mut ldap) = LdapConnAsync::with_settings(connection, &settings.url)
        .await
        .map_err(|e| unreachable(e.to_string()))?;
    ldap3::drive!(driver);
    if settings.bind_dn.is_empty() {
        return Ok(ldap);
    }
    let password = password.map_or("", Secret::expose);
    let refused = |reason: String| DirectoryError::BindRefused {
        dn: settings.bind_dn.clone(),
        reason,
    };
    match ldap
        .with_timeout(settings.timeout)
        .simple_bind(&settings.bind_dn, password)
        .await
    {
        Ok(result) => result.success().map_err(|e| refused(e.to_string()))?,
        Err(error) => return Err(unreachable(error.to_string())),
    };
    Ok(ldap)
}

/// A rustls configuration trusting only the CA in `path` (PEM).
fn tls_config(path: &std::path::Path) -> Result<Arc<rustls::ClientConfig>, DirectoryError> {
    use rustls::pki_types::CertificateDer;
    use rustls::pki_types::pem::PemObject;
    let failed = |reason: String| DirectoryError::CaFile {
        path: path.display().to_string(),
        reason,
    };
    let mut roots = rustls::RootCertStore::empty();
    let certificates = CertificateDer::pem_file_iter(path).map_err(|e| failed(e.to_string()))?;
    for certificate in certificates {
        let certificate = certificate.map_err(|e| failed(e.to_string()))?;
        roots.add(certificate).map_err(|e| failed(e.to_string()))?;
    }
    if roots.is_empty() {
        return Err(failed("no certificate in it".into()));
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| failed(e.to_string()))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(Arc::new(config))
}

/// The entries of one paged search, read one at a time.
pub struct EntryStream {
    stream: SearchStream<'static, String, Vec<String>>,
    seen: u64,
}

/// Starts a paged subtree search under the base DN for `filter`, asking for `attributes`.
pub async fn search(
    ldap: &mut Ldap,
    settings: &DirectorySettings,
    filter: &str,
    attributes: Vec<String>,
) -> Result<EntryStream, DirectoryError> {
    let paging = PagedResults::new(i32::try_from(settings.page_size).unwrap_or(500));
    let stream = ldap
        .with_timeout(settings.timeout)
        .streaming_search_with(
            paging,
            &settings.base_dn,
            Scope::Subtree,
            filter,
            attributes,
        )
        .await
        .map_err(|e| DirectoryError::SearchFailed {
            seen: 0,
            reason: e.to_string(),
        })?;
    Ok(EntryStream { stream, seen: 0 })
}

impl EntryStream {
    /// The next entry, `None` at the end of the last page.
    pub async fn next(&mut self) -> Result<Option<RawEntry>, DirectoryError> {
        loop {
            let entry = self
                .stream
                .next()
                .await
                .map_err(|e| self.failed(e.to_string()))?;
            let Some(entry) = entry else { return Ok(None) };
            // Referrals to other servers and intermediate messages are not entries.
            if entry.is_ref() || entry.is_intermediate() {
                continue;
            }
            self.seen += 1;
            let entry = SearchEntry::construct(entry);
            return Ok(Some(RawEntry {
                dn: entry.dn,
                text: entry.attrs,
                binary: entry.bin_attrs,
            }));
        }
    }

    /// Ends the search: `Ok` with the number of entries only if the server said it is
    /// complete.
    pub async fn finish(mut self) -> Result<u64, DirectoryError> {
        let result = self.stream.finish().await;
        match result.success() {
            Ok(_) => Ok(self.seen),
            Err(error) => Err(self.failed(error.to_string())),
        }
    }

    fn failed(&self, reason: String) -> DirectoryError {
        DirectoryError::SearchFailed {
            seen: self.seen,
            reason,
        }
    }
}
