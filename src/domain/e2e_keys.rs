//! An account's end-to-end keys as the server keeps them (see `docs/e2ee.md`): two P-256 public
//! keys and two documents wrapping the private keys, which the server cannot open. Parsing checks
//! the shapes the document fixes — a public key is an uncompressed P-256 SubjectPublicKeyInfo, a
//! wrapped document names its derivation with strong enough parameters — so that a client reading
//! someone's keys gets what the format promises; the cryptography itself happens in browsers.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// The DER header of an uncompressed P-256 SubjectPublicKeyInfo (id-ecPublicKey, prime256v1),
/// before the 65-byte point `04 ‖ x ‖ y`: what WebCrypto and `cryptography` both export.
const P256_SPKI_HEADER: [u8; 26] = [
    0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01, 0x06, 0x08, 0x2a,
    0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07, 0x03, 0x42, 0x00,
];

/// The fewest PBKDF2 iterations a password-wrapped document may name.
pub const MIN_PBKDF2_ITERATIONS: u32 = 600_000;
/// The most, so that unlocking stays possible in a browser.
pub const MAX_PBKDF2_ITERATIONS: u32 = 10_000_000;
/// The largest wrapped ciphertext (two PKCS #8 keys in JSON are a few hundred bytes).
const MAX_WRAPPED_BYTES: usize = 8192;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    #[error("{0} is not a P-256 public key (base64 of an uncompressed SubjectPublicKeyInfo)")]
    PublicKey(&'static str),
    #[error("{0} is not a wrapped-keys document: {1}")]
    Wrapped(&'static str, String),
}

/// A P-256 public key, as base64 of its SubjectPublicKeyInfo.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicKey {
    der: Vec<u8>,
}

impl PublicKey {
    pub fn parse(b64: &str, what: &'static str) -> Result<Self, KeyError> {
        let der = STANDARD
            .decode(b64.trim())
            .map_err(|_| KeyError::PublicKey(what))?;
        let point = der
            .strip_prefix(P256_SPKI_HEADER.as_slice())
            .ok_or(KeyError::PublicKey(what))?;
        if point.len() != 65 || point[0] != 0x04 {
            return Err(KeyError::PublicKey(what));
        }
        Ok(Self { der })
    }

    pub fn to_b64(&self) -> String {
        STANDARD.encode(&self.der)
    }

    pub fn der(&self) -> &[u8] {
        &self.der
    }
}

/// How a wrapped document's key is derived.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Kdf {
    #[serde(rename = "pbkdf2-sha256")]
    Pbkdf2Sha256,
    #[serde(rename = "hkdf-sha256")]
    HkdfSha256,
}

/// A document wrapping the private keys (by the password or the recovery key).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Wrapped {
    pub v: u8,
    pub kdf: Kdf,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iterations: Option<u32>,
    pub salt: String,
    pub nonce: String,
    pub ciphertext: String,
}

fn decoded_len(b64: &str) -> Option<usize> {
    STANDARD.decode(b64).ok().map(|bytes| bytes.len())
}

impl Wrapped {
    /// Reads a wrapped document given as JSON text, checking its format and parameters.
    /// `kdf` is the derivation this slot must use (the password's or the recovery key's).
    pub fn parse(json: &str, what: &'static str, kdf: Kdf) -> Result<Self, KeyError> {
        let bad = |why: &str| KeyError::Wrapped(what, why.to_owned());
        let doc: Wrapped =
            serde_json::from_str(json).map_err(|e| KeyError::Wrapped(what, e.to_string()))?;
        if doc.v != 1 {
            return Err(bad("only version 1 is known"));
        }
        if doc.kdf != kdf {
            return Err(bad("wrong key derivation for this slot"));
        }
        match (doc.kdf, doc.iterations) {
            (Kdf::Pbkdf2Sha256, Some(n))
                if (MIN_PBKDF2_ITERATIONS..=MAX_PBKDF2_ITERATIONS).contains(&n) => {}
            (Kdf::Pbkdf2Sha256, _) => {
                return Err(bad("PBKDF2 needs 600000 to 10000000 iterations"));
            }
            (Kdf::HkdfSha256, None) => {}
            (Kdf::HkdfSha256, Some(_)) => return Err(bad("HKDF takes no iterations")),
        }
        if decoded_len(&doc.salt) != Some(16) {
            return Err(bad("salt must be 16 bytes"));
        }
        if decoded_len(&doc.nonce) != Some(12) {
            return Err(bad("nonce must be 12 bytes"));
        }
        match decoded_len(&doc.ciphertext) {
            Some(n) if (17..=MAX_WRAPPED_BYTES).contains(&n) => Ok(doc),
            _ => Err(bad("ciphertext must be base64 of 17 to 8192 bytes")),
        }
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }
}

