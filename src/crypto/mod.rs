//! Key material. The master key (KEK) wraps the per-room data keys that encrypt stored
//! content; it comes from configuration or a key file in the data directory, never from the
//! database, and is never logged.

mod master_key;

pub use master_key::{MasterKey, MasterKeyError};
