//! The 256-bit master key: its written form, its key files, and wrapping data keys with it.
//! Which keys a server uses, and when a first key may be generated, is
//! [`super::source`]'s business.

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
    /// A key in its written form (base64 of 32 bytes, surrounding whitespace ignored).
    pub fn parse(encoded: &str) -> Result<Self, MasterKeyError> {
        Self::decode(encoded)
    }

    /// The key in a key file, or `None` when the file does not exist. Never creates anything.
    pub fn read_file(path: &Path) -> Result<Option<Self>, MasterKeyError> {
        match std::fs::read_to_string(path) {
            Ok(encoded) => Ok(Some(Self::decode(&encoded)?)),
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(source) => Err(MasterKeyError::Io {
                path: path.display().to_string(),
                source,
            }),
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

    /// Where `parlor keys rotate` keeps the key it replaced: keys a running server wrapped
    /// before it saw the new file still open with it, and are re-wrapped at the next start.
    pub fn previous_file_in(data_dir: &Path) -> std::path::PathBuf {
        data_dir.join("master.key.previous")
    }

    /// Where `parlor keys rotate` stages the new key until every data key is wrapped by it.
    pub fn staged_file_in(data_dir: &Path) -> std::path::PathBuf {
        data_dir.join("master.key.next")
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
        file.sync_all().map_err(io_error)?;
        sync_parent(path).map_err(io_error)
    }

    /// Writes the key to `path`, replacing whatever is there in one step (through a synced
    /// temporary file renamed over it), so a reader sees the old key or the new one, never a
    /// part of either.
    pub fn replace_file(&self, path: &Path) -> Result<(), MasterKeyError> {
        let mut temporary = path.as_os_str().to_owned();
        temporary.push(".tmp");
        let temporary = std::path::PathBuf::from(temporary);
        let _ = std::fs::remove_file(&temporary);
        self.write_new_file(&temporary)?;
        std::fs::rename(&temporary, path).map_err(|source| MasterKeyError::Io {
            path: path.display().to_string(),
            source,
        })?;
        sync_parent(path).map_err(|source| MasterKeyError::Io {
            path: path.display().to_string(),
            source,
        })
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

/// Makes a file's creation or renaming durable: syncs the directory that lists it.
fn sync_parent(path: &Path) -> std::io::Result<()> {
    match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => std::fs::File::open(dir)?.sync_all(),
        _ => Ok(()),
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
    fn reading_a_missing_key_file_creates_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let path = MasterKey::file_in(dir.path());
        assert!(MasterKey::read_file(&path).unwrap().is_none());
        assert!(!path.exists());
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
        let path = MasterKey::file_in(dir.path());
        MasterKey::generate().write_new_file(&path).unwrap();
        let next = MasterKey::generate();
        assert!(next.write_new_file(&path).is_err(), "never overwrites");
        next.replace_file(&path).unwrap();
        let loaded = MasterKey::read_file(&path).unwrap().unwrap();
        assert_eq!(loaded.id(), next.id());
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        assert_eq!(
            std::fs::read_dir(dir.path()).unwrap().count(),
            1,
            "no temporary left"
        );
    }

    #[test]
    fn a_malformed_key_is_an_error_not_a_fallback() {
        let dir = tempfile::tempdir().unwrap();
        assert!(MasterKey::parse("c2hvcnQ=").is_err());
        let path = MasterKey::file_in(dir.path());
        std::fs::write(&path, "not base64!").unwrap();
        assert!(MasterKey::read_file(&path).is_err());
    }
}
