//! Conversations with the AI companion, as background load: `users` registered accounts each
//! open their conversation with the bot, join it on a native connection and talk in a closed
//! loop — send a message, wait for the bot's stored reply (a `message` whose author is a bot),
//! send the next — until `secs` have passed or `--stop-file` exists. `bench/companion.sh` runs
//! it beside a lobby step to see what the companion costs everyone else.
//!
//! The run reports the replies completed, the `ai_delta` pieces streamed, how long a reply took
//! (send → first piece, send → stored reply) and the refusals (`error` events such as
//! `ai_busy` or `rate_limited`, failed acks) as one JSON line on stdout.

use super::latency_ms;
use crate::procfs;
use crate::rawws::Frame;
use crate::rest;
use crate::wire::{self, Login, Socket, Target};
use hdrhistogram::Histogram;
use serde_json::{json, Value};
use std::cell::RefCell;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::rc::Rc;
use std::time::{Duration, Instant};
use tokio::sync::watch;

/// What a companion run does.
#[derive(clap::Args, Clone, Debug)]
pub struct CompanionSpec {
    /// Accounts talking to the bot at once, each waiting for its reply before the next message.
    #[arg(long, default_value_t = 8)]
    pub users: usize,
    /// The companion's account name (`ai_name`).
    #[arg(long, default_value = "Violet")]
    pub bot: String,
    /// Longest run, in seconds.
    #[arg(long, default_value_t = 60.0)]
    pub secs: f64,
    /// Stop as soon as this file exists (checked every 100 ms).
    #[arg(long)]
    pub stop_file: Option<PathBuf>,
    /// A reply not stored within this many seconds counts as a timeout; the user writes again.
    #[arg(long, default_value_t = 60.0)]
    pub reply_timeout_secs: f64,
}

/// What the users saw, together.
struct Totals {
    sent: u64,
    replies: u64,
    deltas: u64,
    reply_chars: u64,
    reply_us: Histogram<u64>,
    first_piece_us: Histogram<u64>,
    /// Refusals by code: `error` events, and failed acks as `ack:<code>`.
    errors: BTreeMap<String, u64>,
    timeouts: u64,
    disconnected: u64,
}

impl Totals {
    fn new() -> Self {
        let histogram = || Histogram::new_with_bounds(1, 600_000_000, 3).expect("valid bounds");
        Self {
            sent: 0,
            replies: 0,
            deltas: 0,
            reply_chars: 0,
            reply_us: histogram(),
            first_piece_us: histogram(),
            errors: BTreeMap::new(),
            timeouts: 0,
            disconnected: 0,
        }
    }

    fn refused(&mut self, code: String) {
        *self.errors.entry(code).or_default() += 1;
    }
}

/// One incoming frame, as far as a companion user cares.
enum Seen {
    Delta,
    /// The bot's stored reply in the user's conversation, with its length in characters.
    Reply(u64),
    Ack {
        id: u64,
        error: Option<String>,
    },
    Error(String),
    Pong(Vec<u8>),
    Closed,
    Other,
}

fn classify(text: &str, room: &str) -> Seen {
    if text.starts_with(r#"{"event":"ai_delta""#) {
        return Seen::Delta;
    }
    let parse = || serde_json::from_str::<Value>(text).unwrap_or(Value::Null);
    if text.starts_with(r#"{"ack":"#) {
        let frame = parse();
        let error = (frame["ok"] != true).then(|| code(&frame["error"]));
        return Seen::Ack {
            id: frame["ack"].as_u64().unwrap_or(0),
            error,
        };
    }
    if text.starts_with(r#"{"event":"error""#) {
        return Seen::Error(code(&parse()["data"]));
    }
    if text.starts_with(r#"{"event":"ai_limit_reached""#) {
        return Seen::Error("ai_limit_reached".into());
    }
    if text.starts_with(r#"{"event":"message""#) {
        let frame = parse();
        let data = &frame["data"];
        if data["room"] == room && data["author"]["bot"] == true {
            let chars = data["text"].as_str().map_or(0, |t| t.chars().count());
            return Seen::Reply(chars as u64);
        }
    }
    Seen::Other
}

fn code(error: &Value) -> String {
    error["code"].as_str().unwrap_or("unknown").to_owned()
}

