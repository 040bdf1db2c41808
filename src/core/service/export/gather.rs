//! Reading a room's messages and files into an export, a page at a time: rows read (all of a
//! room's, or one author's), opened by the room's history service exactly as every history
//! page is (a body that does not open is exported without text, never an error), then each
//! attached file decrypted straight onto disk, its bytes checked against the digest recorded
//! at upload.

use super::{ExportError, Exports};
use crate::export::{rfc3339, ExportWriter, FileRef, MessageLine, Section};
use crate::rooms::Room;
use crate::store::FileRow;
use futures_util::future::Either;
use futures_util::StreamExt;
use std::collections::HashMap;

/// Messages read, and files listed, per query.
pub(super) const PAGE: i64 = 500;

impl Exports {
    /// Writes `section` with the messages of `room` — all of them, or only `author`'s — and
    /// their files.
    pub(super) async fn messages(
        &self,
        writer: &mut ExportWriter,
        room: &Room,
        section: &Section,
        author: Option<i64>,
    ) -> Result<(), ExportError> {
        writer.section(section).await?;
        let mut after = 0;
        loop {
            let rows = match author {
                Some(author) => {
                    self.store
                        .exports()
                        .authored(room.id, author, after, PAGE)
                        .await?
                }
                None => self.store.messages().after(room.id, after, PAGE).await?,
            };
            let (Some(last), full) = (rows.last().map(|r| r.seq), rows.len() as i64 == PAGE) else {
                return Ok(());
            };
            after = last;
            let messages = self.rooms.history().open_rows(room, rows).await?;
            let with_files: Vec<i64> = messages
                .iter()
                .filter(|m| !m.attachments.is_empty())
                .map(|m| m.id)
                .collect();
            let mut files: HashMap<String, FileRow> = self
                .store
                .files()
                .of_messages(&with_files)
                .await?
                .into_iter()
                .map(|row| (row.id.clone(), row))
                .collect();
            // A deleted message's content is gone; its tombstone is no one's data.
            for message in messages.into_iter().filter(|m| !m.deleted) {
                let mut attachments = Vec::with_capacity(message.attachments.len());
                for view in &message.attachments {
                    let listed = FileRef {
                        id: view.id.clone(),
                        name: view.name.clone(),
                        mime: view.mime.clone(),
                        size: view.size,
                        path: None,
                    };
                    attachments.push(match files.remove(&view.id) {
                        Some(row) => self.copy_file(writer, &row, listed).await?,
                        None => listed,
                    });
                }
                let line = MessageLine {
                    room: room.slug.clone(),
                    seq: message.seq,
                    ts: message.created_at,
                    time: rfc3339(message.created_at),
                    author: message.author_name,
                    text: message.text,
                    undecryptable: message.undecryptable,
                    envelope: message.envelope,
                    edited_at: message.edited_at,
                    attachments,
                };
                writer.message(&line).await?;
            }
            if !full {
                return Ok(());
            }
        }
    }

    /// Copies a stored file into the export, decrypted with its own data key (its room's, or
    /// a lobby file's) — once, however often it is named (the stream is read only the first
    /// time). A file whose key or bytes cannot be read is listed without a copy.
    pub(super) async fn copy_file(
        &self,
        writer: &mut ExportWriter,
        row: &FileRow,
        listed: FileRef,
    ) -> Result<FileRef, ExportError> {
        let len = u64::try_from(row.size).unwrap_or(0);
        let body = match self.keyring.key(row.data_key_id).await {
            Ok(key) => Either::Left(
                self.library
                    .read(&row.id, key, len, 0..len)
                    .map(|piece| piece.map_err(|e| e.to_string())),
            ),
            Err(err) => Either::Right(futures_util::stream::iter([Err(format!(
                "its data key does not open: {err}"
            ))])),
        };
        Ok(writer.file(listed, &row.digest, body).await?)
    }
}
