//! Image dimensions and thumbnails, under limits. Decoding is where hostile images hurt: a
//! few kilobytes of PNG can claim a hundred thousand pixels square (a decompression bomb), and
//! decoders have had crashes. So the claimed size is read from the header and refused above
//! `max_pixels` before anything is decoded, the decoder runs with an allocation cap, and the
//! caller runs [`make`] in the blocking pool, a few at a time, with a deadline, so a slow or
//! failing decode costs one upload and never the chat.
//!
//! Thumbnails are re-encoded from pixels (JPEG, or PNG when the image has transparency), so
//! they carry no metadata at all. Animated GIF and WebP give their first frame.

use image::codecs::jpeg::JpegEncoder;
use image::{DynamicImage, ImageFormat, ImageReader, Limits};
use std::io::Cursor;

/// What decoding may cost.
#[derive(Clone, Debug)]
pub struct PreviewLimits {
    /// Largest image decoded, in pixels (width × height).
    pub max_pixels: u64,
    /// Largest allocation the decoder may make, in bytes.
    pub max_alloc: u64,
    /// The thumbnail fits in a square of this side.
    pub max_side: u32,
}

impl Default for PreviewLimits {
    fn default() -> Self {
        Self {
            max_pixels: 40_000_000,
            max_alloc: 512 * 1024 * 1024,
            max_side: 320,
        }
    }
}

/// A decoded image's size and its thumbnail.
#[derive(Clone, Debug)]
pub struct Preview {
    pub width: u32,
    pub height: u32,
    pub thumbnail: Vec<u8>,
    pub thumbnail_mime: &'static str,
    pub thumbnail_width: u32,
    pub thumbnail_height: u32,
}

#[derive(Debug, thiserror::Error)]
pub enum PreviewError {
    #[error("the image is {width}×{height} pixels, more than the {max} this server decodes")]
    TooManyPixels { width: u32, height: u32, max: u64 },
    #[error("this image type has no decoder here")]
    Unsupported,
    #[error("{0}")]
    Decode(String),
}

/// Width and height from the header alone (cheap; `None` when the header does not say, is
/// cut off, or the type has no decoder here).
pub fn dimensions(bytes: &[u8]) -> Option<(u32, u32)> {
    ImageReader::new(Cursor::new(bytes))
        .with_guessed_format()
        .ok()?
        .into_dimensions()
        .ok()
}

/// Decodes `bytes` (of type `mime`) within `limits` and makes its thumbnail. Blocking work.
pub fn make(bytes: &[u8], mime: &str, limits: &PreviewLimits) -> Result<Preview, PreviewError> {
    let format = match mime {
        "image/png" => ImageFormat::Png,
        "image/jpeg" => ImageFormat::Jpeg,
        "image/gif" => ImageFormat::Gif,
        "image/webp" => ImageFormat::WebP,
        _ => return Err(PreviewError::Unsupported),
    };
    let reader = || ImageReader::with_format(Cursor::new(bytes), format);
    let (width, height) = reader().into_dimensions().map_err(decode)?;
    if u64::from(width) * u64::from(height) > limits.max_pixels {
        return Err(PreviewError::TooManyPixels {
            width,
            height,
            max: limits.max_pixels,
        });
    }
    let mut caps = Limits::default();
    caps.max_alloc = Some(limits.max_alloc);
    caps.max_image_width = Some(width.max(1));
    caps.max_image_height = Some(height.max(1));
    let mut decoder = reader();
    decoder.limits(caps);
    let image = decoder.decode().map_err(decode)?;
    let small = if image.width() > limits.max_side || image.height() > limits.max_side {
        image.thumbnail(limits.max_side, limits.max_side)
    } else {
        image
    };
    let (thumbnail, thumbnail_mime) = encode(&small)?;
    Ok(Preview {
        width,
        height,
        thumbnail,
        thumbnail_mime,
        thumbnail_width: small.width(),
        thumbnail_height: small.height(),
    })
}

