//! WebSocket frames (RFC 6455) as the floor writer needs them: server frames encoded once into
//! shared bytes (servers do not mask, so one encoding is valid on every socket), and client
//! frames decoded in place in the connection's read buffer.
//!
//! Only what the generator sends is accepted: masked, unfragmented text, ping and close
//! frames. Anything else is refused and the connection closed; the floor is not a general
//! WebSocket server.

use std::rc::Rc;

const OP_TEXT: u8 = 0x1;
const OP_CLOSE: u8 = 0x8;
const OP_PING: u8 = 0x9;
const OP_PONG: u8 = 0xA;

/// One encoded server frame, shared by every socket it goes to.
pub type Encoded = Rc<[u8]>;

/// A text frame.
pub fn text(payload: &str) -> Encoded {
    encode(OP_TEXT, payload.as_bytes())
}

/// The answer to a client's ping.
pub fn pong(payload: &[u8]) -> Encoded {
    encode(OP_PONG, payload)
}

/// The answer to a client's close frame.
pub fn close() -> Encoded {
    encode(OP_CLOSE, &[])
}

fn encode(opcode: u8, payload: &[u8]) -> Encoded {
    let mut out = Vec::with_capacity(payload.len() + 10);
    out.push(0x80 | opcode);
    match payload.len() {
        n if n < 126 => out.push(n as u8),
        n if n <= usize::from(u16::MAX) => {
            out.push(126);
            out.extend_from_slice(&(n as u16).to_be_bytes());
        }
        n => {
            out.push(127);
            out.extend_from_slice(&(n as u64).to_be_bytes());
        }
    }
    out.extend_from_slice(payload);
    out.into()
}

/// A client frame, borrowed from the read buffer (already unmasked).
#[derive(Debug, PartialEq, Eq)]
pub enum Inbound<'a> {
    Text(&'a str),
    Ping(&'a [u8]),
    Close,
    /// A pong or a binary frame: ignored.
    Other,
}

/// Why a client frame was refused.
#[derive(Debug, PartialEq, Eq)]
pub enum Refused {
    Unmasked,
    Fragmented,
    TooLarge,
    NotUtf8,
}

/// Decodes the complete frame at the start of `buf`, unmasking it in place: the frame and the
/// bytes it took, or `None` while it is incomplete. Frames longer than `max` are refused.
pub fn decode(buf: &mut [u8], max: usize) -> Result<Option<(Inbound<'_>, usize)>, Refused> {
    if buf.len() < 2 {
        return Ok(None);
    }
    let (fin, opcode) = (buf[0] & 0x80 != 0, buf[0] & 0x0f);
    if buf[1] & 0x80 == 0 {
        return Err(Refused::Unmasked);
    }
    if !fin || opcode == 0 {
        return Err(Refused::Fragmented);
    }
    let (len, header) = match buf[1] & 0x7f {
        126 if buf.len() >= 4 => (u64::from(u16::from_be_bytes([buf[2], buf[3]])), 4),
        127 if buf.len() >= 10 => {
            let mut bytes = [0; 8];
            bytes.copy_from_slice(&buf[2..10]);
            (u64::from_be_bytes(bytes), 10)
        }
        126 | 127 => return Ok(None),
        small => (u64::from(small), 2),
    };
    let len = usize::try_from(len)
        .ok()
        .filter(|&len| len <= max)
        .ok_or(Refused::TooLarge)?;
    let start = header + 4;
    if buf.len() < start + len {
        return Ok(None);
    }
    let key = [
        buf[header],
        buf[header + 1],
        buf[header + 2],
        buf[header + 3],
    ];
    let payload = &mut buf[start..start + len];
    for (i, byte) in payload.iter_mut().enumerate() {
        *byte ^= key[i % 4];
    }
    let payload = &buf[start..start + len];
    let frame = match opcode {
        OP_TEXT => Inbound::Text(std::str::from_utf8(payload).map_err(|_| Refused::NotUtf8)?),
        OP_PING => Inbound::Ping(payload),
        OP_CLOSE => Inbound::Close,
        _ => Inbound::Other,
    };
    Ok(Some((frame, start + len)))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A masked client frame, as a browser or the generator sends it.
    fn client_frame(opcode: u8, payload: &[u8]) -> Vec<u8> {
        let key = [0x37, 0xfa, 0x21, 0x3d];
        let mut out = vec![0x80 | opcode];
        match payload.len() {
            n if n < 126 => out.push(0x80 | n as u8),
            n => {
                out.push(0x80 | 126);
                out.extend_from_slice(&(n as u16).to_be_bytes());
            }
        }
        out.extend_from_slice(&key);
        out.extend(payload.iter().enumerate().map(|(i, b)| b ^ key[i % 4]));
        out
    }

    #[test]
    fn client_frames_are_unmasked_in_place() {
        let mut buf = client_frame(OP_TEXT, b"Hello");
        buf.extend(client_frame(OP_PING, b"p"));
        let (frame, used) = decode(&mut buf, 100).unwrap().unwrap();
        assert_eq!((frame, used), (Inbound::Text("Hello"), 11));
        let (frame, _) = decode(&mut buf[11..], 100).unwrap().unwrap();
        assert_eq!(frame, Inbound::Ping(b"p"));
    }

    #[test]
    fn incomplete_and_oversized_frames_wait_or_are_refused() {
        let text = "x".repeat(300);
        let mut buf = client_frame(OP_TEXT, text.as_bytes());
        assert_eq!(decode(&mut buf[..100], 1000), Ok(None));
        assert_eq!(decode(&mut buf, 200), Err(Refused::TooLarge));
        let (frame, used) = decode(&mut buf, 1000).unwrap().unwrap();
        assert_eq!((frame, used), (Inbound::Text(text.as_str()), 308));
        let mut unmasked = vec![0x81, 0x01, b'x'];
        assert_eq!(decode(&mut unmasked, 100), Err(Refused::Unmasked));
    }

    #[test]
    fn server_frames_are_unmasked_with_the_shortest_length() {
        assert_eq!(&text("Hi")[..], &[0x81, 2, b'H', b'i']);
        let long = text(&"y".repeat(200));
        assert_eq!(&long[..4], &[0x81, 126, 0, 200]);
        assert_eq!(long.len(), 204);
    }
}
