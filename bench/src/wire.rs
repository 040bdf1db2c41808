//! The two wire protocols the generator speaks, implemented directly over WebSocket so the
//! same client drives Parlor's native framing, Parlor's Socket.IO framing and any other
//! Socket.IO server:
//!
//! - native: `{"event","data","ack"}` envelopes on `/gateway` (also the floor writer's);
//! - Socket.IO v5 over Engine.IO v4 on `/socket.io/?EIO=4&transport=websocket`: the `0` open
//!   packet, `40` namespace connect, `2`/`3` ping/pong, `42[…]` events and `43N[…]` acks.
//!
//! Payloads carry a marker `~P<step>:<sender>:<seq>:<intended send µs>~` that receivers find
//! with a substring search instead of a JSON parse, so the generator stays cheap per frame.

use crate::rawws::{Frame, RawWs};
use anyhow::{anyhow, bail};

pub type Socket = RawWs;

/// Which server and framing a run targets.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Target {
    /// Parlor's native `/gateway` framing.
    ParlorNative,
    /// Parlor's Socket.IO framing (identify + join, then `send`).
    ParlorSocketio,
    /// A plain Socket.IO broadcast server (the reference peer): connect, then `send`.
    Socketio,
    /// The floor writer (`loadgen floor-server`): Parlor's native framing, no chat logic.
    Floor,
}

impl Target {
    pub fn label(self) -> &'static str {
        match self {
            Target::ParlorNative => "parlor-native",
            Target::ParlorSocketio => "parlor-socketio",
            Target::Socketio => "socketio-peer",
            Target::Floor => "floor",
        }
    }

    fn is_socketio(self) -> bool {
        matches!(self, Target::ParlorSocketio | Target::Socketio)
    }
}

/// The marker a receiver found in a message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Marker {
    pub step: u32,
    pub sender: u32,
    pub seq: u64,
    pub sent_us: u64,
}

/// What an incoming frame is, as far as the generator cares.
#[derive(Debug, PartialEq, Eq)]
pub enum Inbound {
    Message(Marker),
    Ack(u64),
    Ping,
    Error,
    /// The server's `closing` event, with its reason (`slow_consumer`, `shutdown`, …).
    Closing(String),
    /// Socket.IO's namespace disconnect (`41`): the server dropped the client.
    Disconnected,
    Other,
}

/// Who a client is when it identifies with Parlor.
#[derive(Clone, Debug)]
pub enum Login {
    /// A new guest with this nick (lobby only).
    Guest(String),
    /// A registered account's session token (needed for persistent rooms).
    Token(String),
}

