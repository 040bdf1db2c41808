//! Just enough of Parlor's REST API to set up a persistent-room run: register key accounts, log
//! them in for a session token, and create the room. Plain HTTP/1.1 over loopback, one request
//! per connection — a handful of set-up calls do not need an HTTP client library.

use anyhow::{bail, ensure, Context};
use futures_util::StreamExt;
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// `POST base+path` with a JSON body; returns the status and the response body.
async fn post(
    base: &str,
    path: &str,
    body: &Value,
    bearer: Option<&str>,
) -> anyhow::Result<(u16, Value)> {
    let authority = base.strip_prefix("http://").context("only http:// URLs")?;
    let mut stream = TcpStream::connect(authority).await?;
    let body = body.to_string();
    let auth = bearer.map_or(String::new(), |token| {
        format!("Authorization: Bearer {token}\r\n")
    });
    let request = format!(
        "POST {path} HTTP/1.1\r\nHost: {authority}\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\n{auth}Connection: close\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).await?;
    response(stream, path).await
}

/// Reads a whole `Connection: close` response: its status and its JSON body (`null` if none).
async fn response(mut stream: TcpStream, path: &str) -> anyhow::Result<(u16, Value)> {
    let mut response = Vec::new();
    stream.read_to_end(&mut response).await?;
    let response = String::from_utf8_lossy(&response);
    let Some((head, body)) = response.split_once("\r\n\r\n") else {
        bail!("{path}: malformed response");
    };
    ensure!(
        !head
            .to_ascii_lowercase()
            .contains("transfer-encoding: chunked"),
        "{path}: chunked responses are not supported"
    );
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|code| code.parse().ok())
        .context("no status line")?;
    Ok((status, serde_json::from_str(body).unwrap_or(Value::Null)))
}

/// The session token of a login or guest reply.
fn token(body: &Value) -> anyhow::Result<String> {
    Ok(body["token"]
        .as_str()
        .context("no token in the reply")?
        .to_owned())
}

/// Registers a key account called `name` and logs it in; returns its session token.
async fn account(base: &str, name: &str) -> anyhow::Result<String> {
    let (status, body) = post(base, "/api/register", &json!({ "username": name }), None).await?;
    ensure!(status == 201, "registering {name}: HTTP {status} {body}");
    let key = body["key"].as_str().context("no key in the reply")?;
    let (status, body) = post(base, "/api/login", &json!({ "key": key }), None).await?;
    ensure!(status == 200, "logging in {name}: HTTP {status} {body}");
    token(&body)
}

/// Session tokens for `count` new accounts `prefix0`, `prefix1`, …, a few at a time.
pub async fn accounts(base: &str, prefix: &str, count: usize) -> anyhow::Result<Vec<String>> {
    futures_util::stream::iter(0..count)
        .map(|i| async move { account(base, &format!("{prefix}{i}")).await })
        .buffered(16)
        .collect::<Vec<_>>()
        .await
        .into_iter()
        .collect()
}

/// Creates a public persistent room owned by the token's account.
pub async fn create_room(base: &str, token: &str, slug: &str) -> anyhow::Result<()> {
    let (status, body) = post(base, "/api/rooms", &json!({ "slug": slug }), Some(token)).await?;
    ensure!(status == 201, "creating room {slug}: HTTP {status} {body}");
    Ok(())
}

/// A guest's session token (guests need no registration, which is throttled per address).
pub async fn guest(base: &str, nick: &str) -> anyhow::Result<String> {
    let (status, body) = post(base, "/api/guest", &json!({ "nick": nick }), None).await?;
    ensure!(status == 201, "guest {nick}: HTTP {status} {body}");
    token(&body)
}

/// Uploads `len` bytes of text to `room` as a raw body, written 64 KiB at a time from one
/// reused buffer (so the generator's memory stays flat too); returns the status and body.
pub async fn upload(
    base: &str,
    token: &str,
    room: &str,
    name: &str,
    len: usize,
) -> anyhow::Result<(u16, Value)> {
    let authority = base.strip_prefix("http://").context("only http:// URLs")?;
    let mut stream = TcpStream::connect(authority).await?;
    let head = format!(
        "POST /api/files?room={room}&name={name} HTTP/1.1\r\nHost: {authority}\r\n\
         Authorization: Bearer {token}\r\nContent-Type: application/octet-stream\r\n\
         Content-Length: {len}\r\nConnection: close\r\n\r\n"
    );
    stream.write_all(head.as_bytes()).await?;
    let line = b"Parlor upload benchmark: plain text that streams through sealing.\n";
    let block: Vec<u8> = line.iter().copied().cycle().take(64 * 1024).collect();
    let mut left = len;
    while left > 0 {
        let n = left.min(block.len());
        stream.write_all(&block[..n]).await?;
        left -= n;
    }
    response(stream, "/api/files").await
}
