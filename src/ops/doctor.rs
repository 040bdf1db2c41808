//! `parlor doctor`: checks what a server needs before it starts — the configuration, the data
//! directory, the database, the master key, the file store and Redis — and says what is wrong
//! in plain words, one line per check.
//!
//! It changes nothing a server would notice: it opens an existing database without creating
//! or migrating it ([`Store::inspect`]), never generates or re-wraps a key, and writes only
//! probes it removes again (a file in the data directory, an object in the file store, the
//! database's probe row). So it can run beside a serving node, before an upgrade, or on a
//! machine where the server refuses to start — the case it is most needed for. It checks
//! everything even after a failure (one run shows every problem) and exits 1 when anything
//! failed, 0 otherwise; warnings (a migration pending, a key file others can read, little
//! free disk) do not fail it.

use crate::config::{Config, ConfigError};
use crate::crypto::MasterKey;
use crate::store::{Inspected, Store, WrappedKey};
use std::fmt;
use std::path::Path;
use std::time::{Duration, Instant};

/// How long a remote dependency (file store, Redis) may take to answer a probe.
const PROBE_TIMEOUT: Duration = Duration::from_secs(10);

/// Below this much free space in the data directory, the doctor warns.
const LOW_DISK_BYTES: u64 = 1 << 30;

/// Runs every check on the configuration `loaded` (or the reason it did not load), prints one
/// line per check, and fails when any check failed.
pub async fn doctor(loaded: Result<Config, ConfigError>) -> anyhow::Result<()> {
    let mut report = Report::default();
    let config = match loaded {
        Ok(config) => {
            report.ok("configuration", describe_sources(&config));
            config
        }
        Err(err) => {
            report.fail("configuration", format!("{err}"));
            report.print();
            return Err(anyhow::Error::new(err).context("the configuration does not load"));
        }
    };
    check_data_dir(&config, &mut report);
    let database = check_database(&config, &mut report).await;
    check_master_key(&config, &database, &mut report).await;
    check_files(&config, &mut report).await;
    check_redis(&config, &mut report).await;
    if let Database::Reached(store) = database {
        store.close().await;
    }
    report.print();
    match report.failures() {
        0 => Ok(()),
        1 => anyhow::bail!("1 problem found"),
        n => anyhow::bail!("{n} problems found"),
    }
}

fn describe_sources(config: &Config) -> String {
    let variables = config.provenance.variables();
    let file = match config.provenance.file() {
        Some(path) => format!("read {}", path.display()),
        None => "no configuration file (defaults)".to_owned(),
    };
    match variables.len() {
        0 => format!("{file}; no settings from the environment"),
        1 => format!("{file}; 1 setting from the environment: {}", variables[0]),
        n => format!(
            "{file}; {n} settings from the environment: {}",
            variables.join(", ")
        ),
    }
}

/// The data directory exists (or can be made), takes writes, and has room.
fn check_data_dir(config: &Config, report: &mut Report) {
    const SUBJECT: &str = "data directory";
    let dir = absolute(&config.data_dir);
    match std::fs::metadata(&config.data_dir) {
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => {
            let parent = config
                .data_dir
                .parent()
                .filter(|p| !p.as_os_str().is_empty())
                .unwrap_or(Path::new("."));
            match writable(parent) {
                Ok(()) => report.warn(
                    SUBJECT,
                    format!("{dir} does not exist yet; the first start creates it"),
                ),
                Err(err) => report.fail(
                    SUBJECT,
                    format!("{dir} does not exist, and it cannot be created: {err}"),
                ),
            }
        }
        Err(err) => report.fail(SUBJECT, format!("{dir} cannot be read: {err}")),
        Ok(meta) if !meta.is_dir() => {
            report.fail(SUBJECT, format!("{dir} is not a directory"));
        }
        Ok(_) => match writable(&config.data_dir) {
            Err(err) => report.fail(
                SUBJECT,
                format!("{dir} does not take writes ({err}); the server needs to write its database, key and files there"),
            ),
            Ok(()) => match free_bytes(&config.data_dir) {
                Some(free) if free < LOW_DISK_BYTES => report.warn(
                    SUBJECT,
                    format!("{dir} is writable, but only {} are free", bytes(free)),
                ),
                Some(free) => {
                    report.ok(SUBJECT, format!("{dir}: writable, {} free", bytes(free)))
                }
                None => report.ok(SUBJECT, format!("{dir}: writable")),
            },
        },
    }
}

