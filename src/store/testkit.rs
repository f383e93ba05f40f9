//! What the store's unit tests (and the lookup's) share: a fresh, migrated database file in
//! a temporary directory, and a stand-in photo that needs no image work.

use std::path::PathBuf;

use super::Db;
use crate::imaging::{PhotoFormat, PreparedPhoto};

/// A migrated SQLite database; the directory lives as long as this does. (The integration
/// suite runs every behaviour on PostgreSQL too.)
pub struct TempDatabase {
    pub pool: Db,
    pub path: PathBuf,
    _dir: tempfile::TempDir,
}

pub async fn temp_database() -> TempDatabase {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("cameo.db");
    let pool = super::open(&path).await.expect("database opens");
    TempDatabase {
        pool,
        path,
        _dir: dir,
    }
}

/// A "photo" whose bytes and digests are `content`: distinct contents are distinct photos.
pub fn prepared_photo(content: &str) -> PreparedPhoto {
    PreparedPhoto {
        format: PhotoFormat::Png,
        data: content.as_bytes().to_vec(),
        side: 1,
        content_digest: content.into(),
        source_digest: content.into(),
    }
}
