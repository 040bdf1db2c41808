//! Admission to the model: at most `concurrency` generations run at once, at most `queue` more
//! wait, and each user has at most one admitted at a time. Anything beyond is refused at once
//! (`ai_busy`) rather than queued without bound: a slow model must cost the chat a bounded
//! amount of memory and nobody's wait may grow with someone else's flood.
//!
//! A second message from a user whose reply is still coming is refused too (not queued
//! behind the first): the reply being written does not know about it, and the client shows
//! the refusal beside the message so the user can send it again once the reply is there.
//!
//! Waiting is FIFO (tokio's semaphore is fair); a waiter learns its place whenever it changes.

use std::collections::{HashSet, VecDeque};
use std::sync::{Arc, Mutex};
use tokio::sync::{watch, OwnedSemaphorePermit, Semaphore};

/// Why a request was not admitted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refused {
    /// The user already has a reply coming.
    InFlight,
    /// Every running and waiting place is taken.
    QueueFull,
}

#[derive(Debug, Default)]
struct Places {
    /// Users with a ticket.
    users: HashSet<i64>,
    /// Tickets without a permit yet, oldest first.
    waiting: VecDeque<u64>,
    admitted: usize,
    next_ticket: u64,
}

/// The bounded, fair door to the model. Cheap to share (`Arc`).
#[derive(Debug)]
pub struct Gate {
    running: Arc<Semaphore>,
    places: usize,
    state: Mutex<Places>,
    /// Bumped whenever the waiting line moves, so waiters can tell their new place.
    moved: watch::Sender<u64>,
}

/// One admitted request. Dropping it gives its place (and its user's turn) back.
#[derive(Debug)]
pub struct Ticket {
    gate: Arc<Gate>,
    id: u64,
    user: i64,
}

impl Gate {
    pub fn new(concurrency: usize, queue: usize) -> Arc<Self> {
        let concurrency = concurrency.max(1);
        Arc::new(Self {
            running: Arc::new(Semaphore::new(concurrency)),
            places: concurrency + queue,
            state: Mutex::new(Places::default()),
            moved: watch::Sender::new(0),
        })
    }

    /// Admits a request from `user`, or refuses it at once.
    pub fn admit(self: &Arc<Self>, user: i64) -> Result<Ticket, Refused> {
        let mut places = self.lock();
        if places.users.contains(&user) {
            return Err(Refused::InFlight);
        }
        if places.admitted >= self.places {
            return Err(Refused::QueueFull);
        }
        places.users.insert(user);
        places.admitted += 1;
        places.next_ticket += 1;
        let id = places.next_ticket;
        places.waiting.push_back(id);
        Ok(Ticket {
            gate: Arc::clone(self),
            id,
            user,
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Places> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn left_line(&self, places: &mut Places, id: u64) {
        if let Some(at) = places.waiting.iter().position(|&t| t == id) {
            places.waiting.remove(at);
            self.moved.send_modify(|n| *n = n.wrapping_add(1));
        }
    }
}

impl Ticket {
    /// This request's place in the line, 1 for the next to run; `None` when a running place is
    /// free for it (or it already runs).
    pub fn place(&self) -> Option<usize> {
        let places = self.gate.lock();
        let index = places.waiting.iter().position(|&t| t == self.id)?;
        // Those ahead of it take the free permits first.
        let free = self.gate.running.available_permits();
        (index >= free).then(|| index - free + 1)
    }

    /// Waits for a running place, calling `told(place)` whenever its place in the line changes.
    pub async fn run(&self, mut told: impl FnMut(usize)) -> OwnedSemaphorePermit {
        let mut moved = self.gate.moved.subscribe();
        let mut last = None;
        let acquire = Arc::clone(&self.gate.running).acquire_owned();
        tokio::pin!(acquire);
        let permit = loop {
            let place = self.place();
            if place != last {
                if let Some(place) = place {
                    told(place);
                }
            }
            last = place;
            tokio::select! {
                permit = &mut acquire => break permit,
                _ = moved.changed() => {}
            }
        };
        let mut places = self.gate.lock();
        self.gate.left_line(&mut places, self.id);
        permit.unwrap_or_else(|_| unreachable!("the gate's semaphore is never closed"))
    }

    pub fn user(&self) -> i64 {
        self.user
    }
}

impl Drop for Ticket {
    fn drop(&mut self) {
        let mut places = self.gate.lock();
        places.users.remove(&self.user);
        places.admitted = places.admitted.saturating_sub(1);
        self.gate.left_line(&mut places, self.id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn one_per_user_and_a_bounded_line() {
        let gate = Gate::new(1, 1);
        let first = gate.admit(1).unwrap();
        assert_eq!(gate.admit(1).unwrap_err(), Refused::InFlight);
        let second = gate.admit(2).unwrap();
        assert_eq!(gate.admit(3).unwrap_err(), Refused::QueueFull);
        let running = first.run(|_| {}).await;
        assert_eq!(second.place(), Some(1));
        drop(running);
        drop(first);
        assert!(gate.admit(1).is_ok(), "the place came back");
        drop(second);
    }

    #[tokio::test]
    async fn waiters_are_told_their_place_and_run_in_turn() {
        let gate = Gate::new(1, 2);
        let first = gate.admit(1).unwrap();
        let running = first.run(|_| {}).await;
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
        let mut waiters = Vec::new();
        for user in [2, 3] {
            let ticket = gate.admit(user).unwrap();
            let tx = tx.clone();
            let (release, released) = tokio::sync::oneshot::channel::<()>();
            waiters.push((
                release,
                tokio::spawn(async move {
                    let _permit = ticket.run(|place| tx.send((user, place)).unwrap()).await;
                    tx.send((user, 0)).unwrap();
                    let _ = released.await;
                }),
            ));
            // Each one is in the semaphore's line before the next is admitted.
            assert_eq!(rx.recv().await, Some((user, user as usize - 1)));
        }
        drop(running);
        drop(first);
        assert_eq!(rx.recv().await, Some((2, 0)), "the second runs");
        assert_eq!(rx.recv().await, Some((3, 1)), "the third moved up");
        let mut waiters = waiters.into_iter();
        let (release, second) = waiters.next().unwrap();
        release.send(()).unwrap();
        second.await.unwrap();
        assert_eq!(rx.recv().await, Some((3, 0)), "then the third runs");
        let (release, third) = waiters.next().unwrap();
        release.send(()).unwrap();
        third.await.unwrap();
    }
}
