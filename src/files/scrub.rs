//! Removing metadata from images while they stream in: phones put the place a photo was
//! taken (GPS), the device and the time into Exif, and a chat server must not hand that to
//! everyone in a room. The upload is never whole in memory, so this is a state machine fed
//! piece by piece (down to single bytes); it holds back at most a segment's header, never a
//! segment.
//!
//! - JPEG: before the image data (SOS), APP1 (Exif, XMP), APP13 (IPTC), the other APPn
//!   segments and comments are dropped; APP0 (JFIF), APP2 `ICC_PROFILE` and APP14 `Adobe` stay,
//!   because colours depend on them.
//! - PNG: `eXIf`, `tEXt`, `zTXt`, `iTXt` and `tIME` chunks are dropped.
//! - WebP: the RIFF header states the file's size before any chunk, so chunks cannot be
//!   dropped on the fly; `EXIF` and `XMP ` chunks are neutralised in place instead (renamed to
//!   an unknown chunk, which decoders skip, and zeroed), and the VP8X flags stop announcing
//!   them.
//!
//! Input whose structure stops making sense is passed through unchanged from there: the
//! scrubber removes metadata, it does not validate (the server decodes images separately, and
//! one that does not decode is refused).

const PNG_SIGNATURE: &[u8; 8] = b"\x89PNG\r\n\x1a\n";
const PNG_DROPPED: [&[u8; 4]; 5] = [b"eXIf", b"tEXt", b"zTXt", b"iTXt", b"tIME"];
/// What a neutralised WebP metadata chunk is renamed to.
const WEBP_BLANK: &[u8; 4] = b"JUNK";
/// Bytes of an APPn payload read to tell ICC profiles and Adobe segments from the rest.
const JPEG_IDENTIFIER: u64 = 12;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    JpegStart,
    JpegMarker,
    PngStart,
    PngChunk,
    WebpStart,
    WebpChunk,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    /// Collecting a header of this many bytes.
    Header(usize),
    /// Passing on this many bytes of a kept segment.
    Copy(u64),
    /// Dropping this many bytes of a removed segment.
    Skip(u64),
    /// Writing zeros in place of this many bytes.
    Zero(u64),
    /// Everything else passes unchanged.
    Pass,
}

/// Removes metadata from one image as it streams through.
pub struct Scrubber {
    phase: Phase,
    state: State,
    held: Vec<u8>,
}

impl Scrubber {
    /// A scrubber for this detected type, or `None` for types passed through unchanged.
    pub fn for_mime(mime: &str) -> Option<Scrubber> {
        let (phase, need) = match mime {
            "image/jpeg" => (Phase::JpegStart, 2),
            "image/png" => (Phase::PngStart, 8),
            "image/webp" => (Phase::WebpStart, 12),
            _ => return None,
        };
        Some(Scrubber {
            phase,
            state: State::Header(need),
            held: Vec::with_capacity(16),
        })
    }

    /// Feeds the next piece of the upload; appends what is ready to `out`.
    pub fn push(&mut self, mut input: &[u8], out: &mut Vec<u8>) {
        while !input.is_empty() {
            match self.state {
                State::Pass => {
                    out.extend_from_slice(input);
                    return;
                }
                State::Copy(n) | State::Skip(n) | State::Zero(n) => {
                    let take = usize::try_from(n).unwrap_or(usize::MAX).min(input.len());
                    match self.state {
                        State::Copy(_) => out.extend_from_slice(&input[..take]),
                        State::Zero(_) => out.resize(out.len() + take, 0),
                        _ => {}
                    }
                    input = &input[take..];
                    let left = n - take as u64;
                    self.state = match self.state {
                        _ if left > 0 => match self.state {
                            State::Copy(_) => State::Copy(left),
                            State::Skip(_) => State::Skip(left),
                            _ => State::Zero(left),
                        },
                        _ => self.next_header(),
                    };
                }
                State::Header(need) => {
                    let take = (need - self.held.len()).min(input.len());
                    self.held.extend_from_slice(&input[..take]);
                    input = &input[take..];
                    if self.held.len() == need {
                        self.decide(out);
                    }
                }
            }
        }
    }

