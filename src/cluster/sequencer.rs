//! Ordered, exactly-once delivery of stored rooms' messages on one node, whatever the bus
//! does to them.
//!
//! Every stored message has its room's next sequence number, given inside the transaction that
//! stores it. The bus carries it afterwards, and may lose it (Redis down, a subscription
//! dropped, a publish timed out), duplicate it (a retried publish that had gone through) or
//! reorder it (two nodes publish at once; one node's own message reaches it before another's
//! older one). The sequencer keeps, per room, the last number this node delivered: a number
//! at or below it is a duplicate and dropped; the next one is delivered; a later one waits
//! while the missing ones are read from the database (a fill). A fill that cannot close the
//! gap (the messages were deleted meanwhile, or the database did not answer) skips ahead, so
//! a room never stalls.
//!
//! Delivery happens under the sequencer's lock, so two threads delivering to one room cannot
//! interleave out of order; delivering is queueing on connections, which never blocks.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Mutex, MutexGuard, PoisonError};

use crate::core::Entry;

/// Messages read back from the database for a fill, or waiting for one.
pub type Item<T> = (i64, T);

/// What the caller must fetch: the messages after `after` up to `upto`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Gap {
    pub after: i64,
    pub upto: i64,
}

struct Order<T> {
    last: Option<i64>,
    waiting: BTreeMap<i64, T>,
    filling: bool,
}

impl<T> Default for Order<T> {
    fn default() -> Self {
        Self {
            last: None,
            waiting: BTreeMap::new(),
            filling: false,
        }
    }
}

impl<T> Order<T> {
    /// Delivers `item` if it is next (or the first this node sees); keeps it if it is early.
    fn put(&mut self, seq: i64, item: T, deliver: &mut impl FnMut(T)) {
        match self.last {
            Some(last) if seq <= last => {}
            Some(last) if seq > last + 1 => {
                self.waiting.insert(seq, item);
            }
            _ => {
                deliver(item);
                self.last = Some(seq);
                self.drain(deliver);
            }
        }
    }

    /// Delivers what waits and is now next.
    fn drain(&mut self, deliver: &mut impl FnMut(T)) {
        while let Some(entry) = self.waiting.first_entry() {
            let last = self.last.unwrap_or(i64::MIN);
            if *entry.key() <= last {
                entry.remove();
            } else if *entry.key() == last + 1 {
                let (seq, item) = entry.remove_entry();
                deliver(item);
                self.last = Some(seq);
            } else {
                break;
            }
        }
    }

    /// Starts a fill if something waits behind a gap and none runs.
    fn gap(&mut self) -> Option<Gap> {
        let (&first, _) = self.waiting.first_key_value()?;
        let last = self.last?;
        if self.filling {
            return None;
        }
        self.filling = true;
        Some(Gap {
            after: last,
            upto: first - 1,
        })
    }
}

pub struct Sequencer<T> {
    rooms: Mutex<HashMap<String, Order<T>>>,
}

impl<T> Default for Sequencer<T> {
    fn default() -> Self {
        Self {
            rooms: Mutex::default(),
        }
    }
}

impl<T> Sequencer<T> {
    fn rooms(&self) -> MutexGuard<'_, HashMap<String, Order<T>>> {
        self.rooms.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// A message from the bus (or this node's own): delivered now if it is next. Returns the
    /// gap to fill when it came early.
    pub fn offer(&self, room: &str, seq: i64, item: T, mut deliver: impl FnMut(T)) -> Option<Gap> {
        let mut rooms = self.rooms();
        let order = rooms.entry(room.to_owned()).or_default();
        order.put(seq, item, &mut deliver);
        order.gap()
    }

    /// What a fill of `gap` found: delivered in order. The range is then settled: what the
    /// database did not have (deleted meanwhile, or it did not answer) is skipped, so a room
    /// never stalls. Returns the next gap when more came early behind another one.
    pub fn filled(
        &self,
        room: &str,
        gap: Gap,
        found: Vec<Item<T>>,
        mut deliver: impl FnMut(T),
    ) -> Option<Gap> {
        let mut rooms = self.rooms();
        let order = rooms.get_mut(room)?;
        for (seq, item) in found {
            order.put(seq, item, &mut deliver);
        }
        // Skip the holes inside the range: what waits there goes out in order.
        while let Some(entry) = order.waiting.first_entry() {
            if *entry.key() > gap.upto {
                break;
            }
            let (seq, item) = entry.remove_entry();
            if order.last.is_none_or(|last| seq > last) {
                deliver(item);
                order.last = Some(seq);
            }
        }
        if order.last.is_some_and(|last| last < gap.upto) {
            order.last = Some(gap.upto);
        }
        order.drain(&mut deliver);
        order.filling = false;
        order.gap()
    }

    /// Asks for everything after what this node delivered up to `upto` (catching up after an
    /// outage, or before a join enters). `None` when nothing is missing, the room is unknown,
    /// or a fill already runs.
    pub fn want(&self, room: &str, upto: i64) -> Option<Gap> {
        let mut rooms = self.rooms();
        let order = rooms.get_mut(room)?;
        let last = order.last?;
        if upto <= last || order.filling {
            return None;
        }
        order.filling = true;
        Some(Gap { after: last, upto })
    }