/// Creates and removes a file in `dir`.
fn writable(dir: &Path) -> std::io::Result<()> {
    let probe = dir.join(format!(".parlor-doctor-{}", std::process::id()));
    std::fs::write(&probe, b"probe")?;
    std::fs::remove_file(&probe)
}

fn free_bytes(dir: &Path) -> Option<u64> {
    let stat = rustix::fs::statvfs(dir).ok()?;
    Some(stat.f_bavail.saturating_mul(stat.f_frsize))
}

/// What the database check leaves for the key check.
enum Database {
    /// No database, or one without tables: no data key can exist yet.
    Empty,
    /// The database answered (its data keys can be read).
    Reached(Store),
    /// Not reached: whether data keys exist is unknown.
    Unknown,
}

/// The database answers, its schema is what this binary expects, and it takes a write.
async fn check_database(config: &Config, report: &mut Report) -> Database {
    const SUBJECT: &str = "database";
    let place = config.describe_database();
    let started = Instant::now();
    let (store, schema) = match Store::inspect(&config.database_url()).await {
        Ok(Inspected::Missing(path)) => {
            report.ok(
                SUBJECT,
                format!(
                    "no database yet at {}; the first start creates it",
                    absolute(&path)
                ),
            );
            return Database::Empty;
        }
        Ok(Inspected::Reached { store, schema }) => (store, schema),
        Err(err) => {
            report.fail(SUBJECT, format!("cannot reach {place}: {err}"));
            return Database::Unknown;
        }
    };
    let answered = started.elapsed();
    if schema.unknown > 0 {
        report.fail(
            SUBJECT,
            format!(
                "{place} was upgraded by a newer Parlor ({} changes this version does not know); run that version or restore a backup made before the upgrade",
                schema.unknown
            ),
        );
        return Database::Unknown;
    }
    if schema.applied == 0 {
        report.ok(
            SUBJECT,
            format!("{place} answers and is empty; the first start creates the tables"),
        );
        store.close().await;
        return Database::Empty;
    }
    if schema.pending > 0 {
        report.warn(
            SUBJECT,
            format!(
                "{place} answers; {} schema changes are pending and the next start applies them (back up first)",
                schema.pending
            ),
        );
        return Database::Reached(store);
    }
    let now = crate::clock::Clock::system().now_millis();
    match store.check_writes(now).await {
        Ok(()) => report.ok(
            SUBJECT,
            format!(
                "{place}: schema current ({} changes), takes writes, answered in {} ms",
                schema.applied,
                answered.as_millis()
            ),
        ),
        Err(why) => report.fail(
            SUBJECT,
            format!("{place} answers but refuses writes: {why}"),
        ),
    }
    Database::Reached(store)
}

