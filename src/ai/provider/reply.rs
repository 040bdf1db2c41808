//! A reply in flight: the response body's bytes, read into text under the two deadlines.
//!
//! The first-token deadline runs from the request until the first non-empty piece of text (a
//! role-only chunk or a keep-alive does not stop it: a server that only says it is alive is
//! still not answering); the request deadline over everything. Both are checked on every wait
//! for the next chunk, so a server that trickles tokens forever is cut off while it streams,
//! not only while the headers are awaited. Deadlines are instants on the service's [`Clock`],
//! fixed when the request starts, so a test that moves a manual clock sees them pass at once.

use super::lines::Lines;
use super::{ollama, openai, Decoded, ProviderError, ReplyStream};
use crate::clock::Clock;
use crate::config::AiProvider;
use bytes::Bytes;
use futures_util::{Stream, StreamExt};
use std::future::Future;
use std::pin::Pin;
use std::time::{Duration, Instant};

/// When a reply must have started, and finished.
pub(super) struct Deadlines {
    clock: Clock,
    first_text: Instant,
    whole: Instant,
}

impl Deadlines {
    pub(super) fn starting_now(clock: &Clock, first_token: Duration, request: Duration) -> Self {
        let now = clock.instant();
        Self {
            clock: clock.clone(),
            first_text: now + first_token,
            whole: now + request,
        }
    }

    /// Runs `work` until the deadline that holds before any text has come.
    pub(super) async fn before_text<T>(
        &self,
        work: impl Future<Output = T>,
    ) -> Result<T, ProviderError> {
        self.run(false, work).await
    }

    async fn run<T>(
        &self,
        seen_text: bool,
        work: impl Future<Output = T>,
    ) -> Result<T, ProviderError> {
        let (at, error) = if seen_text || self.whole <= self.first_text {
            (self.whole, ProviderError::ReplyTimeout)
        } else {
            (self.first_text, ProviderError::FirstTokenTimeout)
        };
        let left = at.saturating_duration_since(self.clock.instant());
        // Checked before the body is polled: a server whose next chunk is always ready
        // would otherwise never let the deadline be seen.
        if left.is_zero() {
            return Err(error);
        }
        tokio::select! {
            biased;
            done = work => Ok(done),
            () = self.clock.sleep(left) => Err(error),
        }
    }
}

/// One wire format's reader.
#[derive(Debug)]
enum Decoder {
    Ollama(ollama::Decoder),
    Openai(openai::Decoder),
}

/// Bytes in, text out: lines cut by [`Lines`], decoded by the wire format.
#[derive(Debug)]
pub(super) struct Reader {
    lines: Lines,
    decoder: Decoder,
}

impl Reader {
    pub(super) fn new(kind: AiProvider) -> Self {
        let decoder = match kind {
            AiProvider::Ollama => Decoder::Ollama(ollama::Decoder),
            AiProvider::Openai => Decoder::Openai(openai::Decoder::default()),
        };
        Self {
            lines: Lines::default(),
            decoder,
        }
    }

    /// The text of the lines `chunk` completes, up to the end marker.
    pub(super) fn feed(&mut self, chunk: &[u8]) -> Result<Decoded, ProviderError> {
        let mut out = Decoded::default();
        let decoder = &mut self.decoder;
        self.lines.feed(chunk, |line| {
            if out.done {
                return Ok(());
            }
            decoder.line(line, &mut out)
        })?;
        Ok(out)
    }

    /// The stream ended: what its last, unterminated line held, and whether it was whole.
    pub(super) fn finish(&mut self) -> Result<Decoded, ProviderError> {
        let mut out = Decoded::default();
        if let Some(line) = self.lines.finish()? {
            self.decoder.line(&line, &mut out)?;
        }
        if !out.done {
            self.decoder.end(&mut out)?;
        }
        Ok(out)
    }

    /// Test help for the wire formats: feeds `chunks` to a fresh reader of `kind` and returns
    /// the text and whether the end marker came, or the first error.
    #[cfg(test)]
    pub(super) fn read_all(
        kind: AiProvider,
        chunks: &[&[u8]],
    ) -> Result<(String, bool), ProviderError> {
        let mut reader = Self::new(kind);
        let mut text = String::new();
        for chunk in chunks {
            let out = reader.feed(chunk)?;
            text.push_str(&out.text);
            if out.done {
                return Ok((text, true));
            }
        }
        let out = reader.finish()?;
        text.push_str(&out.text);
        Ok((text, out.done))
    }

    /// Test help: `sample` reads as the whole reply `want` however the network cuts it — in two
    /// at every byte, and one byte at a time.
    #[cfg(test)]
    pub(super) fn assert_reads_however_split(kind: AiProvider, sample: &str, want: &str) {
        let bytes = sample.as_bytes();
        let whole = (want.to_owned(), true);
        for cut in 0..=bytes.len() {
            let (a, b) = bytes.split_at(cut);
            assert_eq!(
                Self::read_all(kind, &[a, b]).unwrap(),
                whole,
                "cut at {cut}"
            );
        }
        let singles: Vec<&[u8]> = bytes.chunks(1).collect();
        assert_eq!(Self::read_all(kind, &singles).unwrap(), whole);
    }
}

impl Decoder {
    fn line(&mut self, line: &str, out: &mut Decoded) -> Result<(), ProviderError> {
        match self {
            Self::Ollama(decoder) => decoder.line(line, out),
            Self::Openai(decoder) => decoder.line(line, out),
        }
    }

    fn end(&mut self, out: &mut Decoded) -> Result<(), ProviderError> {
        match self {
            Self::Ollama(decoder) => decoder.end(out),
            Self::Openai(decoder) => decoder.end(out),
        }
    }
}

type Body = Pin<Box<dyn Stream<Item = reqwest::Result<Bytes>> + Send>>;

/// The reply being read.
struct Reply {
    body: Body,
    reader: Reader,
    deadlines: Deadlines,
    seen_text: bool,
    /// The end marker came, or an error: nothing more is read.
    over: bool,
}

/// The text of a response body, as a stream that ends after the end marker or one error.
pub(super) fn stream(
    body: impl Stream<Item = reqwest::Result<Bytes>> + Send + 'static,
    reader: Reader,
    deadlines: Deadlines,
) -> ReplyStream {
    let reply = Reply {
        body: Box::pin(body),
        reader,
        deadlines,
        seen_text: false,
        over: false,
    };
    Box::pin(futures_util::stream::unfold(
        reply,
        |mut reply| async move {
            let piece = reply.next_piece().await?;
            Some((piece, reply))
        },
    ))
}

impl Reply {
    async fn next_piece(&mut self) -> Option<Result<String, ProviderError>> {
        if self.over {
            return None;
        }
        let piece = self.read().await;
        if piece.is_err() {
            self.over = true;
        }
        piece.transpose()
    }

    /// The next non-empty text, `None` after the end marker.
    async fn read(&mut self) -> Result<Option<String>, ProviderError> {
        while !self.over {
            let next = self.deadlines.run(self.seen_text, self.body.next()).await?;
            let decoded = match next {
                Some(Ok(chunk)) => self.reader.feed(&chunk)?,
                Some(Err(broken)) => {
                    return Err(ProviderError::Interrupted(Some(broken.without_url())))
                }
                None => {
                    let last = self.reader.finish()?;
                    if !last.done {
                        return Err(ProviderError::Interrupted(None));
                    }
                    last
                }
            };
            self.over = decoded.done;
            if !decoded.text.is_empty() {
                self.seen_text = true;
                return Ok(Some(decoded.text));
            }
        }
        Ok(None)
    }
}
