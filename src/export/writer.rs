//! Writes one export into a directory as it is gathered: each message goes to
//! `messages.jsonl`, `export.md` and `export.html` at once and each file straight to disk, so
//! nothing but the list of files (for the manifest) grows in memory however large the export.
//! `manifest.json` is written last, when the counts are known: an export without one did not
//! finish.
//!
//! The directory must be new or empty (an export never mixes with something else), and is
//! created readable by its owner only: it holds decrypted messages and files.

use super::{
    file_path, html, markdown, AuditLine, Counts, Details, FileRef, MessageLine, Section,
    UploadLine, FORMAT, VERSION,
};
use crate::domain::Millis;
use bytes::Bytes;
use futures_util::{Stream, StreamExt};
use serde::Serialize;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::io;
use std::path::{Path, PathBuf};
use tokio::fs::File;
use tokio::io::{AsyncWriteExt, BufWriter};

/// What part of the HTML page is open and must be closed before the next.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Open {
    Nothing,
    Audit,
    Messages,
    Uploads,
}

/// A file as the manifest lists it.
#[derive(Serialize)]
struct ManifestFile {
    #[serde(flatten)]
    file: FileRef,
    /// SHA-256 of the bytes, hex (the digest recorded at upload, which the copy matched).
    sha256: String,
}

#[derive(Serialize)]
struct Manifest<'a> {
    format: &'static str,
    version: u32,
    generator: String,
    title: String,
    exported_at: Millis,
    exported_at_time: String,
    subject: &'a Details,
    counts: &'a Counts,
    documents: Vec<&'static str>,
    files: &'a [ManifestFile],
}

/// An export being written. Finish it with [`ExportWriter::finish`].
pub struct ExportWriter {
    dir: PathBuf,
    exported_at: Millis,
    details: Details,
    messages: BufWriter<File>,
    markdown: BufWriter<File>,
    html: BufWriter<File>,
    audit: Option<BufWriter<File>>,
    open: Open,
    /// Files written so far, by id: where each went (none: it could not be read).
    written: HashMap<String, Option<String>>,
    files: Vec<ManifestFile>,
    counts: Counts,
}

impl ExportWriter {
    /// Starts an export of `details` in `dir` (created if absent; it must be empty).
    pub async fn create(dir: &Path, exported_at: Millis, details: Details) -> io::Result<Self> {
        prepare(dir).await?;
        let create = |name: &str| {
            let path = dir.join(name);
            async move { File::create(path).await.map(BufWriter::new) }
        };
        let mut writer = Self {
            dir: dir.to_path_buf(),
            exported_at,
            messages: create("messages.jsonl").await?,
            markdown: create("export.md").await?,
            html: create("export.html").await?,
            audit: None,
            open: Open::Nothing,
            written: HashMap::new(),
            files: Vec::new(),
            counts: Counts::default(),
            details,
        };
        let title = writer.details.title();
        let md = format!(
            "{}{}",
            markdown::header(&title, exported_at),
            markdown::details(&writer.details)
        );
        let page = format!(
            "{}{}",
            html::header(&title, exported_at),
            html::details(&writer.details)
        );
        writer.markdown.write_all(md.as_bytes()).await?;
        writer.html.write_all(page.as_bytes()).await?;
        Ok(writer)
    }

    /// Adds an audit entry (to `audit.jsonl`; to the documents unless it is a message's).
    pub async fn audit(&mut self, entry: &AuditLine) -> io::Result<()> {
        if self.audit.is_none() {
            let file = File::create(self.dir.join("audit.jsonl")).await?;
            self.audit = Some(BufWriter::new(file));
            self.switch(Open::Audit).await?;
            self.markdown
                .write_all(markdown::audit_heading().as_bytes())
                .await?;
            self.html
                .write_all(html::audit_heading().as_bytes())
                .await?;
        }
        if let Some(audit) = self.audit.as_mut() {
            audit.write_all(&json_line(entry)?).await?;
        }
        self.counts.audit_entries += 1;
        if entry.action != "message" {
            self.markdown
                .write_all(markdown::audit_entry(entry).as_bytes())
                .await?;
            self.html
                .write_all(html::audit_entry(entry).as_bytes())
                .await?;
        }
        Ok(())
    }

    /// Starts the messages of one room.
    pub async fn section(&mut self, section: &Section) -> io::Result<()> {
        self.switch(Open::Messages).await?;
        self.counts.rooms += 1;
        self.markdown
            .write_all(markdown::section(section).as_bytes())
            .await?;
        self.html.write_all(html::section(section).as_bytes()).await
    }

    /// Adds a message of the current section.
    pub async fn message(&mut self, line: &MessageLine) -> io::Result<()> {
        self.messages.write_all(&json_line(line)?).await?;
        self.markdown
            .write_all(markdown::message(line).as_bytes())
            .await?;
        self.html.write_all(html::message(line).as_bytes()).await?;
        self.counts.messages += 1;
        self.counts.undecryptable += u64::from(line.undecryptable);
        Ok(())
    }

    /// Writes a file's bytes under `files/` (once, however often it is named) and answers how
    /// the export refers to it. Bytes that cannot be read, or do not match `sha256` (hex, as
    /// recorded at upload), leave no file: it is listed without a path, and the export goes on.
    pub async fn file<E: std::fmt::Display>(
        &mut self,
        file: FileRef,
        sha256: &str,
        body: impl Stream<Item = Result<Bytes, E>>,
    ) -> io::Result<FileRef> {
        if let Some(path) = self.written.get(&file.id) {
            return Ok(FileRef {
                path: path.clone(),
                ..file
            });
        }
        let path = file_path(&file.id, &file.name);
        let copied = self.copy(&path, sha256, body).await?;
        let file = FileRef {
            path: copied.then_some(path),
            ..file
        };
        self.written.insert(file.id.clone(), file.path.clone());
        self.counts.files += 1;
        if copied {
            self.counts.file_bytes += u64::try_from(file.size).unwrap_or(0);
        } else {
            self.counts.unreadable_files += 1;
        }
        self.files.push(ManifestFile {
            file: file.clone(),
            sha256: sha256.to_owned(),
        });
        Ok(file)
    }

