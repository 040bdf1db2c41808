//! Chunked sealing for files (issue 12): a file is sealed as independent AES-256-GCM chunks so
//! that an upload streams to storage without being held in memory, and a download of a byte
//! range (seeking in audio and video) opens only the chunks it covers.
//!
//! Layout: `version (1) ‖ nonce prefix (8) ‖ chunk 0 ‖ chunk 1 ‖ …`, each chunk
//! `ciphertext ‖ tag (16)` of [`CHUNK_LEN`] plaintext bytes, the last one shorter (or empty, for
//! an empty file). Chunk `i` uses the nonce `prefix ‖ i (4 bytes, big-endian)`: the prefix is
//! random per file, so two files sealed with one room key never share a nonce. Its associated
//! data is the caller's context (which room, which file) ‖ `i` ‖ whether it is the last chunk,
//! so chunks cannot be reordered, moved to another file, or cut off at a chunk boundary
//! without failing to open.

use super::envelope::{OpenError, SecretKey};
use aes_gcm::aead::rand_core::RngCore;
use aes_gcm::aead::{Aead, KeyInit, OsRng, Payload};
use aes_gcm::{Aes256Gcm, Key, Nonce};
use std::ops::Range;

const VERSION: u8 = 1;
const PREFIX_LEN: usize = 8;
const TAG_LEN: usize = 16;

/// Plaintext bytes per chunk.
pub const CHUNK_LEN: usize = 64 * 1024;
/// Bytes before the first chunk.
pub const HEADER_LEN: usize = 1 + PREFIX_LEN;
/// Bytes of a full sealed chunk.
pub const SEALED_CHUNK_LEN: usize = CHUNK_LEN + TAG_LEN;

/// Seals one file's chunks, in order.
pub struct FileSealer {
    cipher: Aes256Gcm,
    prefix: [u8; PREFIX_LEN],
    context: Vec<u8>,
    next: u32,
    finished: bool,
}

/// Why a chunk could not be sealed.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SealError {
    #[error("a chunk other than the last must hold exactly {CHUNK_LEN} bytes")]
    ShortChunk,
    #[error("the last chunk was already sealed")]
    Finished,
    #[error("a file has at most 2^32 chunks")]
    TooLong,
}

impl FileSealer {
    /// A sealer for a new file under `key`, bound to `context`.
    pub fn new(key: &SecretKey, context: &[u8]) -> Self {
        let mut prefix = [0u8; PREFIX_LEN];
        OsRng.fill_bytes(&mut prefix);
        Self {
            cipher: cipher(key),
            prefix,
            context: context.to_vec(),
            next: 0,
            finished: false,
        }
    }

    /// What the sealed file starts with.
    pub fn header(&self) -> [u8; HEADER_LEN] {
        let mut header = [0u8; HEADER_LEN];
        header[0] = VERSION;
        header[1..].copy_from_slice(&self.prefix);
        header
    }

    /// Seals the next chunk: [`CHUNK_LEN`] bytes, or fewer (even none) for the `last` one.
    pub fn seal(&mut self, chunk: &[u8], last: bool) -> Result<Vec<u8>, SealError> {
        if self.finished {
            return Err(SealError::Finished);
        }
        if chunk.len() > CHUNK_LEN || (!last && chunk.len() != CHUNK_LEN) {
            return Err(SealError::ShortChunk);
        }
        let index = self.next;
        self.next = index.checked_add(1).ok_or(SealError::TooLong)?;
        self.finished = last;
        let aad = associated(&self.context, index, last);
        Ok(self
            .cipher
            .encrypt(
                &nonce(&self.prefix, index),
                Payload {
                    msg: chunk,
                    aad: &aad,
                },
            )
            // AES-GCM fails only on inputs beyond 64 GiB; a chunk is 64 KiB.
            .unwrap_or_default())
    }
}

/// Opens the chunks of one sealed file, in any order.
pub struct FileOpener {
    cipher: Aes256Gcm,
    prefix: [u8; PREFIX_LEN],
    context: Vec<u8>,
}

