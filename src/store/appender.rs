//! Group commit for new room messages: one writer task per store takes the messages that
//! arrive together and stores them in one transaction, and each author is answered once that
//! transaction has committed.
//!
//! Why: a commit is the expensive part of storing a message — on SQLite it is the one writer
//! lock, the WAL append and the connection's round trips through the pool; on PostgreSQL a WAL
//! flush — and it costs about the same for one message as for a hundred. Committing one
//! message at a time caps a room at the number of commits a second and makes every message
//! queue behind the one before it. Here a message waits for at most the commit in progress,
//! and everything that arrived meanwhile shares the next one.
//!
//! The batch numbers its messages itself: the first message of a room takes the room's row
//! (its last number, and the lock that keeps anyone else from numbering there until the
//! commit), every message is then one `INSERT`, and the room's last number is written once at
//! the end. Why: each statement is a round trip to the database — on SQLite a hand-off to the
//! connection's worker thread and back, two context switches on a server's one core — and
//! those hand-offs, not SQLite's own work, were most of a stored message's CPU (see
//! `bench/analysis.md`).
//!
//! A message is answered alone when it is refused, and the others of its batch still commit:
//! a retry already stored (the unique index on its `client_msg_id`) writes nothing and takes no
//! number, and a message with attachments runs inside a savepoint, undone alone when an
//! attachment is no longer pending. A plain message takes no savepoint (two more round trips),
//! so a statement that fails fails its whole batch and no author in it is told its message was
//! stored: they are answered as not stored and may retry. A failed statement is not something a
//! client can cause — the input was checked before it was submitted — and on PostgreSQL it
//! would leave the transaction unusable anyway. Messages are numbered in the order they were
//! submitted, which is what the room's ordering lock relies on (`core::service::locks`).

use super::messages::{insert, lock_seq, set_last_seq, Appended, NewMessage};
use super::StoreError;
use crate::metrics::{StoreOp, StoreTimings};
use sqlx::pool::PoolConnection;
use sqlx::{Acquire, Any, AnyConnection, AnyPool, Connection, Transaction};
use std::time::Instant;
use tokio::sync::{mpsc, oneshot};
use tokio_util::sync::CancellationToken;

/// The most messages one transaction takes: bounds how long one commit holds SQLite's write
/// lock (readers are not blocked in WAL mode, other writers are).
const MAX_BATCH: usize = 256;

/// Messages waiting for the writer. Submitting waits while it is full, so a burst slows its
/// authors down instead of growing a queue without bound.
const QUEUE: usize = 4096;

/// Seals a body once its sequence number is known (the number is bound into the ciphertext).
pub type Seal = Box<dyn FnOnce(i64) -> Vec<u8> + Send>;

struct Job {
    new: NewMessage,
    seal: Seal,
    done: oneshot::Sender<Result<Appended, StoreError>>,
}

/// Where messages are submitted. Cheap to clone.
#[derive(Clone, Debug)]
pub(super) struct Appender {
    jobs: mpsc::Sender<Job>,
    /// Tells the writer to give its kept connection back, for good: the pool's `close` waits
    /// for every connection taken from it.
    release: CancellationToken,
}

impl std::fmt::Debug for Job {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Job")
            .field("room_id", &self.new.room_id)
            .finish()
    }
}

/// A message submitted and not yet committed.
#[must_use = "the message is stored when `stored` resolves"]
pub struct Submitted {
    outcome: oneshot::Receiver<Result<Appended, StoreError>>,
    /// Where the time from submission to commit is recorded.
    timings: StoreTimings,
    started: Instant,
}

impl Appender {
    /// Starts the writer on `pool`; it ends when the last `Appender` is dropped. With `keep`,
    /// the writer keeps one connection of the pool for itself (a SQLite file's): no round trip
    /// to give it back and take it again per batch (the pool's release check), and its page
    /// cache stays warm — a connection's cache is dropped whenever another one wrote, and the
    /// writer is the one that writes most. Without it (PostgreSQL) each batch takes a
    /// connection the pool just checked, so a connection the server lost fails nothing.
    pub(super) fn start(pool: AnyPool, keep: bool) -> Self {
        let (jobs, rx) = mpsc::channel(QUEUE);
        let release = CancellationToken::new();
        tokio::spawn(run(pool, keep, rx, release.clone()));
        Self { jobs, release }
    }

    /// Makes the writer give its kept connection back and take one per batch from now on
    /// (before the pool is closed).
    pub(super) fn release(&self) {
        self.release.cancel();
    }

