//! The search service: which rooms a caller may search, bringing their cached text up to date
//! from the database, scanning, and checking each hit against the database before it is shown.

use super::index::{Cache, Change, Key, Matcher, RoomIndex};
use super::query::{Cursor, SearchQuery};
use crate::auth::Identity;
use crate::clock::Clock;
use crate::crypto::CryptoError;
use crate::domain::Millis;
use crate::rooms::{account_id, BodyOpener, RoomError, Rooms};
use crate::store::{SearchRow, SearchableRoom, Store};
use serde::Serialize;
use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use std::sync::Arc;
use tokio::sync::{RwLock, Semaphore};

/// Messages read from the database per query while filling a room's cache.
const FILL_CHUNK: i64 = 5_000;
/// Edits are read again from this long before the last look: an edit stamped by another
/// node whose clock runs behind ours, or in the same millisecond, is not missed.
const EDIT_SKEW_MILLIS: Millis = 5 * 60 * 1000;
/// Times a page is recomputed when hits turned out stale (each round drops them from the
/// cache, so the next finds others).
const ROUNDS: usize = 3;

/// One message found.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct SearchHit {
    /// The room's address (as in `join` and `history`).
    pub room: String,
    /// The room's name; in a conversation, the other member's name.
    pub room_name: String,
    /// `room`, `pm` or `ephemeral`.
    pub kind: String,
    pub seq: i64,
    /// When it was sent (ms).
    pub ts: Millis,
    pub author: String,
    /// The whole text of the message as it is now.
    pub text: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub edited_at: Option<Millis>,
}

/// A page of results, newest first.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct SearchPage {
    pub results: Vec<SearchHit>,
    /// The `cursor` of the next page; `null` when there is none.
    pub next: Option<String>,
}

impl SearchPage {
    fn empty() -> Self {
        Self {
            results: Vec::new(),
            next: None,
        }
    }
}

/// Message search. Shared by every connection and the REST API.
pub struct Search {
    store: Store,
    rooms: Arc<Rooms>,
    clock: Clock,
    cache: Cache,
    /// Scans at once: one per core, so a burst of searches queues instead of taking every
    /// blocking thread.
    scans: Arc<Semaphore>,
}

impl Search {
    /// A search keeping at most about `cache_bytes` of decrypted text between searches.
    pub fn new(store: Store, rooms: Arc<Rooms>, clock: Clock, cache_bytes: usize) -> Self {
        Self {
            store,
            rooms,
            clock,
            cache: Cache::new(cache_bytes),
            scans: Arc::new(Semaphore::new(
                std::thread::available_parallelism().map_or(2, |n| n.get()),
            )),
        }
    }

    /// Bytes of text held in memory, and rooms cached.
    pub fn cache_usage(&self) -> (usize, usize) {
        self.cache.usage()
    }

    /// One page of the caller's messages matching `query`, newest first. Guests have no
    /// stored rooms: `registration_required`.
    pub async fn search(
        &self,
        identity: &Identity,
        query: &SearchQuery,
    ) -> Result<SearchPage, RoomError> {
        let user_id = account_id(identity)?;
        let now = self.clock.now_millis();
        let mut rooms = self
            .store
            .search()
            .rooms_of(user_id, &identity.principal.key(), now)
            .await?;
        if let Some(only) = &query.room {
            rooms.retain(|r| r.slug == only.as_str());
        }
        let author = match &query.author {
            Some(name) => match self.store.users().by_name_key(&name.key()).await? {
                Some(user) => Some(user.id),
                None => return Ok(SearchPage::empty()),
            },
            None => None,
        };
        if rooms.is_empty() {
            return Ok(SearchPage::empty());
        }
        let mut indexes = Vec::with_capacity(rooms.len());
        let mut openers = Openers::new(&self.rooms);
        let checked_out: Vec<_> = rooms.iter().map(|r| self.cache.checkout(r.id)).collect();
        let mut edited = self.edited(&rooms, &checked_out).await?;
        for (room, index) in rooms.iter().zip(checked_out) {
            let edits = edited.remove(&room.id);
            match self.refresh(room, &index, edits, &mut openers, now).await {
                Ok(()) => indexes.push((room, index)),
                // A room whose data key does not open is searched no further, instead of
                // failing every search of its members.
                Err(RoomError::Crypto(err)) if !matches!(err, CryptoError::Store(_)) => {
                    tracing::error!(room = %room.slug, error = %err, "search: the room's messages cannot be opened; skipped");
                    self.cache.forget(room.id);
                }
                Err(err) => return Err(err),
            }
        }
        let matcher = Arc::new(Matcher::new(query, author));
        let page = self.page(query, &matcher, &indexes).await;
        let mut sizes = Vec::with_capacity(indexes.len());
        for (room, index) in &indexes {
            sizes.push((room.id, index.read().await.bytes()));
        }
        self.cache.settle(&sizes);
        page
    }

