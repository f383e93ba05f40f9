//! Owner-only files: the database (with its `-wal`/`-shm`), `cameo backup` copies and
//! `cameo export` files hold password hashes, sessions and tokens, so they are created 0600
//! whatever the umask, and an existing database that is readable by others is tightened at
//! start. An operator who wants the service group to read backups chmods them afterwards
//! (README, "Running in production").

use std::fs::File;
use std::io;
use std::path::Path;

/// The mode of every file Cameo writes that holds account data.
pub const PRIVATE_MODE: u32 = 0o600;

/// Creates (or truncates) `path` as an owner-only file, before any byte is written.
pub fn create_private(path: &Path) -> io::Result<File> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, PRIVATE_MODE);
    let file = options.open(path)?;
    // `mode` applies only when the file is new; an existing one keeps its bits otherwise.
    restrict(&file)?;
    Ok(file)
}

/// Makes an existing file owner-only; returns its previous mode when that was looser (any
/// bit for group or others), `None` when it was already private or does not exist.
///
/// By path (`stat`/`chmod`), never by opening the file: closing any descriptor of a file
/// drops every POSIX lock this process holds on it, which would silently unlock a database
/// SQLite has open in this process.
pub fn tighten(path: &Path) -> io::Result<Option<u32>> {
    let metadata = match std::fs::metadata(path) {
        Ok(metadata) => metadata,
        Err(error) if error.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(error) => return Err(error),
    };
    let before = mode_of(&metadata);
    if before & 0o077 == 0 {
        return Ok(None);
    }
    std::fs::set_permissions(path, private_permissions(metadata.permissions()))?;
    Ok(Some(before))
}

#[cfg(unix)]
fn mode_of(metadata: &std::fs::Metadata) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    metadata.permissions().mode() & 0o7777
}

#[cfg(not(unix))]
fn mode_of(_metadata: &std::fs::Metadata) -> u32 {
    0
}

#[cfg(unix)]
fn private_permissions(_current: std::fs::Permissions) -> std::fs::Permissions {
    use std::os::unix::fs::PermissionsExt;
    std::fs::Permissions::from_mode(PRIVATE_MODE)
}

#[cfg(not(unix))]
fn private_permissions(current: std::fs::Permissions) -> std::fs::Permissions {
    current
}

/// Sets an open, newly created file's mode.
fn restrict(file: &File) -> io::Result<()> {
    file.set_permissions(private_permissions(file.metadata()?.permissions()))
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn mode(path: &Path) -> u32 {
        std::fs::metadata(path).unwrap().permissions().mode() & 0o777
    }

    #[test]
    fn a_new_file_is_owner_only_whatever_the_umask() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("new");
        create_private(&path).unwrap();
        assert_eq!(mode(&path), 0o600);
    }

    #[test]
    fn an_existing_loose_file_is_tightened_and_its_old_mode_told() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("old");
        std::fs::write(&path, b"x").unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        assert_eq!(tighten(&path).unwrap(), Some(0o644));
        assert_eq!(mode(&path), 0o600);
        assert_eq!(tighten(&path).unwrap(), None);
        assert_eq!(tighten(&dir.path().join("missing")).unwrap(), None);
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o666)).unwrap();
        create_private(&path).unwrap();
        assert_eq!(mode(&path), 0o600);
    }
}
