//! Envelope encryption: AES-256-GCM with a fresh random 96-bit nonce per sealing.
//!
//! A sealed blob is `version (1 byte) ‖ nonce (12 bytes) ‖ ciphertext ‖ tag (16 bytes)`. The
//! caller's associated data (which room, which message) is authenticated but not stored, so a
//! blob moved to another row does not open.

use aes_gcm::aead::{Aead, AeadCore, KeyInit, OsRng, Payload};
use aes_gcm::{Aes256Gcm, Key, Nonce};
use std::fmt;

const VERSION: u8 = 1;
const NONCE_LEN: usize = 12;

/// A 256-bit AES key: a room's data key (DEK) or, inside [`super::MasterKey`], the KEK.
#[derive(Clone)]
pub struct SecretKey([u8; 32]);

/// A blob did not open: wrong key, wrong associated data, or tampered bytes.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("the ciphertext does not open with this key and context")]
pub struct OpenError;

impl SecretKey {
    /// A new random key from the operating system's generator.
    pub fn generate() -> Self {
        Self(Aes256Gcm::generate_key(OsRng).into())
    }

    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    pub fn expose(&self) -> &[u8; 32] {
        &self.0
    }

    /// Encrypts `plaintext`, binding it to `aad`.
    pub fn seal(&self, plaintext: &[u8], aad: &[u8]) -> Vec<u8> {
        let cipher = Aes256Gcm::new(Key::<Aes256Gcm>::from_slice(&self.0));
        let nonce = Aes256Gcm::generate_nonce(OsRng);
        let ciphertext = cipher
            .encrypt(
                &nonce,
                Payload {
                    msg: plaintext,
                    aad,
                },
            )
            // AES-GCM only fails on inputs beyond 64 GiB, which nothing here comes close to.
            .unwrap_or_default();
        let mut sealed = Vec::with_capacity(1 + NONCE_LEN + ciphertext.len());
        sealed.push(VERSION);
        sealed.extend_from_slice(&nonce);
        sealed.extend_from_slice(&ciphertext);
        sealed
    }

    /// Decrypts a blob made by [`SecretKey::seal`] with the same `aad`.
    pub fn open(&self, sealed: &[u8], aad: &[u8]) -> Result<Vec<u8>, OpenError> {
        let (version, rest) = sealed.split_first().ok_or(OpenError)?;
        if *version != VERSION || rest.len() < NONCE_LEN + 16 {
            return Err(OpenError);
        }
        let (nonce, ciphertext) = rest.split_at(NONCE_LEN);
        let cipher = Aes256Gcm::new(Key::<Aes256Gcm>::from_slice(&self.0));
        cipher
            .decrypt(
                Nonce::from_slice(nonce),
                Payload {
                    msg: ciphertext,
                    aad,
                },
            )
            .map_err(|_| OpenError)
    }
}

impl fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretKey([redacted])")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_text_opens_only_with_its_key_and_context() {
        let key = SecretKey::generate();
        let sealed = key.seal(b"canary", b"room:1:seq:1");
        assert_eq!(key.open(&sealed, b"room:1:seq:1").unwrap(), b"canary");
        assert_eq!(key.open(&sealed, b"room:1:seq:2"), Err(OpenError));
        assert_eq!(
            SecretKey::generate().open(&sealed, b"room:1:seq:1"),
            Err(OpenError)
        );
    }

    #[test]
    fn tampering_and_truncation_are_detected() {
        let key = SecretKey::generate();
        let mut sealed = key.seal(b"canary", b"x");
        let last = sealed.len() - 1;
        sealed[last] ^= 1;
        assert_eq!(key.open(&sealed, b"x"), Err(OpenError));
        assert_eq!(key.open(&sealed[..10], b"x"), Err(OpenError));
        assert_eq!(key.open(&[], b"x"), Err(OpenError));
    }

    #[test]
    fn every_sealing_uses_a_fresh_nonce() {
        let key = SecretKey::generate();
        assert_ne!(key.seal(b"same", b"x"), key.seal(b"same", b"x"));
    }
}