/// Opens a client and completes the handshake: for Socket.IO the `0` open packet and the `40`
/// namespace connect; for Parlor (both framings) also `identify` and `join room` (unless `room`
/// is empty), each acked.
pub async fn connect(
    base: &str,
    target: Target,
    login: &Login,
    room: &str,
) -> anyhow::Result<Socket> {
    let ws_base = base.replacen("http", "ws", 1);
    let url = if target.is_socketio() {
        format!("{ws_base}/socket.io/?EIO=4&transport=websocket")
    } else {
        format!("{ws_base}/gateway")
    };
    let mut socket = RawWs::connect(&url).await?;
    if target.is_socketio() {
        expect_prefix(&mut socket, "0").await?;
        socket.queue_text("40");
        socket.flush().await?;
        expect_prefix(&mut socket, "40").await?;
    }
    if target != Target::Socketio {
        let identify = match login {
            Login::Guest(nick) => format!(r#"{{"nick":"{nick}"}}"#),
            Login::Token(token) => format!(r#"{{"token":"{token}"}}"#),
        };
        request(&mut socket, target, 1, "identify", &identify).await?;
        if !room.is_empty() {
            let join = format!(r#"{{"room":"{room}"}}"#);
            request(&mut socket, target, 2, "join", &join).await?;
        }
    }
    Ok(socket)
}

/// What the handshake does with one incoming frame.
enum Handshake {
    Done(anyhow::Result<()>),
    EnginePong,
    WsPong(Vec<u8>),
    Closed,
    Skip,
}

/// Sends a command with an ack id and waits for a successful ack. Events that arrive meanwhile
/// (presence of earlier clients) are skipped without copying: a lobby join's ack carries every
/// member, so it is large when thousands are online.
async fn request(
    socket: &mut Socket,
    target: Target,
    ack: u64,
    event: &str,
    data: &str,
) -> anyhow::Result<()> {
    socket.queue_text(&command(target, event, data, Some(ack)));
    socket.flush().await?;
    loop {
        let next = match socket.next_frame() {
            Some(Frame::Text(text)) => match inspect(target, text) {
                Inbound::Ack(id) if id == ack => Handshake::Done(if is_ok(text) {
                    Ok(())
                } else {
                    Err(anyhow!("{event} refused: {}", abbreviate(text)))
                }),
                Inbound::Ping => Handshake::EnginePong,
                _ => Handshake::Skip,
            },
            Some(Frame::Ping(payload)) => Handshake::WsPong(payload.to_vec()),
            Some(Frame::Close) => Handshake::Closed,
            Some(Frame::Other) => Handshake::Skip,
            None => {
                if socket.fill().await? == 0 {
                    bail!("connection closed during {event}");
                }
                continue;
            }
        };
        match next {
            Handshake::Done(result) => return result,
            Handshake::EnginePong => socket.queue_text("3"),
            Handshake::WsPong(payload) => socket.queue_pong(&payload),
            Handshake::Closed => bail!("closed by the server during {event}"),
            Handshake::Skip => {}
        }
        if socket.has_output() {
            socket.flush().await?;
        }
    }
}

/// Whether an ack says `"ok":true`. Parlor writes `ok` as the last key, so search from the end.
fn is_ok(text: &str) -> bool {
    text.rfind(r#""ok":"#)
        .is_some_and(|at| text[at + 5..].starts_with("true"))
}

fn abbreviate(text: &str) -> &str {
    let mut end = text.len().min(200);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

/// Waits for a packet starting with `prefix`, answering pings meanwhile.
async fn expect_prefix(socket: &mut Socket, prefix: &str) -> anyhow::Result<()> {
    loop {
        let text = socket.next_text().await?;
        if text == "2" {
            socket.queue_text("3");
            socket.flush().await?;
        } else if text.starts_with(prefix) {
            return Ok(());
        } else {
            bail!("expected a {prefix:?} packet, got {:?}", abbreviate(&text));
        }
    }
}

/// A command frame in the target's framing.
pub fn command(target: Target, event: &str, data: &str, ack: Option<u64>) -> String {
    match (target.is_socketio(), ack) {
        (false, Some(ack)) => format!(r#"{{"event":"{event}","data":{data},"ack":{ack}}}"#),
        (false, None) => format!(r#"{{"event":"{event}","data":{data}}}"#),
        (true, Some(ack)) => format!(r#"42{ack}["{event}",{data}]"#),
        (true, None) => format!(r#"42["{event}",{data}]"#),
    }
}

/// A chat message for `room` of `size` bytes of text carrying `marker`.
pub fn message(
    target: Target,
    room: &str,
    marker: Marker,
    size: usize,
    ack: Option<u64>,
) -> String {
    let mut text = format!(
        "~P{}:{}:{}:{}~",
        marker.step, marker.sender, marker.seq, marker.sent_us
    );
    while text.len() < size {
        text.push('x');
    }
    command(
        target,
        "send",
        &format!(r#"{{"room":"{room}","text":"{text}"}}"#),
        ack,
    )
}

/// Classifies a frame without parsing it as JSON.
pub fn inspect(target: Target, text: &str) -> Inbound {
    if target.is_socketio() {
        if text == "2" {
            return Inbound::Ping;
        }
        if text == "41" {
            return Inbound::Disconnected;
        }
        if let Some(rest) = text.strip_prefix("43") {
            let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
            return digits.parse().map_or(Inbound::Other, Inbound::Ack);
        }
        if !text.starts_with("42") {
            return Inbound::Other;
        }
        if text.starts_with(r#"42["error""#) {
            return Inbound::Error;
        }
        if text.starts_with(r#"42["closing""#) {
            return Inbound::Closing(close_reason(text));
        }
    } else {
        if let Some(rest) = text.strip_prefix(r#"{"ack":"#) {
            let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
            return digits.parse().map_or(Inbound::Other, Inbound::Ack);
        }
        if text.starts_with(r#"{"event":"error""#) {
            return Inbound::Error;
        }
        if text.starts_with(r#"{"event":"closing""#) {
            return Inbound::Closing(close_reason(text));
        }
    }
    find_marker(text).map_or(Inbound::Other, Inbound::Message)
}

fn close_reason(text: &str) -> String {
    text.split_once(r#""reason":""#)
        .and_then(|(_, rest)| rest.split_once('"'))
        .map_or("unknown", |(reason, _)| reason)
        .to_owned()
}

fn find_marker(text: &str) -> Option<Marker> {
    let start = text.find("~P")? + 2;
    let end = start + text[start..].find('~')?;
    let mut fields = text[start..end].split(':').map(str::parse::<u64>);
    let mut next = || fields.next()?.ok();
    Some(Marker {
        step: u32::try_from(next()?).ok()?,
        sender: u32::try_from(next()?).ok()?,
        seq: next()?,
        sent_us: next()?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markers_survive_both_framings() {
        let marker = Marker {
            step: 3,
            sender: 7,
            seq: 42,
            sent_us: 123_456,
        };
        for target in [Target::ParlorNative, Target::Socketio] {
            let frame = message(target, "lobby", marker, 100, None);
            // Servers wrap the text in their own event; the marker survives any wrapping.
            let echoed = format!(r#"{{"event":"message","data":{{"x":{frame:?}}}}}"#);
            assert_eq!(
                inspect(Target::ParlorNative, &echoed),
                Inbound::Message(marker)
            );
        }
        assert_eq!(inspect(Target::Socketio, "2"), Inbound::Ping);
        assert_eq!(inspect(Target::ParlorSocketio, "41"), Inbound::Disconnected);
        assert_eq!(
            inspect(Target::Socketio, r#"4317[{"ok":true}]"#),
            Inbound::Ack(17)
        );
        assert_eq!(
            inspect(Target::ParlorNative, r#"{"ack":9,"ok":true}"#),
            Inbound::Ack(9)
        );
    }

    #[test]
    fn acks_and_closing_events_are_recognised() {
        assert!(is_ok(r#"{"ack":2,"data":{"members":[]},"ok":true}"#));
        assert!(!is_ok(
            r#"{"ack":2,"error":{"code":"nick_taken"},"ok":false}"#
        ));
        assert!(is_ok(r#"432[{"data":{},"ok":true}]"#));
        let closing = r#"{"event":"closing","data":{"reason":"slow_consumer","message":"…"}}"#;
        assert_eq!(
            inspect(Target::ParlorNative, closing),
            Inbound::Closing("slow_consumer".into())
        );
        let closing = r#"42["closing",{"message":"…","reason":"shutdown"}]"#;
        assert_eq!(
            inspect(Target::ParlorSocketio, closing),
            Inbound::Closing("shutdown".into())
        );
    }
}
