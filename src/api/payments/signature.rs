//! The payment webhook's signature, Stripe's scheme under our own header name:
//!
//! ```text
//! Parlor-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>
//! ```
//!
//! The timestamp is signed with the body, so a captured request cannot be replayed later than
//! [`TOLERANCE_SECS`] (and within it, the event id makes a replay count once). Several `v1`
//! values may be sent — a provider rotating its secret signs with the old and the new one —
//! and one matching is enough; other schemes (`v0=…`) are ignored. Every comparison runs in
//! constant time (`hmac`'s `verify_slice`), so a forger learns nothing from how long a
//! refusal took.

use hmac::{Hmac, Mac};
use sha2::Sha256;

/// The header carrying the signature (HTTP header names are case-insensitive).
pub const HEADER: &str = "parlor-signature";

/// How far a signature's timestamp may be from the server's clock, either way: five minutes.
pub const TOLERANCE_SECS: i64 = 300;

/// Signatures looked at per header at most (a header is not a place to make us hash a lot).
const MAX_SIGNATURES: usize = 8;

/// Why a signature was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SignatureError {
    /// Missing, malformed, or no `v1` value matches.
    Invalid,
    /// Authentic, but signed more than [`TOLERANCE_SECS`] from now.
    Stale,
}

/// Checks `header` against `body` signed with `secret`, at `now_secs` (Unix seconds).
pub fn verify(
    secret: &[u8],
    header: Option<&str>,
    body: &[u8],
    now_secs: i64,
) -> Result<(), SignatureError> {
    let header = header.ok_or(SignatureError::Invalid)?;
    let mut timestamp = None;
    let mut signatures = Vec::new();
    for part in header.split(',') {
        match part.trim().split_once('=') {
            Some(("t", value)) => timestamp = Some(value),
            Some(("v1", value)) if signatures.len() < MAX_SIGNATURES => {
                // A value that is not 32 bytes of hex can match nothing: skip it.
                if let Some(signature) = decode_hex(value) {
                    signatures.push(signature);
                }
            }
            _ => {}
        }
    }
    let timestamp = timestamp.ok_or(SignatureError::Invalid)?;
    let seconds: i64 = match timestamp.bytes().all(|b| b.is_ascii_digit()) {
        true => timestamp.parse().map_err(|_| SignatureError::Invalid)?,
        false => return Err(SignatureError::Invalid),
    };
    let mac = Hmac::<Sha256>::new_from_slice(secret).map_err(|_| SignatureError::Invalid)?;
    let mut signed = mac;
    // The timestamp exactly as sent: that is what the sender signed.
    signed.update(timestamp.as_bytes());
    signed.update(b".");
    signed.update(body);
    let matches = signatures
        .iter()
        .any(|signature| signed.clone().verify_slice(signature).is_ok());
    if !matches {
        return Err(SignatureError::Invalid);
    }
    if (now_secs - seconds).abs() > TOLERANCE_SECS {
        return Err(SignatureError::Stale);
    }
    Ok(())
}

/// `t=…,v1=…` for `body` at `seconds`: what a sender puts in the header.
#[cfg(test)]
fn sign(secret: &[u8], body: &[u8], seconds: i64) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret).expect("HMAC takes keys of any length");
    mac.update(format!("{seconds}.").as_bytes());
    mac.update(body);
    let digest = mac.finalize().into_bytes();
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    format!("t={seconds},v1={hex}")
}

fn decode_hex(text: &str) -> Option<Vec<u8>> {
    if text.len() != 64 {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &[u8] = b"whsec_test";
    const BODY: &[u8] = br#"{"id":"evt_1","type":"payment.succeeded","account":"ann"}"#;

    #[test]
    fn a_fresh_signature_of_the_body_passes() {
        let header = sign(SECRET, BODY, 1_000);
        assert_eq!(verify(SECRET, Some(&header), BODY, 1_000), Ok(()));
        assert_eq!(verify(SECRET, Some(&header), BODY, 1_300), Ok(()));
        assert_eq!(verify(SECRET, Some(&header), BODY, 700), Ok(()));
    }

    #[test]
    fn another_secret_body_or_timestamp_is_invalid() {
        let header = sign(SECRET, BODY, 1_000);
        assert_eq!(
            verify(b"other", Some(&header), BODY, 1_000),
            Err(SignatureError::Invalid)
        );
        assert_eq!(
            verify(SECRET, Some(&header), b"{}", 1_000),
            Err(SignatureError::Invalid)
        );
        let moved = header.replace("t=1000", "t=1001");
        assert_eq!(
            verify(SECRET, Some(&moved), BODY, 1_000),
            Err(SignatureError::Invalid)
        );
        for bad in ["", "t=1000", "v1=00", "t=x,v1=00", "garbage"] {
            assert_eq!(
                verify(SECRET, Some(bad), BODY, 1_000),
                Err(SignatureError::Invalid),
                "{bad}"
            );
        }
        assert_eq!(
            verify(SECRET, None, BODY, 1_000),
            Err(SignatureError::Invalid)
        );
    }

    #[test]
    fn an_old_signature_is_stale() {
        let header = sign(SECRET, BODY, 1_000);
        assert_eq!(
            verify(SECRET, Some(&header), BODY, 1_301),
            Err(SignatureError::Stale)
        );
        assert_eq!(
            verify(SECRET, Some(&header), BODY, 699),
            Err(SignatureError::Stale)
        );
    }

    #[test]
    fn one_matching_signature_of_several_is_enough() {
        let old = sign(b"old secret", BODY, 1_000);
        let new = sign(SECRET, BODY, 1_000);
        let both = format!("{old},{}", new.trim_start_matches("t=1000,"));
        assert_eq!(verify(SECRET, Some(&both), BODY, 1_000), Ok(()));
        assert_eq!(verify(b"old secret", Some(&both), BODY, 1_000), Ok(()));
    }
}
