//! Encryption at rest. The master key (KEK) wraps a random data key (DEK) per room or
//! conversation; the data keys seal stored content with AES-256-GCM. The master key comes from
//! configuration or a key file in the data directory, never from the database, and is never
//! logged.

pub mod chunked;
mod envelope;
mod error;
mod keyring;
mod master_key;
mod rotation;
mod source;

pub use envelope::{OpenError, SecretKey};
pub use error::CryptoError;
pub use keyring::Keyring;
pub use master_key::{MasterKey, MasterKeyError};
pub use rotation::{rotate, rotate_configured, rotate_key_file, Rotated};
pub use source::{KeyConfig, KeySource};
