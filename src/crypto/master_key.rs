//! Loading (or, on first start, generating) the 256-bit master key.

use argon2::password_hash::rand_core::{OsRng, RngCore};
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use sha2::{Digest, Sha256};
use std::fmt;
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

/// The key-encryption key. `Debug` shows only its id.
pub struct MasterKey([u8; 32]);

#[derive(Debug, thiserror::Error)]
pub enum MasterKeyError {
    #[error("the master key must be base64 of exactly 32 bytes ({0})")]
    Malformed(String),
    #[error("could not read or write the master key file {path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
}

impl MasterKey {
    /// From `PARLOR_MASTER_KEY` when given; otherwise from `<data_dir>/master.key`, which is
    /// generated (mode 0600) when it does not exist yet. Returns the key and whether it was
    /// just generated.
    pub fn load(configured: Option<&str>, data_dir: &Path) -> Result<(Self, bool), MasterKeyError> {
        if let Some(encoded) = configured {
            return Ok((Self::decode(encoded)?, false));
        }
        let path = data_dir.join("master.key");
        let io_error = |source| MasterKeyError::Io {
            path: path.display().to_string(),
            source,
        };
        match std::fs::read_to_string(&path) {
            Ok(encoded) => Ok((Self::decode(&encoded)?, false)),
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => {
                let mut key = [0u8; 32];
                OsRng.fill_bytes(&mut key);
                let mut file = std::fs::OpenOptions::new()
                    .write(true)
                    .create_new(true)
                    .mode(0o600)
                    .open(&path)
                    .map_err(io_error)?;
                writeln!(file, "{}", STANDARD.encode(key)).map_err(io_error)?;
                Ok((Self(key), true))
            }
            Err(err) => Err(io_error(err)),
        }
    }

    fn decode(encoded: &str) -> Result<Self, MasterKeyError> {
        let bytes = STANDARD
            .decode(encoded.trim())
            .map_err(|e| MasterKeyError::Malformed(e.to_string()))?;
        let key: [u8; 32] = bytes
            .try_into()
            .map_err(|b: Vec<u8>| MasterKeyError::Malformed(format!("{} bytes", b.len())))?;
        Ok(Self(key))
    }

    /// A short public fingerprint, so operators can tell keys apart without seeing them.
    pub fn id(&self) -> String {
        Sha256::digest(self.0)[..4]
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    }
}

impl fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "MasterKey({})", self.id())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn generates_a_private_key_file_once_and_reads_it_back() {
        let dir = tempfile::tempdir().unwrap();
        let (first, generated) = MasterKey::load(None, dir.path()).unwrap();
        assert!(generated);
        let mode = std::fs::metadata(dir.path().join("master.key"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
        let (second, generated) = MasterKey::load(None, dir.path()).unwrap();
        assert!(!generated);
        assert_eq!(first.id(), second.id());
    }

    #[test]
    fn a_malformed_key_is_an_error_not_a_fallback() {
        let dir = tempfile::tempdir().unwrap();
        assert!(MasterKey::load(Some("c2hvcnQ="), dir.path()).is_err());
        std::fs::write(dir.path().join("master.key"), "not base64!").unwrap();
        assert!(MasterKey::load(None, dir.path()).is_err());
    }
}
