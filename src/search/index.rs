//! The search cache: per room, the lower-cased text of its messages with what the filters
//! need (sequence, author, time), in memory only, and a byte budget over all rooms that
//! drops the rooms searched least recently.
//!
//! It holds no truth. The database decides what exists: the service brings a room's entry
//! up to date before each search ([`RoomIndex::apply`], [`RoomIndex::keep_from`]) and checks
//! every hit against the database before showing it, so a stale entry costs a wasted
//! candidate, never a leak. Nothing here is written anywhere.

use super::query::{Cursor, SearchQuery};
use crate::domain::Millis;
use memchr::memmem::Finder;
use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use std::sync::{Arc, Mutex, PoisonError};
use tokio::sync::RwLock;

/// One message as the cache keeps it.
#[derive(Debug)]
struct Entry {
    seq: i64,
    author_id: i64,
    created_at: Millis,
    /// The text in Unicode lower case, for matching only: hits are shown from the database.
    text: Box<str>,
}

/// A change read from the database: a message as it is now, or gone (`text: None` — deleted,
/// wiped, or not decrypting).
#[derive(Debug)]
pub struct Change {
    pub seq: i64,
    pub author_id: i64,
    pub created_at: Millis,
    pub text: Option<String>,
}

/// A place in the newest-first order of results: time, then room, then sequence.
pub type Key = (Millis, i64, i64);

/// One room's cached messages, ordered by sequence.
#[derive(Debug, Default)]
pub struct RoomIndex {
    entries: Vec<Entry>,
    /// The highest sequence read from the database.
    pub last_seq: i64,
    /// When the database was last read for this room (before the read began): edits from
    /// then on are read again. `None`: never filled.
    pub checked_at: Option<Millis>,
    text_bytes: usize,
}

impl RoomIndex {
    /// Brings in messages as the database has them now (new, edited, deleted), in any order.
    pub fn apply(&mut self, changes: impl IntoIterator<Item = Change>) {
        for change in changes {
            let found = self.entries.binary_search_by_key(&change.seq, |e| e.seq);
            match (found, change.text) {
                (Ok(at), Some(text)) => {
                    let text = lowered(&text);
                    self.text_bytes = self.text_bytes - self.entries[at].text.len() + text.len();
                    self.entries[at].text = text;
                }
                (Ok(at), None) => {
                    self.text_bytes -= self.entries.remove(at).text.len();
                }
                (Err(at), Some(text)) => {
                    let text = lowered(&text);
                    self.text_bytes += text.len();
                    let entry = Entry {
                        seq: change.seq,
                        author_id: change.author_id,
                        created_at: change.created_at,
                        text,
                    };
                    // New messages arrive in order: this is a push.
                    self.entries.insert(at, entry);
                }
                (Err(_), None) => {}
            }
            self.last_seq = self.last_seq.max(change.seq);
        }
    }

    /// Gives back the slack a growing fill leaves (up to half of the entries' slots), once
    /// it is worth a copy.
    pub fn compact(&mut self) {
        if self.entries.capacity() > self.entries.len() + self.entries.len() / 8 + 64 {
            self.entries.shrink_to_fit();
        }
    }

    /// Drops the messages below `first_seq`, the oldest still stored (cleared history and
    /// retention remove the oldest); `None` (the room holds none) drops them all.
    pub fn keep_from(&mut self, first_seq: Option<i64>) {
        let cut = match first_seq {
            Some(first) => self.entries.partition_point(|e| e.seq < first),
            None => self.entries.len(),
        };
        if cut > 0 {
            let gone: usize = self.entries.drain(..cut).map(|e| e.text.len()).sum();
            self.text_bytes -= gone;
        }
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.entries.len()
    }

    #[cfg(test)]
    fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Memory held, counted as the entries' slots and their texts' bytes.
    pub fn bytes(&self) -> usize {
        self.entries.capacity() * std::mem::size_of::<Entry>() + self.text_bytes
    }

    /// Adds this room's matches to `best`, which keeps the `keep` greatest keys.
    pub fn collect(
        &self,
        room_id: i64,
        matcher: &Matcher,
        keep: usize,
        best: &mut BinaryHeap<Reverse<Key>>,
    ) {
        for entry in self.entries.iter().rev() {
            let key = (entry.created_at, room_id, entry.seq);
            if best.len() >= keep && best.peek().is_some_and(|Reverse(min)| key <= *min) {
                continue;
            }
            if !matcher.accepts(key, entry.author_id, &entry.text) {
                continue;
            }
            best.push(Reverse(key));
            if best.len() > keep {
                best.pop();
            }
        }
    }
}

