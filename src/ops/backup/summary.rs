//! What `parlor backup` and `parlor restore` print when they succeed: what was copied, what
//! was not, and — every time — that the master key must be kept apart.

use super::keys::Keys;
use super::manifest::{FilesCopy, Manifest};
use super::restore::{RestorePlan, Restored};
use std::path::Path;

pub(super) fn backed_up(manifest: &Manifest, dest: &Path, keys: &anyhow::Result<Keys>, secs: f64) {
    let holds = &manifest.holds;
    println!("Backup written to {} in {secs:.2} s.", dest.display());
    println!(
        "  database: {} {}, {} ({} rooms, {} conversations, {} messages, {} archives, {} accounts)",
        manifest.database.engine(),
        manifest.database.file(),
        size(manifest.database.bytes()),
        holds.rooms,
        holds.conversations,
        holds.messages,
        holds.archives,
        holds.accounts
    );
    match &manifest.files {
        FilesCopy::Local {
            objects,
            bytes,
            missing,
            ..
        } => {
            println!(
                "  files: {objects} objects, {} ({} files in the database)",
                size(*bytes),
                holds.files
            );
            if !missing.is_empty() {
                println!(
                    "  {} files were being deleted during the backup and have no object; the \
                     restored server finishes deleting them",
                    missing.len()
                );
            }
        }
        FilesCopy::S3 { bucket, .. } => println!(
            "  files: NOT copied: they are in the S3 bucket {bucket}; back it up with its own \
             tooling (versioning, replication)"
        ),
    }
    match keys.as_ref().map(|k| (k.current_id(), k.source())) {
        Ok((Some(id), source)) => println!(
            "  master key: NOT in the backup. Keep {source} (id {id}) apart from it, somewhere \
             safe: without it nothing in the backup can be read."
        ),
        Ok((None, source)) => println!(
            "  master key: NOT in the backup, and not found at {source}: find the key this \
             server uses and keep it apart from the backup, or nothing in it can be read."
        ),
        Err(err) => println!(
            "  master key: NOT in the backup, and not readable here ({err:#}): keep the key \
             this server uses apart from the backup, or nothing in it can be read."
        ),
    }
    println!("  not in the backup either: the configuration (parlor.toml, PARLOR_* variables).");
}

pub(super) fn restored(
    manifest: &Manifest,
    source: &Path,
    plan: &RestorePlan,
    restored: &Restored,
) {
    let holds = &manifest.holds;
    println!(
        "Restored {} (made by Parlor {}) into {} {}.",
        source.display(),
        manifest.parlor_version,
        manifest.database.engine(),
        restored.placed
    );
    println!(
        "  {} rooms, {} conversations, {} messages, {} archives, {} accounts, {} files: as in \
         the backup",
        holds.rooms,
        holds.conversations,
        holds.messages,
        holds.archives,
        holds.accounts,
        holds.files
    );
    if let (Some(copied), Some(dir)) = (&restored.copied, &plan.files_into) {
        println!(
            "  files: {} objects, {}, into {}",
            copied.objects,
            size(copied.bytes),
            dir.display()
        );
    }
    if let FilesCopy::S3 { bucket, .. } = &manifest.files {
        println!(
            "  files: not in the backup; they must be in the S3 bucket {bucket} (restored with \
             its own tooling) and object_store_url must name it"
        );
    }
    println!(
        "  every data key ({}) opens with the master keys configured here (current: {}, from {})",
        restored.data_keys,
        plan.keys.current_id().as_deref().unwrap_or("none"),
        plan.keys.source()
    );
    println!("  start the server with this configuration: parlor serve");
}

/// Bytes for people.
fn size(bytes: u64) -> String {
    const UNITS: [&str; 4] = ["KiB", "MiB", "GiB", "TiB"];
    if bytes < 1024 {
        return format!("{bytes} bytes");
    }
    let mut value = bytes as f64 / 1024.0;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    format!("{value:.1} {}", UNITS[unit])
}
