//! Rooms and the few commands the generator sends, in Parlor's native framing: `identify` and
//! `join` (acked, nothing checked), `leave`, and `send`, whose `message` event is encoded once
//! — in the shape Parlor gives a lobby message — and handed to every socket in the room, the
//! sender's included, before the sender's ack. No history, no auth, no limits, no presence.

use super::conn::{Conn, Sent};
use super::frames::{self, Encoded};
use serde_json::{json, Value};
use std::cell::{Cell, RefCell};
use std::collections::{BTreeMap, HashMap};
use std::rc::Rc;
use std::time::{SystemTime, UNIX_EPOCH};

/// Who a connection said it is, and the rooms it joined.
#[derive(Debug, Default)]
pub struct Session {
    name: String,
    /// Identified with a session token rather than a guest nick.
    registered: bool,
    pub rooms: Vec<String>,
}

/// Every room's members and what the floor did, on one thread.
pub struct Hub {
    /// Members by connection id: iteration in join order, removal without a scan.
    rooms: RefCell<HashMap<String, BTreeMap<u64, Rc<Conn>>>>,
    max_queued: usize,
    next_message: Cell<u64>,
    next_conn: Cell<u64>,
    pub counters: Counters,
}

/// What the floor did since it started (printed as JSON when it stops).
#[derive(Debug, Default)]
pub struct Counters {
    pub connections: Cell<u64>,
    pub open: Cell<u64>,
    pub most_open: Cell<u64>,
    pub messages: Cell<u64>,
    /// Frames of messages handed to sockets (one per member per message).
    pub deliveries: Cell<u64>,
    /// Frames a socket took whole at the first `write`.
    pub written_at_once: Cell<u64>,
    /// Frames queued, in whole or in part, behind what a socket had not taken yet.
    pub queued: Cell<u64>,
    /// `writev` calls that wrote queued frames.
    pub queue_writes: Cell<u64>,
    pub slow_consumers: Cell<u64>,
    pub write_errors: Cell<u64>,
    /// Connections closed for a frame the floor does not speak.
    pub refused: Cell<u64>,
}

fn bump(counter: &Cell<u64>) {
    counter.set(counter.get() + 1);
}

impl Counters {
    pub fn to_json(&self) -> Value {
        json!({
            "kind": "floor_server",
            "connections": self.connections.get(),
            "most_open": self.most_open.get(),
            "messages": self.messages.get(),
            "deliveries": self.deliveries.get(),
            "written_at_once": self.written_at_once.get(),
            "queued": self.queued.get(),
            "queue_writes": self.queue_writes.get(),
            "slow_consumers": self.slow_consumers.get(),
            "write_errors": self.write_errors.get(),
            "refused": self.refused.get(),
        })
    }
}

