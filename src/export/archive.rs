//! A finished export directory as one zip archive, produced while it is sent: a zip writer on
//! a blocking thread compresses the documents (the files, mostly media that is compressed
//! already, are stored as they are) and hands the archive over in pieces through a small
//! bounded channel. Memory stays at a few pieces whatever the export's size, and no second
//! copy is written to disk. When the receiver goes (the download was abandoned), the next
//! hand-over fails and the writer stops.
//!
//! Every entry sits in one folder named after the export, so unpacking it never scatters files
//! into the folder it is unpacked in.

use bytes::Bytes;
use futures_util::Stream;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use tokio::sync::mpsc;
use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, ZipWriter};

/// Bytes handed over at a time.
const PIECE: usize = 64 * 1024;

/// Pieces waiting in the channel at most.
const PIECES_IN_FLIGHT: usize = 4;

/// Streams the export in `dir` as a zip archive whose entries sit under `folder/`. `keep`
/// (the directory's owner, a ticket of the export) is dropped once the archive is written or
/// abandoned. Entries are dated `modified` (milliseconds, UTC).
pub fn zip_stream<K: Send + 'static>(
    dir: PathBuf,
    folder: String,
    modified: i64,
    keep: K,
) -> impl Stream<Item = Result<Bytes, io::Error>> + Send + 'static {
    let (tx, rx) = mpsc::channel(PIECES_IN_FLIGHT);
    tokio::task::spawn_blocking(move || {
        let sink = ChannelWriter {
            tx: tx.clone(),
            buffer: Vec::with_capacity(PIECE),
        };
        if let Err(err) = write_zip(&dir, &folder, modified, sink) {
            if err.kind() != io::ErrorKind::BrokenPipe {
                tracing::error!(error = %err, "export: the archive could not be written");
                let _ = tx.blocking_send(Err(err));
            }
        }
        drop(keep);
    });
    futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|piece| (piece, rx))
    })
}

/// Writes every file under `dir` (sorted, so archives of the same export are alike) into a
/// streamed zip.
fn write_zip(dir: &Path, folder: &str, modified: i64, sink: ChannelWriter) -> io::Result<()> {
    let mut zip = ZipWriter::new_stream(sink);
    let base = SimpleFileOptions::default()
        .last_modified_time(zip_time(modified))
        .unix_permissions(0o644);
    for (relative, path) in files_under(dir)? {
        let len = std::fs::metadata(&path)?.len();
        let method = if relative.starts_with("files/") {
            CompressionMethod::Stored
        } else {
            CompressionMethod::Deflated
        };
        let options = base
            .compression_method(method)
            .large_file(len >= u64::from(u32::MAX));
        zip.start_file(format!("{folder}/{relative}"), options)
            .map_err(io::Error::other)?;
        io::copy(&mut std::fs::File::open(&path)?, &mut zip)?;
    }
    let mut sink = zip.finish().map_err(io::Error::other)?.into_inner();
    sink.flush()
}

/// Every file under `dir` as (path relative to `dir` with `/` separators, full path), sorted.
fn files_under(dir: &Path) -> io::Result<Vec<(String, PathBuf)>> {
    let mut found = Vec::new();
    let mut pending = vec![(String::new(), dir.to_path_buf())];
    while let Some((prefix, folder)) = pending.pop() {
        for entry in std::fs::read_dir(&folder)? {
            let entry = entry?;
            let name = entry.file_name().to_string_lossy().into_owned();
            let relative = format!("{prefix}{name}");
            if entry.file_type()?.is_dir() {
                pending.push((format!("{relative}/"), entry.path()));
            } else {
                found.push((relative, entry.path()));
            }
        }
    }
    found.sort();
    Ok(found)
}

/// A zip entry's date: DOS time, from 1980 to 2107, to two seconds.
fn zip_time(ms: i64) -> zip::DateTime {
    use chrono::{Datelike, Timelike};
    chrono::DateTime::from_timestamp_millis(ms)
        .and_then(|t| {
            zip::DateTime::from_date_and_time(
                u16::try_from(t.year()).ok()?,
                u8::try_from(t.month()).ok()?,
                u8::try_from(t.day()).ok()?,
                u8::try_from(t.hour()).ok()?,
                u8::try_from(t.minute()).ok()?,
                u8::try_from(t.second()).ok()?,
            )
            .ok()
        })
        .unwrap_or_default()
}

/// The zip writer's output: gathered into pieces and sent down the channel, blocking while it
/// is full (the writer runs on a blocking thread, paced by the download).
struct ChannelWriter {
    tx: mpsc::Sender<Result<Bytes, io::Error>>,
    buffer: Vec<u8>,
}

impl ChannelWriter {
    fn send(&mut self) -> io::Result<()> {
        if self.buffer.is_empty() {
            return Ok(());
        }
        let piece = Bytes::from(std::mem::replace(
            &mut self.buffer,
            Vec::with_capacity(PIECE),
        ));
        self.tx
            .blocking_send(Ok(piece))
            .map_err(|_| io::Error::new(io::ErrorKind::BrokenPipe, "the download was abandoned"))
    }
}

impl Write for ChannelWriter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.buffer.extend_from_slice(buf);
        if self.buffer.len() >= PIECE {
            self.send()?;
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.send()
    }
}
