//! Encryption at rest. The master key (KEK) wraps a random data key (DEK) per room or
//! conversation; the data keys seal stored content with AES-256-GCM. The master key comes from
//! configuration or a key file in the data directory, never from the database, and is never
//! logged.

mod envelope;
mod keyring;
mod master_key;

pub use envelope::{OpenError, SecretKey};
pub use keyring::{rotate, CryptoError, KeySource, Keyring};
pub use master_key::{MasterKey, MasterKeyError};
