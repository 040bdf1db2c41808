//! What end-to-end rooms carry instead of words (see `docs/e2ee.md`): a message's envelope and a
//! room key sealed to one member. The server cannot open either; parsing checks only the shape
//! the document fixes (version, sizes of nonce, signature and ciphertext, base64), so that every
//! reader gets what the format promises and nothing oversized is stored.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use serde::{Deserialize, Serialize};

/// The largest ciphertext of a message (its JSON plaintext and the 16-byte tag).
pub const MAX_ENVELOPE_CIPHERTEXT: usize = 64 * 1024;
/// AES-GCM's tag: the shortest ciphertext.
const TAG_BYTES: usize = 16;
const NONCE_BYTES: usize = 12;
/// ECDSA P-256 in the `r ‖ s` form.
const SIGNATURE_BYTES: usize = 64;
/// A sealed room key: 32 bytes and the tag.
const SEALED_KEY_BYTES: usize = 48;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct EnvelopeError(String);

fn bytes(b64: &str, what: &str, len: std::ops::RangeInclusive<usize>) -> Result<(), EnvelopeError> {
    let raw = STANDARD
        .decode(b64)
        .map_err(|_| EnvelopeError(format!("{what}: not base64")))?;
    if len.contains(&raw.len()) {
        Ok(())
    } else if len.start() == len.end() {
        Err(EnvelopeError(format!("{what}: {} bytes", len.start())))
    } else {
        Err(EnvelopeError(format!(
            "{what}: {} to {} bytes",
            len.start(),
            len.end()
        )))
    }
}

fn version(v: u8) -> Result<(), EnvelopeError> {
    if v == 1 {
        Ok(())
    } else {
        Err(EnvelopeError("v: only version 1 exists".into()))
    }
}

/// A message of an end-to-end room: AES-GCM under the room key of `epoch`, signed by its author.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields, try_from = "EnvelopeWire")]
pub struct Envelope {
    pub v: u8,
    pub epoch: i64,
    pub nonce: String,
    pub ciphertext: String,
    pub signature: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct EnvelopeWire {
    v: u8,
    epoch: i64,
    nonce: String,
    ciphertext: String,
    signature: String,
}

impl TryFrom<EnvelopeWire> for Envelope {
    type Error = EnvelopeError;

    fn try_from(wire: EnvelopeWire) -> Result<Self, EnvelopeError> {
        version(wire.v)?;
        if wire.epoch < 1 {
            return Err(EnvelopeError("epoch: 1 or more".into()));
        }
        bytes(&wire.nonce, "nonce", NONCE_BYTES..=NONCE_BYTES)?;
        bytes(
            &wire.ciphertext,
            "ciphertext",
            TAG_BYTES..=MAX_ENVELOPE_CIPHERTEXT,
        )?;
        bytes(
            &wire.signature,
            "signature",
            SIGNATURE_BYTES..=SIGNATURE_BYTES,
        )?;
        Ok(Self {
            v: wire.v,
            epoch: wire.epoch,
            nonce: wire.nonce,
            ciphertext: wire.ciphertext,
            signature: wire.signature,
        })
    }
}

/// A document kept as the JSON text it was checked into (an envelope is then sealed again at
/// rest like any body), and read back from it.
pub trait StoredJson: Serialize + serde::de::DeserializeOwned {
    fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    /// `None` if the stored text is not such a document.
    fn from_json(raw: &str) -> Option<Self> {
        serde_json::from_str(raw).ok()
    }
}

impl StoredJson for Envelope {}
impl StoredJson for SealedKey {}

/// A room key sealed to one member's agreement key, signed by the member who sealed it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields, try_from = "SealedWire")]
pub struct SealedKey {
    pub v: u8,
    pub epk: String,
    pub nonce: String,
    pub ciphertext: String,
    pub signature: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SealedWire {
    v: u8,
    epk: String,
    nonce: String,
    ciphertext: String,
    signature: String,
}

impl TryFrom<SealedWire> for SealedKey {
    type Error = EnvelopeError;

    fn try_from(wire: SealedWire) -> Result<Self, EnvelopeError> {
        version(wire.v)?;
        super::e2e_keys::PublicKey::parse(&wire.epk, "epk")
            .map_err(|err| EnvelopeError(err.to_string()))?;
        bytes(&wire.nonce, "nonce", NONCE_BYTES..=NONCE_BYTES)?;
        bytes(
            &wire.ciphertext,
            "ciphertext",
            SEALED_KEY_BYTES..=SEALED_KEY_BYTES,
        )?;
        bytes(
            &wire.signature,
            "signature",
            SIGNATURE_BYTES..=SIGNATURE_BYTES,
        )?;
        Ok(Self {
            v: wire.v,
            epk: wire.epk,
            nonce: wire.nonce,
            ciphertext: wire.ciphertext,
            signature: wire.signature,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn b64(n: usize) -> String {
        STANDARD.encode(vec![7u8; n])
    }

    fn envelope() -> serde_json::Value {
        json!({"v": 1, "epoch": 2, "nonce": b64(12), "ciphertext": b64(40), "signature": b64(64)})
    }

    #[test]
    fn a_well_formed_envelope_round_trips_through_its_stored_form() {
        let parsed: Envelope = serde_json::from_value(envelope()).unwrap();
        assert_eq!(parsed.epoch, 2);
        assert_eq!(Envelope::from_json(&parsed.to_json()), Some(parsed));
    }

    #[test]
    fn envelopes_of_the_wrong_shape_are_refused() {
        for (field, value) in [
            ("v", json!(2)),
            ("epoch", json!(0)),
            ("nonce", json!(b64(16))),
            ("nonce", json!("not base64!")),
            ("ciphertext", json!(b64(15))),
            ("ciphertext", json!(b64(MAX_ENVELOPE_CIPHERTEXT + 1))),
            ("signature", json!(b64(70))),
            ("text", json!("hello")),
        ] {
            let mut bad = envelope();
            bad[field] = value;
            assert!(
                serde_json::from_value::<Envelope>(bad).is_err(),
                "{field} should be refused"
            );
        }
    }

    #[test]
    fn sealed_keys_need_a_p256_ephemeral_key_and_48_bytes() {
        let epk = {
            let mut der = vec![
                0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01, 0x06,
                0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07, 0x03, 0x42, 0x00, 0x04,
            ];
            der.extend([1u8; 64]);
            STANDARD.encode(der)
        };
        let good = json!({"v": 1, "epk": epk, "nonce": b64(12), "ciphertext": b64(48), "signature": b64(64)});
        let sealed: SealedKey = serde_json::from_value(good.clone()).unwrap();
        assert_eq!(SealedKey::from_json(&sealed.to_json()), Some(sealed));
        let mut short = good.clone();
        short["ciphertext"] = json!(b64(32));
        assert!(serde_json::from_value::<SealedKey>(short).is_err());
        let mut not_a_key = good;
        not_a_key["epk"] = json!(b64(91));
        assert!(serde_json::from_value::<SealedKey>(not_a_key).is_err());
    }
}
