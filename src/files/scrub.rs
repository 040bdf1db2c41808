//! Removing metadata from images while they stream in: phones put where a photo was taken
//! (GPS), the device and the time into Exif, and a chat server must not hand that to a room.
//! The upload is never whole in memory, so this is a state machine fed piece by piece (down to
//! single bytes); it holds back at most a segment's header (16 bytes), never a segment, and
//! its output does not depend on how the input was cut.
//!
//! - JPEG: APP1 (Exif, XMP), APP13 (IPTC), the other APPn segments and comments are dropped;
//!   APP0 (JFIF), APP2 `ICC_PROFILE` and APP14 `Adobe` stay: colours depend on them. Scan data
//!   passes unchanged but is watched for the marker ending it, so segments between the scans
//!   of a progressive JPEG follow the same rules, and what follows the image's end (a "motion
//!   photo" video, vendor trailers) is dropped: decoders never read it, and it can hold a
//!   location of its own. Exif's orientation tag goes too (sideways photos stay sideways).
//! - PNG: `eXIf`, `tEXt`, `zTXt`, `iTXt` and `tIME` chunks are dropped; kept chunks pass as
//!   they are, CRC included.
//! - WebP: the RIFF header states the file's size up front, so chunks cannot be dropped on the
//!   fly; `EXIF` and `XMP ` chunks are neutralised in place instead (renamed `JUNK`, which
//!   decoders skip, and zeroed), and the VP8X flags stop announcing them.
//!
//! Input whose structure stops making sense passes through unchanged from there: this removes
//! metadata, it does not validate (the server decodes images separately and refuses those
//! that fail). It must not panic on any input.

const PNG_SIGNATURE: &[u8; 8] = b"\x89PNG\r\n\x1a\n";
const PNG_DROPPED: [&[u8; 4]; 5] = [b"eXIf", b"tEXt", b"zTXt", b"iTXt", b"tIME"];
/// What a neutralised WebP metadata chunk is renamed to.
const WEBP_BLANK: &[u8; 4] = b"JUNK";
/// VP8X flag bits announcing EXIF (0x08) and XMP (0x04) chunks.
const VP8X_METADATA: u8 = 0x08 | 0x04;
/// Bytes of an APPn payload read to tell ICC profiles and Adobe segments from the rest.
const JPEG_IDENTIFIER: u64 = 12;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Format {
    Jpeg,
    Png,
    Webp,
}

/// What happens to a segment's body.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Body {
    Copy,
    Skip,
    /// Zeros are written in its place.
    Zero,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    /// Collecting a header of this many bytes.
    Header(usize),
    /// Handling the next this many bytes of a segment's body.
    Body(Body, u64),
    /// JPEG scan data: copied up to the next 0xFF, which may start a marker.
    Scan,
    /// Everything else passes unchanged.
    Pass,
    /// Everything else is dropped (after a JPEG's end).
    Drop,
}

/// Removes metadata from one image as it streams through.
#[derive(Debug)]
pub struct Scrubber {
    format: Format,
    /// Past the signature (SOI, PNG signature, RIFF header).
    started: bool,
    /// Inside JPEG scan data, where 0xFF00 and restart markers are data.
    in_scan: bool,
    state: State,
    held: Vec<u8>,
}

impl Scrubber {
    /// A scrubber for this detected type ("image/jpeg", "image/png", "image/webp"), or `None`
    /// for types passed through unchanged.
    pub fn for_mime(mime: &str) -> Option<Scrubber> {
        let (format, need) = match mime {
            "image/jpeg" => (Format::Jpeg, 2),
            "image/png" => (Format::Png, 8),
            "image/webp" => (Format::Webp, 12),
            _ => return None,
        };
        Some(Scrubber {
            format,
            started: false,
            in_scan: false,
            state: State::Header(need),
            held: Vec::with_capacity(16),
        })
    }

    /// Feeds the next piece of the upload; appends the scrubbed bytes that are ready to `out`.
    pub fn push(&mut self, mut input: &[u8], out: &mut Vec<u8>) {
        while !input.is_empty() {
            input = self.step(input, out);
        }
    }

