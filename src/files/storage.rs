//! Sealed files in an object store (a directory under the data dir by default; S3-compatible
//! storage is the same trait). An upload streams through: its plaintext is cut into chunks,
//! each sealed with the room's data key ([`crate::crypto::chunked`]) and sent on as a part of
//! a multipart upload, so neither the plaintext nor the sealed file is ever whole in memory and
//! no plaintext byte reaches the store. The size limit is enforced while streaming; a refused or
//! failed upload is aborted, leaving no object behind.

use crate::crypto::chunked::{
    chunk_count, chunks_covering, sealed_len, sealed_offset, FileOpener, FileSealer, CHUNK_LEN,
    HEADER_LEN, SEALED_CHUNK_LEN,
};
use crate::crypto::{OpenError, SecretKey};
use bytes::Bytes;
use futures_util::{Stream, StreamExt};
use object_store::path::Path as StorePath;
use object_store::{ObjectStore, ObjectStoreExt, WriteMultipart};
use sha2::{Digest, Sha256};
use std::ops::Range;
use std::sync::Arc;

/// Files by id in an object store.
#[derive(Clone, Debug)]
pub struct FileStore {
    store: Arc<dyn ObjectStore>,
    /// Bytes buffered per part of a multipart upload: what one upload holds in memory, about
    /// twice over while a part is being sent. S3 takes parts of 5 MiB at least (but the last).
    part_len: usize,
}

/// Parts of a local file: small, so an upload holds little.
const LOCAL_PART_LEN: usize = 256 * 1024;
/// S3's smallest part.
const S3_PART_LEN: usize = 5 * 1024 * 1024;

/// Where an S3-compatible store is and how to sign in to it.
#[derive(Clone, Debug, Default)]
pub struct S3Options {
    /// `s3://bucket` or `s3://bucket/prefix`.
    pub url: String,
    pub endpoint: Option<String>,
    pub region: Option<String>,
    pub access_key_id: Option<String>,
    pub secret_access_key: Option<String>,
    pub allow_http: bool,
}

/// What an upload stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Written {
    /// Plaintext bytes.
    pub len: u64,
    /// SHA-256 of the plaintext.
    pub digest: [u8; 32],
}

