//! Who ignores whom, as delivery sees it: the hub asks, for each event with an author, which
//! identities ignore that author, and skips their connections. The ignored side sees no
//! difference. The lists themselves are stored by the moderation service and loaded here
//! when their owner connects.

use super::Broadcast;
use crate::domain::Principal;
use std::collections::{HashMap, HashSet};
use std::sync::{PoisonError, RwLock};

/// A case-folded name → the identities ignoring it.
#[derive(Default)]
pub(super) struct IgnoreFilter(RwLock<HashMap<String, HashSet<Principal>>>);

impl IgnoreFilter {
    /// The identities ignoring a broadcast's author, if it has one and anybody does.
    pub fn of(&self, broadcast: &Broadcast) -> Option<HashSet<Principal>> {
        let author = broadcast.event.author_key()?;
        let ignored_by = self.0.read().unwrap_or_else(PoisonError::into_inner);
        ignored_by.get(&author).cloned()
    }

    /// Whether `principal` ignores the (case-folded) name.
    pub fn ignores(&self, principal: Principal, name_key: &str) -> bool {
        let ignored_by = self.0.read().unwrap_or_else(PoisonError::into_inner);
        ignored_by
            .get(name_key)
            .is_some_and(|who| who.contains(&principal))
    }

    /// Records that `principal` ignores (`true`) or no longer ignores a case-folded name.
    pub fn set(&self, principal: Principal, name_key: &str, ignore: bool) {
        let mut ignored_by = self.0.write().unwrap_or_else(PoisonError::into_inner);
        if ignore {
            ignored_by
                .entry(name_key.to_owned())
                .or_default()
                .insert(principal);
        } else if let Some(who) = ignored_by.get_mut(name_key) {
            who.remove(&principal);
            if who.is_empty() {
                ignored_by.remove(name_key);
            }
        }
    }
}
