//! Logging set-up: the filter and format from the configuration, on standard error, with
//! colours only when standard error is a terminal and `NO_COLOR` is unset, so logs that are
//! piped or collected carry no escape codes.

use crate::config::{Config, ConfigError, LogFormat};
use std::io::IsTerminal;

/// Installs the global subscriber; an invalid `log` filter is a configuration error.
pub fn init(config: &Config) -> Result<(), ConfigError> {
    let builder = tracing_subscriber::fmt()
        .with_env_filter(config.log_filter()?)
        .with_writer(std::io::stderr)
        .with_ansi(colours());
    match config.log_format {
        LogFormat::Json => builder.json().init(),
        LogFormat::Text => builder.init(),
    }
    Ok(())
}

/// <https://no-color.org>: a non-empty `NO_COLOR` turns colours off even on a terminal.
fn colours() -> bool {
    std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
}