/// JPEG for opaque images, PNG to keep transparency.
fn encode(image: &DynamicImage) -> Result<(Vec<u8>, &'static str), PreviewError> {
    let mut out = Cursor::new(Vec::new());
    if image.color().has_alpha() {
        image
            .to_rgba8()
            .write_to(&mut out, ImageFormat::Png)
            .map_err(decode)?;
        return Ok((out.into_inner(), "image/png"));
    }
    JpegEncoder::new_with_quality(&mut out, 80)
        .encode_image(&image.to_rgb8())
        .map_err(decode)?;
    Ok((out.into_inner(), "image/jpeg"))
}

fn decode(err: image::ImageError) -> PreviewError {
    match err {
        image::ImageError::Unsupported(_) => PreviewError::Unsupported,
        err => PreviewError::Decode(err.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn encoded(image: DynamicImage, format: ImageFormat) -> Vec<u8> {
        let mut out = Cursor::new(Vec::new());
        image.write_to(&mut out, format).unwrap();
        out.into_inner()
    }

    fn opaque(w: u32, h: u32) -> DynamicImage {
        DynamicImage::ImageRgb8(image::RgbImage::from_fn(w, h, |x, y| {
            image::Rgb([(x % 255) as u8, (y % 255) as u8, 1])
        }))
    }

    #[test]
    fn thumbnails_fit_the_box_keep_the_ratio_and_never_grow() {
        let limits = PreviewLimits::default();
        let jpeg = encoded(opaque(1000, 500), ImageFormat::Jpeg);
        assert_eq!(dimensions(&jpeg), Some((1000, 500)));
        let made = make(&jpeg, "image/jpeg", &limits).unwrap();
        assert_eq!((made.width, made.height), (1000, 500));
        assert_eq!((made.thumbnail_width, made.thumbnail_height), (320, 160));
        assert_eq!(made.thumbnail_mime, "image/jpeg");
        let back = image::load_from_memory(&made.thumbnail).unwrap();
        assert_eq!((back.width(), back.height()), (320, 160));

        let small = encoded(opaque(40, 30), ImageFormat::Png);
        let made = make(&small, "image/png", &limits).unwrap();
        assert_eq!((made.thumbnail_width, made.thumbnail_height), (40, 30));
    }

    #[test]
    fn transparency_keeps_png_and_animations_give_their_first_frame() {
        let limits = PreviewLimits::default();
        let clear = DynamicImage::ImageRgba8(image::RgbaImage::from_pixel(
            600,
            600,
            image::Rgba([1, 2, 3, 0]),
        ));
        let made = make(&encoded(clear, ImageFormat::Png), "image/png", &limits).unwrap();
        assert_eq!(made.thumbnail_mime, "image/png");

        let mut gif = Vec::new();
        {
            let mut encoder = image::codecs::gif::GifEncoder::new(&mut gif);
            for shade in [10u8, 200] {
                let frame = image::RgbaImage::from_pixel(8, 8, image::Rgba([shade, 0, 0, 255]));
                encoder.encode_frame(image::Frame::new(frame)).unwrap();
            }
        }
        let made = make(&gif, "image/gif", &limits).unwrap();
        let first = image::load_from_memory(&made.thumbnail).unwrap().to_rgba8();
        assert!(first.get_pixel(4, 4)[0] < 100, "the first frame");
    }

    #[test]
    fn bombs_and_broken_files_are_refused_without_panicking() {
        let limits = PreviewLimits {
            max_pixels: 1_000_000,
            ..PreviewLimits::default()
        };
        let big = encoded(opaque(1200, 1000), ImageFormat::Png);
        assert!(matches!(
            make(&big, "image/png", &limits),
            Err(PreviewError::TooManyPixels {
                width: 1200,
                height: 1000,
                ..
            })
        ));
        let png = encoded(opaque(20, 20), ImageFormat::Png);
        for cut in [0, 8, 30, png.len() / 2, png.len() - 5] {
            assert!(
                make(&png[..cut], "image/png", &limits).is_err(),
                "cut at {cut}"
            );
        }
        let mut garbage = png.clone();
        for byte in garbage.iter_mut().skip(40) {
            *byte ^= 0x5A;
        }
        assert!(make(&garbage, "image/png", &limits).is_err());
        assert!(matches!(
            make(&png, "image/avif", &limits),
            Err(PreviewError::Unsupported)
        ));
    }
}
