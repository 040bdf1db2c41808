//! Loading (or, on first start, generating) the 256-bit master key, and wrapping data keys
//! with it.

use super::envelope::{OpenError, SecretKey};
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use sha2::{Digest, Sha256};
use std::fmt;
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

/// The key-encryption key. `Debug` shows only its id.
pub struct MasterKey(SecretKey);

/// Associated data of a wrapped data key: a wrapped key opens only as a data key.
const WRAP_CONTEXT: &[u8] = b"parlor:data-key:v1";

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
                let key = Self::generate();
                let mut file = std::fs::OpenOptions::new()
                    .write(true)
                    .create_new(true)
                    .mode(0o600)
                    .open(&path)
                    .map_err(io_error)?;
                writeln!(file, "{}", key.encode()).map_err(io_error)?;
                Ok((key, true))
            }
            Err(err) => Err(io_error(err)),
        }
    }

    /// A new random master key.
    pub fn generate() -> Self {
        Self(SecretKey::generate())
    }

    /// The key as base64, the form of `PARLOR_MASTER_KEY` and the key file.
    pub fn encode(&self) -> String {
        STANDARD.encode(self.0.expose())
    }

    /// The key file's path in a data directory.
    pub fn file_in(data_dir: &Path) -> std::path::PathBuf {
        data_dir.join("master.key")
    }

    /// Writes the key to a new file (mode 0600, synced to disk); fails if the file exists.
    pub fn write_new_file(&self, path: &Path) -> Result<(), MasterKeyError> {
        let io_error = |source| MasterKeyError::Io {
            path: path.display().to_string(),
            source,
        };
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(path)
            .map_err(io_error)?;
        writeln!(file, "{}", self.encode()).map_err(io_error)?;
        file.sync_all().map_err(io_error)
    }

    /// Encrypts a data key for storage.
    pub fn wrap(&self, data_key: &SecretKey) -> Vec<u8> {
        self.0.seal(data_key.expose(), WRAP_CONTEXT)
    }

    /// Recovers a data key wrapped by this master key.
    pub fn unwrap_key(&self, wrapped: &[u8]) -> Result<SecretKey, OpenError> {
        let bytes: [u8; 32] = self
            .0
            .open(wrapped, WRAP_CONTEXT)?
            .try_into()
            .map_err(|_| OpenError)?;
        Ok(SecretKey::from_bytes(bytes))
    }

    fn decode(encoded: &str) -> Result<Self, MasterKeyError> {
        let bytes = STANDARD
            .decode(encoded.trim())
            .map_err(|e| MasterKeyError::Malformed(e.to_string()))?;
        let key: [u8; 32] = bytes
            .try_into()
            .map_err(|b: Vec<u8>| MasterKeyError::Malformed(format!("{} bytes", b.len())))?;
        Ok(Self(SecretKey::from_bytes(key)))
    }

    /// A short public fingerprint, so operators can tell keys apart without seeing them.
    pub fn id(&self) -> String {
        Sha256::digest(self.0.expose())[..4]
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
    fn wrapped_data_keys_open_only_under_their_master_key() {
        let (kek, other) = (MasterKey::generate(), MasterKey::generate());
        let dek = SecretKey::generate();
        let wrapped = kek.wrap(&dek);
        assert_eq!(kek.unwrap_key(&wrapped).unwrap().expose(), dek.expose());
        assert!(other.unwrap_key(&wrapped).is_err());
    }

    #[test]
    fn a_written_key_file_is_private_and_loads_back() {
        let dir = tempfile::tempdir().unwrap();
        MasterKey::load(None, dir.path()).unwrap();
        let next = MasterKey::generate();
        let staged = dir.path().join("staged");
        next.write_new_file(&staged).unwrap();
        assert!(next.write_new_file(&staged).is_err(), "never overwrites");
        std::fs::rename(&staged, MasterKey::file_in(dir.path())).unwrap();
        let (loaded, _) = MasterKey::load(None, dir.path()).unwrap();
        assert_eq!(loaded.id(), next.id());
        let mode = std::fs::metadata(dir.path().join("master.key"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }

    #[test]
    fn a_malformed_key_is_an_error_not_a_fallback() {
        let dir = tempfile::tempdir().unwrap();
        assert!(MasterKey::load(Some("c2hvcnQ="), dir.path()).is_err());
        std::fs::write(dir.path().join("master.key"), "not base64!").unwrap();
        assert!(MasterKey::load(None, dir.path()).is_err());
    }
}