/// The master key is where the configuration says, well formed, private, and opens every
/// stored data key.
async fn check_master_key(config: &Config, database: &Database, report: &mut Report) {
    const SUBJECT: &str = "master key";
    let place = config.describe_master_key();
    let current = match &config.master_key {
        Some(encoded) => match MasterKey::parse(encoded.expose()) {
            Ok(key) => Some(key),
            Err(err) => {
                return report.fail(SUBJECT, format!("{place} is not a usable key: {err}"));
            }
        },
        None => {
            let path = MasterKey::file_in(&config.data_dir);
            match MasterKey::read_file(&path) {
                Ok(key) => {
                    if key.is_some() {
                        warn_if_shared(&path, report);
                    }
                    key
                }
                Err(err) => return report.fail(SUBJECT, format!("{err}")),
            }
        }
    };
    let mut others = Vec::new();
    if let Some(encoded) = &config.previous_master_key {
        match MasterKey::parse(encoded.expose()) {
            Ok(key) => others.push(key),
            Err(err) => {
                report.fail(
                    SUBJECT,
                    format!("PARLOR_PREVIOUS_MASTER_KEY is not a usable key: {err}"),
                );
            }
        }
    }
    for path in [
        MasterKey::previous_file_in(&config.data_dir),
        MasterKey::staged_file_in(&config.data_dir),
    ] {
        match MasterKey::read_file(&path) {
            Ok(key) => others.extend(key),
            Err(err) => report.fail(SUBJECT, format!("{err}")),
        }
    }
    let stored = match database {
        Database::Reached(store) => match every_data_key(store).await {
            Ok(stored) => stored,
            Err(err) => {
                return report.fail(SUBJECT, format!("cannot read the stored data keys: {err}"))
            }
        },
        Database::Empty => Vec::new(),
        Database::Unknown => {
            return match current {
                Some(key) => report.warn(
                    SUBJECT,
                    format!("{place} (key {}) is readable; whether it opens the stored data keys is unknown until the database answers", key.id()),
                ),
                None => report.warn(
                    SUBJECT,
                    format!("there is no key at {place}; whether the data needs one is unknown until the database answers"),
                ),
            };
        }
    };
    let Some(current) = current else {
        if stored.is_empty() {
            return report.ok(
                SUBJECT,
                format!("none yet; the first start creates {place} (then back it up, apart from the data)"),
            );
        }
        return report.fail(
            SUBJECT,
            format!(
                "missing: there is no key at {place}, but {} stored data keys are wrapped by master key {}; restore that key from where you keep it (a new key cannot read them)",
                stored.len(),
                kek_ids(&stored)
            ),
        );
    };
    let (mut opened, mut by_other, mut unopenable) = (0usize, 0usize, Vec::new());
    for key in &stored {
        let opener = std::iter::once(&current)
            .chain(&others)
            .find(|k| k.id() == key.kek_id);
        match opener.map(|k| k.unwrap_key(&key.wrapped)) {
            Some(Ok(_)) if key.kek_id == current.id() => opened += 1,
            Some(Ok(_)) => by_other += 1,
            _ => unopenable.push(key.clone()),
        }
    }
    if !unopenable.is_empty() {
        return report.fail(
            SUBJECT,
            format!(
                "wrong key: {place} is master key {}, but {} of {} stored data keys are wrapped by master key {} and do not open; configure the key this data was written with",
                current.id(),
                unopenable.len(),
                stored.len(),
                kek_ids(&unopenable)
            ),
        );
    }
    if by_other > 0 {
        return report.warn(
            SUBJECT,
            format!(
                "{place} (key {}) opens {opened} data keys; {by_other} more are still wrapped by a previous key, which the next start re-wraps",
                current.id()
            ),
        );
    }
    report.ok(
        SUBJECT,
        format!(
            "{place} (key {}) opens all {opened} stored data keys",
            current.id()
        ),
    );
}

/// Warns when a key file can be read by anyone but its owner.
fn warn_if_shared(path: &Path, report: &mut Report) {
    use std::os::unix::fs::PermissionsExt;
    if let Ok(meta) = std::fs::metadata(path) {
        let mode = meta.permissions().mode() & 0o777;
        if mode & 0o077 != 0 {
            report.warn(
                "master key",
                format!(
                    "{} can be read by other users (mode {mode:o}); make it 600",
                    absolute(path)
                ),
            );
        }
    }
}

async fn every_data_key(store: &Store) -> Result<Vec<WrappedKey>, crate::store::StoreError> {
    let mut all = Vec::new();
    loop {
        let after = all.last().map_or(0, |k: &WrappedKey| k.id);
        let page = store.data_keys().page(after, 1000).await?;
        if page.is_empty() {
            return Ok(all);
        }
        all.extend(page);
    }
}

/// The distinct master key ids wrapping `keys`, for a message.
fn kek_ids(keys: &[WrappedKey]) -> String {
    let mut ids: Vec<&str> = keys.iter().map(|k| k.kek_id.as_str()).collect();
    ids.sort_unstable();
    ids.dedup();
    ids.join(", ")
}

