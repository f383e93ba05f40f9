//! Image work, pure over bytes: shared by the hot path, the CLI and (later) the upload form.
//!
//! - [`intake`] turns untrusted uploaded bytes into a validated, square, re-encoded original.
//! - [`render`] turns a stored original or a generated default into `size`×`size` bytes.
//! - [`jpeg_scaled`] decodes a JPEG above the pixel limit at 1/2, 1/4 or 1/8 of its size.
//! - [`budget`] is the memory every decode of untrusted bytes reserves before it runs.
//!
//! Nothing here touches the network, the database or the async executor: callers run these
//! functions on blocking threads under the bounded image-worker semaphore.

pub mod animation;
pub mod budget;
pub mod gif_layout;
pub mod intake;
pub mod jpeg_scaled;
pub mod render;
pub mod webp_layout;

pub use budget::{BudgetSnapshot, ImageBudget, prepare_within_budget};
pub use intake::{
    CropSquare, IntakeError, IntakeLimits, PreparedPhoto, prepare_cropped_photo, prepare_photo,
};
pub use render::{Original, decode_original, encode_picture, resize_square};

/// The image formats Cameo accepts and serves.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum PhotoFormat {
    Png,
    Jpeg,
    Gif,
    WebP,
}

impl PhotoFormat {
    /// The format an URL extension asks for (`png`, `jpg`, `jpeg`, `gif`, `webp`, any case).
    pub fn from_extension(extension: &str) -> Option<PhotoFormat> {
        match extension.to_ascii_lowercase().as_str() {
            "png" => Some(PhotoFormat::Png),
            "jpg" | "jpeg" => Some(PhotoFormat::Jpeg),
            "gif" => Some(PhotoFormat::Gif),
            "webp" => Some(PhotoFormat::WebP),
            _ => None,
        }
    }

    /// The name stored in the database.
    pub fn name(self) -> &'static str {
        match self {
            PhotoFormat::Png => "png",
            PhotoFormat::Jpeg => "jpeg",
            PhotoFormat::Gif => "gif",
            PhotoFormat::WebP => "webp",
        }
    }

    pub fn from_name(name: &str) -> Option<PhotoFormat> {
        PhotoFormat::from_extension(name)
    }

    pub fn mime_type(self) -> &'static str {
        match self {
            PhotoFormat::Png => "image/png",
            PhotoFormat::Jpeg => "image/jpeg",
            PhotoFormat::Gif => "image/gif",
            PhotoFormat::WebP => "image/webp",
        }
    }

    pub fn from_image_format(format: image::ImageFormat) -> Option<PhotoFormat> {
        match format {
            image::ImageFormat::Png => Some(PhotoFormat::Png),
            image::ImageFormat::Jpeg => Some(PhotoFormat::Jpeg),
            image::ImageFormat::Gif => Some(PhotoFormat::Gif),
            image::ImageFormat::WebP => Some(PhotoFormat::WebP),
            _ => None,
        }
    }

    pub fn image_format(self) -> image::ImageFormat {
        match self {
            PhotoFormat::Png => image::ImageFormat::Png,
            PhotoFormat::Jpeg => image::ImageFormat::Jpeg,
            PhotoFormat::Gif => image::ImageFormat::Gif,
            PhotoFormat::WebP => image::ImageFormat::WebP,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extensions_map_to_formats() {
        assert_eq!(PhotoFormat::from_extension("JPG"), Some(PhotoFormat::Jpeg));
        assert_eq!(PhotoFormat::from_extension("jpeg"), Some(PhotoFormat::Jpeg));
        assert_eq!(PhotoFormat::from_extension("webp"), Some(PhotoFormat::WebP));
        assert_eq!(PhotoFormat::from_extension("bmp"), None);
        for format in [
            PhotoFormat::Png,
            PhotoFormat::Jpeg,
            PhotoFormat::Gif,
            PhotoFormat::WebP,
        ] {
            assert_eq!(PhotoFormat::from_name(format.name()), Some(format));
        }
    }
}
