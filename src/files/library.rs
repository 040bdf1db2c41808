//! The upload pipeline and the reads, below any question of who may do what: an upload's
//! type is detected from its first bytes and checked against the allowed types and the
//! caller's policy before anything is kept; images lose their metadata while they stream
//! ([`scrub`](super::scrub)); the bytes are sealed into the object store; then an image is
//! decoded under limits, in the blocking pool and a few at a time, for its dimensions and
//! thumbnail. An image that does not decode is refused and deleted, like any other refusal.
//!
//! Each file is sealed with its room's data key and bound to its own id (the associated data),
//! so a sealed object copied under another id does not open.

use super::kind::{detect, Detected, Kind};
use super::preview::{self, Preview, PreviewLimits};
use super::scrub::Scrubber;
use super::storage::{FileStore, FileStoreError};
use crate::crypto::SecretKey;
use bytes::Bytes;
use futures_util::{Stream, StreamExt};
use std::ops::Range;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Semaphore;

/// How many leading bytes an upload's type is detected from before the rest is taken.
const HEAD_LEN: usize = 8 * 1024;

/// Bytes read per round when a download streams out (16 sealed chunks).
const READ_WINDOW: u64 = 16 * crate::crypto::chunked::CHUNK_LEN as u64;

/// What the pipeline is allowed to do.
#[derive(Clone, Debug)]
pub struct LibrarySettings {
    /// MIME types accepted at all.
    pub allowed: Vec<String>,
    pub preview: PreviewLimits,
    /// Images larger than this are kept without a thumbnail (they are not decoded).
    pub preview_max_source: u64,
    /// How long one decode may take before the upload is refused.
    pub preview_timeout: Duration,
    /// Decodes running at once.
    pub decoders: usize,
}

/// What an upload stored.
#[derive(Clone, Debug)]
pub struct Stored {
    pub len: u64,
    pub digest: [u8; 32],
    pub detected: Detected,
    pub width: Option<u32>,
    pub height: Option<u32>,
    /// The thumbnail's MIME type, when one was made.
    pub thumbnail: Option<&'static str>,
}

#[derive(Debug, thiserror::Error)]
pub enum LibraryError {
    #[error("files of type {0} are not accepted here")]
    NotAllowed(String),
    /// The caller's policy refused the detected type.
    #[error("{0}")]
    Refused(String),
    #[error("the image cannot be read: {0}")]
    Unreadable(String),
    #[error(transparent)]
    Store(#[from] FileStoreError),
}

/// How long a probe of the object store is reused.
const PROBE_REUSE: Duration = Duration::from_secs(1);

/// The last probe of the object store: when, and its answer.
type LastProbe = Arc<tokio::sync::Mutex<Option<(tokio::time::Instant, Result<(), String>)>>>;

/// Sealed files and their thumbnails. Cheap to clone.
#[derive(Clone)]
pub struct Library {
    objects: FileStore,
    settings: Arc<LibrarySettings>,
    decoders: Arc<Semaphore>,
    probed: LastProbe,
}

impl Library {
    pub fn new(objects: FileStore, settings: LibrarySettings) -> Self {
        Self {
            decoders: Arc::new(Semaphore::new(settings.decoders.max(1))),
            settings: Arc::new(settings),
            objects,
            probed: Arc::default(),
        }
    }

    /// Detects, checks (`policy`), scrubs, seals and stores `body` as file `id`; makes an
    /// image's thumbnail. Nothing is left behind when it fails. An `opaque` body (sealed by
    /// the client for an end-to-end room) is stored as a generic download, unexamined: its
    /// bytes are ciphertext, with no type to detect, nothing to scrub and nothing to preview.
    pub async fn store<E: std::fmt::Display + Send + 'static>(
        &self,
        id: &str,
        key: &SecretKey,
        body: impl Stream<Item = Result<Bytes, E>> + Send,
        max_len: u64,
        opaque: bool,
        policy: impl FnOnce(&Detected) -> Result<(), String>,
    ) -> Result<Stored, LibraryError> {
        let mut body = Box::pin(body);
        let mut head: Vec<Bytes> = Vec::new();
        let mut head_len = 0;
        while head_len < HEAD_LEN {
            match body.next().await {
                Some(Ok(piece)) => {
                    head_len += piece.len();
                    head.push(piece);
                }
                Some(Err(err)) => {
                    return Err(FileStoreError::Interrupted(err.to_string()).into());
                }
                None => break,
            }
        }
        let first: Vec<u8> = head.concat();
        let detected = if opaque {
            Detected::OPAQUE
        } else {
            let detected =
                detect(&first).ok_or_else(|| LibraryError::NotAllowed("unknown".into()))?;
            if !self.settings.allowed.iter().any(|m| m == detected.mime) {
                return Err(LibraryError::NotAllowed(detected.mime.into()));
            }
            detected
        };
        policy(&detected).map_err(LibraryError::Refused)?;
        let whole = futures_util::stream::iter(head.into_iter().map(Ok)).chain(body);
        let context = file_context(id);
        let written = match Scrubber::for_mime(detected.mime) {
            Some(scrubber) => {
                let scrubbed = scrubbed(whole, scrubber);
                self.objects
                    .write(id, key, context.as_bytes(), scrubbed, max_len)
                    .await?
            }
            None => {
                self.objects
                    .write(id, key, context.as_bytes(), whole, max_len)
                    .await?
            }
        };
        let mut stored = Stored {
            len: written.len,
            digest: written.digest,
            detected,
            width: None,
            height: None,
            thumbnail: None,
        };
        if detected.kind == Kind::Image {
            if let Some((w, h)) = preview::dimensions(&first) {
                (stored.width, stored.height) = (Some(w), Some(h));
            }
            if let Err(err) = self.make_thumbnail(id, key, &mut stored).await {
                self.delete(id).await;
                return Err(err);
            }
        }
        Ok(stored)
    }

