//! End-to-end fixtures (`docs/e2ee.md`): real P-256 public keys, wrapped-key documents, sealed
//! room keys and envelopes of the right shape. The server checks shapes only (the cryptography
//! happens in clients), so these need no private keys; the reference client in `tests/clients`
//! does the real thing.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use serde_json::{json, Value};

/// Real P-256 public keys (SubjectPublicKeyInfo, made with Python's `cryptography`).
pub const AGREEMENT: &str = "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEr4wgO7FyOItxFQFTjtE7xs3tx+FSNpFe+wWVRfrXLKyZ5CJGh6dhs7q51gBsaks48l8dKEODGHUlgxCMEAMikw==";
pub const SIGNING: &str = "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEl+O/9WB0Q33pBsoJOWtwrWK29fX0TusY9drkpr4HiSHF+MBYKVz1NBigwek3hasHDZA/zp80CI7HeRhY+Jsosw==";

/// A wrapped-keys document of the derivation `kdf`, its ciphertext filled with `fill`.
pub fn wrapped(kdf: &str, fill: char) -> Value {
    let mut doc = json!({
        "v": 1, "kdf": kdf,
        "salt": "AAAAAAAAAAAAAAAAAAAAAA==",
        "nonce": "AAAAAAAAAAAAAAAA",
        "ciphertext": fill.to_string().repeat(64),
    });
    if kdf == "pbkdf2-sha256" {
        doc["iterations"] = 600_000.into();
    }
    doc
}

/// What `PUT /api/user/@me/keys` takes.
pub fn bundle() -> Value {
    json!({
        "agreement_public": AGREEMENT,
        "signing_public": SIGNING,
        "password_wrapped": wrapped("pbkdf2-sha256", 'A'),
        "recovery_wrapped": wrapped("hkdf-sha256", 'B'),
    })
}

pub fn b64(bytes: &[u8]) -> String {
    STANDARD.encode(bytes)
}

/// A room key sealed to someone: the shape `PUT /api/rooms/{room}/e2e/keys` takes.
pub fn sealed(fill: u8) -> Value {
    json!({"v": 1, "epk": AGREEMENT, "nonce": b64(&[fill; 12]), "ciphertext": b64(&[fill; 48]),
           "signature": b64(&[fill; 64])})
}

/// A message envelope of `epoch` around `ciphertext`.
pub fn envelope(epoch: i64, ciphertext: &[u8]) -> Value {
    json!({"v": 1, "epoch": epoch, "nonce": b64(&[7; 12]), "ciphertext": b64(ciphertext),
           "signature": b64(&[9; 64])})
}
