//! A minimal WebSocket client (RFC 6455) made for load generation: one read fills a buffer
//! and every complete frame in it is handed over as a borrowed slice — no allocation, no copy,
//! no per-frame wake-up. Sends are appended to an output buffer and written with one syscall.
//!
//! It supports what a benchmark client needs — the upgrade handshake, text frames, ping/pong,
//! close — and nothing more (no TLS, no extensions, no fragmented messages).

use anyhow::{bail, Context};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const OP_TEXT: u8 = 0x1;
const OP_CLOSE: u8 = 0x8;
const OP_PING: u8 = 0x9;

pub struct RawWs {
    stream: TcpStream,
    input: Vec<u8>,
    /// Bytes of `input` already consumed.
    read_pos: usize,
    output: Vec<u8>,
    mask_state: u32,
}

/// A frame found in the input buffer.
pub enum Frame<'a> {
    Text(&'a str),
    Ping(&'a [u8]),
    Close,
    Other,
}

impl RawWs {
    /// Connects to `ws://host:port{path}` and completes the upgrade.
    pub async fn connect(url: &str) -> anyhow::Result<Self> {
        let rest = url.strip_prefix("ws://").context("only ws:// URLs")?;
        let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
        let path = if path.is_empty() { "/" } else { path };
        let stream = TcpStream::connect(authority).await.context("tcp connect")?;
        stream.set_nodelay(true)?;
        let mut ws = Self {
            stream,
            input: Vec::with_capacity(4096),
            read_pos: 0,
            output: Vec::new(),
            mask_state: 0x9e37_79b9,
        };
        let request = format!(
            "GET {path} HTTP/1.1\r\nHost: {authority}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
             Sec-WebSocket-Key: cGFybG9yLWxvYWRnZW4hIQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
        );
        ws.stream.write_all(request.as_bytes()).await?;
        loop {
            if let Some(end) = find(&ws.input, b"\r\n\r\n") {
                let head = String::from_utf8_lossy(&ws.input[..end]).into_owned();
                if !head.starts_with("HTTP/1.1 101") {
                    bail!(
                        "upgrade refused: {}",
                        head.lines().next().unwrap_or_default()
                    );
                }
                ws.read_pos = end + 4;
                return Ok(ws);
            }
            if ws.fill().await? == 0 {
                bail!("closed during the upgrade");
            }
        }
    }

    /// Reads whatever the socket has (waiting for at least one byte); 0 means closed.
    /// Cancel-safe: nothing is lost if the future is dropped.
    pub async fn fill(&mut self) -> anyhow::Result<usize> {
        if self.read_pos > 0 && self.read_pos == self.input.len() {
            self.input.clear();
            self.read_pos = 0;
        } else if self.read_pos > self.input.capacity() / 2 {
            self.input.drain(..self.read_pos);
            self.read_pos = 0;
        }
        if self.input.capacity() - self.input.len() < 2048 {
            self.input.reserve(self.input.capacity().max(4096));
        }
        Ok(self.stream.read_buf(&mut self.input).await?)
    }

    /// The next complete frame in the buffer, if any.
    pub fn next_frame(&mut self) -> Option<Frame<'_>> {
        let buf = &self.input[self.read_pos..];
        if buf.len() < 2 {
            return None;
        }
        let opcode = buf[0] & 0x0f;
        let masked = buf[1] & 0x80 != 0;
        let (len, mut header) = match buf[1] & 0x7f {
            126 if buf.len() >= 4 => (u16::from_be_bytes([buf[2], buf[3]]) as usize, 4),
            127 if buf.len() >= 10 => {
                (u64::from_be_bytes(buf[2..10].try_into().ok()?) as usize, 10)
            }
            126 | 127 => return None,
            small => (small as usize, 2),
        };
        if masked {
            header += 4; // servers do not mask; skip a key if one is there anyway
        }
        if buf.len() < header + len {
            return None;
        }
        let start = self.read_pos + header;
        self.read_pos = start + len;
        let payload = &self.input[start..start + len];
        Some(match opcode {
            OP_TEXT => Frame::Text(std::str::from_utf8(payload).unwrap_or("")),
            OP_PING => Frame::Ping(payload),
            OP_CLOSE => Frame::Close,
            _ => Frame::Other,
        })
    }

    /// Appends a masked frame to the output buffer (written by [`RawWs::flush`]).
    pub fn queue(&mut self, opcode: u8, payload: &[u8]) {
        self.output.push(0x80 | opcode);
        match payload.len() {
            n if n < 126 => self.output.push(0x80 | n as u8),
            n if n < 65_536 => {
                self.output.push(0x80 | 126);
                self.output.extend_from_slice(&(n as u16).to_be_bytes());
            }
            n => {
                self.output.push(0x80 | 127);
                self.output.extend_from_slice(&(n as u64).to_be_bytes());
            }
        }
        // xorshift: clients must mask; the key need not be secret here.
        self.mask_state ^= self.mask_state << 13;
        self.mask_state ^= self.mask_state >> 17;
        self.mask_state ^= self.mask_state << 5;
        let key = self.mask_state.to_be_bytes();
        self.output.extend_from_slice(&key);
        self.output
            .extend(payload.iter().enumerate().map(|(i, b)| b ^ key[i % 4]));
    }

    pub fn queue_text(&mut self, text: &str) {
        self.queue(OP_TEXT, text.as_bytes());
    }

    pub fn queue_pong(&mut self, payload: &[u8]) {
        let payload = payload.to_vec();
        self.queue(0xA, &payload);
    }

    pub fn has_output(&self) -> bool {
        !self.output.is_empty()
    }

    /// Writes everything queued in one go.
    pub async fn flush(&mut self) -> anyhow::Result<()> {
        if !self.output.is_empty() {
            self.stream.write_all(&self.output).await?;
            self.output.clear();
        }
        Ok(())
    }

    /// Waits for the next text frame (handshake use; answers pings on the way).
    pub async fn next_text(&mut self) -> anyhow::Result<String> {
        loop {
            let mut pong = None;
            match self.next_frame() {
                Some(Frame::Text(text)) => return Ok(text.to_owned()),
                Some(Frame::Ping(payload)) => pong = Some(payload.to_vec()),
                Some(Frame::Close) => bail!("closed by the server"),
                Some(Frame::Other) => {}
                None => {
                    if self.fill().await? == 0 {
                        bail!("connection closed");
                    }
                }
            }
            if let Some(payload) = pong {
                self.queue_pong(&payload);
                self.flush().await?;
            }
        }
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}