impl Hub {
    pub fn new(max_queued: usize) -> Self {
        let now_ms = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as u64);
        Self {
            rooms: RefCell::default(),
            max_queued,
            // Parlor's lobby message ids: the start time in ms × 1 000, counting up.
            next_message: Cell::new(now_ms * 1000),
            next_conn: Cell::new(0),
            counters: Counters::default(),
        }
    }

    /// A new connection, counted open until [`Hub::leave_all`].
    pub fn open(&self, stream: tokio::net::TcpStream) -> Rc<Conn> {
        let id = self.next_conn.get();
        self.next_conn.set(id + 1);
        let c = &self.counters;
        bump(&c.connections);
        bump(&c.open);
        c.most_open.set(c.most_open.get().max(c.open.get()));
        Rc::new(Conn::new(id, stream))
    }

    /// The connection ended: out of every room (which drops its socket once its task ends).
    pub fn leave_all(&self, conn: &Conn, session: &Session) {
        let mut rooms = self.rooms.borrow_mut();
        for room in &session.rooms {
            if let Some(members) = rooms.get_mut(room) {
                members.remove(&conn.id);
            }
        }
        self.counters.open.set(self.counters.open.get() - 1);
    }

    /// Hands one frame to one connection and counts what became of it.
    pub fn deliver(&self, conn: &Conn, frame: &Encoded) -> Sent {
        let sent = conn.send(frame, self.max_queued);
        let c = &self.counters;
        match sent {
            Sent::Written => bump(&c.written_at_once),
            Sent::Queued => bump(&c.queued),
            Sent::SlowConsumer => bump(&c.slow_consumers),
            Sent::Failed => bump(&c.write_errors),
            Sent::Closed => {}
        }
        sent
    }

    /// Handles one command frame from `conn`.
    pub fn command(&self, conn: &Rc<Conn>, session: &mut Session, text: &str) {
        let Ok(command) = serde_json::from_str::<Value>(text) else {
            return self.reply(conn, None, Err("invalid_payload"));
        };
        let ack = command.get("ack").and_then(Value::as_u64);
        let field = |name: &str| command.get("data")?.get(name)?.as_str();
        let result = match command.get("event").and_then(Value::as_str) {
            Some("identify") => {
                (session.name, session.registered) = match field("nick") {
                    Some(nick) => (nick.to_owned(), false),
                    None => ("user".to_owned(), true),
                };
                Ok(String::from("{}"))
            }
            Some("join") => match field("room") {
                Some(room) => Ok(self.join(conn, session, room)),
                None => Err("invalid_payload"),
            },
            Some("leave") => match field("room") {
                Some(room) => {
                    self.leave(conn, session, room);
                    Ok(String::from("{}"))
                }
                None => Err("invalid_payload"),
            },
            Some("send") => match (field("room"), field("text")) {
                (Some(room), Some(text)) => Ok(self.send(session, room, text)),
                _ => Err("invalid_payload"),
            },
            _ => Err("unknown_command"),
        };
        self.reply(conn, ack, result);
    }

    fn join(&self, conn: &Rc<Conn>, session: &mut Session, room: &str) -> String {
        let mut rooms = self.rooms.borrow_mut();
        let members = rooms.entry(room.to_owned()).or_default();
        if members.insert(conn.id, Rc::clone(conn)).is_none() {
            session.rooms.push(room.to_owned());
        }
        format!(
            r#"{{"room":{},"member_count":{}}}"#,
            quoted(room),
            members.len()
        )
    }

    fn leave(&self, conn: &Conn, session: &mut Session, room: &str) {
        if let Some(members) = self.rooms.borrow_mut().get_mut(room) {
            members.remove(&conn.id);
        }
        session.rooms.retain(|r| r != room);
    }

    /// Encodes the `message` event once and hands the same bytes to every member; the ack's data.
    fn send(&self, session: &Session, room: &str, text: &str) -> String {
        let id = self.next_message.get();
        self.next_message.set(id + 1);
        let ts = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_millis());
        let kind = if session.registered { "user" } else { "guest" };
        let event = format!(
            r#"{{"event":"message","data":{{"room":{},"id":"{id}","ts":{ts},"author":{{"name":{},"kind":"{kind}","role":"user","verified":false}},"text":{}}}}}"#,
            quoted(room),
            quoted(&session.name),
            quoted(text)
        );
        let frame = frames::text(&event);
        bump(&self.counters.messages);
        if let Some(members) = self.rooms.borrow().get(room) {
            for member in members.values() {
                bump(&self.counters.deliveries);
                self.deliver(member, &frame);
            }
        }
        format!(r#"{{"id":"{id}","ts":{ts}}}"#)
    }

    /// The ack (`ok` before `data`, as Parlor writes it), or an `error` event when no ack was
    /// asked for and the command failed.
    fn reply(&self, conn: &Conn, ack: Option<u64>, result: Result<String, &str>) {
        let text = match (ack, result) {
            (Some(ack), Ok(data)) => format!(r#"{{"ack":{ack},"ok":true,"data":{data}}}"#),
            (None, Ok(_)) => return,
            (Some(ack), Err(code)) => {
                format!(
                    r#"{{"ack":{ack},"ok":false,"error":{{"code":"{code}","message":"{code}"}}}}"#
                )
            }
            (None, Err(code)) => {
                format!(r#"{{"event":"error","data":{{"code":"{code}","message":"{code}"}}}}"#)
            }
        };
        self.deliver(conn, &frames::text(&text));
    }
}

/// A JSON string literal.
fn quoted(text: &str) -> String {
    Value::from(text).to_string()
}