fn lowered(text: &str) -> Box<str> {
    text.to_lowercase().into_boxed_str()
}

/// A query compiled for scanning: one substring finder per term, and the filters. Owns what
/// it needs, so a scan can run off the async runtime.
pub struct Matcher {
    finders: Vec<Finder<'static>>,
    author: Option<i64>,
    from: Option<Millis>,
    to: Option<Millis>,
    before: Option<Cursor>,
}

impl Matcher {
    /// `author`: the account the query's author filter names (resolved by the caller).
    pub fn new(query: &SearchQuery, author: Option<i64>) -> Self {
        Self {
            finders: query
                .terms()
                .iter()
                .map(|t| Finder::new(t).into_owned())
                .collect(),
            author,
            from: query.from,
            to: query.to,
            before: query.cursor,
        }
    }

    /// Whether a message at `key` by `author_id` with this lower-cased text is a result.
    fn accepts(&self, key: Key, author_id: i64, text: &str) -> bool {
        let (created_at, _, _) = key;
        self.author.is_none_or(|a| a == author_id)
            && self.from.is_none_or(|from| created_at >= from)
            && self.to.is_none_or(|to| created_at < to)
            && self.before.is_none_or(|cursor| key < cursor.key())
            && self
                .finders
                .iter()
                .all(|f| f.find(text.as_bytes()).is_some())
    }

    /// Whether a message's current text (as read again from the database) still matches.
    pub fn text_matches(&self, text: &str) -> bool {
        let text = text.to_lowercase();
        self.finders
            .iter()
            .all(|f| f.find(text.as_bytes()).is_some())
    }
}

/// Every room's index under one byte budget, least recently searched dropped first.
pub struct Cache {
    budget: usize,
    slots: Mutex<Slots>,
}

#[derive(Default)]
struct Slots {
    rooms: HashMap<i64, Slot>,
    /// Counts searches: a room's `used` is the count when it was last searched.
    clock: u64,
}

struct Slot {
    index: Arc<RwLock<RoomIndex>>,
    used: u64,
    bytes: usize,
}

impl Cache {
    /// A cache holding at most about `budget` bytes between searches.
    pub fn new(budget: usize) -> Self {
        Self {
            budget,
            slots: Mutex::default(),
        }
    }

    /// The index of a room (empty when not cached), marked as just used.
    pub fn checkout(&self, room_id: i64) -> Arc<RwLock<RoomIndex>> {
        let mut slots = self.slots.lock().unwrap_or_else(PoisonError::into_inner);
        slots.clock += 1;
        let used = slots.clock;
        let slot = slots.rooms.entry(room_id).or_insert_with(|| Slot {
            index: Arc::default(),
            used,
            bytes: 0,
        });
        slot.used = used;
        Arc::clone(&slot.index)
    }

    /// Records what a room's index holds now, then drops the least recently used rooms until
    /// the cache fits its budget (a room bigger than the budget is dropped after its search).
    pub fn settle(&self, sizes: &[(i64, usize)]) {
        let mut slots = self.slots.lock().unwrap_or_else(PoisonError::into_inner);
        for (room_id, bytes) in sizes {
            if let Some(slot) = slots.rooms.get_mut(room_id) {
                slot.bytes = *bytes;
            }
        }
        let mut total: usize = slots.rooms.values().map(|s| s.bytes).sum();
        while total > self.budget {
            let Some((&oldest, _)) = slots.rooms.iter().min_by_key(|(_, s)| s.used) else {
                break;
            };
            if let Some(slot) = slots.rooms.remove(&oldest) {
                total -= slot.bytes;
            }
        }
    }

    /// Forgets a room (it is gone, or its cache is no longer trusted).
    pub fn forget(&self, room_id: i64) {
        let mut slots = self.slots.lock().unwrap_or_else(PoisonError::into_inner);
        slots.rooms.remove(&room_id);
    }