    /// Runs `enter` if a connection whose history ends at `seq` can enter now: this node has
    /// delivered exactly up to there (or nothing yet, so it starts there).
    pub fn enter_at(&self, room: &str, seq: i64, enter: &mut dyn FnMut()) -> Entry {
        let mut rooms = self.rooms();
        let order = rooms.entry(room.to_owned()).or_default();
        match order.last {
            Some(last) if last > seq => Entry::Behind(last),
            Some(last) if last < seq => Entry::Ahead,
            _ => {
                order.last = Some(seq);
                enter();
                Entry::Entered
            }
        }
    }

    /// The rooms this node delivers, with where each stands.
    pub fn rooms_known(&self) -> Vec<(String, i64)> {
        self.rooms()
            .iter()
            .filter_map(|(room, order)| order.last.map(|last| (room.clone(), last)))
            .collect()
    }

    /// Forgets a room this node no longer listens to.
    pub fn forget(&self, room: &str) {
        self.rooms().remove(room);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn collect(seq: &Sequencer<i64>, room: &str, n: i64, out: &mut Vec<i64>) -> Option<Gap> {
        seq.offer(room, n, n, |item| out.push(item))
    }

    #[test]
    fn in_order_messages_pass_and_duplicates_do_not() {
        let seq = Sequencer::default();
        let mut out = Vec::new();
        for n in [1, 2, 2, 3, 1] {
            assert_eq!(collect(&seq, "r", n, &mut out), None);
        }
        assert_eq!(out, [1, 2, 3]);
    }

    #[test]
    fn an_early_message_waits_for_the_fill_and_both_arrive_in_order_once() {
        let seq = Sequencer::default();
        let mut out = Vec::new();
        collect(&seq, "r", 5, &mut out);
        assert_eq!(
            collect(&seq, "r", 8, &mut out),
            Some(Gap { after: 5, upto: 7 })
        );
        // Another early one while the fill runs starts no second fill.
        assert_eq!(collect(&seq, "r", 9, &mut out), None);
        assert_eq!(out, [5]);
        // The fill brings 6 and 7 (and 8 again, which the database also has).
        let gap = Gap { after: 5, upto: 7 };
        let next = seq.filled("r", gap, vec![(6, 6), (7, 7), (8, 8)], |item| {
            out.push(item)
        });
        assert_eq!(next, None);
        assert_eq!(out, [5, 6, 7, 8, 9]);
        // The late original of 7 is a duplicate.
        collect(&seq, "r", 7, &mut out);
        assert_eq!(out, [5, 6, 7, 8, 9]);
    }

    #[test]
    fn a_gap_the_database_cannot_close_is_skipped_not_waited_on_forever() {
        let seq = Sequencer::default();
        let mut out = Vec::new();
        collect(&seq, "r", 1, &mut out);
        let gap = collect(&seq, "r", 4, &mut out).unwrap();
        // Another gap behind the first one is filled next, not skipped.
        collect(&seq, "r", 7, &mut out);
        let next = seq.filled("r", gap, Vec::new(), |item| out.push(item));
        assert_eq!(out, [1, 4]);
        assert_eq!(next, Some(Gap { after: 4, upto: 6 }));
        seq.filled("r", next.unwrap(), vec![(6, 6)], |item| out.push(item));
        assert_eq!(out, [1, 4, 6, 7]);
        assert_eq!(collect(&seq, "r", 8, &mut out), None);
        assert_eq!(out, [1, 4, 6, 7, 8]);
    }

    #[test]
    fn a_join_enters_where_its_history_ends() {
        let seq: Sequencer<i64> = Sequencer::default();
        let mut entered = 0;
        // Nothing delivered yet: the room starts at the history's end.
        assert_eq!(seq.enter_at("r", 10, &mut || entered += 1), Entry::Entered);
        let mut out = Vec::new();
        collect(&seq, "r", 11, &mut out);
        // This node delivered 11; a history ending at 10 is behind.
        assert_eq!(
            seq.enter_at("r", 10, &mut || entered += 1),
            Entry::Behind(11)
        );
        // A history ending at 12 is ahead: catch up first.
        assert_eq!(seq.enter_at("r", 12, &mut || entered += 1), Entry::Ahead);
        let gap = seq.want("r", 12).unwrap();
        assert_eq!(
            gap,
            Gap {
                after: 11,
                upto: 12
            }
        );
        seq.filled("r", gap, vec![(12, 12)], |item| out.push(item));
        assert_eq!(seq.enter_at("r", 12, &mut || entered += 1), Entry::Entered);
        assert_eq!(entered, 2);
        assert_eq!(out, [11, 12]);
    }

    #[test]
    fn a_forgotten_room_starts_again_from_whatever_comes_next() {
        let seq = Sequencer::default();
        let mut out = Vec::new();
        collect(&seq, "r", 3, &mut out);
        seq.forget("r");
        collect(&seq, "r", 9, &mut out);
        assert_eq!(out, [3, 9]);
        assert_eq!(seq.rooms_known(), vec![("r".to_owned(), 9)]);
    }
}
