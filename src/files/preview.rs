//! Image dimensions and thumbnails, under limits. Decoding is where hostile images hurt: a
//! few kilobytes of PNG can claim a hundred thousand pixels square (a decompression bomb), and
//! decoders have had crashes. So the claimed size is read from the header and refused above
//! `max_pixels` before anything is decoded, the decoder runs with an allocation cap, and the
//! caller runs [`make`] in the blocking pool, a few at a time, with a deadline, so a slow or
//! failing decode costs one upload and never the chat.
//!
//! Thumbnails are re-encoded from pixels (JPEG at quality 80, or PNG when the image has
//! transparent pixels), so they carry no metadata at all: no Exif, no GPS, no comments.
//! Animated GIF and WebP give their first frame. Thumbnails are never larger than the image.

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
    /// The original's width, in pixels.
    pub width: u32,
    /// The original's height, in pixels.
    pub height: u32,
    /// The encoded thumbnail.
    pub thumbnail: Vec<u8>,
    /// `image/jpeg` or `image/png`.
    pub thumbnail_mime: &'static str,
    pub thumbnail_width: u32,
    pub thumbnail_height: u32,
}

/// Why an image has no preview.
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

/// Decodes `bytes` (of type `mime`; the first frame of an animation) within `limits` and
/// makes its thumbnail, fitted in a `max_side` square. Blocking CPU work: run it in
/// `spawn_blocking`. The size claimed by the header is checked before anything is decoded.
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

/// JPEG for opaque images, PNG to keep transparency (an alpha channel that is opaque
/// throughout, as in many screenshots, does not count).
fn encode(image: &DynamicImage) -> Result<(Vec<u8>, &'static str), PreviewError> {
    let mut out = Cursor::new(Vec::new());
    let transparent = image
        .color()
        .has_alpha()
        .then(|| image.to_rgba8())
        .filter(|rgba| rgba.pixels().any(|p| p[3] < 255));
    if let Some(rgba) = transparent {
        rgba.write_to(&mut out, ImageFormat::Png).map_err(decode)?;
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

    /// A PNG of `w`×`h` pixels with its IHDR rewritten to claim `claimed` (CRC fixed up).
    fn png_claiming(w: u32, h: u32, claimed: (u32, u32)) -> Vec<u8> {
        let mut png = encoded(opaque(w, h), ImageFormat::Png);
        png[16..20].copy_from_slice(&claimed.0.to_be_bytes());
        png[20..24].copy_from_slice(&claimed.1.to_be_bytes());
        let crc = png[12..29].iter().fold(!0u32, |mut crc, &byte| {
            crc ^= u32::from(byte);
            for _ in 0..8 {
                crc = (crc >> 1) ^ (0xEDB8_8320 & (crc & 1).wrapping_neg());
            }
            crc
        });
        png[29..33].copy_from_slice(&(!crc).to_be_bytes());
        png
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
        let webp = encoded(opaque(30, 700), ImageFormat::WebP);
        let made = make(&webp, "image/webp", &limits).unwrap();
        assert_eq!((made.thumbnail_width, made.thumbnail_height), (14, 320));
        let sliver = encoded(opaque(5000, 1), ImageFormat::Png);
        let made = make(&sliver, "image/png", &limits).unwrap();
        assert_eq!((made.thumbnail_width, made.thumbnail_height), (320, 1));
    }

    #[test]
    fn transparency_keeps_png_and_animations_give_their_first_frame() {
        let limits = PreviewLimits::default();
        let clear = image::RgbaImage::from_fn(600, 600, |x, _| image::Rgba([1, 2, 3, x as u8]));
        let png = encoded(DynamicImage::ImageRgba8(clear), ImageFormat::Png);
        let made = make(&png, "image/png", &limits).unwrap();
        assert_eq!(made.thumbnail_mime, "image/png");
        let solid = image::RgbaImage::from_pixel(60, 60, image::Rgba([1, 2, 3, 255]));
        let png = encoded(DynamicImage::ImageRgba8(solid), ImageFormat::Png);
        let made = make(&png, "image/png", &limits).unwrap();
        assert_eq!(made.thumbnail_mime, "image/jpeg", "an opaque alpha channel");

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
    fn bombs_are_refused_from_their_header_and_allocations_are_capped() {
        let limits = PreviewLimits::default();
        let bomb = png_claiming(8, 8, (100_000, 100_000));
        assert_eq!(dimensions(&bomb), Some((100_000, 100_000)));
        assert!(matches!(
            make(&bomb, "image/png", &limits),
            Err(PreviewError::TooManyPixels {
                width: 100_000,
                height: 100_000,
                ..
            })
        ));
        // A GIF whose screen and one frame claim 65535×65535, with a few bytes of data.
        let gif = [
            &b"GIF89a\xFF\xFF\xFF\xFF\x80\0\0"[..],
            &[0, 0, 0, 255, 255, 255],
            b"\x2C\0\0\0\0\xFF\xFF\xFF\xFF\0\x02\x02\x44\x01\0\x3B",
        ]
        .concat();
        let refused = make(&gif, "image/gif", &limits);
        assert!(
            matches!(refused, Err(PreviewError::TooManyPixels { .. })),
            "{refused:?}"
        );
        // Under the pixel cap but over the allocation cap.
        let tight = PreviewLimits {
            max_alloc: 10_000,
            ..limits
        };
        let big = encoded(opaque(200, 200), ImageFormat::Png);
        assert!(matches!(
            make(&big, "image/png", &tight),
            Err(PreviewError::Decode(_))
        ));
    }

    #[test]
    fn broken_and_foreign_files_are_errors_not_panics() {
        let limits = PreviewLimits::default();
        let png = encoded(opaque(20, 20), ImageFormat::Png);
        for cut in [0, 8, 30, png.len() / 2, png.len() - 5] {
            assert!(
                make(&png[..cut], "image/png", &limits).is_err(),
                "cut at {cut}"
            );
        }
        // A claimed size the data cannot fill.
        let lying = png_claiming(8, 8, (3000, 3000));
        assert!(matches!(
            make(&lying, "image/png", &limits),
            Err(PreviewError::Decode(_))
        ));
        let mut seed = 0x9E37_79B9_u32;
        let real = [
            ("image/png", png),
            ("image/jpeg", encoded(opaque(20, 20), ImageFormat::Jpeg)),
            ("image/webp", encoded(opaque(20, 20), ImageFormat::WebP)),
            ("image/gif", encoded(opaque(20, 20), ImageFormat::Gif)),
        ];
        for round in 0..400 {
            let (mime, base) = &real[round % 4];
            let mut bytes = base.clone();
            for _ in 0..1 + round % 6 {
                seed ^= seed << 13;
                seed ^= seed >> 17;
                seed ^= seed << 5;
                let at = seed as usize % bytes.len();
                bytes[at] = (seed >> 24) as u8;
            }
            bytes.truncate(bytes.len() - (seed as usize % 3) * bytes.len() / 4);
            // Decoding may succeed or fail, but must not panic.
            let _ = make(&bytes, mime, &limits);
            let _ = dimensions(&bytes);
        }
        assert!(matches!(
            make(&real[0].1, "image/avif", &limits),
            Err(PreviewError::Unsupported)
        ));
        assert_eq!(dimensions(b"\0\0\0\x1cftypavif"), None);
    }
}
