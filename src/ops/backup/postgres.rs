//! The PostgreSQL database in a backup: PostgreSQL's own `pg_dump --format=custom`, restored
//! with `pg_restore`, which know every type, sequence and constraint of every version; a
//! copy made by hand through SQL would have to be taught each of them.
//!
//! The dump reads a snapshot this tool exported ([`Store::export_snapshot`], passed as
//! `--snapshot`), so the counts and file list written beside it are exactly the dump's, and
//! the files copied afterwards cover every file row in it. The tools come from `PATH`, or the
//! newest `/usr/lib/postgresql/*/bin` (where Debian and Ubuntu put them); they must be at
//! least as new as the server.
//!
//! The database URL's password never reaches a command line (which every user of the machine
//! can read in the process list): it goes to the tool in its environment (`PGPASSWORD`), which
//! only the same user can read.

use super::manifest::DatabaseCopy;
use super::{sync_dir, sync_file, Dumped};
use crate::store::{Inspected, Store};
use anyhow::Context;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The dump's name in a backup.
pub const FILE: &str = "database.pgdump";

/// Dumps the live database `live` (reached at `url`) into `dest` and checks the dump reads.
pub async fn dump(live: &Store, url: &str, dest: &Path) -> anyhow::Result<Dumped> {
    let pg_dump = tool("pg_dump")?;
    let file = dest.join(FILE);
    let mut snapshot = live
        .export_snapshot()
        .await
        .context("could not open a snapshot of the PostgreSQL database")?;
    let holds = snapshot
        .inventory()
        .await
        .context("could not count the database")?;
    let file_ids = snapshot
        .file_ids()
        .await
        .context("could not read the database")?;
    let mut command = connected(&pg_dump, url)?;
    command
        .args(["--format=custom", "--no-password"])
        .arg(format!("--snapshot={}", snapshot.id()))
        .arg("--file")
        .arg(&file);
    let dumped = run(command, "pg_dump").await;
    // The snapshot must outlive pg_dump's start; it is released whatever happened.
    let ended = snapshot.end().await;
    dumped?;
    ended.context("could not release the database snapshot")?;
    sync_file(&file)
        .and_then(|()| sync_dir(dest))
        .with_context(|| format!("could not sync {}", file.display()))?;
    let mut list = Command::new(tool("pg_restore")?);
    list.arg("--list").arg(&file);
    run(list, "pg_restore --list (reading the dump back)").await?;
    let mut version = Command::new(&pg_dump);
    version.arg("--version");
    let tool = run(version, "pg_dump --version").await?.trim().to_owned();
    let bytes = std::fs::metadata(&file)
        .with_context(|| format!("could not read {}", file.display()))?
        .len();
    Ok(Dumped {
        database: DatabaseCopy::Postgres {
            file: FILE.to_owned(),
            bytes,
            tool,
        },
        holds,
        file_ids,
    })
}

/// Refuses a target database that already holds tables (`pg_restore` recreates every table,
/// and a database a server has started on already has them, and maybe rows), or a machine
/// without `pg_restore`: both before anything is restored.
pub async fn check_target_free(url: &str) -> anyhow::Result<()> {
    tool("pg_restore")?;
    let name = database_name(url);
    let Inspected::Reached { store, .. } = Store::inspect(url)
        .await
        .with_context(|| format!("cannot reach the PostgreSQL database {name}"))?
    else {
        anyhow::bail!("cannot reach the PostgreSQL database {name}");
    };
    let tables = store.table_count().await;
    store.close().await;
    let tables = tables.with_context(|| format!("cannot read the database {name}"))?;
    if tables > 0 {
        anyhow::bail!(
            "the PostgreSQL database {name} already holds {tables} tables: restore into a new, \
             empty database (createdb), or drop and create this one again"
        );
    }
    Ok(())
}

/// Restores the backup's dump into the (empty) database at `url`, in one transaction: it
/// lands whole or not at all.
pub async fn load(backup: &Path, url: &str) -> anyhow::Result<String> {
    let mut command = connected(&tool("pg_restore")?, url)?;
    command
        .args([
            "--exit-on-error",
            "--single-transaction",
            "--no-password",
            // The restoring role owns what it creates; roles of the old server may not exist.
            "--no-owner",
            "--no-privileges",
        ])
        .arg(backup.join(FILE));
    run(command, "pg_restore").await?;
    Ok(database_name(url))
}