    /// The upload ended: appends whatever is held back (a header cut off by the end).
    pub fn finish(self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.held);
    }

    /// Consumes some of `input` and returns the rest.
    fn step<'a>(&mut self, input: &'a [u8], out: &mut Vec<u8>) -> &'a [u8] {
        match self.state {
            State::Pass => {
                out.extend_from_slice(input);
                &[]
            }
            State::Drop => &[],
            State::Scan => {
                let at = input.iter().position(|&b| b == 0xFF).unwrap_or(input.len());
                out.extend_from_slice(&input[..at]);
                if at < input.len() {
                    self.state = State::Header(2);
                }
                &input[at..]
            }
            State::Body(body, left) => {
                let take = input.len().min(usize::try_from(left).unwrap_or(usize::MAX));
                match body {
                    Body::Copy => out.extend_from_slice(&input[..take]),
                    Body::Zero => out.resize(out.len() + take, 0),
                    Body::Skip => {}
                }
                self.state = match left - take as u64 {
                    0 => self.next_header(),
                    left => State::Body(body, left),
                };
                &input[take..]
            }
            State::Header(need) => {
                let take = need.saturating_sub(self.held.len()).min(input.len());
                self.held.extend_from_slice(&input[..take]);
                if self.held.len() >= need {
                    self.decide(out);
                }
                &input[take..]
            }
        }
    }

    /// What comes after a segment: scan data or the next header.
    fn next_header(&self) -> State {
        match self.format {
            Format::Jpeg if self.in_scan => State::Scan,
            Format::Jpeg => State::Header(2),
            Format::Png | Format::Webp => State::Header(8),
        }
    }

    /// A header is complete: keep, drop or neutralise what it opens.
    fn decide(&mut self, out: &mut Vec<u8>) {
        let signature_ok = match (self.format, self.started) {
            (Format::Jpeg, false) => self.held == [0xFF, 0xD8],
            (Format::Png, false) => self.held == PNG_SIGNATURE,
            (Format::Webp, false) => self.held.starts_with(b"RIFF") && self.held[8..] == *b"WEBP",
            (Format::Jpeg, true) => return self.jpeg_marker(out),
            (Format::Png, true) => return self.png_chunk(out),
            (Format::Webp, true) => return self.webp_chunk(out),
        };
        if signature_ok {
            self.started = true;
            self.emit(out, self.next_header());
        } else {
            self.give_up(out);
        }
    }

    fn jpeg_marker(&mut self, out: &mut Vec<u8>) {
        let (first, marker) = (self.held[0], self.held[1]);
        if first != 0xFF {
            return self.give_up(out);
        }
        if self.held.len() == 2 {
            match marker {
                // Fill bytes: the marker is the next byte.
                0xFF => {
                    out.push(0xFF);
                    self.held.truncate(1);
                }
                // Stuffed zero and restart markers: scan data.
                0x00 | 0xD0..=0xD7 if self.in_scan => self.emit(out, State::Scan),
                0x01 | 0xD0..=0xD8 => self.emit(out, State::Header(2)),
                0xD9 => self.emit(out, State::Drop),
                _ => {
                    self.in_scan = false;
                    self.state = State::Header(4);
                }
            }
            return;
        }
        let len = u64::from(u16::from_be_bytes([self.held[2], self.held[3]]));
        let Some(payload) = len.checked_sub(2) else {
            return self.give_up(out);
        };
        if self.held.len() == 4 && matches!(marker, 0xE2 | 0xEE) && payload > 0 {
            // Read the identifier first: these stay when they hold colour information.
            self.state = State::Header(4 + payload.min(JPEG_IDENTIFIER) as usize);
            return;
        }
        let identifier = &self.held[4..];
        let dropped = match marker {
            0xE2 => !identifier.starts_with(b"ICC_PROFILE\0"),
            0xEE => !identifier.starts_with(b"Adobe"),
            0xE1 | 0xE3..=0xED | 0xEF | 0xFE => true,
            _ => false,
        };
        let rest = payload.saturating_sub(identifier.len() as u64);
        if dropped {
            self.skip(rest);
        } else {
            self.in_scan = marker == 0xDA;
            self.emit(out, State::Body(Body::Copy, rest));
        }
    }

    fn png_chunk(&mut self, out: &mut Vec<u8>) {
        let rest = u64::from(u32::from_be_bytes(word(&self.held))) + 4; // data and CRC
        if PNG_DROPPED.iter().any(|kind| self.held[4..8] == **kind) {
            self.skip(rest);
        } else {
            self.emit(out, State::Body(Body::Copy, rest));
        }
    }

    fn webp_chunk(&mut self, out: &mut Vec<u8>) {
        let size = u32::from_le_bytes(word(&self.held[4..]));
        let padded = u64::from(size) + u64::from(size & 1);
        match &self.held[..4] {
            // Read the flags byte too.
            b"VP8X" if size > 0 && self.held.len() == 8 => self.state = State::Header(9),
            b"VP8X" if self.held.len() == 9 => {
                self.held[8] &= !VP8X_METADATA;
                self.emit(out, State::Body(Body::Copy, padded.saturating_sub(1)));
            }
            b"EXIF" | b"XMP " => {
                self.held[..4].copy_from_slice(WEBP_BLANK);
                self.emit(out, State::Body(Body::Zero, padded));
            }
            _ => self.emit(out, State::Body(Body::Copy, padded)),
        }
    }

    /// Passes the held header on, then goes to `next`.
    fn emit(&mut self, out: &mut Vec<u8>, next: State) {
        out.extend_from_slice(&self.held);
        self.held.clear();
        self.state = next;
    }

    /// Drops the held header and the `left` bytes after it.
    fn skip(&mut self, left: u64) {
        self.held.clear();
        self.state = State::Body(Body::Skip, left);
    }

    /// The structure stopped making sense: the rest passes unchanged.
    fn give_up(&mut self, out: &mut Vec<u8>) {
        self.emit(out, State::Pass);
    }
}

/// The first four bytes of a held header.
fn word(bytes: &[u8]) -> [u8; 4] {
    [bytes[0], bytes[1], bytes[2], bytes[3]]
}

#[cfg(test)]
mod tests;