    /// Queues a message behind those submitted before it. Resolves once it is queued, not
    /// stored: the caller may let the next author in and then wait with [`Submitted::stored`].
    pub(super) async fn submit(
        &self,
        new: NewMessage,
        seal: Seal,
        timings: &StoreTimings,
    ) -> Result<Submitted, StoreError> {
        let started = Instant::now();
        let (done, outcome) = oneshot::channel();
        self.jobs
            .send(Job { new, seal, done })
            .await
            .map_err(|_| stopped())?;
        Ok(Submitted {
            outcome,
            timings: timings.clone(),
            started,
        })
    }
}

impl Submitted {
    /// The outcome, once the message's transaction committed (or failed).
    pub async fn stored(self) -> Result<Appended, StoreError> {
        let outcome = self.outcome.await.unwrap_or_else(|_| Err(stopped()));
        self.timings.record(StoreOp::AppendMessage, self.started);
        outcome
    }
}

/// The answer of a message whose batch failed, or whose writer is gone.
fn stopped() -> StoreError {
    StoreError::Database(sqlx::Error::Io(std::io::Error::other(
        "the message was not stored: its transaction failed",
    )))
}

async fn run(
    pool: AnyPool,
    mut keep: bool,
    mut rx: mpsc::Receiver<Job>,
    release: CancellationToken,
) {
    let mut jobs = Vec::with_capacity(MAX_BATCH);
    // The writer's connection, kept from one batch to the next when `keep`.
    let mut kept: Option<PoolConnection<Any>> = None;
    loop {
        tokio::select! {
            biased;
            () = release.cancelled(), if keep => {
                keep = false;
                kept = None;
                continue;
            }
            received = rx.recv_many(&mut jobs, MAX_BATCH) => if received == 0 {
                break;
            },
        }
        let mut done = Vec::with_capacity(jobs.len());
        let committed = async {
            let conn = match &mut kept {
                Some(conn) => conn,
                None => kept.insert(pool.acquire().await?),
            };
            commit(conn, &mut jobs, &mut done).await
        }
        .await;
        match committed {
            Ok(outcomes) => {
                for (done, outcome) in done.into_iter().zip(outcomes) {
                    let _ = done.send(outcome);
                }
            }
            // Every author of the batch hears `stopped` as its sender is dropped.
            Err(err) => {
                tracing::warn!(error = %err, "a batch of messages failed to commit");
                // It may be inside what is left of the failed transaction (see
                // `store::sqlite`): closed, which rolls that back, and never used again.
                if let Some(conn) = kept.take() {
                    let _ = conn.close().await;
                }
            }
        }
        if !keep {
            kept = None;
        }
        jobs.clear();
    }
}

/// Stores the batch in one transaction; the outer error fails all of it.
async fn commit(
    conn: &mut AnyConnection,
    jobs: &mut Vec<Job>,
    done: &mut Vec<oneshot::Sender<Result<Appended, StoreError>>>,
) -> Result<Vec<Result<Appended, StoreError>>, StoreError> {
    let mut tx = Connection::begin(conn).await?;
    let mut rooms: Vec<Numbering> = Vec::new();
    let mut outcomes = Vec::with_capacity(jobs.len());
    for Job { new, seal, done: d } in jobs.drain(..) {
        done.push(d);
        let numbering = match rooms.iter().position(|r| r.room_id == new.room_id) {
            Some(at) => &mut rooms[at],
            None => match lock_seq(&mut tx, new.room_id).await {
                Ok(seq) => {
                    rooms.push(Numbering {
                        room_id: new.room_id,
                        locked: seq,
                        last: seq,
                    });
                    rooms.last_mut().expect("just pushed")
                }
                // The room is gone: nothing was written, the batch goes on.
                Err(StoreError::Database(sqlx::Error::RowNotFound)) => {
                    outcomes.push(Err(StoreError::Database(sqlx::Error::RowNotFound)));
                    continue;
                }
                Err(err) => return Err(err),
            },
        };
        let seq = numbering.last + 1;
        let outcome = if new.attachments.is_empty() {
            insert(&mut tx, &new, seq, seal).await?
        } else {
            in_savepoint(&mut tx, &new, seq, seal).await?
        };
        if matches!(outcome, Appended::New(_)) {
            numbering.last = seq;
        }
        outcomes.push(Ok(outcome));
    }
    for room in rooms.iter().filter(|room| room.last != room.locked) {
        set_last_seq(&mut tx, room.room_id, room.last).await?;
    }
    tx.commit().await?;
    Ok(outcomes)
}