/// `tool` started for the database at `url`: the URL without its password as `--dbname`,
/// the password in the environment.
fn connected(tool: &Path, url: &str) -> anyhow::Result<Command> {
    let (url, password) = split_password(url)?;
    let mut command = Command::new(tool);
    command.arg(format!("--dbname={url}"));
    if let Some(password) = password {
        command.env("PGPASSWORD", password);
    }
    Ok(command)
}

/// The URL without its password (in the user part or a `password` parameter), and the
/// password, decoded.
fn split_password(url: &str) -> anyhow::Result<(String, Option<String>)> {
    let mut parsed = url::Url::parse(url).context("the database URL does not parse")?;
    let mut password = parsed.password().map(decoded);
    let pairs: Vec<(String, String)> = parsed.query_pairs().into_owned().collect();
    if pairs.iter().any(|(key, _)| key == "password") {
        let mut kept = parsed.query_pairs_mut();
        kept.clear();
        for (key, value) in &pairs {
            if key == "password" {
                password = Some(value.clone());
            } else {
                kept.append_pair(key, value);
            }
        }
    }
    if parsed.query() == Some("") {
        parsed.set_query(None);
    }
    parsed
        .set_password(None)
        .map_err(|()| anyhow::anyhow!("the database URL has no host"))?;
    Ok((parsed.to_string(), password))
}

fn decoded(text: &str) -> String {
    percent_encoding::percent_decode_str(text)
        .decode_utf8_lossy()
        .into_owned()
}

/// The database's name, for messages (never the URL: it may hold a password).
fn database_name(url: &str) -> String {
    url::Url::parse(url)
        .ok()
        .map(|u| u.path().trim_start_matches('/').to_owned())
        .filter(|name| !name.is_empty())
        .unwrap_or_else(|| "(default)".to_owned())
}

/// Where a PostgreSQL client tool is: on `PATH`, else the newest
/// `/usr/lib/postgresql/<version>/bin`.
fn tool(name: &str) -> anyhow::Result<PathBuf> {
    let on_path = std::env::var_os("PATH")
        .iter()
        .flat_map(std::env::split_paths)
        .map(|dir| dir.join(name))
        .find(|path| path.is_file());
    if let Some(found) = on_path {
        return Ok(found);
    }
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .filter_map(|entry| {
            let entry = entry.ok()?;
            let version = entry.file_name().to_str()?.parse().ok()?;
            Some((version, entry.path().join("bin").join(name)))
        })
        .filter(|(_, path)| path.is_file())
        .collect();
    versions.sort();
    versions.pop().map(|(_, path)| path).ok_or_else(|| {
        anyhow::anyhow!(
            "{name} is not installed: install PostgreSQL's client tools (the postgresql-client \
             package on Debian and Ubuntu), as new as the server or newer"
        )
    })
}

/// Runs `command` to its end; its standard output, or its own words on failure.
async fn run(mut command: Command, what: &'static str) -> anyhow::Result<String> {
    let output = tokio::task::spawn_blocking(move || command.output())
        .await
        .with_context(|| format!("{what} stopped"))?
        .with_context(|| format!("could not start {what}"))?;
    if !output.status.success() {
        let said = String::from_utf8_lossy(&output.stderr);
        let said: Vec<&str> = said
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .collect();
        anyhow::bail!("{what} failed ({}): {}", output.status, said.join(" "));
    }
    Ok(String::from_utf8_lossy(&output.stdout).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_password_leaves_the_url_for_the_environment() {
        let (url, password) =
            split_password("postgres://parlor:p%40ss+word@db.internal:5433/chat?sslmode=require")
                .unwrap();
        assert_eq!(
            url,
            "postgres://parlor@db.internal:5433/chat?sslmode=require"
        );
        assert_eq!(password.as_deref(), Some("p@ss+word"));
        let (url, password) =
            split_password("postgresql://parlor@db/chat?password=secret&sslmode=disable").unwrap();
        assert_eq!(url, "postgresql://parlor@db/chat?sslmode=disable");
        assert_eq!(password.as_deref(), Some("secret"));
        let (url, password) = split_password("postgres://db/chat?password=only").unwrap();
        assert_eq!(
            (url.as_str(), password.as_deref()),
            ("postgres://db/chat", Some("only"))
        );
        assert_eq!(split_password("postgres://db/chat").unwrap().1, None);
    }

    #[test]
    fn messages_name_the_database_not_the_url() {
        assert_eq!(
            database_name("postgres://u:secret@h/chat?sslmode=require"),
            "chat"
        );
    }
}