/// The next frame, classified (reading more when none is buffered).
async fn next(socket: &mut Socket, room: &str) -> anyhow::Result<Seen> {
    loop {
        let seen = match socket.next_frame() {
            Some(Frame::Text(text)) => classify(text, room),
            Some(Frame::Ping(payload)) => Seen::Pong(payload.to_vec()),
            Some(Frame::Close) => Seen::Closed,
            Some(Frame::Other) => Seen::Other,
            None => {
                if socket.fill().await? == 0 {
                    return Ok(Seen::Closed);
                }
                continue;
            }
        };
        if let Seen::Pong(payload) = &seen {
            socket.queue_pong(payload);
            socket.flush().await?;
            continue;
        }
        return Ok(seen);
    }
}

/// Sends a command with an ack id and returns the ack's `data` (or fails with its code).
async fn request(
    socket: &mut Socket,
    ack: u64,
    event: &str,
    data: &Value,
) -> anyhow::Result<Value> {
    let frame = wire::command(Target::ParlorNative, event, &data.to_string(), Some(ack));
    socket.queue_text(&frame);
    socket.flush().await?;
    loop {
        let text = socket.next_text().await?;
        if !text.starts_with(&format!(r#"{{"ack":{ack},"#)) {
            continue;
        }
        let mut reply: Value = serde_json::from_str(&text)?;
        anyhow::ensure!(
            reply["ok"] == true,
            "{event} refused: {}",
            code(&reply["error"])
        );
        return Ok(reply["data"].take());
    }
}

/// Connects one account, opens its conversation with the bot and joins it; returns the room.
async fn open(url: &str, token: String, bot: &str) -> anyhow::Result<(Socket, String)> {
    let mut socket = wire::connect(url, Target::ParlorNative, &Login::Token(token), "").await?;
    let conversation = request(&mut socket, 2, "pm_open", &json!({ "user": bot })).await?;
    let room = conversation["room"]
        .as_str()
        .ok_or_else(|| anyhow::anyhow!("pm_open: no room in {conversation}"))?
        .to_owned();
    anyhow::ensure!(
        conversation["state"] == "open",
        "the conversation with {bot} is {} (is the companion configured?)",
        conversation["state"]
    );
    request(&mut socket, 3, "join", &json!({ "room": room })).await?;
    Ok((socket, room))
}

/// One user's closed loop until `stop`.
async fn talk(
    mut socket: Socket,
    room: String,
    user: usize,
    spec: Rc<CompanionSpec>,
    totals: Rc<RefCell<Totals>>,
    mut stop: watch::Receiver<bool>,
) {
    let timeout = Duration::from_secs_f64(spec.reply_timeout_secs);
    let mut seq: u64 = 0;
    while !*stop.borrow() {
        seq += 1;
        let ack = 100 + seq;
        let text = format!("Hello {}, this is user {user}, message {seq}.", spec.bot);
        let frame = wire::command(
            Target::ParlorNative,
            "send",
            &json!({ "room": room, "text": text }).to_string(),
            Some(ack),
        );
        socket.queue_text(&frame);
        let sent = Instant::now();
        if socket.flush().await.is_err() {
            totals.borrow_mut().disconnected += 1;
            return;
        }
        totals.borrow_mut().sent += 1;
        let mut first_piece = None;
        // What ended the wait: Some(true) a reply, Some(false) a refusal (write again after a
        // pause), None a lost connection.
        let outcome = tokio::select! {
            _ = stop.changed() => return,
            waited = tokio::time::timeout(timeout, async {
                loop {
                    match next(&mut socket, &room).await {
                        Ok(Seen::Delta) => {
                            totals.borrow_mut().deltas += 1;
                            first_piece.get_or_insert_with(|| sent.elapsed());
                        }
                        Ok(Seen::Reply(chars)) => {
                            let mut totals = totals.borrow_mut();
                            totals.replies += 1;
                            totals.reply_chars += chars;
                            let _ = totals.reply_us.record(sent.elapsed().as_micros() as u64);
                            if let Some(first) = first_piece {
                                let _ = totals.first_piece_us.record(first.as_micros() as u64);
                            }
                            return Some(true);
                        }
                        Ok(Seen::Ack { id, error: Some(code) }) if id == ack => {
                            totals.borrow_mut().refused(format!("ack:{code}"));
                            return Some(false);
                        }
                        Ok(Seen::Error(code)) => {
                            totals.borrow_mut().refused(code);
                            return Some(false);
                        }
                        Ok(Seen::Closed) | Err(_) => return None,
                        Ok(_) => {}
                    }
                }
            }) => waited,
        };
        match outcome {
            Ok(Some(true)) => {}
            Ok(Some(false)) => tokio::time::sleep(Duration::from_millis(200)).await,
            Ok(None) => {
                totals.borrow_mut().disconnected += 1;
                return;
            }
            Err(_) => totals.borrow_mut().timeouts += 1,
        }
    }
}

/// Runs the conversations; `Ok(false)` when no reply came, one timed out or a user was dropped.
pub async fn companion(
    url: &str,
    server_pid: Option<u32>,
    spec: &CompanionSpec,
) -> anyhow::Result<bool> {
    let stamp = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() % 100_000)
        .unwrap_or(0);
    eprintln!("   companion: registering {} accounts", spec.users);
    let tokens = rest::accounts(url, &format!("ai{stamp}_"), spec.users).await?;
    let mut users = Vec::with_capacity(spec.users);
    for token in tokens {
        users.push(open(url, token, &spec.bot).await?);
    }
    eprintln!(
        "   companion: {} users talking to {}",
        users.len(),
        spec.bot
    );
    let spec = Rc::new(spec.clone());
    let totals = Rc::new(RefCell::new(Totals::new()));
    let (stop_tx, stop) = watch::channel(false);
    let cpu = procfs::cpu_seconds(server_pid);
    let own_cpu = procfs::cpu_seconds(None);
    let started = Instant::now();
    let tasks: Vec<_> = (users.into_iter().enumerate())
        .map(|(i, (socket, room))| {
            tokio::task::spawn_local(talk(
                socket,
                room,
                i,
                Rc::clone(&spec),
                Rc::clone(&totals),
                stop.clone(),
            ))
        })
        .collect();
    let deadline = started + Duration::from_secs_f64(spec.secs);
    while Instant::now() < deadline
        && !spec.stop_file.as_ref().is_some_and(|file| file.exists())
        && !tasks.iter().all(|task| task.is_finished())
    {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    stop_tx.send_replace(true);
    for task in tasks {
        let _ = task.await;
    }
    let wall = started.elapsed().as_secs_f64();
    let server_cpu = super::delta(procfs::cpu_seconds(server_pid), cpu);
    let own_cpu = super::delta(procfs::cpu_seconds(None), own_cpu);
    let totals = totals.borrow();
    let mean_ms = |h: &Histogram<u64>| (!h.is_empty()).then(|| h.mean() / 1000.0);
    let result = json!({
        "kind": "companion",
        "users": spec.users,
        "bot": spec.bot,
        "secs": wall,
        "sent": totals.sent,
        "replies": totals.replies,
        "replies_per_s": totals.replies as f64 / wall,
        "ai_delta": totals.deltas,
        "ai_delta_per_s": totals.deltas as f64 / wall,
        "pieces_per_reply": totals.deltas as f64 / totals.replies.max(1) as f64,
        "reply_chars_mean": totals.reply_chars as f64 / totals.replies.max(1) as f64,
        "reply_ms_mean": mean_ms(&totals.reply_us),
        "reply_ms": latency_ms(&totals.reply_us),
        "first_piece_ms_mean": mean_ms(&totals.first_piece_us),
        "first_piece_ms": latency_ms(&totals.first_piece_us),
        "errors": totals.errors,
        "timeouts": totals.timeouts,
        "disconnected": totals.disconnected,
        "server_cpu_s": server_cpu,
        "generator_cpu_s": own_cpu,
    });
    eprintln!(
        "   companion: {} replies ({:.2}/s), {} pieces ({:.0}/s), mean reply {:.0} ms, errors {}",
        totals.replies,
        result["replies_per_s"].as_f64().unwrap_or(0.0),
        totals.deltas,
        result["ai_delta_per_s"].as_f64().unwrap_or(0.0),
        result["reply_ms_mean"].as_f64().unwrap_or(0.0),
        result["errors"]
    );
    println!("{result}");
    Ok(totals.replies > 0 && totals.timeouts == 0 && totals.disconnected == 0)
}