impl FileOpener {
    /// An opener for the file whose sealed bytes start with `header`.
    pub fn new(key: &SecretKey, context: &[u8], header: &[u8]) -> Result<Self, OpenError> {
        let (version, prefix) = header.split_first().ok_or(OpenError)?;
        let prefix: [u8; PREFIX_LEN] = prefix
            .get(..PREFIX_LEN)
            .and_then(|p| p.try_into().ok())
            .ok_or(OpenError)?;
        if *version != VERSION {
            return Err(OpenError);
        }
        Ok(Self {
            cipher: cipher(key),
            prefix,
            context: context.to_vec(),
        })
    }

    /// Opens chunk `index`; `last` says whether the file ends with it.
    pub fn open(&self, index: u32, sealed: &[u8], last: bool) -> Result<Vec<u8>, OpenError> {
        let aad = associated(&self.context, index, last);
        self.cipher
            .decrypt(
                &nonce(&self.prefix, index),
                Payload {
                    msg: sealed,
                    aad: &aad,
                },
            )
            .map_err(|_| OpenError)
    }
}

/// The sealed size of a file of `plain_len` bytes.
pub fn sealed_len(plain_len: u64) -> u64 {
    HEADER_LEN as u64 + plain_len + chunk_count(plain_len) * TAG_LEN as u64
}

/// How many chunks a file of `plain_len` bytes has (an empty file has one, empty).
pub fn chunk_count(plain_len: u64) -> u64 {
    plain_len.div_ceil(CHUNK_LEN as u64).max(1)
}

/// Where chunk `index` starts in the sealed file.
pub fn sealed_offset(index: u64) -> u64 {
    HEADER_LEN as u64 + index * SEALED_CHUNK_LEN as u64
}

/// The chunks that hold the plaintext bytes `range` (non-empty, within the file).
pub fn chunks_covering(range: &Range<u64>) -> Range<u64> {
    let chunk = CHUNK_LEN as u64;
    range.start / chunk..range.end.div_ceil(chunk)
}

fn cipher(key: &SecretKey) -> Aes256Gcm {
    Aes256Gcm::new(Key::<Aes256Gcm>::from_slice(key.expose()))
}

fn nonce(prefix: &[u8; PREFIX_LEN], index: u32) -> Nonce<aes_gcm::aead::consts::U12> {
    let mut nonce = [0u8; 12];
    nonce[..PREFIX_LEN].copy_from_slice(prefix);
    nonce[PREFIX_LEN..].copy_from_slice(&index.to_be_bytes());
    Nonce::clone_from_slice(&nonce)
}

