//! Unit tests of `files::scrub`.

use super::*;
use image::ImageFormat;
use std::io::Cursor;

const CANARY: &[u8] = b"GPSCANARY";

/// Scrubs `input` fed byte by byte, in 2- and 7-byte pieces and whole: the output must
/// not depend on the cut, and no more than a header may ever be held back.
fn scrub(mime: &str, input: &[u8]) -> Vec<u8> {
    let [one, two, seven, whole] = [1, 2, 7, input.len().max(1)].map(|piece| {
        let mut scrubber = Scrubber::for_mime(mime).unwrap();
        let mut out = Vec::new();
        for chunk in input.chunks(piece) {
            scrubber.push(chunk, &mut out);
            assert!(scrubber.held.len() <= 16, "holds back a header at most");
        }
        scrubber.finish(&mut out);
        out
    });
    assert!(
        one == whole && two == whole && seven == whole,
        "the cut matters"
    );
    whole
}

fn encoded(format: ImageFormat) -> Vec<u8> {
    let image = image::RgbImage::from_fn(16, 8, |x, y| image::Rgb([x as u8 * 9, y as u8 * 20, 7]));
    let mut out = Cursor::new(Vec::new());
    image.write_to(&mut out, format).unwrap();
    out.into_inner()
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

fn pixels(bytes: &[u8]) -> Vec<u8> {
    image::load_from_memory(bytes)
        .unwrap()
        .to_rgba8()
        .into_raw()
}

fn segment(marker: u8, payload: &[&[u8]]) -> Vec<u8> {
    let payload = payload.concat();
    let len = u16::try_from(payload.len() + 2).unwrap().to_be_bytes();
    [&[0xFF, marker][..], &len, &payload].concat()
}

#[test]
fn jpeg_loses_metadata_and_trailers_but_keeps_colour_segments() {
    let jpeg = encoded(ImageFormat::Jpeg);
    let icc = segment(0xE2, &[b"ICC_PROFILE\0\x01\x01keep-me"]);
    // Transform 1 (YCbCr), as the encoder wrote it.
    let adobe = segment(0xEE, &[b"Adobe\0\x64\0\0\0\0\x01"]);
    let with_metadata = [
        &jpeg[..2],
        &segment(0xE1, &[b"Exif\0\0", CANARY]),
        &icc,
        &segment(0xE1, &[b"http://ns.adobe.com/xap/1.0/\0", CANARY]),
        &segment(0xED, &[b"Photoshop 3.0\0", CANARY]),
        &adobe,
        &segment(0xFE, &[CANARY]),
        &jpeg[2..],
        b"motion photo: GPSCANARY",
    ]
    .concat();
    let kept = [&jpeg[..2], &icc, &adobe, &jpeg[2..]].concat();
    assert_eq!(scrub("image/jpeg", &with_metadata), kept);
    assert!(contains(&kept, b"JFIF"), "APP0 stays");
    assert_eq!(pixels(&kept), pixels(&jpeg));
}

#[test]
fn jpeg_segments_between_scans_are_scrubbed_and_scan_data_passes() {
    let sos = segment(0xDA, &[&[1, 1, 0, 0, 63, 0]]);
    // Stuffed zero, a restart marker and fill bytes: all scan data.
    let scan = [0x12, 0xFF, 0x00, 0x34, 0xFF, 0xD3, 0x56, 0xFF, 0xFF];
    let dht = segment(0xC4, &[&[0; 5]]);
    let soi: &[u8] = &[0xFF, 0xD8];
    let eoi: &[u8] = &[0xFF, 0xD9];
    let exif = segment(0xE1, &[b"Exif\0\0", CANARY]);
    let input = [soi, &sos, &scan, &exif, &dht, &sos, &scan[..4], eoi, CANARY].concat();
    let kept = [soi, &sos, &scan, &dht, &sos, &scan[..4], eoi].concat();
    assert_eq!(scrub("image/jpeg", &input), kept);
}

#[test]
fn png_loses_text_time_and_exif_chunks() {
    let png = encoded(ImageFormat::Png);
    let chunk = |kind: &[u8; 4], data: &[u8]| {
        let len = u32::try_from(data.len()).unwrap().to_be_bytes();
        // The scrubber does not check CRCs; any four bytes do here.
        [&len[..], kind, data, &[0, 0, 0, 0]].concat()
    };
    let metadata = [b"tEXt", b"zTXt", b"iTXt", b"eXIf", b"tIME"].map(|k| chunk(k, CANARY));
    // After the signature (8 bytes) and IHDR (25).
    let with_metadata = [&png[..33], &metadata.concat(), &png[33..]].concat();
    assert_eq!(scrub("image/png", &with_metadata), png);
}

#[test]
fn webp_metadata_is_blanked_in_place_and_the_image_still_decodes() {
    let simple = encoded(ImageFormat::WebP);
    let chunk = |fourcc: &[u8; 4], data: &[u8]| {
        let len = u32::try_from(data.len()).unwrap().to_le_bytes();
        [&fourcc[..], &len, data, &[0][..data.len() & 1]].concat()
    };
    // Flags: EXIF, XMP and alpha; a 16×8 canvas.
    let vp8x = chunk(b"VP8X", &[0x08 | 0x04 | 0x10, 0, 0, 0, 15, 0, 0, 7, 0, 0]);
    let exif = chunk(b"EXIF", CANARY);
    let xmp = chunk(b"XMP ", b"<x:GPSCANARY/>");
    // The lossless image chunk follows the 12-byte RIFF header.
    let body = [&b"WEBP"[..], &vp8x, &simple[12..], &exif, &xmp].concat();
    let len = u32::try_from(body.len()).unwrap().to_le_bytes();
    let riff = [&b"RIFF"[..], &len, &body].concat();
    assert_eq!(pixels(&riff), pixels(&simple));
    let out = scrub("image/webp", &riff);
    assert_eq!(out.len(), riff.len(), "the RIFF size stays true");
    assert!(!contains(&out, CANARY) && !contains(&out, b"EXIF") && !contains(&out, b"XMP "));
    assert_eq!(out[20], 0x10, "metadata flags cleared, others kept");
    assert_eq!(pixels(&out), pixels(&simple));
}

#[test]
fn any_input_cut_anywhere_scrubs_the_same_without_panicking() {
    let mut seed = 0x2545_F491_u32;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 17;
        seed ^= seed << 5;
        seed as usize
    };
    let real = [
        ("image/jpeg", encoded(ImageFormat::Jpeg)),
        ("image/png", encoded(ImageFormat::Png)),
        ("image/webp", encoded(ImageFormat::WebP)),
    ];
    for round in 0..600 {
        let (mime, base) = &real[round % 3];
        let mut bytes = base.clone();
        if round % 4 == 0 {
            // A valid signature, then noise.
            bytes.truncate(12);
            bytes.extend((0..next() % 400).map(|_| next() as u8));
        }
        for _ in 0..next() % 8 {
            let at = next() % bytes.len();
            bytes[at] = next() as u8;
        }
        bytes.truncate(next() % (bytes.len() + 1));
        assert!(scrub(mime, &bytes).len() <= bytes.len());
    }
    assert_eq!(scrub("image/jpeg", b"not a jpeg"), b"not a jpeg");
    assert_eq!(scrub("image/webp", b"RIFF"), b"RIFF");
    assert!(Scrubber::for_mime("image/gif").is_none());
}
