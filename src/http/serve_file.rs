//! Serving a stored file: one place decides the headers every file response carries, so a
//! file can never be served without them.
//!
//! - `X-Content-Type-Options: nosniff` and the detected type (never the uploader's claim);
//!   types a browser could run (markup, scripts, PDF with its own scripting, anything unknown)
//!   are sent as `application/octet-stream` and `attachment`.
//! - A sandboxing `Content-Security-Policy`: even a file opened directly in a tab cannot run
//!   script or reach anything.
//! - `Content-Disposition` with the display name made safe for the header: an ASCII fallback
//!   in `filename=` and the exact name in `filename*=` (RFC 6266, RFC 5987 encoding).
//! - `Cache-Control: private`: a shared cache never keeps a file meant for some people only.
//! - HTTP ranges (`bytes=a-b`, `a-`, `-n`), so audio and video can seek; a range outside
//!   the file is 416.

use axum::http::header::{
    ACCEPT_RANGES, CACHE_CONTROL, CONTENT_DISPOSITION, CONTENT_LENGTH, CONTENT_RANGE,
    CONTENT_SECURITY_POLICY, CONTENT_TYPE, ETAG, IF_NONE_MATCH, RANGE,
};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use std::ops::Range;

/// No script, no plugins, no requests; media and images may show themselves.
pub const FILE_CSP: &str =
    "default-src 'none'; img-src 'self'; media-src 'self'; style-src 'unsafe-inline'; sandbox";

/// How a response presents a file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Presentation {
    /// Shown in the page (`<img>`, `<video>`, `<audio>`, plain text in a tab).
    Inline,
    /// Saved, never rendered.
    Attachment,
}

/// What part of a file a request asked for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Wanted {
    Whole,
    Part(Range<u64>),
    /// A range that does not fit the file: 416.
    Unsatisfiable,
}

/// The part of a `len`-byte file a `Range` header asks for. Anything but one byte range
/// (several ranges, other units, nonsense) is answered with the whole file, as RFC 9110
/// allows.
pub fn wanted(headers: &HeaderMap, len: u64) -> Wanted {
    let Some(spec) = headers
        .get(RANGE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().strip_prefix("bytes="))
    else {
        return Wanted::Whole;
    };
    if spec.contains(',') {
        return Wanted::Whole;
    }
    let Some((start, end)) = spec.trim().split_once('-') else {
        return Wanted::Whole;
    };
    let number = |s: &str| s.trim().parse::<u64>().ok();
    let range = match (start.trim().is_empty(), number(start), number(end)) {
        // `-n`: the last n bytes.
        (true, _, Some(n)) if n > 0 => len.saturating_sub(n)..len,
        (true, _, _) => return Wanted::Unsatisfiable,
        (false, Some(start), None) if end.trim().is_empty() => start..len,
        (false, Some(start), Some(end)) if end >= start => start..(end + 1).min(len),
        _ => return Wanted::Whole,
    };
    if range.start >= len || range.is_empty() {
        Wanted::Unsatisfiable
    } else {
        Wanted::Part(range)
    }
}

/// The headers of a file response (besides the body's length and range).
pub fn file_headers(mime: &str, name: &str, presentation: Presentation, etag: &str) -> HeaderMap {
    let mut headers = HeaderMap::new();
    let content_type = match presentation {
        Presentation::Inline if mime == "text/plain" => "text/plain; charset=utf-8".to_owned(),
        Presentation::Inline => mime.to_owned(),
        Presentation::Attachment => "application/octet-stream".to_owned(),
    };
    let static_headers = [
        ("x-content-type-options", "nosniff"),
        ("cross-origin-resource-policy", "same-origin"),
        ("referrer-policy", "no-referrer"),
    ];
    for (name, value) in static_headers {
        headers.insert(name, HeaderValue::from_static(value));
    }
    headers.insert(CONTENT_SECURITY_POLICY, HeaderValue::from_static(FILE_CSP));
    headers.insert(
        CACHE_CONTROL,
        HeaderValue::from_static("private, max-age=3600"),
    );
    headers.insert(ACCEPT_RANGES, HeaderValue::from_static("bytes"));
    if let Ok(value) = HeaderValue::from_str(&content_type) {
        headers.insert(CONTENT_TYPE, value);
    }
    if let Ok(value) = HeaderValue::from_str(&content_disposition(presentation, name)) {
        headers.insert(CONTENT_DISPOSITION, value);
    }
    if let Ok(value) = HeaderValue::from_str(&format!("\"{etag}\"")) {
        headers.insert(ETAG, value);
    }
    headers
}

/// Whether the client already holds this version (`If-None-Match`).
pub fn not_modified(request: &HeaderMap, etag: &str) -> bool {
    request
        .get(IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim().trim_matches('"') == etag))
}