fn associated(context: &[u8], index: u32, last: bool) -> Vec<u8> {
    let mut aad = Vec::with_capacity(context.len() + 5);
    aad.extend_from_slice(context);
    aad.extend_from_slice(&index.to_be_bytes());
    aad.push(u8::from(last));
    aad
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Seals `plain` whole: the header and its chunks, as they would be stored.
    fn seal_all(key: &SecretKey, context: &[u8], plain: &[u8]) -> Vec<u8> {
        let mut sealer = FileSealer::new(key, context);
        let mut sealed = sealer.header().to_vec();
        let chunks: Vec<&[u8]> = if plain.is_empty() {
            vec![&[]]
        } else {
            plain.chunks(CHUNK_LEN).collect()
        };
        for (i, chunk) in chunks.iter().enumerate() {
            sealed.extend(sealer.seal(chunk, i + 1 == chunks.len()).unwrap());
        }
        sealed
    }

    /// The sealed bytes of chunk `index` of a file of `plain_len` bytes.
    fn chunk_of(sealed: &[u8], index: u64, plain_len: u64) -> &[u8] {
        let start = sealed_offset(index) as usize;
        let end = (start + SEALED_CHUNK_LEN).min(sealed_len(plain_len) as usize);
        &sealed[start..end]
    }

    fn open_range(
        key: &SecretKey,
        context: &[u8],
        sealed: &[u8],
        len: u64,
        range: Range<u64>,
    ) -> Vec<u8> {
        let opener = FileOpener::new(key, context, &sealed[..HEADER_LEN]).unwrap();
        let last = chunk_count(len) - 1;
        let mut out = Vec::new();
        for index in chunks_covering(&range) {
            let chunk = chunk_of(sealed, index, len);
            out.extend(opener.open(index as u32, chunk, index == last).unwrap());
        }
        let skip = (range.start - chunks_covering(&range).start * CHUNK_LEN as u64) as usize;
        out[skip..skip + (range.end - range.start) as usize].to_vec()
    }

    fn sample(len: usize) -> Vec<u8> {
        (0..len).map(|i| (i * 7 % 251) as u8).collect()
    }

    #[test]
    fn files_of_every_shape_open_whole_and_by_range() {
        let key = SecretKey::generate();
        for len in [
            0,
            1,
            CHUNK_LEN - 1,
            CHUNK_LEN,
            CHUNK_LEN + 1,
            3 * CHUNK_LEN + 17,
        ] {
            let plain = sample(len);
            let sealed = seal_all(&key, b"room 1 file 9", &plain);
            assert_eq!(sealed.len() as u64, sealed_len(len as u64), "{len}");
            if len > 0 {
                let whole = open_range(&key, b"room 1 file 9", &sealed, len as u64, 0..len as u64);
                assert_eq!(whole, plain, "{len}");
                let (a, b) = (len as u64 / 3, (2 * len as u64 / 3).max(len as u64 / 3 + 1));
                let part = open_range(&key, b"room 1 file 9", &sealed, len as u64, a..b);
                assert_eq!(part, &plain[a as usize..b as usize], "{len}");
            }
        }
    }

    #[test]
    fn chunks_do_not_open_moved_reordered_or_cut_short() {
        let key = SecretKey::generate();
        let len = 2 * CHUNK_LEN + 5;
        let sealed = seal_all(&key, b"file a", &sample(len));
        let opener = FileOpener::new(&key, b"file a", &sealed[..HEADER_LEN]).unwrap();
        let (first, second) = (
            chunk_of(&sealed, 0, len as u64),
            chunk_of(&sealed, 1, len as u64),
        );
        assert!(opener.open(0, first, false).is_ok());
        assert_eq!(opener.open(1, first, false), Err(OpenError), "reordered");
        assert_eq!(
            opener.open(1, second, true),
            Err(OpenError),
            "cut short after chunk 1"
        );
        let elsewhere = FileOpener::new(&key, b"file b", &sealed[..HEADER_LEN]).unwrap();
        assert_eq!(
            elsewhere.open(0, first, false),
            Err(OpenError),
            "moved to another file"
        );
        let other_key = FileOpener::new(&SecretKey::generate(), b"file a", &sealed[..HEADER_LEN]);
        assert_eq!(other_key.unwrap().open(0, first, false), Err(OpenError));
        let mut tampered = first.to_vec();
        tampered[10] ^= 1;
        assert_eq!(opener.open(0, &tampered, false), Err(OpenError));
    }

    #[test]
    fn two_files_under_one_key_never_share_a_nonce_prefix() {
        let key = SecretKey::generate();
        let (a, b) = (FileSealer::new(&key, b"x"), FileSealer::new(&key, b"x"));
        assert_ne!(a.header(), b.header());
        assert!(
            FileOpener::new(&key, b"x", &[2, 0, 0, 0, 0, 0, 0, 0, 0]).is_err(),
            "unknown version"
        );
        assert!(
            FileOpener::new(&key, b"x", &[1, 0]).is_err(),
            "short header"
        );
    }

    #[test]
    fn only_the_last_chunk_may_be_short_and_nothing_follows_it() {
        let mut sealer = FileSealer::new(&SecretKey::generate(), b"x");
        assert_eq!(sealer.seal(&[1, 2, 3], false), Err(SealError::ShortChunk));
        assert!(sealer.seal(&[1, 2, 3], true).is_ok());
        assert_eq!(sealer.seal(&[], true), Err(SealError::Finished));
    }

    #[test]
    fn ranges_map_to_the_chunks_that_hold_them() {
        let chunk = CHUNK_LEN as u64;
        assert_eq!(chunks_covering(&(0..1)), 0..1);
        assert_eq!(chunks_covering(&(chunk - 1..chunk + 1)), 0..2);
        assert_eq!(chunks_covering(&(chunk..2 * chunk)), 1..2);
        assert_eq!(chunk_count(0), 1);
        assert_eq!(chunk_count(chunk), 1);
        assert_eq!(chunk_count(chunk + 1), 2);
        assert_eq!(
            sealed_offset(2),
            HEADER_LEN as u64 + 2 * SEALED_CHUNK_LEN as u64
        );
    }
}