/// A room's numbers within one batch: its last number when the batch locked it, and the last
/// number the batch gave.
struct Numbering {
    room_id: i64,
    locked: i64,
    last: i64,
}

/// A message with attachments, in a savepoint of the batch's transaction: undone alone when
/// an attachment is refused (the outer error fails the batch).
async fn in_savepoint(
    tx: &mut Transaction<'_, Any>,
    new: &NewMessage,
    seq: i64,
    seal: Seal,
) -> Result<Appended, StoreError> {
    let mut savepoint = tx.begin().await?;
    let outcome = insert(&mut savepoint, new, seq, seal).await?;
    match outcome {
        Appended::New(_) => savepoint.commit().await?,
        _ => savepoint.rollback().await?,
    }
    Ok(outcome)
}

#[cfg(test)]
mod tests {
    use super::super::{NewRoom, NewUser, Store};
    use super::*;
    use crate::domain::{Principal, Role, RoomKind};

    /// A store on a fresh SQLite file, with one account and one room: (store, user, room).
    async fn room() -> (tempfile::TempDir, Store, i64, i64) {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("parlor.db").display());
        let store = Store::connect(&url).await.unwrap();
        let user = store
            .users()
            .create(NewUser {
                name: "ada",
                name_key: "ada",
                email: None,
                password_hash: None,
                key_hash: None,
                role: Role::User,
                created_at: 1,
            })
            .await
            .unwrap()
            .id;
        let room = add_room(&store, user, "general").await;
        (dir, store, user, room)
    }

    /// Another public room of `owner`'s, with a data key of its own: its id.
    async fn add_room(store: &Store, owner: i64, slug: &str) -> i64 {
        let key = store.data_keys().insert(slug, b"wrapped", 1).await.unwrap();
        store
            .rooms()
            .create(NewRoom {
                kind: RoomKind::Room,
                slug,
                name: slug,
                topic: None,
                private: false,
                owner: Principal::User(owner),
                data_key_id: key,
                created_at: 1,
                e2e: false,
            })
            .await
            .unwrap()
            .id
    }

    fn message(room_id: i64, author_id: i64, client_msg_id: &str) -> NewMessage {
        NewMessage {
            room_id,
            author_id,
            author_name: "ada".into(),
            author_role: "user",
            client_msg_id: Some(client_msg_id.into()),
            created_at: 2,
            attachments: Vec::new(),
            reply_to: None,
            mentions: Vec::new(),
        }
    }

    /// Submits a plain message of `user`'s (not yet stored).
    async fn submit(store: &Store, room: i64, user: i64, client_msg_id: &str) -> Submitted {
        store
            .messages()
            .submit(message(room, user, client_msg_id), seal())
            .await
            .unwrap()
    }

    fn seal() -> Seal {
        Box::new(|seq| format!("body {seq}").into_bytes())
    }

    /// The sequence numbers stored in the room, in the order they were inserted.
    async fn seqs(store: &Store, room: i64) -> Vec<i64> {
        sqlx::query_scalar("SELECT seq FROM messages WHERE room_id = $1 ORDER BY id")
            .bind(room)
            .fetch_all(&store.pool)
            .await
            .unwrap()
    }

    #[tokio::test]
    async fn messages_submitted_together_are_numbered_in_order_and_answered_one_by_one() {
        let (_dir, store, user, room) = room().await;
        let messages = store.messages();
        // Submitted before the writer runs (a current-thread runtime): one batch.
        let mut pending = Vec::new();
        for i in 0..5 {
            let id = format!("m{i}");
            pending.push(submit(&store, room, user, &id).await);
        }
        // A retry of the second, in the same batch as the original.
        pending.push(submit(&store, room, user, "m1").await);
        // An attachment that is nobody's pending upload: refused alone.
        let mut orphan = message(room, user, "m5");
        orphan.attachments = vec!["no-such-upload".into()];
        pending.push(messages.submit(orphan, seal()).await.unwrap());
        pending.push(submit(&store, room, user, "m6").await);
        let mut outcomes = Vec::new();
        for p in pending {
            outcomes.push(p.stored().await.unwrap());
        }
        let seq = |outcome: &Appended| match outcome {
            Appended::New(row) => ("new", row.seq, row.body.clone()),
            Appended::Existing(row) => ("existing", row.seq, row.body.clone()),
            Appended::AttachmentUnavailable => ("refused", 0, Vec::new()),
        };
        let got: Vec<_> = outcomes.iter().map(seq).collect();
        assert_eq!(
            got[..5].iter().map(|g| g.1).collect::<Vec<_>>(),
            [1, 2, 3, 4, 5]
        );
        assert!(got[..5].iter().all(|g| g.0 == "new"));
        assert_eq!(
            got[5],
            ("existing", 2, b"body 2".to_vec()),
            "the retry finds the original"
        );
        assert_eq!(got[6].0, "refused");
        // The refused message gave its number back: its savepoint was undone, not the batch.
        assert_eq!(got[7], ("new", 6, b"body 6".to_vec()));
        assert_eq!(seqs(&store, room).await, [1, 2, 3, 4, 5, 6]);
    }

    #[tokio::test]
    async fn each_room_of_a_batch_is_numbered_on_its_own_and_goes_on_from_there_next_batch() {
        let (_dir, store, user, first) = room().await;
        let second = add_room(&store, user, "random").await;
        let last_seq = |room: i64| {
            let pool = store.pool.clone();
            async move {
                sqlx::query_scalar::<_, i64>("SELECT last_seq FROM rooms WHERE id = $1")
                    .bind(room)
                    .fetch_one(&pool)
                    .await
                    .unwrap()
            }
        };
        for round in 0..2 {
            // One batch (a current-thread runtime): the rooms interleaved, and a retry.
            let mut pending = Vec::new();
            for (i, room) in [first, second, first, first, second]
                .into_iter()
                .enumerate()
            {
                let id = format!("r{round}-{i}");
                pending.push(submit(&store, room, user, &id).await);
            }
            pending.push(submit(&store, second, user, &format!("r{round}-1")).await);
            let mut got = Vec::new();
            for p in pending {
                got.push(match p.stored().await.unwrap() {
                    Appended::New(row) => (row.room_id, row.seq, true),
                    Appended::Existing(row) => (row.room_id, row.seq, false),
                    Appended::AttachmentUnavailable => panic!("no attachments here"),
                });
            }
            let base = round * 3;
            let other = round * 2;
            assert_eq!(
                got,
                [
                    (first, base + 1, true),
                    (second, other + 1, true),
                    (first, base + 2, true),
                    (first, base + 3, true),
                    (second, other + 2, true),
                    (second, other + 1, false),
                ]
            );
            assert_eq!(last_seq(first).await, base + 3);
            assert_eq!(last_seq(second).await, other + 2);
        }
        assert_eq!(seqs(&store, first).await, [1, 2, 3, 4, 5, 6]);
        assert_eq!(seqs(&store, second).await, [1, 2, 3, 4]);
    }

    #[tokio::test]
    async fn the_store_closes_while_the_writer_keeps_its_connection() {
        let (_dir, store, user, room) = room().await;
        let stored = submit(&store, room, user, "a").await;
        assert!(matches!(stored.stored().await.unwrap(), Appended::New(_)));
        // The pool's close waits for every connection taken from it, the writer's too.
        tokio::time::timeout(std::time::Duration::from_secs(10), store.close())
            .await
            .expect("the writer gave its connection back");
        let late = submit(&store, room, user, "b").await;
        assert!(
            late.stored().await.is_err(),
            "nothing is stored after close"
        );
    }

    #[tokio::test]
    async fn a_statement_the_database_refuses_fails_its_batch_unstored_and_the_writer_goes_on() {
        let (_dir, store, user, room) = room().await;
        let first = submit(&store, room, user, "a").await;
        first.stored().await.unwrap();
        // Every later message fails at its first statement, which fails its batch: nothing of
        // it is stored and no author is told otherwise.
        sqlx::query(
            "CREATE TRIGGER refuse BEFORE UPDATE ON rooms BEGIN SELECT RAISE(FAIL, 'refused'); END",
        )
        .execute(&store.pool)
        .await
        .unwrap();
        let a = submit(&store, room, user, "b").await;
        let b = submit(&store, room, user, "c").await;
        assert!(a.stored().await.is_err());
        assert!(b.stored().await.is_err());
        assert_eq!(seqs(&store, room).await, [1]);
        // The writer keeps going once writes succeed again.
        sqlx::query("DROP TRIGGER refuse")
            .execute(&store.pool)
            .await
            .unwrap();
        let c = submit(&store, room, user, "d").await;
        assert!(matches!(c.stored().await.unwrap(), Appended::New(row) if row.seq == 2));
    }
}