    /// Bytes held and rooms cached.
    pub fn usage(&self) -> (usize, usize) {
        let slots = self.slots.lock().unwrap_or_else(PoisonError::into_inner);
        (
            slots.rooms.values().map(|s| s.bytes).sum(),
            slots.rooms.len(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::search::query::RawQuery;

    fn change(seq: i64, text: &str) -> Change {
        Change {
            seq,
            author_id: seq % 2,
            created_at: seq * 1000,
            text: Some(text.to_owned()),
        }
    }

    fn query(q: &str) -> SearchQuery {
        SearchQuery::parse(RawQuery {
            q: Some(q.to_owned()),
            ..RawQuery::default()
        })
        .unwrap()
    }

    fn found(index: &RoomIndex, matcher: &Matcher, keep: usize) -> Vec<i64> {
        let mut best = BinaryHeap::new();
        index.collect(7, matcher, keep, &mut best);
        let mut seqs: Vec<Key> = best.into_iter().map(|Reverse(k)| k).collect();
        seqs.sort_unstable_by(|a, b| b.cmp(a));
        seqs.into_iter().map(|(_, _, seq)| seq).collect()
    }

    fn filled() -> RoomIndex {
        let mut index = RoomIndex::default();
        index.apply([
            change(1, "Hello Wörld"),
            change(2, "the QUICK brown fox"),
            change(3, "ÉCOLE quick"),
            change(4, "nothing here"),
        ]);
        index
    }

    #[test]
    fn every_term_must_occur_in_any_case() {
        let index = filled();
        let q = query("quick");
        assert_eq!(found(&index, &Matcher::new(&q, None), 10), [3, 2]);
        let q = query("Quick  FOX");
        assert_eq!(found(&index, &Matcher::new(&q, None), 10), [2]);
        let q = query("wörld hello");
        assert_eq!(found(&index, &Matcher::new(&q, None), 10), [1]);
        let q = query("école");
        assert_eq!(found(&index, &Matcher::new(&q, None), 10), [3]);
        let q = query("absent");
        assert!(found(&index, &Matcher::new(&q, None), 10).is_empty());
    }

    #[test]
    fn filters_and_cursor_narrow_newest_first() {
        let index = filled();
        let all = SearchQuery::parse(RawQuery {
            author: Some("someone".into()),
            ..RawQuery::default()
        })
        .unwrap();
        // Authors alternate 1, 0, 1, 0 with the sequence.
        assert_eq!(found(&index, &Matcher::new(&all, Some(1)), 10), [3, 1]);
        assert_eq!(found(&index, &Matcher::new(&all, Some(0)), 1), [4]);
        let dated = SearchQuery::parse(RawQuery {
            q: Some("e  o".to_owned()),
            from: Some(2000),
            to: Some(4000),
            ..RawQuery::default()
        })
        .unwrap();
        assert_eq!(found(&index, &Matcher::new(&dated, None), 10), [3, 2]);
        let mut paged = all;
        let first = found(&index, &Matcher::new(&paged, None), 2);
        assert_eq!(first, [4, 3]);
        paged.cursor = Some(Cursor::after_key((3000, 7, 3)));
        assert_eq!(found(&index, &Matcher::new(&paged, None), 2), [2, 1]);
    }

    #[test]
    fn edits_deletions_and_pruning_are_applied() {
        let mut index = filled();
        let before = index.bytes();
        index.apply([
            change(2, "the slow brown fox"),
            Change {
                text: None,
                ..change(3, "")
            },
            change(5, "a quick new one"),
        ]);
        let q = query("quick");
        assert_eq!(found(&index, &Matcher::new(&q, None), 10), [5]);
        assert_eq!((index.len(), index.last_seq), (4, 5));
        index.keep_from(Some(4));
        assert_eq!(index.len(), 2);
        assert!(index.bytes() < before + 20);
        index.keep_from(None);
        assert!(index.is_empty());
        assert_eq!(index.text_bytes, 0);
    }

    #[tokio::test]
    async fn the_least_recently_searched_rooms_go_first() {
        let cache = Cache::new(100);
        for room in [1, 2, 3] {
            drop(cache.checkout(room));
        }
        cache.settle(&[(1, 40), (2, 40), (3, 40)]);
        assert_eq!(cache.usage(), (80, 2));
        // Room 1 was the oldest; searching room 2 again makes 3 the oldest.
        let again = cache.checkout(2);
        assert!(again.read().await.is_empty());
        drop(cache.checkout(1));
        cache.settle(&[(1, 40)]);
        assert_eq!(cache.usage(), (80, 2));
        drop(cache.checkout(3));
        cache.settle(&[(3, 1000)]);
        assert_eq!(cache.usage(), (0, 0));
    }
}
