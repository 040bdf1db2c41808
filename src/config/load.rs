//! Reading the configuration: the file (when present, or when named), the environment, and the
//! checks that a key or variable answers to a setting before any value is believed.

use super::provenance::variable_for;
use super::{Config, ConfigError, Provenance};
use figment::providers::{Env, Format, Serialized, Toml};
use figment::{Figment, Provider};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// The prefix of every variable that configures the server.
const PREFIX: &str = "PARLOR_";
/// `PARLOR_` variables read by the command line rather than by [`Config`].
const COMMAND_LINE_VARIABLES: [&str; 1] = ["config"];

/// Which configuration file to read.
#[derive(Clone, Debug)]
pub enum ConfigFile {
    /// The default place (`parlor.toml` in the working directory): read when present.
    Default(PathBuf),
    /// A file the operator named: it must exist. `given_by` is how (`--config`,
    /// `PARLOR_CONFIG`), for the message when it does not.
    Given {
        path: PathBuf,
        given_by: &'static str,
    },
}

impl ConfigFile {
    /// The file to read, or none; an error when a named file is missing.
    fn to_read(&self) -> Result<Option<&Path>, ConfigError> {
        match self {
            ConfigFile::Default(path) => Ok(path.exists().then_some(path.as_path())),
            ConfigFile::Given { path, given_by } if !path.exists() => {
                Err(ConfigError::MissingFile {
                    path: path.clone(),
                    given_by,
                })
            }
            ConfigFile::Given { path, .. } => Ok(Some(path)),
        }
    }
}

impl Config {
    /// Layers defaults, the TOML file at `file` (if it exists) and the environment.
    pub fn load(file: &Path) -> Result<Self, ConfigError> {
        Self::load_from(&ConfigFile::Default(file.to_path_buf()))
    }

    /// Layers defaults, the configuration file and the environment, refusing any key or
    /// variable that sets nothing, then validates the result.
    pub fn load_from(file: &ConfigFile) -> Result<Self, ConfigError> {
        let known = known_keys();
        let mut figment = Figment::from(Serialized::defaults(Config::default()));
        let mut provenance = Provenance::default();
        if let Some(path) = file.to_read()? {
            let path = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
            let keys = file_keys(&path)?;
            if let Some(unknown) = keys.iter().find(|key| !known.contains(*key)) {
                return Err(ConfigError::Unknown(format!(
                    "`{unknown}` in {}{}",
                    path.display(),
                    suggestion(unknown, &known, |k| format!("`{k}`"))
                )));
            }
            figment = figment.merge(Toml::file_exact(&path));
            provenance = provenance.with_file(path, keys);
        }
        record_variables(&known, &mut provenance)?;
        let config: Config = figment
            .merge(Env::prefixed(PREFIX).ignore(&COMMAND_LINE_VARIABLES))
            .merge(Env::raw().only(&["DATABASE_URL"]))
            .extract()
            .map_err(|err| named(err, &provenance))?;
        let config = Config {
            provenance,
            ..config
        };
        config.validate()?;
        Ok(config)
    }
}

/// Every key a setting answers to, from the settings themselves (so a new field is known the
/// moment it exists).
pub(super) fn known_keys() -> BTreeSet<String> {
    match serde_json::to_value(Config::default()) {
        Ok(serde_json::Value::Object(fields)) => fields.into_iter().map(|(k, _)| k).collect(),
        _ => BTreeSet::new(),
    }
}

/// The top-level keys of the TOML file at `path`.
fn file_keys(path: &Path) -> Result<BTreeSet<String>, ConfigError> {
    let unreadable = |reason: String| ConfigError::Unreadable {
        path: path.to_path_buf(),
        reason,
    };
    let text = std::fs::read_to_string(path).map_err(|e| unreadable(e.to_string()))?;
    let data = Toml::string(&text)
        .data()
        .map_err(|e| unreadable(toml_reason(&e.to_string())))?;
    Ok(data
        .into_values()
        .flat_map(|dict| dict.into_keys())
        .collect())
}

/// A TOML parse error on one line: its position and what was expected, without the excerpt
/// of the file the parser draws under it.
fn toml_reason(message: &str) -> String {
    let mut lines = message.lines().map(str::trim).filter(|line| {
        !line.is_empty() && !line.starts_with('|') && !line.contains(" | ") && *line != "|"
    });
    let first = lines.next().unwrap_or("not valid TOML");
    let rest: Vec<&str> = lines.collect();
    match rest.is_empty() {
        true => first.to_owned(),
        false => format!("{first}: {}", rest.join("; ")),
    }
}

/// Records every `PARLOR_*` variable (and `DATABASE_URL`) in `provenance`, refusing one that
/// sets nothing. figment matches the prefix regardless of case, so this does too.
fn record_variables(
    known: &BTreeSet<String>,
    provenance: &mut Provenance,
) -> Result<(), ConfigError> {
    for (name, _) in std::env::vars_os() {
        let name = name.to_string_lossy();
        let Some(prefix) = name.get(..PREFIX.len()) else {
            continue;
        };
        if !prefix.eq_ignore_ascii_case(PREFIX) {
            continue;
        }
        let key = name[PREFIX.len()..].to_ascii_lowercase();
        if COMMAND_LINE_VARIABLES.contains(&key.as_str()) {
            continue;
        }
        if !known.contains(&key) {
            return Err(ConfigError::Unknown(format!(
                "environment variable {name}{}",
                suggestion(&key, known, variable_for)
            )));
        }
        provenance.set_by_variable(&key, &name);
    }
    // `DATABASE_URL` is read after the `PARLOR_` variables, so it wins.
    if std::env::var_os("DATABASE_URL").is_some() {
        provenance.set_by_variable("database_url", "DATABASE_URL");
    }
    Ok(())
}

/// ` (did you mean X?)` for the known key closest to `unknown`, when one is close.
fn suggestion(unknown: &str, known: &BTreeSet<String>, spell: impl Fn(&str) -> String) -> String {
    known
        .iter()
        .map(|key| (edit_distance(unknown, key), key))
        .filter(|(distance, key)| *distance <= 2.max(key.len() / 4))
        .min()
        .map(|(_, key)| format!(" (did you mean {}?)", spell(key)))
        .unwrap_or_default()
}

/// Levenshtein distance between two short ASCII-ish strings.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let substitution = diagonal + usize::from(ca != *cb);
            diagonal = row[j + 1];
            row[j + 1] = substitution.min(row[j] + 1).min(row[j + 1] + 1);
        }
    }
    row[b.len()]
}

/// A figment extraction error, with each failing setting named as it was given.
fn named(errors: figment::Error, provenance: &Provenance) -> ConfigError {
    let messages: Vec<String> = errors
        .into_iter()
        .map(|error| match error.path.first() {
            Some(key) => format!("{}: {}", provenance.name_of(key), error.kind),
            None => error.kind.to_string(),
        })
        .collect();
    ConfigError::Invalid(messages.join("; "))
}
