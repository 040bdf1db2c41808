//! Where each setting came from, so that every message about a setting names it the way the
//! operator wrote it: `PARLOR_LISTEN` for the variable, `` `listen` in /etc/parlor.toml `` for
//! the file. figment's own names (`LISTEN`, `default.listen`) name neither.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The configuration file read (if any), the keys it set and the environment variables that
/// set something. Values are never kept here: only names.
#[derive(Clone, Debug, Default)]
pub struct Provenance {
    file: Option<PathBuf>,
    file_keys: BTreeSet<String>,
    /// Setting key → the variable that set it, spelled as it was set.
    variables: BTreeMap<String, String>,
}

impl Provenance {
    pub(super) fn with_file(mut self, path: PathBuf, keys: BTreeSet<String>) -> Self {
        self.file = Some(path);
        self.file_keys = keys;
        self
    }

    /// Records that `variable` sets `key`; a later call for the same key wins, as the later
    /// provider does in the merge.
    pub(super) fn set_by_variable(&mut self, key: &str, variable: &str) {
        self.variables.insert(key.to_owned(), variable.to_owned());
    }

    /// The configuration file that was read (absolute), if any.
    pub fn file(&self) -> Option<&Path> {
        self.file.as_deref()
    }

    /// The environment variables that set something, sorted.
    pub fn variables(&self) -> Vec<&str> {
        let names: BTreeSet<&str> = self.variables.values().map(String::as_str).collect();
        names.into_iter().collect()
    }

    /// Whether the environment set `key`.
    pub fn from_environment(&self, key: &str) -> bool {
        self.variables.contains_key(key)
    }

    /// Whether `key` was set at all (by the file or the environment).
    pub fn is_set(&self, key: &str) -> bool {
        self.from_environment(key) || self.file_keys.contains(key)
    }

    /// The name of the setting `key` as its value was given: the variable, the key in the
    /// file, or (for a default) the variable that would set it.
    pub fn name_of(&self, key: &str) -> String {
        if let Some(variable) = self.variables.get(key) {
            return variable.clone();
        }
        match &self.file {
            Some(file) if self.file_keys.contains(key) => {
                format!("`{key}` in {}", file.display())
            }
            _ => variable_for(key),
        }
    }
}

/// The environment variable that sets `key` (as the README's table lists it).
pub fn variable_for(key: &str) -> String {
    match key {
        "database_url" => "DATABASE_URL".to_owned(),
        _ => format!("PARLOR_{}", key.to_ascii_uppercase()),
    }
}