    /// The upload ended: appends whatever is held back.
    pub fn finish(self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.held);
    }

    /// What comes after a segment: the next one's header.
    fn next_header(&self) -> State {
        match self.phase {
            Phase::JpegStart | Phase::JpegMarker => State::Header(2),
            Phase::PngStart | Phase::PngChunk | Phase::WebpStart | Phase::WebpChunk => {
                State::Header(8)
            }
        }
    }

    /// A header is complete: keep, drop or neutralise what it opens.
    fn decide(&mut self, out: &mut Vec<u8>) {
        match self.phase {
            Phase::JpegStart => {
                if self.held == [0xFF, 0xD8] {
                    self.emit(out);
                    self.phase = Phase::JpegMarker;
                    self.state = State::Header(2);
                } else {
                    self.give_up(out);
                }
            }
            Phase::JpegMarker => self.jpeg_marker(out),
            Phase::PngStart => {
                if self.held == PNG_SIGNATURE {
                    self.emit(out);
                    self.phase = Phase::PngChunk;
                    self.state = State::Header(8);
                } else {
                    self.give_up(out);
                }
            }
            Phase::PngChunk => {
                let len = u64::from(be32(&self.held[..4]));
                let rest = len + 4; // data and CRC
                if PNG_DROPPED.iter().any(|t| &self.held[4..8] == *t) {
                    self.held.clear();
                    self.state = State::Skip(rest);
                } else {
                    self.emit(out);
                    self.state = State::Copy(rest);
                }
            }
            Phase::WebpStart => {
                if &self.held[..4] == b"RIFF" && &self.held[8..12] == b"WEBP" {
                    self.emit(out);
                    self.phase = Phase::WebpChunk;
                    self.state = State::Header(8);
                } else {
                    self.give_up(out);
                }
            }
            Phase::WebpChunk => self.webp_chunk(out),
        }
    }

    fn jpeg_marker(&mut self, out: &mut Vec<u8>) {
        let (first, marker) = (self.held[0], self.held[1]);
        if first != 0xFF {
            return self.give_up(out);
        }
        match self.held.len() {
            2 => match marker {
                // Fill bytes: the marker is the next byte.
                0xFF => {
                    out.push(0xFF);
                    self.held.truncate(1);
                }
                0x01 | 0xD0..=0xD8 => {
                    self.emit(out);
                    self.state = State::Header(2);
                }
                // Start of scan or end of image: no metadata segment comes after.
                0xDA | 0xD9 => {
                    self.emit(out);
                    self.state = State::Pass;
                }
                _ => self.state = State::Header(4),
            },
            4 => {
                let len = u64::from(u16::from_be_bytes([self.held[2], self.held[3]]));
                if len < 2 {
                    return self.give_up(out);
                }
                let payload = len - 2;
                if matches!(marker, 0xE2 | 0xEE) && payload > 0 {
                    let want = 4 + usize::try_from(payload.min(JPEG_IDENTIFIER)).unwrap_or(0);
                    self.state = State::Header(want);
                } else {
                    self.jpeg_segment(out, payload);
                }
            }
            _ => {
                let len = u64::from(u16::from_be_bytes([self.held[2], self.held[3]]));
                self.jpeg_segment(out, len - 2);
            }
        }
    }

    /// Keeps or drops a JPEG segment whose header (and maybe identifier) is held.
    fn jpeg_segment(&mut self, out: &mut Vec<u8>, payload: u64) {
        let marker = self.held[1];
        let identifier = &self.held[4..];
        let dropped = match marker {
            0xE2 => !identifier.starts_with(b"ICC_PROFILE\0"),
            0xEE => !identifier.starts_with(b"Adobe"),
            0xE1 | 0xE3..=0xED | 0xEF | 0xFE => true,
            _ => false,
        };
        let rest = payload - identifier.len() as u64;
        if dropped {
            self.held.clear();
            self.state = State::Skip(rest);
        } else {
            self.emit(out);
            self.state = State::Copy(rest);
        }
    }

    fn webp_chunk(&mut self, out: &mut Vec<u8>) {
        let size = u64::from(le32(&self.held[4..8]));
        let padded = size + (size & 1);
        match &self.held[..4] {
            b"VP8X" if size > 0 && self.held.len() == 8 => self.state = State::Header(9),
            b"VP8X" if self.held.len() == 9 => {
                // Flags: bit 3 EXIF, bit 2 XMP.
                self.held[8] &= !(0x08 | 0x04);
                self.emit(out);
                self.state = State::Copy(padded - 1);
            }
            b"EXIF" | b"XMP " => {
                self.held[..4].copy_from_slice(WEBP_BLANK);
                self.emit(out);
                self.state = State::Zero(padded);
            }
            _ => {
                self.emit(out);
                self.state = State::Copy(padded);
            }
        }
    }

    fn emit(&mut self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.held);
        self.held.clear();
    }

    /// The structure stopped making sense: the rest passes unchanged.
    fn give_up(&mut self, out: &mut Vec<u8>) {
        self.emit(out);
        self.state = State::Pass;
    }
}

fn be32(bytes: &[u8]) -> u32 {
    u32::from_be_bytes([bytes[0], bytes[1], bytes[2], bytes[3]])
}