    /// The messages edited in each cached room since its cache last looked, read in one query
    /// for all the rooms (not one each), by room with the window read. A refresh uses them
    /// when that window still covers the room (another search may have moved it meanwhile);
    /// applying an edit twice changes nothing.
    async fn edited(
        &self,
        rooms: &[SearchableRoom],
        indexes: &[Arc<RwLock<RoomIndex>>],
    ) -> Result<HashMap<i64, Edited>, RoomError> {
        let mut windows = Vec::new();
        for (room, index) in rooms.iter().zip(indexes) {
            let index = index.read().await;
            if let Some(checked_at) = index.checked_at {
                windows.push((room.id, index.last_seq, checked_at - EDIT_SKEW_MILLIS));
            }
        }
        let mut by_room: HashMap<i64, Edited> = windows
            .iter()
            .map(|&(room, upto, since)| {
                let edited = Edited {
                    upto,
                    since,
                    rows: Vec::new(),
                };
                (room, edited)
            })
            .collect();
        for row in self.store.search().edited_since(&windows).await? {
            if let Some(edited) = by_room.get_mut(&row.room_id) {
                edited.rows.push(row);
            }
        }
        Ok(by_room)
    }

    /// Brings a room's cached text up to date with the database: drops what was cleared or
    /// pruned, takes in the messages `edited` lately, and reads messages above what it holds.
    async fn refresh(
        &self,
        room: &SearchableRoom,
        index: &RwLock<RoomIndex>,
        edited: Option<Edited>,
        openers: &mut Openers<'_>,
        now: Millis,
    ) -> Result<(), RoomError> {
        let mut index = index.write().await;
        index.keep_from(room.first_seq);
        let reads = self.store.search();
        if let Some(checked_at) = index.checked_at {
            let (upto, since) = (index.last_seq, checked_at - EDIT_SKEW_MILLIS);
            let rows = match edited {
                Some(read) if read.upto >= upto && read.since <= since => read.rows,
                // The cache moved since the batch was read: this room's window, alone.
                _ => reads.edited_since(&[(room.id, upto, since)]).await?,
            };
            if !rows.is_empty() {
                let opener = openers.get(room).await?;
                index.apply(rows.iter().map(|row| change(opener, row)));
            }
        }
        while index.last_seq < room.last_seq {
            let rows = reads.after(room.id, index.last_seq, FILL_CHUNK).await?;
            let Some(last) = rows.last().map(|r| r.seq) else {
                break;
            };
            let opener = openers.get(room).await?;
            index.apply(rows.iter().map(|row| change(opener, row)));
            index.last_seq = last;
        }
        // Nothing above `room.last_seq` is stored yet; what arrives later is read next time.
        index.last_seq = index.last_seq.max(room.last_seq);
        index.checked_at = Some(now);
        index.compact();
        Ok(())
    }

    /// The page: the best candidates from the caches, each read again from the database and
    /// shown only if it is still stored, not deleted, and still matches. A stale candidate is
    /// corrected in the cache and the page recomputed.
    async fn page(
        &self,
        query: &SearchQuery,
        matcher: &Arc<Matcher>,
        indexes: &[(&SearchableRoom, Arc<RwLock<RoomIndex>>)],
    ) -> Result<SearchPage, RoomError> {
        let by_id: HashMap<i64, &SearchableRoom> =
            indexes.iter().map(|(r, _)| (r.id, *r)).collect();
        let mut results = Vec::new();
        let mut next = None;
        for _ in 0..ROUNDS {
            let mut keys = {
                // Never closed: acquiring only fails on a closed semaphore.
                let _turn = self.scans.acquire().await.ok();
                scan(indexes, matcher, query.limit + 1).await
            };
            let more = keys.len() > query.limit;
            keys.truncate(query.limit);
            next = more
                .then(|| keys.last().map(|k| Cursor::after_key(*k).to_string()))
                .flatten();
            let places: Vec<(i64, i64)> = keys.iter().map(|&(_, room, seq)| (room, seq)).collect();
            let rows = self.store.search().at(&places).await?;
            let (hits, stale) = self.verify(&keys, rows, &by_id, matcher).await?;
            results = hits;
            if stale.is_empty() {
                break;
            }
            for (room_id, changes) in stale {
                if let Some((_, index)) = indexes.iter().find(|(r, _)| r.id == room_id) {
                    index.write().await.apply(changes);
                }
            }
        }
        Ok(SearchPage { results, next })
    }

