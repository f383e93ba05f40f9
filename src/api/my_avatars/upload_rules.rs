//! What an app's avatar upload must be before any decode: the multipart body read with a
//! cap on every part (the file in `image`), and Gravatar's own refusals — a format Cameo does
//! not read is `unsupported_image`, a picture that is not square `uncropped_image` (both
//! 400) — read from the header alone. Other intake limits keep Cameo's codes.

use actix_multipart::Multipart;
use futures_util::StreamExt;

use crate::error::AppError;
use crate::imaging::intake::inspect;
use crate::imaging::{IntakeError, IntakeLimits};

/// Most parts an upload may have, and the largest non-file part.
const MAX_PARTS: usize = 8;
const MAX_TEXT_PART: usize = 256;

/// Reads the multipart body: the first file part (`image`, or `file`/`photo`), capped at
/// the intake's byte limit plus one byte, so "too large" is detected rather than truncated.
pub async fn read_image(mut multipart: Multipart, max_file: u64) -> Result<Vec<u8>, AppError> {
    let unreadable = |e: actix_multipart::MultipartError| {
        AppError::BadRequest(format!("the upload could not be read: {e}"))
    };
    let mut parts = 0;
    while let Some(field) = multipart.next().await {
        let mut field = field.map_err(unreadable)?;
        parts += 1;
        if parts > MAX_PARTS {
            return Err(AppError::BadRequest("the upload has too many parts".into()));
        }
        let is_file = matches!(field.name(), Some("image" | "file" | "photo"));
        let cap = if is_file {
            max_file as usize + 1
        } else {
            MAX_TEXT_PART
        };
        let mut value = Vec::new();
        while let Some(chunk) = field.next().await {
            let chunk = chunk.map_err(unreadable)?;
            if value.len() + chunk.len() > cap {
                return Err(if is_file {
                    IntakeError::TooLarge {
                        size: (value.len() + chunk.len()) as u64,
                        limit: max_file,
                    }
                    .into()
                } else {
                    AppError::BadRequest("a form field is too long".into())
                });
            }
            value.extend_from_slice(&chunk);
        }
        if is_file {
            return Ok(value);
        }
    }
    Err(AppError::BadRequest(
        "send the image as a multipart/form-data part named image".into(),
    ))
}

/// Gravatar's refusals for what it does not take: a format Cameo does not read is
/// `unsupported_image`, a picture that is not square `uncropped_image` (both 400). Other
/// intake limits keep Cameo's own codes.
pub fn gravatar_refusal(bytes: &[u8], limits: IntakeLimits) -> Option<AppError> {
    match inspect(bytes, limits) {
        Err(refused @ (IntakeError::NotAnImage | IntakeError::UnsupportedFormat(_))) => {
            Some(AppError::Invalid("unsupported_image", format!("{refused}")))
        }
        Err(other) => Some(other.into()),
        Ok(shape) if shape.width != shape.height => Some(AppError::Invalid(
            "uncropped_image",
            format!(
                "the image is {}×{} pixels; crop it to a square (1:1) before uploading",
                shape.width, shape.height
            ),
        )),
        Ok(_) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_square_images_in_known_formats_pass_gravatars_rules() {
        let limits = IntakeLimits {
            max_bytes: 1 << 20,
            max_pixels: 1 << 22,
        };
        let png = |w, h| {
            let mut out = std::io::Cursor::new(Vec::new());
            image::RgbImage::new(w, h)
                .write_to(&mut out, image::ImageFormat::Png)
                .unwrap();
            out.into_inner()
        };
        assert!(gravatar_refusal(&png(8, 8), limits).is_none());
        let wide = gravatar_refusal(&png(8, 4), limits).unwrap();
        assert_eq!(wide.code(), "uncropped_image");
        assert!(wide.to_string().contains("8×4"));
        let text = gravatar_refusal(b"<svg xmlns='http://www.w3.org/2000/svg'/>", limits);
        assert_eq!(text.unwrap().code(), "unsupported_image");
        let big = gravatar_refusal(&vec![0; (1 << 20) + 1], limits).unwrap();
        assert_eq!(big.code(), "file_too_large");
    }
}