/// SHA-256 of both public keys, hex: what a key change changes.
pub fn fingerprint(agreement: &PublicKey, signing: &PublicKey) -> [u8; 32] {
    let mut hash = Sha256::new();
    hash.update(agreement.der());
    hash.update(signing.der());
    hash.finalize().into()
}

/// The safety number people compare: the fingerprint's first 30 bytes as six 5-byte numbers,
/// each modulo 100 000, in five digits.
pub fn safety_number(fingerprint: &[u8; 32]) -> String {
    fingerprint[..30]
        .chunks(5)
        .map(|chunk| {
            let n = chunk.iter().fold(0u64, |n, b| (n << 8) | u64::from(*b));
            format!("{:05}", n % 100_000)
        })
        .collect::<Vec<_>>()
        .join(" ")
}

pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spki(seed: u8) -> String {
        let mut der = P256_SPKI_HEADER.to_vec();
        der.push(0x04);
        der.extend(std::iter::repeat_n(seed, 64));
        STANDARD.encode(der)
    }

    fn wrapped(kdf: &str, iterations: Option<u32>) -> String {
        let mut doc = serde_json::json!({
            "v": 1, "kdf": kdf, "salt": STANDARD.encode([1u8; 16]),
            "nonce": STANDARD.encode([2u8; 12]), "ciphertext": STANDARD.encode([3u8; 200]),
        });
        if let Some(n) = iterations {
            doc["iterations"] = n.into();
        }
        doc.to_string()
    }

    #[test]
    fn public_keys_must_be_uncompressed_p256() {
        assert!(PublicKey::parse(&spki(7), "k").is_ok());
        let mut compressed = P256_SPKI_HEADER.to_vec();
        compressed.push(0x02);
        compressed.extend([7u8; 64]);
        for bad in [
            "not base64!".to_owned(),
            STANDARD.encode(&compressed),
            STANDARD.encode([0u8; 91]),
            spki(7)[..40].to_owned(),
        ] {
            assert_eq!(
                PublicKey::parse(&bad, "k"),
                Err(KeyError::PublicKey("k")),
                "{bad}"
            );
        }
    }

    #[test]
    fn wrapped_documents_name_strong_enough_parameters() {
        let password = Kdf::Pbkdf2Sha256;
        assert!(Wrapped::parse(&wrapped("pbkdf2-sha256", Some(600_000)), "p", password).is_ok());
        assert!(Wrapped::parse(&wrapped("hkdf-sha256", None), "r", Kdf::HkdfSha256).is_ok());
        for (doc, kdf) in [
            (wrapped("pbkdf2-sha256", Some(100_000)), password),
            (wrapped("pbkdf2-sha256", None), password),
            (wrapped("hkdf-sha256", None), password),
            (wrapped("hkdf-sha256", Some(5)), Kdf::HkdfSha256),
            (wrapped("scrypt", None), password),
            (r#"{"v": 1}"#.to_owned(), password),
        ] {
            assert!(Wrapped::parse(&doc, "p", kdf).is_err(), "{doc}");
        }
    }

    #[test]
    fn the_safety_number_is_six_groups_of_five_digits() {
        let a = PublicKey::parse(&spki(1), "a").unwrap();
        let s = PublicKey::parse(&spki(2), "s").unwrap();
        let number = safety_number(&fingerprint(&a, &s));
        let groups: Vec<&str> = number.split(' ').collect();
        assert_eq!(groups.len(), 6);
        assert!(groups
            .iter()
            .all(|g| g.len() == 5 && g.bytes().all(|b| b.is_ascii_digit())));
        assert_ne!(number, safety_number(&fingerprint(&s, &a)), "order matters");
    }
}