    /// Decodes a stored image (if its type has a decoder and it is not too large) for its
    /// dimensions and thumbnail, and stores the thumbnail.
    async fn make_thumbnail(
        &self,
        id: &str,
        key: &SecretKey,
        stored: &mut Stored,
    ) -> Result<(), LibraryError> {
        let decodable = matches!(
            stored.detected.mime,
            "image/png" | "image/jpeg" | "image/gif" | "image/webp"
        );
        if !decodable || stored.len == 0 || stored.len > self.settings.preview_max_source {
            return Ok(());
        }
        let bytes = self
            .objects
            .read_range(
                id,
                key,
                file_context(id).as_bytes(),
                stored.len,
                0..stored.len,
            )
            .await?;
        let _turn = self
            .decoders
            .acquire()
            .await
            .map_err(|_| LibraryError::Unreadable("the server is stopping".into()))?;
        let (mime, limits) = (stored.detected.mime, self.settings.preview.clone());
        let decode = tokio::task::spawn_blocking(move || preview::make(&bytes, mime, &limits));
        let made: Preview = match tokio::time::timeout(self.settings.preview_timeout, decode).await
        {
            Ok(Ok(Ok(made))) => made,
            Ok(Ok(Err(err))) => return Err(LibraryError::Unreadable(err.to_string())),
            // A decoder that panicked: the task died, the server did not.
            Ok(Err(_)) => return Err(LibraryError::Unreadable("the decoder failed".into())),
            Err(_) => return Err(LibraryError::Unreadable("decoding took too long".into())),
        };
        (stored.width, stored.height) = (Some(made.width), Some(made.height));
        self.objects
            .write_small(
                &thumbnail_id(id),
                key,
                thumbnail_context(id).as_bytes(),
                made.thumbnail,
            )
            .await?;
        stored.thumbnail = Some(made.thumbnail_mime);
        Ok(())
    }

    /// The plaintext bytes `range` of file `id` (`len` bytes long), read a window at a time.
    pub fn read(
        &self,
        id: &str,
        key: SecretKey,
        len: u64,
        range: Range<u64>,
    ) -> impl Stream<Item = Result<Bytes, FileStoreError>> + Send + 'static {
        let objects = self.objects.clone();
        let id = id.to_owned();
        futures_util::stream::try_unfold(range.start, move |at| {
            let (objects, id, key) = (objects.clone(), id.clone(), key.clone());
            async move {
                if at >= range.end {
                    return Ok(None);
                }
                let end = (at + READ_WINDOW).min(range.end);
                let context = file_context(&id);
                let bytes = objects
                    .read_range(&id, &key, context.as_bytes(), len, at..end)
                    .await?;
                Ok(Some((Bytes::from(bytes), end)))
            }
        })
    }

    /// Whether the object store takes writes right now; answers within a second of the last
    /// probe share its result (`/health` may be polled hard, and each probe is a write).
    pub async fn probe(&self) -> Result<(), String> {
        let mut last = self.probed.lock().await;
        if let Some((at, result)) = last.as_ref() {
            if at.elapsed() < PROBE_REUSE {
                return result.clone();
            }
        }
        let result = self.objects.probe().await.map_err(|e| e.to_string());
        *last = Some((tokio::time::Instant::now(), result.clone()));
        result
    }

    /// File `id`'s thumbnail.
    pub async fn thumbnail(&self, id: &str, key: &SecretKey) -> Result<Vec<u8>, FileStoreError> {
        self.objects
            .read_small(&thumbnail_id(id), key, thumbnail_context(id).as_bytes())
            .await
    }

    /// Deletes file `id` and its thumbnail; a failure is logged (the sweep tries again).
    pub async fn delete(&self, id: &str) -> bool {
        let mut done = true;
        for object in [id.to_owned(), thumbnail_id(id)] {
            if let Err(err) = self.objects.delete(&object).await {
                tracing::warn!(error = %err, file = %object, "could not delete a stored file");
                done = false;
            }
        }
        done
    }
}

/// `body` with its metadata scrubbed on the way through.
fn scrubbed<E>(
    body: impl Stream<Item = Result<Bytes, E>> + Send,
    scrubber: Scrubber,
) -> impl Stream<Item = Result<Bytes, E>> + Send {
    let body = Box::pin(body);
    futures_util::stream::unfold(
        (body, Some(scrubber)),
        |(mut body, mut scrubber)| async move {
            loop {
                let active = scrubber.as_mut()?;
                let mut out = Vec::new();
                match body.next().await {
                    Some(Ok(piece)) => active.push(&piece, &mut out),
                    Some(Err(err)) => return Some((Err(err), (body, None))),
                    None => {
                        scrubber.take()?.finish(&mut out);
                        return Some((Ok(Bytes::from(out)), (body, None)));
                    }
                }
                if !out.is_empty() {
                    return Some((Ok(Bytes::from(out)), (body, scrubber)));
                }
            }
        },
    )
}

/// The associated data binding a sealed file to its id.
fn file_context(id: &str) -> String {
    format!("parlor:file:{id}")
}

fn thumbnail_id(id: &str) -> String {
    format!("{id}.thumbnail")
}

fn thumbnail_context(id: &str) -> String {
    format!("parlor:file:{id}:thumbnail")
}
