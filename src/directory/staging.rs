//! Where a sync's prepared photos wait until the search is known to be complete: an
//! anonymous temporary file (deleted by the OS when dropped), so memory holds one photo at
//! a time, not 100,000. Each photo is appended once and read back once by the apply.
//! With a photo bucket the bytes went to the bucket already and nothing is appended.

use std::fs::File;
use std::os::unix::fs::FileExt;

use crate::imaging::{PhotoFormat, PreparedPhoto};

/// A prepared photo, its bytes in the staging file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StagedPhoto {
    offset: u64,
    len: usize,
    format: PhotoFormat,
    side: u32,
    content_digest: String,
    source_digest: String,
}

pub struct Staging {
    file: File,
    end: u64,
}

impl Staging {
    pub fn new() -> std::io::Result<Staging> {
        Ok(Staging {
            file: tempfile::tempfile()?,
            end: 0,
        })
    }

    /// Appends `photo`'s bytes; the rest is kept in the returned handle.
    pub fn put(&mut self, photo: PreparedPhoto) -> std::io::Result<StagedPhoto> {
        self.file.write_all_at(&photo.data, self.end)?;
        let staged = StagedPhoto {
            offset: self.end,
            len: photo.data.len(),
            format: photo.format,
            side: photo.side,
            content_digest: photo.content_digest,
            source_digest: photo.source_digest,
        };
        self.end += staged.len as u64;
        Ok(staged)
    }

    /// The photo `staged` stands for, its bytes read back.
    pub fn take(&self, staged: &StagedPhoto) -> Result<PreparedPhoto, String> {
        let mut data = vec![0; staged.len];
        self.file
            .read_exact_at(&mut data, staged.offset)
            .map_err(|e| e.to_string())?;
        Ok(PreparedPhoto {
            format: staged.format,
            data,
            side: staged.side,
            content_digest: staged.content_digest.clone(),
            source_digest: staged.source_digest.clone(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn photo(bytes: &[u8], digest: &str) -> PreparedPhoto {
        PreparedPhoto {
            format: PhotoFormat::Png,
            data: bytes.to_vec(),
            side: 1,
            content_digest: digest.into(),
            source_digest: format!("source-{digest}"),
        }
    }

    #[test]
    fn photos_come_back_as_they_were_put() {
        let mut staging = Staging::new().unwrap();
        let first = staging.put(photo(b"first photo", "a")).unwrap();
        let empty = staging.put(photo(b"", "b")).unwrap();
        let second = staging.put(photo(b"second", "c")).unwrap();
        assert_eq!(staging.take(&second).unwrap().data, b"second");
        assert_eq!(staging.take(&first).unwrap().data, b"first photo");
        assert_eq!(staging.take(&first).unwrap().source_digest, "source-a");
        assert!(staging.take(&empty).unwrap().data.is_empty());
    }
}
