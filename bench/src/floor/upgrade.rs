//! The HTTP side of the floor writer: a WebSocket upgrade on any path, and `GET /health` (what
//! `bench/run.sh` polls until a server is up). Nothing else: other requests get a 404.

use anyhow::{bail, Context};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// The longest request head accepted.
const MAX_HEAD: usize = 8 * 1024;

/// Reads a request head. For a WebSocket upgrade, answers `101` and returns whatever the
/// client sent after the head (the start of its first frames); for anything else, answers and
/// returns `None` (the caller closes).
pub async fn accept(stream: &mut TcpStream) -> anyhow::Result<Option<Vec<u8>>> {
    let mut buf = Vec::with_capacity(1024);
    let end = loop {
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break end;
        }
        if buf.len() > MAX_HEAD {
            bail!("request head longer than {MAX_HEAD} bytes");
        }
        if stream.read_buf(&mut buf).await? == 0 {
            bail!("closed before the request head ended");
        }
    };
    let head = std::str::from_utf8(&buf[..end]).context("request head is not UTF-8")?;
    let path = head.split(' ').nth(1).unwrap_or("/");
    let key = head
        .lines()
        .filter_map(|line| line.split_once(':'))
        .find(|(name, _)| name.trim().eq_ignore_ascii_case("sec-websocket-key"))
        .map(|(_, value)| value.trim());
    let response = match key {
        Some(key) => format!(
            "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
             Sec-WebSocket-Accept: {}\r\n\r\n",
            accept_key(key)
        ),
        None if path == "/health" => plain("200 OK", "ok\n"),
        None => plain("404 Not Found", "the floor writer only speaks WebSocket\n"),
    };
    stream.write_all(response.as_bytes()).await?;
    Ok(key.is_some().then(|| buf.split_off(end + 4)))
}

fn plain(status: &str, body: &str) -> String {
    format!(
        "HTTP/1.1 {status}\r\nContent-Type: text/plain\r\nContent-Length: {}\r\n\
         Connection: close\r\n\r\n{body}",
        body.len()
    )
}

/// `Sec-WebSocket-Accept` for a client's `Sec-WebSocket-Key` (RFC 6455, section 4.2.2).
fn accept_key(key: &str) -> String {
    const GUID: &str = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
    use base64::Engine;
    use sha1::Digest;
    let digest = sha1::Sha1::digest(format!("{key}{GUID}").as_bytes());
    base64::engine::general_purpose::STANDARD.encode(digest)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_accept_key_matches_rfc_6455s_example() {
        assert_eq!(
            accept_key("dGhlIHNhbXBsZSBub25jZQ=="),
            "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
        );
    }
}
