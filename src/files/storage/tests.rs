//! Unit tests of `files::storage`.

use super::*;
use futures_util::stream;

const CANARY: &[u8] = b"CANARY-7f3a9c-FILE-PLAINTEXT";

/// `plain` as a body arriving in pieces of `piece` bytes.
fn body(plain: &[u8], piece: usize) -> impl Stream<Item = Result<Bytes, String>> {
    let pieces: Vec<_> = plain
        .chunks(piece.max(1))
        .map(|p| Ok(Bytes::copy_from_slice(p)))
        .collect();
    stream::iter(pieces)
}

fn sample(len: usize) -> Vec<u8> {
    let mut plain: Vec<u8> = (0..len).map(|i| (i * 13 % 251) as u8).collect();
    if len > CANARY.len() * 2 {
        plain[len / 2..len / 2 + CANARY.len()].copy_from_slice(CANARY);
    }
    plain
}

fn files_on_disk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut found = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else {
                found.push(path);
            }
        }
    }
    found
}

#[tokio::test]
async fn a_streamed_upload_reads_back_whole_and_by_range_and_is_never_in_clear() {
    let dir = tempfile::tempdir().unwrap();
    let files = FileStore::local(dir.path()).unwrap();
    let key = SecretKey::generate();
    let plain = sample(3 * CHUNK_LEN + CHUNK_LEN / 2);
    let written = files
        .write("f1", &key, b"room 1", body(&plain, 10_000), 1 << 30)
        .await
        .unwrap();
    assert_eq!(written.len, plain.len() as u64);
    assert_eq!(written.digest, <[u8; 32]>::from(Sha256::digest(&plain)));
    let len = written.len;
    let whole = files
        .read_range("f1", &key, b"room 1", len, 0..len)
        .await
        .unwrap();
    assert_eq!(whole, plain);
    let (a, b) = (CHUNK_LEN as u64 - 3, 2 * CHUNK_LEN as u64 + 5);
    let part = files
        .read_range("f1", &key, b"room 1", len, a..b)
        .await
        .unwrap();
    assert_eq!(part, &plain[a as usize..b as usize]);
    let tail = files
        .read_range("f1", &key, b"room 1", len, len - 1..len)
        .await
        .unwrap();
    assert_eq!(tail, &plain[plain.len() - 1..]);

    let stored = files_on_disk(dir.path());
    assert_eq!(stored.len(), 1, "{stored:?}");
    let bytes = std::fs::read(&stored[0]).unwrap();
    assert_eq!(bytes.len() as u64, sealed_len(len));
    assert!(
        !bytes.windows(CANARY.len()).any(|w| w == CANARY),
        "plaintext on disk"
    );
    assert!(files
        .read_range("f1", &key, b"room 2", len, 0..1)
        .await
        .is_err());
    assert!(matches!(
        files
            .read_range("f1", &key, b"room 1", len, len..len + 1)
            .await,
        Err(FileStoreError::OutOfRange)
    ));
    files.delete("f1").await.unwrap();
    assert!(!files.exists("f1").await.unwrap());
    files.delete("f1").await.unwrap();
}

#[tokio::test]
async fn empty_and_exact_chunk_files_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    let files = FileStore::local(dir.path()).unwrap();
    let key = SecretKey::generate();
    for (id, len) in [("empty", 0), ("exact", 2 * CHUNK_LEN)] {
        let plain = sample(len);
        let written = files
            .write(id, &key, b"c", body(&plain, CHUNK_LEN), 1 << 30)
            .await
            .unwrap();
        assert_eq!(written.len, len as u64);
        assert!(files.exists(id).await.unwrap());
        if len > 0 {
            let back = files
                .read_range(id, &key, b"c", written.len, 0..written.len)
                .await;
            assert_eq!(back.unwrap(), plain);
        }
    }
}

#[tokio::test]
async fn oversized_and_interrupted_uploads_leave_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let files = FileStore::local(dir.path()).unwrap();
    let key = SecretKey::generate();
    let plain = sample(2 * CHUNK_LEN);

    let too_large = files
        .write("big", &key, b"c", body(&plain, 4096), CHUNK_LEN as u64)
        .await;
    assert!(matches!(too_large, Err(FileStoreError::TooLarge { .. })));

    let broken = stream::iter(vec![
        Ok(Bytes::from(plain[..CHUNK_LEN + 10].to_vec())),
        Err("connection reset".to_owned()),
    ]);
    let interrupted = files.write("cut", &key, b"c", broken, 1 << 30).await;
    assert!(matches!(interrupted, Err(FileStoreError::Interrupted(_))));

    for id in ["big", "cut"] {
        assert!(!files.exists(id).await.unwrap(), "{id}");
    }
    assert!(
        files_on_disk(dir.path()).is_empty(),
        "no object or part left behind"
    );
}