#[derive(Debug, thiserror::Error)]
pub enum FileStoreError {
    #[error("the file is larger than {max} bytes")]
    TooLarge { max: u64 },
    /// The upload's own body failed (the client went away, a read error).
    #[error("the upload was interrupted: {0}")]
    Interrupted(String),
    #[error("a stored file does not open: {0}")]
    Unreadable(#[from] OpenError),
    #[error("the range is outside the file")]
    OutOfRange,
    #[error("object store: {0}")]
    Store(#[from] object_store::Error),
    /// Only full chunks and then one last one are sealed: this would be our mistake.
    #[error("sealing failed: {0}")]
    Sealing(#[from] crate::crypto::chunked::SealError),
    #[error("cannot create the files directory: {0}")]
    Directory(std::io::Error),
}

impl FileStore {
    pub fn new(store: Arc<dyn ObjectStore>, part_len: usize) -> Self {
        Self { store, part_len }
    }

    /// Files in `dir` (created if missing).
    pub fn local(dir: &std::path::Path) -> Result<Self, FileStoreError> {
        std::fs::create_dir_all(dir).map_err(FileStoreError::Directory)?;
        let store = object_store::local::LocalFileSystem::new_with_prefix(dir)?;
        Ok(Self::new(Arc::new(store), LOCAL_PART_LEN))
    }

    /// Files in an S3-compatible bucket, under the URL's path as a prefix
    /// (`s3://bucket/prefix`). Unset options fall back to the usual `AWS_*` variables.
    pub fn s3(options: &S3Options) -> Result<Self, FileStoreError> {
        use object_store::aws::AmazonS3Builder;
        let mut builder = AmazonS3Builder::from_env()
            .with_url(&options.url)
            .with_allow_http(options.allow_http);
        if let Some(endpoint) = &options.endpoint {
            builder = builder.with_endpoint(endpoint);
        }
        if let Some(region) = &options.region {
            builder = builder.with_region(region);
        }
        if let Some(key) = &options.access_key_id {
            builder = builder.with_access_key_id(key);
        }
        if let Some(secret) = &options.secret_access_key {
            builder = builder.with_secret_access_key(secret);
        }
        let bucket = builder.build()?;
        let prefix = options
            .url
            .trim_start_matches("s3://")
            .split_once('/')
            .map(|(_, prefix)| prefix.trim_matches('/'))
            .unwrap_or_default();
        if prefix.is_empty() {
            return Ok(Self::new(Arc::new(bucket), S3_PART_LEN));
        }
        let prefixed = object_store::prefix::PrefixStore::new(bucket, prefix);
        Ok(Self::new(Arc::new(prefixed), S3_PART_LEN))
    }

    /// Stores the plaintext `body` as file `id`, sealed with `key` and bound to `context`;
    /// over `max_len` bytes the upload stops. Any failure aborts the upload and stores
    /// nothing. (What the file is, and whether to take it, was decided before: see
    /// [`super::library`].)
    pub async fn write<E: std::fmt::Display>(
        &self,
        id: &str,
        key: &SecretKey,
        context: &[u8],
        body: impl Stream<Item = Result<Bytes, E>>,
        max_len: u64,
    ) -> Result<Written, FileStoreError> {
        let upload = self.store.put_multipart(&path(id)).await?;
        let mut writer = WriteMultipart::new_with_chunk_size(upload, self.part_len);
        let sealer = FileSealer::new(key, context);
        match seal_into(&mut writer, sealer, body, max_len).await {
            Ok(written) => {
                writer.finish().await?;
                Ok(written)
            }
            Err(err) => {
                if let Err(abort) = writer.abort().await {
                    tracing::warn!(error = %abort, "could not abort a refused upload");
                }
                Err(err)
            }
        }
    }

    /// The plaintext bytes `range` of file `id`, `len` bytes long, opening only the chunks
    /// that hold them.
    pub async fn read_range(
        &self,
        id: &str,
        key: &SecretKey,
        context: &[u8],
        len: u64,
        range: Range<u64>,
    ) -> Result<Vec<u8>, FileStoreError> {
        if range.start >= range.end || range.end > len {
            return Err(FileStoreError::OutOfRange);
        }
        let chunks = chunks_covering(&range);
        let location = path(id);
        let header = self
            .store
            .get_range(&location, 0..HEADER_LEN as u64)
            .await?;
        let opener = FileOpener::new(key, context, &header)?;
        let sealed_end = sealed_offset(chunks.end).min(sealed_len(len));
        let sealed = self
            .store
            .get_range(&location, sealed_offset(chunks.start)..sealed_end)
            .await?;
        let last = chunk_count(len) - 1;
        let mut plain = Vec::with_capacity((range.end - range.start) as usize + CHUNK_LEN);
        for (i, index) in chunks.clone().enumerate() {
            let start = i * SEALED_CHUNK_LEN;
            let end = (start + SEALED_CHUNK_LEN).min(sealed.len());
            let chunk = sealed.get(start..end).ok_or(OpenError)?;
            let index32 = u32::try_from(index).map_err(|_| OpenError)?;
            plain.extend(opener.open(index32, chunk, index == last)?);
        }
        let skip = (range.start - chunks.start * CHUNK_LEN as u64) as usize;
        let take = (range.end - range.start) as usize;
        Ok(plain.get(skip..skip + take).ok_or(OpenError)?.to_vec())
    }

    /// Stores a small file already in memory (a thumbnail).
    pub async fn write_small(
        &self,
        id: &str,
        key: &SecretKey,
        context: &[u8],
        bytes: Vec<u8>,
    ) -> Result<Written, FileStoreError> {
        let len = bytes.len() as u64;
        let body =
            futures_util::stream::iter([Ok::<_, std::convert::Infallible>(Bytes::from(bytes))]);
        self.write(id, key, context, body, len).await
    }

    /// The whole plaintext of a small file (a thumbnail), its length taken from the object's.
    pub async fn read_small(
        &self,
        id: &str,
        key: &SecretKey,
        context: &[u8],
    ) -> Result<Vec<u8>, FileStoreError> {
        let sealed = self.store.get(&path(id)).await?.bytes().await?;
        let header = sealed.get(..HEADER_LEN).ok_or(OpenError)?;
        let opener = FileOpener::new(key, context, header)?;
        let chunks: Vec<&[u8]> = sealed[HEADER_LEN..].chunks(SEALED_CHUNK_LEN).collect();
        let mut plain = Vec::with_capacity(sealed.len());
        for (index, chunk) in chunks.iter().enumerate() {
            let index32 = u32::try_from(index).map_err(|_| OpenError)?;
            plain.extend(opener.open(index32, chunk, index + 1 == chunks.len())?);
        }
        Ok(plain)
    }

    /// Removes file `id`; a file that is already gone is not an error.
    pub async fn delete(&self, id: &str) -> Result<(), FileStoreError> {
        match self.store.delete(&path(id)).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(err) => Err(err.into()),
        }
    }

    /// Whether the store takes a write and a delete right now: a small object under `probe/`
    /// (never among the files) written and removed. A missing bucket, wrong credentials, an
    /// unreachable endpoint or a read-only directory all fail here.
    pub async fn probe(&self) -> Result<(), FileStoreError> {
        let location = StorePath::from("probe/health");
        self.store
            .put(&location, object_store::PutPayload::from_static(b"parlor"))
            .await?;
        self.store.delete(&location).await?;
        Ok(())
    }

    /// Every stored object's id (files and thumbnails), for audits and tests.
    pub async fn list(&self) -> Result<Vec<String>, FileStoreError> {
        let prefix = StorePath::from("files");
        let mut listing = self.store.list(Some(&prefix));
        let mut ids = Vec::new();
        while let Some(meta) = listing.next().await {
            if let Some(id) = meta?.location.filename() {
                ids.push(id.to_owned());
            }
        }
        ids.sort();
        Ok(ids)
    }

    /// An object's sealed bytes as stored (what someone reading the store would see).
    pub async fn sealed(&self, id: &str) -> Result<Bytes, FileStoreError> {
        Ok(self.store.get(&path(id)).await?.bytes().await?)
    }

    /// Whether file `id` is stored.
    pub async fn exists(&self, id: &str) -> Result<bool, FileStoreError> {
        match self.store.head(&path(id)).await {
            Ok(_) => Ok(true),
            Err(object_store::Error::NotFound { .. }) => Ok(false),
            Err(err) => Err(err.into()),
        }
    }
}

/// Seals `body` into `writer` chunk by chunk (see [`FileStore::write`]).
async fn seal_into<E: std::fmt::Display>(
    writer: &mut WriteMultipart,
    mut sealer: FileSealer,
    body: impl Stream<Item = Result<Bytes, E>>,
    max_len: u64,
) -> Result<Written, FileStoreError> {
    writer.write(&sealer.header());
    let mut digest = Sha256::new();
    let mut len = 0u64;
    // Plaintext not yet sealed: a full chunk is held back until more follows, because only
    // the end of the body tells which chunk is the last.
    let mut pending: Vec<u8> = Vec::with_capacity(2 * CHUNK_LEN);
    let mut body = std::pin::pin!(body);
    while let Some(piece) = body.next().await {
        let piece = piece.map_err(|e| FileStoreError::Interrupted(e.to_string()))?;
        len += piece.len() as u64;
        if len > max_len {
            return Err(FileStoreError::TooLarge { max: max_len });
        }
        digest.update(&piece);
        pending.extend_from_slice(&piece);
        while pending.len() > CHUNK_LEN {
            let sealed = sealer.seal(&pending[..CHUNK_LEN], false)?;
            writer.write(&sealed);
            pending.drain(..CHUNK_LEN);
            writer.wait_for_capacity(1).await?;
        }
    }
    writer.write(&sealer.seal(&pending, true)?);
    Ok(Written {
        len,
        digest: digest.finalize().into(),
    })
}

fn path(id: &str) -> StorePath {
    StorePath::from(format!("files/{id}"))
}

#[cfg(test)]
mod tests;
