//! The write side of one floor connection: a frame is written straight into the socket with a
//! non-blocking `write` when nothing is queued before it; what the socket does not take at once
//! is queued (the shared frame, not a copy) and written by the connection's own task with
//! `writev` when the socket is writable again. A socket whose queue reaches the limit is closed
//! as a slow consumer, as Parlor closes a connection whose outbound queue is full.
//!
//! No write ever waits, so one slow socket never holds up a fan-out.

use super::frames::Encoded;
use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::io::{self, IoSlice};
use std::rc::Rc;
use tokio::net::TcpStream;
use tokio::sync::Notify;

/// Frames given to one `writev`.
const WRITEV_FRAMES: usize = 64;

/// One client's socket and what is queued for it.
pub struct Conn {
    pub id: u64,
    pub stream: TcpStream,
    queue: RefCell<Queue>,
    /// Woken when the queue stops being empty, or when the connection is to close.
    pub wake: Notify,
    closing: Cell<bool>,
}

/// Frames waiting for the socket, the first one possibly in part.
#[derive(Default)]
struct Queue {
    frames: VecDeque<Encoded>,
    /// Bytes of the first frame already written.
    written: usize,
}

impl Queue {
    fn advance(&mut self, mut n: usize) {
        while n > 0 {
            let Some(first) = self.frames.front() else {
                return;
            };
            let left = first.len() - self.written;
            if n < left {
                self.written += n;
                return;
            }
            n -= left;
            self.frames.pop_front();
            self.written = 0;
        }
    }
}

/// What became of a frame handed to [`Conn::send`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Sent {
    /// The socket took all of it at once.
    Written,
    /// Queued, in whole or in part, behind what the socket has not taken yet.
    Queued,
    /// The queue was full: the connection is closed as a slow consumer.
    SlowConsumer,
    /// Writing failed (the client went away): the connection is closed.
    Failed,
    /// The connection was already closing; the frame is dropped.
    Closed,
}

impl Conn {
    pub fn new(id: u64, stream: TcpStream) -> Self {
        Self {
            id,
            stream,
            queue: RefCell::default(),
            wake: Notify::new(),
            closing: Cell::new(false),
        }
    }

    /// Writes `frame` now if nothing is queued before it and the socket takes it, else queues
    /// what is left of it; never waits. More than `max_queued` frames queued closes the
    /// connection.
    pub fn send(&self, frame: &Encoded, max_queued: usize) -> Sent {
        if self.closing.get() {
            return Sent::Closed;
        }
        let mut queue = self.queue.borrow_mut();
        if queue.frames.is_empty() {
            match self.stream.try_write(frame) {
                Ok(n) if n == frame.len() => return Sent::Written,
                Ok(n) => queue.written = n,
                Err(err) if err.kind() == io::ErrorKind::WouldBlock => queue.written = 0,
                Err(_) => {
                    drop(queue);
                    self.close();
                    return Sent::Failed;
                }
            }
            queue.frames.push_back(Rc::clone(frame));
            self.wake.notify_one();
            return Sent::Queued;
        }
        if queue.frames.len() >= max_queued {
            drop(queue);
            self.close();
            return Sent::SlowConsumer;
        }
        queue.frames.push_back(Rc::clone(frame));
        Sent::Queued
    }

    pub fn has_queued(&self) -> bool {
        !self.queue.borrow().frames.is_empty()
    }

    /// Writes what is queued while the socket takes it, up to [`WRITEV_FRAMES`] frames per
    /// system call; returns the calls made.
    pub fn flush(&self) -> io::Result<u64> {
        let mut queue = self.queue.borrow_mut();
        let mut calls = 0;
        while !queue.frames.is_empty() {
            let written = {
                let slices: Vec<IoSlice<'_>> = (queue.frames.iter().take(WRITEV_FRAMES))
                    .enumerate()
                    .map(|(i, frame)| {
                        IoSlice::new(if i == 0 {
                            &frame[queue.written..]
                        } else {
                            frame
                        })
                    })
                    .collect();
                self.stream.try_write_vectored(&slices)
            };
            calls += 1;
            match written {
                Ok(n) => queue.advance(n),
                Err(err) if err.kind() == io::ErrorKind::WouldBlock => break,
                Err(err) => return Err(err),
            }
        }
        Ok(calls)
    }

    /// Marks the connection to be closed: its task ends and takes it out of every room, which
    /// drops the socket.
    pub fn close(&self) {
        self.closing.set(true);
        *self.queue.borrow_mut() = Queue::default();
        self.wake.notify_one();
    }

    pub fn is_closing(&self) -> bool {
        self.closing.get()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_queue_advances_across_frames_and_within_one() {
        let mut queue = Queue::default();
        for frame in [&b"abc"[..], b"de", b"fgh"] {
            queue.frames.push_back(frame.into());
        }
        queue.advance(4);
        assert_eq!((queue.frames.len(), queue.written), (2, 1));
        queue.advance(1);
        assert_eq!((queue.frames.len(), queue.written), (1, 0));
        queue.advance(3);
        assert!(queue.frames.is_empty());
    }
}
