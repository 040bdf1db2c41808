//! What an uploaded file is, read from its first bytes (magic numbers) and never from its name
//! or the Content-Type a client claims: a name is display-only, and a claimed type is whatever
//! an attacker wants it to be.
//!
//! Markup (HTML, SVG, XML) is told apart from plain text, because a browser asked to show it
//! would run its scripts: it is [`Kind::Scriptable`], outside the default allowed set, and if
//! an operator allows it anyway it is only ever served as a download.

/// How a file is shown in chat.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Image,
    Video,
    Audio,
    /// PDF and plain text: shown as a file with a download link.
    Document,
    /// HTML, SVG, XML and scripts: never shown inline.
    Scriptable,
    /// Anything else the detector knows (archives, executables, …).
    Other,
}

/// A detected type.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Detected {
    pub mime: &'static str,
    pub kind: Kind,
}

impl Detected {
    /// A client-sealed file of an end-to-end room: bytes the server cannot read, served only
    /// as a download.
    pub const OPAQUE: Detected = Detected {
        mime: "application/octet-stream",
        kind: Kind::Other,
    };

    /// Whether a browser may be asked to render it in the page (images, audio, video, PDF and
    /// plain text, always with `nosniff` and a sandboxing CSP); anything else is a download.
    pub fn inline(&self) -> bool {
        !matches!(self.kind, Kind::Scriptable | Kind::Other)
    }
}

/// The types accepted when the operator names none: common images, video, audio, PDF and text.
pub const DEFAULT_ALLOWED: &[&str] = &[
    "image/png",
    "image/jpeg",
    "image/gif",
    "image/webp",
    "image/avif",
    "video/mp4",
    "video/webm",
    "audio/webm",
    "audio/ogg",
    "audio/opus",
    "audio/mpeg",
    "audio/x-wav",
    "application/pdf",
    "text/plain",
];

/// The type of a file whose first bytes are `head` (a few KiB is plenty); `None` when the
/// bytes match nothing known and are not plain text.
pub fn detect(head: &[u8]) -> Option<Detected> {
    if let Some(found) = infer::get(head) {
        let mime = found.mime_type();
        if mime == "video/webm" && !has_video_track(head) {
            // A voice note: WebM holding only audio (what browsers' MediaRecorder makes).
            return Some(Detected {
                mime: "audio/webm",
                kind: Kind::Audio,
            });
        }
        let kind = match found.matcher_type() {
            _ if mime == "image/svg+xml" => Kind::Scriptable,
            infer::MatcherType::Image => Kind::Image,
            infer::MatcherType::Video => Kind::Video,
            infer::MatcherType::Audio => Kind::Audio,
            infer::MatcherType::Text => Kind::Scriptable,
            _ if mime == "application/pdf" => Kind::Document,
            _ => Kind::Other,
        };
        return Some(Detected { mime, kind });
    }
    if looks_like_markup(head) {
        return Some(Detected {
            mime: "text/html",
            kind: Kind::Scriptable,
        });
    }
    is_plain_text(head).then_some(Detected {
        mime: "text/plain",
        kind: Kind::Document,
    })
}

/// Whether a WebM head declares a video track: a `CodecID` element (0x86) whose value starts
/// with `V_` (`V_VP8`, `V_VP9`, `V_AV1`). The track list sits in the first few hundred bytes of
/// a MediaRecorder file; a head with no codec ids at all is taken for video, the safe side.
fn has_video_track(head: &[u8]) -> bool {
    let codec_ids: Vec<&[u8]> = head
        .windows(4)
        .filter(|w| w[0] == 0x86 && w[1] & 0x80 != 0 && w[3] == b'_')
        .map(|w| &w[2..4])
        .collect();
    codec_ids.is_empty() || codec_ids.iter().any(|id| id[0] == b'V')
}

/// Text a browser might sniff as markup: it opens, after white space or a byte-order mark,
/// with a tag or a declaration (`<svg`, `<!DOCTYPE`, `<?xml`, `<script`, …).
fn looks_like_markup(head: &[u8]) -> bool {
    let text = head.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(head);
    let start = text.iter().position(|b| !b.is_ascii_whitespace());
    start.is_some_and(|i| {
        text[i] == b'<'
            && text
                .get(i + 1)
                .is_some_and(|b| b.is_ascii_alphabetic() || *b == b'!' || *b == b'?')
    })
}