fn le32(bytes: &[u8]) -> u32 {
    u32::from_le_bytes([bytes[0], bytes[1], bytes[2], bytes[3]])
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Cursor;

    const CANARY: &[u8] = b"GPSCANARY";

    fn scrub(mime: &str, input: &[u8], piece: usize) -> Vec<u8> {
        let mut scrubber = Scrubber::for_mime(mime).unwrap();
        let mut out = Vec::new();
        for chunk in input.chunks(piece) {
            scrubber.push(chunk, &mut out);
        }
        scrubber.finish(&mut out);
        out
    }

    fn encoded(format: image::ImageFormat) -> Vec<u8> {
        let image =
            image::RgbImage::from_fn(16, 8, |x, y| image::Rgb([x as u8 * 9, y as u8 * 20, 7]));
        let mut out = Cursor::new(Vec::new());
        image.write_to(&mut out, format).unwrap();
        out.into_inner()
    }

    fn contains(haystack: &[u8], needle: &[u8]) -> bool {
        haystack.windows(needle.len()).any(|w| w == needle)
    }

    fn same_pixels(a: &[u8], b: &[u8]) {
        let (a, b) = (
            image::load_from_memory(a).unwrap(),
            image::load_from_memory(b).unwrap(),
        );
        assert_eq!(a.to_rgba8().into_raw(), b.to_rgba8().into_raw());
    }

    #[test]
    fn jpeg_loses_exif_xmp_and_comments_and_keeps_its_colour_profile() {
        let jpeg = encoded(image::ImageFormat::Jpeg);
        let segment = |marker: u8, payload: &[u8]| {
            let len = u16::try_from(payload.len() + 2).unwrap().to_be_bytes();
            [&[0xFF, marker][..], &len, payload].concat()
        };
        let exif = segment(0xE1, &[&b"Exif\0\0"[..], CANARY].concat());
        let comment = segment(0xFE, CANARY);
        let icc = segment(0xE2, b"ICC_PROFILE\0\x01\x01keep-me");
        let with_metadata = [&jpeg[..2], &exif, &icc, &comment, &jpeg[2..]].concat();
        for piece in [1, 7, with_metadata.len()] {
            let out = scrub("image/jpeg", &with_metadata, piece);
            assert!(
                !contains(&out, CANARY) && !contains(&out, b"Exif"),
                "piece {piece}"
            );
            assert!(contains(&out, b"keep-me"), "the ICC profile stays");
            assert_eq!(out.len(), jpeg.len() + icc.len());
            same_pixels(&out, &jpeg);
        }
    }

    #[test]
    fn png_loses_text_and_exif_chunks() {
        let png = encoded(image::ImageFormat::Png);
        let chunk = |kind: &[u8; 4], data: &[u8]| {
            let len = u32::try_from(data.len()).unwrap().to_be_bytes();
            // The CRC is not checked by the scrubber; any four bytes do here.
            [&len[..], kind, data, &[0, 0, 0, 0]].concat()
        };
        let text = chunk(b"tEXt", &[&b"Comment\0"[..], CANARY].concat());
        let exif = chunk(b"eXIf", CANARY);
        // After the signature (8) and IHDR (25 bytes).
        let with_metadata = [&png[..33], &text, &exif, &png[33..]].concat();
        for piece in [1, 5, with_metadata.len()] {
            let out = scrub("image/png", &with_metadata, piece);
            assert_eq!(out, png, "piece {piece}");
        }
    }

    #[test]
    fn webp_metadata_is_blanked_in_place() {
        let canary_chunk = [&b"EXIF"[..], &10u32.to_le_bytes(), b"GPSCANARY\0"].concat();
        let vp8x = [
            &b"VP8X"[..],
            &10u32.to_le_bytes(),
            &[0x08 | 0x10, 0, 0, 0, 0, 0, 0, 0, 0, 0],
        ]
        .concat();
        let image = [&b"VP8L"[..], &5u32.to_le_bytes(), b"abcde\0"].concat();
        let body = [&b"WEBP"[..], &vp8x, &image, &canary_chunk].concat();
        let riff = [
            &b"RIFF"[..],
            &u32::try_from(body.len()).unwrap().to_le_bytes(),
            &body,
        ]
        .concat();
        for piece in [1, 3, riff.len()] {
            let out = scrub("image/webp", &riff, piece);
            assert_eq!(
                out.len(),
                riff.len(),
                "same length: the RIFF size stays true"
            );
            assert!(!contains(&out, CANARY) && !contains(&out, b"EXIF"));
            assert!(contains(&out, b"abcde"), "image data untouched");
            let flags = out[12 + 8];
            assert_eq!(flags, 0x10, "EXIF flag cleared, others kept");
        }
    }

    #[test]
    fn garbage_and_truncated_input_pass_through_without_panicking() {
        let mut seed = 0x2545_F491_u32;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 17;
            seed ^= seed << 5;
            seed
        };
        let real = [
            ("image/jpeg", encoded(image::ImageFormat::Jpeg)),
            ("image/png", encoded(image::ImageFormat::Png)),
        ];
        for round in 0..300 {
            let (mime, base) = &real[round % 2];
            let mut bytes = base.clone();
            for _ in 0..(next() % 8) {
                let at = next() as usize % bytes.len();
                bytes[at] = next() as u8;
            }
            bytes.truncate(next() as usize % (bytes.len() + 1));
            let out = scrub(mime, &bytes, 1 + next() as usize % 50);
            assert!(out.len() <= bytes.len() + 8);
        }
        assert_eq!(scrub("image/jpeg", b"not a jpeg", 3), b"not a jpeg");
        assert_eq!(scrub("image/webp", b"RIFF", 1), b"RIFF");
        assert!(Scrubber::for_mime("image/gif").is_none());
    }
}
