//! Why the configuration could not be loaded. Each message is one line and names the setting
//! as the operator wrote it; the binary prints it and exits with status 2.

use std::path::PathBuf;

/// A configuration mistake found at start-up.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// A setting with a value it cannot take (the message starts with the setting's name).
    #[error("invalid configuration: {0}")]
    Invalid(String),
    /// A key in the file, or a `PARLOR_*` variable, that no setting answers to.
    #[error("unknown setting: {0}")]
    Unknown(String),
    /// A configuration file named with `--config` or `PARLOR_CONFIG` that is not there.
    #[error("the configuration file {} (given by {given_by}) does not exist", path.display())]
    MissingFile {
        path: PathBuf,
        given_by: &'static str,
    },
    /// A configuration file that exists but cannot be read or is not TOML.
    #[error("cannot read the configuration file {}: {reason}", path.display())]
    Unreadable { path: PathBuf, reason: String },
}