    /// Copies `body` to `path`; `false` (and nothing left behind) when it cannot be read or
    /// does not match its digest. Only a failure to write is an error.
    async fn copy<E: std::fmt::Display>(
        &mut self,
        path: &str,
        sha256: &str,
        body: impl Stream<Item = Result<Bytes, E>>,
    ) -> io::Result<bool> {
        let target = self.dir.join(path);
        if let Some(parent) = target.parent() {
            tokio::fs::create_dir_all(parent).await?;
        }
        let mut out = BufWriter::new(File::create(&target).await?);
        let mut hasher = Sha256::new();
        let mut body = std::pin::pin!(body);
        let mut failure = None;
        while let Some(piece) = body.next().await {
            match piece {
                Ok(bytes) => {
                    hasher.update(&bytes);
                    out.write_all(&bytes).await?;
                }
                Err(err) => {
                    failure = Some(err.to_string());
                    break;
                }
            }
        }
        out.flush().await?;
        drop(out);
        let digest = format!("{:x}", hasher.finalize());
        if failure.is_none() && !digest.eq_ignore_ascii_case(sha256) {
            failure = Some("its bytes do not match the digest recorded at upload".into());
        }
        match failure {
            None => Ok(true),
            Some(reason) => {
                tracing::warn!(file = %path, %reason, "export: a file could not be read; listed without it");
                tokio::fs::remove_file(&target).await?;
                Ok(false)
            }
        }
    }

    /// Adds a file the exported account uploaded (written with [`Self::file`] first).
    pub async fn upload(&mut self, upload: &UploadLine) -> io::Result<()> {
        if self.open != Open::Uploads {
            self.switch(Open::Uploads).await?;
            self.markdown
                .write_all(markdown::uploads_heading().as_bytes())
                .await?;
            self.html
                .write_all(html::uploads_heading().as_bytes())
                .await?;
        }
        self.markdown
            .write_all(markdown::upload(upload).as_bytes())
            .await?;
        self.html.write_all(html::upload(upload).as_bytes()).await
    }

    /// Ends the documents and writes `manifest.json`; returns the counts.
    pub async fn finish(mut self) -> io::Result<Counts> {
        self.switch(Open::Nothing).await?;
        self.markdown
            .write_all(markdown::footer(&self.counts).as_bytes())
            .await?;
        self.html
            .write_all(html::footer(&self.counts).as_bytes())
            .await?;
        for out in [&mut self.messages, &mut self.markdown, &mut self.html] {
            out.flush().await?;
        }
        let mut documents = vec!["messages.jsonl", "export.md", "export.html"];
        if let Some(audit) = self.audit.as_mut() {
            audit.flush().await?;
            documents.push("audit.jsonl");
        }
        let manifest = Manifest {
            format: FORMAT,
            version: VERSION,
            generator: format!("Parlor {}", env!("CARGO_PKG_VERSION")),
            title: self.details.title(),
            exported_at: self.exported_at,
            exported_at_time: super::rfc3339(self.exported_at),
            subject: &self.details,
            counts: &self.counts,
            documents,
            files: &self.files,
        };
        let json = serde_json::to_vec_pretty(&manifest).map_err(io::Error::other)?;
        tokio::fs::write(self.dir.join("manifest.json"), json).await?;
        Ok(self.counts)
    }

    /// Closes whatever part of the page is open before `next` starts.
    async fn switch(&mut self, next: Open) -> io::Result<()> {
        let close = match self.open {
            Open::Nothing => "",
            Open::Messages => html::CLOSE_MESSAGES,
            Open::Audit | Open::Uploads => html::CLOSE_TABLE,
        };
        self.open = next;
        self.html.write_all(close.as_bytes()).await
    }
}

/// `value` as one line of JSON Lines.
fn json_line(value: &impl Serialize) -> io::Result<Vec<u8>> {
    let mut line = serde_json::to_vec(value).map_err(io::Error::other)?;
    line.push(b'\n');
    Ok(line)
}

/// Makes sure `dir` is an empty directory of the owner's alone: created when absent, refused
/// when it holds anything.
async fn prepare(dir: &Path) -> io::Result<()> {
    match tokio::fs::metadata(dir).await {
        Ok(meta) if !meta.is_dir() => {
            return Err(io::Error::new(
                io::ErrorKind::AlreadyExists,
                format!("{} exists and is not a directory", dir.display()),
            ))
        }
        Ok(_) => {
            if tokio::fs::read_dir(dir)
                .await?
                .next_entry()
                .await?
                .is_some()
            {
                return Err(io::Error::new(
                    io::ErrorKind::AlreadyExists,
                    format!(
                        "{} is not empty: export into a new or empty directory",
                        dir.display()
                    ),
                ));
            }
        }
        Err(err) if err.kind() == io::ErrorKind::NotFound => {
            let mut builder = tokio::fs::DirBuilder::new();
            builder.recursive(true);
            #[cfg(unix)]
            builder.mode(0o700);
            builder.create(dir).await?;
        }
        Err(err) => return Err(err),
    }
    Ok(())
}