/// The file store takes a write (a probe object, removed again).
async fn check_files(config: &Config, report: &mut Report) {
    const SUBJECT: &str = "files";
    let place = config.describe_file_store();
    if config.object_store_url.is_none() && !config.data_dir.join("uploads").is_dir() {
        return report.ok(
            SUBJECT,
            format!("{place} does not exist yet; the first start creates it"),
        );
    }
    let store = match config.file_store() {
        Ok(store) => store,
        Err(err) => return report.fail(SUBJECT, format!("cannot open {place}: {err}")),
    };
    let started = Instant::now();
    match tokio::time::timeout(PROBE_TIMEOUT, store.probe()).await {
        Ok(Ok(())) => report.ok(
            SUBJECT,
            format!(
                "{place}: takes writes, answered in {} ms",
                started.elapsed().as_millis()
            ),
        ),
        Ok(Err(err)) => report.fail(SUBJECT, format!("{place} refuses writes: {err}")),
        Err(_) => report.fail(
            SUBJECT,
            format!(
                "{place} did not answer within {} s",
                PROBE_TIMEOUT.as_secs()
            ),
        ),
    }
}

/// Redis answers a PING, when one is configured.
async fn check_redis(config: &Config, report: &mut Report) {
    const SUBJECT: &str = "redis";
    let Some(url) = &config.redis_url else {
        return report.ok(
            SUBJECT,
            "not configured (a single node: fan-out stays in process)",
        );
    };
    let place = redis_place(url.expose());
    let started = Instant::now();
    let ping = async {
        let client = redis::Client::open(url.expose())?;
        let mut conn = client.get_multiplexed_async_connection().await?;
        redis::cmd("PING").query_async::<String>(&mut conn).await
    };
    match tokio::time::timeout(PROBE_TIMEOUT, ping).await {
        Ok(Ok(_)) => report.ok(
            SUBJECT,
            format!("{place} answers, in {} ms", started.elapsed().as_millis()),
        ),
        Ok(Err(err)) => report.fail(SUBJECT, format!("cannot reach {place}: {err}")),
        Err(_) => report.fail(
            SUBJECT,
            format!(
                "{place} did not answer within {} s",
                PROBE_TIMEOUT.as_secs()
            ),
        ),
    }
}

/// `redis://host:port` without user or password.
fn redis_place(url: &str) -> String {
    let (scheme, rest) = url.split_once("://").unwrap_or(("redis", url));
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let host = authority.rsplit('@').next().unwrap_or_default();
    format!("{scheme}://{host}")
}

fn absolute(path: &Path) -> String {
    std::path::absolute(path)
        .unwrap_or_else(|_| path.to_path_buf())
        .display()
        .to_string()
}

fn bytes(n: u64) -> String {
    const GIB: f64 = (1u64 << 30) as f64;
    const MIB: f64 = (1u64 << 20) as f64;
    let n = n as f64;
    if n >= GIB {
        format!("{:.1} GiB", n / GIB)
    } else {
        format!("{:.0} MiB", n / MIB)
    }
}

/// What one check found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Verdict {
    Ok,
    Warn,
    Fail,
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(match self {
            Verdict::Ok => "ok",
            Verdict::Warn => "warning",
            Verdict::Fail => "FAILED",
        })
    }
}

/// The findings, in the order they were made.
#[derive(Default)]
struct Report(Vec<(Verdict, &'static str, String)>);

impl Report {
    fn ok(&mut self, subject: &'static str, detail: impl Into<String>) {
        self.0.push((Verdict::Ok, subject, detail.into()));
    }

    fn warn(&mut self, subject: &'static str, detail: impl Into<String>) {
        self.0.push((Verdict::Warn, subject, detail.into()));
    }

    fn fail(&mut self, subject: &'static str, detail: impl Into<String>) {
        self.0.push((Verdict::Fail, subject, detail.into()));
    }

    fn failures(&self) -> usize {
        self.0.iter().filter(|(v, ..)| *v == Verdict::Fail).count()
    }

    fn print(&self) {
        for (verdict, subject, detail) in &self.0 {
            println!("{verdict:<8} {subject:<15} {detail}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redis_places_never_carry_credentials() {
        assert_eq!(
            redis_place("redis://user:secret@cache.example:6380/2"),
            "redis://cache.example:6380"
        );
        assert_eq!(redis_place("rediss://:pw@10.0.0.5"), "rediss://10.0.0.5");
    }

    #[test]
    fn sizes_read_as_people_write_them() {
        assert_eq!(bytes(3 << 30), "3.0 GiB");
        assert_eq!(bytes(200 << 20), "200 MiB");
    }
}