    /// The hits among `rows` (in the order of `keys`), and per room the cache corrections for
    /// candidates that are gone, deleted or no longer match.
    async fn verify(
        &self,
        keys: &[Key],
        rows: Vec<SearchRow>,
        rooms: &HashMap<i64, &SearchableRoom>,
        matcher: &Matcher,
    ) -> Result<(Vec<SearchHit>, HashMap<i64, Vec<Change>>), RoomError> {
        let mut found: HashMap<(i64, i64), SearchRow> =
            rows.into_iter().map(|r| ((r.room_id, r.seq), r)).collect();
        let mut openers = Openers::new(&self.rooms);
        let mut hits = Vec::with_capacity(keys.len());
        let mut stale: HashMap<i64, Vec<Change>> = HashMap::new();
        for &(ts, room_id, seq) in keys {
            let Some(room) = rooms.get(&room_id) else {
                continue;
            };
            let current = match found.remove(&(room_id, seq)) {
                Some(row) => {
                    let opened = change(openers.get(room).await?, &row);
                    Some((row, opened))
                }
                None => None,
            };
            match current {
                Some((row, opened))
                    if opened
                        .text
                        .as_deref()
                        .is_some_and(|t| matcher.text_matches(t)) =>
                {
                    hits.push(SearchHit {
                        room: room.slug.clone(),
                        room_name: room.peer.clone().unwrap_or_else(|| room.name.clone()),
                        kind: room.kind.clone(),
                        seq,
                        ts: row.created_at,
                        author: row.author_name,
                        text: opened.text.unwrap_or_default(),
                        edited_at: row.edited_at,
                    });
                }
                Some((_, opened)) => stale.entry(room_id).or_default().push(opened),
                None => stale.entry(room_id).or_default().push(Change {
                    seq,
                    author_id: 0,
                    created_at: ts,
                    text: None,
                }),
            }
        }
        Ok((hits, stale))
    }
}

/// The `keep` best matches across the rooms, newest first. The scan runs on the blocking pool:
/// a million messages take tens of milliseconds, too long to hold a runtime thread.
async fn scan(
    indexes: &[(&SearchableRoom, Arc<RwLock<RoomIndex>>)],
    matcher: &Arc<Matcher>,
    keep: usize,
) -> Vec<Key> {
    let mut held = Vec::with_capacity(indexes.len());
    for (room, index) in indexes {
        held.push((room.id, Arc::clone(index).read_owned().await));
    }
    let matcher = Arc::clone(matcher);
    let scanned = tokio::task::spawn_blocking(move || {
        let mut best = BinaryHeap::new();
        for (room_id, index) in &held {
            index.collect(*room_id, &matcher, keep, &mut best);
        }
        best
    })
    .await;
    // A panic in the scan is the search's own: it goes on up as one.
    let best = scanned.unwrap_or_else(|err| std::panic::resume_unwind(err.into_panic()));
    let mut keys: Vec<Key> = best.into_iter().map(|Reverse(k)| k).collect();
    keys.sort_unstable_by(|a, b| b.cmp(a));
    keys
}

/// A stored row as the cache takes it: deleted (wiped) and undecryptable rows are gone.
fn change(opener: &BodyOpener, row: &SearchRow) -> Change {
    let text = if row.deleted_at.is_some() || row.body.is_empty() {
        None
    } else {
        opener.open(row.id, row.seq, &row.body)
    };
    Change {
        seq: row.seq,
        author_id: row.author_id,
        created_at: row.created_at,
        text,
    }
}

/// Each room's key, fetched once per search at most, and only when a body is opened.
/// Messages edited in one room, and the window they were read for.
struct Edited {
    /// Read at or below this sequence number…
    upto: i64,
    /// …edited at or after this time.
    since: Millis,
    rows: Vec<SearchRow>,
}

struct Openers<'a> {
    rooms: &'a Rooms,
    open: HashMap<i64, BodyOpener>,
}

impl<'a> Openers<'a> {
    fn new(rooms: &'a Rooms) -> Self {
        Self {
            rooms,
            open: HashMap::new(),
        }
    }

    async fn get(&mut self, room: &SearchableRoom) -> Result<&BodyOpener, RoomError> {
        if !self.open.contains_key(&room.id) {
            let opener = self
                .rooms
                .history()
                .opener(room.id, room.data_key_id)
                .await?;
            self.open.insert(room.id, opener);
        }
        Ok(&self.open[&room.id])
    }
}