/// UTF-8 without NUL or control characters other than tab, line breaks and form feed. The
/// head may end inside a character: only a cut-off last character is forgiven.
fn is_plain_text(head: &[u8]) -> bool {
    let valid = match std::str::from_utf8(head) {
        Ok(text) => text,
        Err(err) if err.error_len().is_none() => {
            std::str::from_utf8(&head[..err.valid_up_to()]).unwrap_or_default()
        }
        Err(_) => return false,
    };
    !head.is_empty()
        && valid
            .chars()
            .all(|c| !c.is_control() || matches!(c, '\t' | '\n' | '\r' | '\u{c}'))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mime(head: &[u8]) -> Option<&'static str> {
        detect(head).map(|d| d.mime)
    }

    #[test]
    fn media_is_known_by_its_magic_numbers_whatever_it_is_called() {
        let png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0";
        assert_eq!(
            detect(png),
            Some(Detected {
                mime: "image/png",
                kind: Kind::Image
            })
        );
        assert_eq!(mime(b"\xFF\xD8\xFF\xE0\0\x10JFIF\0"), Some("image/jpeg"));
        assert_eq!(mime(b"GIF89a\x01\0\x01\0"), Some("image/gif"));
        assert_eq!(mime(b"RIFF\x24\0\0\0WEBPVP8 "), Some("image/webp"));
        assert_eq!(
            mime(b"%PDF-1.7\n%\xE2\xE3\xCF\xD3\n"),
            Some("application/pdf")
        );
        assert_eq!(mime(b"OggS\0\x02\0\0\0\0\0\0\0\0"), Some("audio/ogg"));
        assert_eq!(mime(b"ID3\x04\0\0\0\0\0\x0f"), Some("audio/mpeg"));
        assert_eq!(mime(b"RIFF\x24\0\0\0WAVEfmt "), Some("audio/x-wav"));
        assert_eq!(mime(b"\x1A\x45\xDF\xA3\x9F\x42\x86\x81\x01\x42\xF7\x81\x01\x42\xF2\x81\x04\x42\xF3\x81\x08\x42\x82\x84webm"), Some("video/webm"));
        assert_eq!(
            mime(b"\0\0\0\x20ftypisom\0\0\x02\0isomiso2avc1mp41"),
            Some("video/mp4")
        );
        assert!(DEFAULT_ALLOWED.contains(&"image/png") && !DEFAULT_ALLOWED.contains(&"text/html"));
    }

    #[test]
    fn webm_with_only_audio_is_a_voice_note() {
        let ebml = b"\x1A\x45\xDF\xA3\x9F\x42\x86\x81\x01\x42\xF7\x81\x01\x42\xF2\x81\x04\x42\xF3\x81\x08\x42\x82\x84webm";
        let audio = [&ebml[..], b"\x16\x54\xAE\x6B\xAE\xD7\x81\x01\x86\x86A_OPUS"].concat();
        let video = [&audio[..], b"\xAE\x86\x85V_VP8"].concat();
        assert_eq!(mime(&audio), Some("audio/webm"));
        assert_eq!(detect(&audio).map(|d| d.kind), Some(Kind::Audio));
        assert_eq!(mime(&video), Some("video/webm"));
        assert_eq!(mime(ebml), Some("video/webm"), "no tracks seen: video");
    }

    #[test]
    fn markup_is_scriptable_and_never_inline() {
        for head in [
            &b"<svg xmlns=\"http://www.w3.org/2000/svg\" onload=\"alert(1)\"/>"[..],
            b"<?xml version=\"1.0\"?><svg/>",
            b"  \n<!DOCTYPE html><html><script>alert(1)</script>",
            b"\xEF\xBB\xBF<html>",
            b"<script>alert(1)</script>",
            b"#!/bin/sh\nrm -rf /\n",
        ] {
            let found = detect(head).unwrap_or_else(|| panic!("{head:?}"));
            assert_eq!(found.kind, Kind::Scriptable, "{head:?}");
            assert!(!found.inline(), "{head:?}");
        }
    }

    #[test]
    fn plain_text_is_utf8_without_control_bytes() {
        assert_eq!(mime(b"hello\tworld\r\n"), Some("text/plain"));
        assert_eq!(mime("caf\u{e9} \u{1F600}".as_bytes()), Some("text/plain"));
        assert_eq!(
            mime(&"\u{e9}".as_bytes()[..1]),
            Some("text/plain"),
            "a cut-off last character"
        );
        assert_eq!(
            mime(b"a < b and c > d"),
            Some("text/plain"),
            "a comparison is not markup"
        );
        for binary in [
            &b"\0\x01\x02\x03"[..],
            b"text\0with nul",
            b"\xFF\xFE\xFD",
            b"",
        ] {
            assert_eq!(detect(binary), None, "{binary:?}");
        }
        assert_eq!(
            detect(b"MZ\x90\0\x03\0\0\0").map(|d| d.kind),
            Some(Kind::Other)
        );
    }
}