/// A complete response: `headers`, then the whole body or the part asked for.
pub fn respond(
    mut headers: HeaderMap,
    len: u64,
    wanted: &Wanted,
    body: axum::body::Body,
) -> Response {
    match wanted {
        Wanted::Whole => {
            headers.insert(CONTENT_LENGTH, HeaderValue::from(len));
            (StatusCode::OK, headers, body).into_response()
        }
        Wanted::Part(range) => {
            headers.insert(CONTENT_LENGTH, HeaderValue::from(range.end - range.start));
            if let Ok(value) =
                HeaderValue::from_str(&format!("bytes {}-{}/{len}", range.start, range.end - 1))
            {
                headers.insert(CONTENT_RANGE, value);
            }
            (StatusCode::PARTIAL_CONTENT, headers, body).into_response()
        }
        Wanted::Unsatisfiable => {
            if let Ok(value) = HeaderValue::from_str(&format!("bytes */{len}")) {
                headers.insert(CONTENT_RANGE, value);
            }
            headers.remove(CONTENT_TYPE);
            (StatusCode::RANGE_NOT_SATISFIABLE, headers).into_response()
        }
    }
}

/// `inline` or `attachment`, with `filename="<ASCII fallback>"; filename*=UTF-8''<name>`.
pub fn content_disposition(presentation: Presentation, name: &str) -> String {
    let kind = match presentation {
        Presentation::Inline => "inline",
        Presentation::Attachment => "attachment",
    };
    let fallback: String = name
        .chars()
        .map(|c| match c {
            ' '..='~' if c != '"' && c != '\\' && c != '%' => c,
            _ => '_',
        })
        .collect();
    let mut encoded = String::with_capacity(name.len() * 3);
    for byte in name.bytes() {
        if byte.is_ascii_alphanumeric() || b"!#$&+-.^_`|~".contains(&byte) {
            encoded.push(char::from(byte));
        } else {
            encoded.push_str(&format!("%{byte:02X}"));
        }
    }
    format!("{kind}; filename=\"{fallback}\"; filename*=UTF-8''{encoded}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn range(value: &str, len: u64) -> Wanted {
        let mut headers = HeaderMap::new();
        headers.insert(RANGE, HeaderValue::from_str(value).unwrap());
        wanted(&headers, len)
    }

    #[test]
    fn ranges_are_read_as_rfc_9110_says() {
        assert_eq!(wanted(&HeaderMap::new(), 10), Wanted::Whole);
        assert_eq!(range("bytes=0-3", 10), Wanted::Part(0..4));
        assert_eq!(range("bytes=5-", 10), Wanted::Part(5..10));
        assert_eq!(range("bytes=-3", 10), Wanted::Part(7..10));
        assert_eq!(range("bytes=-30", 10), Wanted::Part(0..10));
        assert_eq!(range("bytes=8-100", 10), Wanted::Part(8..10));
        assert_eq!(range("bytes=10-", 10), Wanted::Unsatisfiable);
        assert_eq!(range("bytes=-0", 10), Wanted::Unsatisfiable);
        assert_eq!(range("bytes=0-0", 0), Wanted::Unsatisfiable);
        assert_eq!(range("bytes=0-1,4-5", 10), Wanted::Whole);
        assert_eq!(range("bytes=5-2", 10), Wanted::Whole);
        assert_eq!(range("items=0-1", 10), Wanted::Whole);
        assert_eq!(range("bytes=x-y", 10), Wanted::Whole);
    }

    #[test]
    fn names_are_quoted_and_encoded_for_the_header() {
        assert_eq!(
            content_disposition(Presentation::Inline, "cat.png"),
            "inline; filename=\"cat.png\"; filename*=UTF-8''cat.png"
        );
        assert_eq!(
            content_disposition(Presentation::Attachment, "say \"hi\"\\%.txt"),
            "attachment; filename=\"say _hi___.txt\"; filename*=UTF-8''say%20%22hi%22%5C%25.txt"
        );
        let rtl = content_disposition(Presentation::Attachment, "x\u{202E}gpj.exe");
        assert!(rtl.contains("filename=\"x_gpj.exe\""), "{rtl}");
        assert!(rtl.contains("filename*=UTF-8''x%E2%80%AEgpj.exe"), "{rtl}");
        for name in [
            "caf\u{e9}.txt",
            "a\0b",
            "\r\nSet-Cookie: x",
            "../../etc/passwd",
        ] {
            let value = content_disposition(Presentation::Inline, name);
            assert!(HeaderValue::from_str(&value).is_ok(), "{value:?}");
            assert!(value.is_ascii() && !value.contains('\r') && !value.contains('\n'));
        }
    }
}
