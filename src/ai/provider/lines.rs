//! Lines out of a byte stream that arrives in arbitrary pieces, with a bound on their length.
//!
//! Both wire formats are line-based (NDJSON, and server-sent events), and the network splits a
//! reply wherever it likes: in the middle of a line, or in the middle of a UTF-8 character.
//! Only whole lines are decoded as text, so a character cut in two is joined again before
//! anyone looks at it. A line may not grow past [`MAX_LINE`]: a model server that never sends a
//! newline gets a [`Malformed`](ProviderError::Malformed) error, not our memory.

use super::ProviderError;

/// The longest line accepted (a token's JSON chunk is a few hundred bytes).
pub(super) const MAX_LINE: usize = 64 * 1024;

/// The unfinished last line of what has arrived so far.
#[derive(Debug, Default)]
pub(super) struct Lines {
    partial: Vec<u8>,
}

impl Lines {
    /// Adds `chunk` and hands each line it completes (without `\n` or `\r\n`) to `line`,
    /// stopping at the first error `line` returns.
    pub(super) fn feed(
        &mut self,
        mut chunk: &[u8],
        mut line: impl FnMut(&str) -> Result<(), ProviderError>,
    ) -> Result<(), ProviderError> {
        while let Some(end) = chunk.iter().position(|&b| b == b'\n') {
            self.keep(&chunk[..end])?;
            chunk = &chunk[end + 1..];
            line(&self.take()?)?;
        }
        self.keep(chunk)
    }

    /// What is left when the stream ends: a last line without its newline, if any.
    pub(super) fn finish(&mut self) -> Result<Option<String>, ProviderError> {
        if self.partial.is_empty() {
            return Ok(None);
        }
        self.take().map(Some)
    }

    fn keep(&mut self, bytes: &[u8]) -> Result<(), ProviderError> {
        if self.partial.len() + bytes.len() > MAX_LINE {
            return Err(ProviderError::Malformed("a line longer than 64 KiB"));
        }
        self.partial.extend_from_slice(bytes);
        Ok(())
    }

    fn take(&mut self) -> Result<String, ProviderError> {
        let mut bytes = std::mem::take(&mut self.partial);
        if bytes.last() == Some(&b'\r') {
            bytes.pop();
        }
        String::from_utf8(bytes).map_err(|_| ProviderError::Malformed("a line that is not UTF-8"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines_of(chunks: &[&[u8]]) -> Result<Vec<String>, ProviderError> {
        let mut lines = Lines::default();
        let mut out = Vec::new();
        for chunk in chunks {
            lines.feed(chunk, |line| {
                out.push(line.to_owned());
                Ok(())
            })?;
        }
        out.extend(lines.finish()?);
        Ok(out)
    }

    #[test]
    fn lines_split_anywhere_come_out_whole() {
        let text = "héllo\r\nwörld ✓\n\nlast".as_bytes();
        for cut in 0..=text.len() {
            let (a, b) = text.split_at(cut);
            assert_eq!(
                lines_of(&[a, b]).unwrap(),
                ["héllo", "wörld ✓", "", "last"],
                "cut at {cut}"
            );
        }
    }

    #[test]
    fn a_line_longer_than_the_limit_is_refused_even_in_small_pieces() {
        let mut lines = Lines::default();
        let piece = [b'a'; 1024];
        let mut refused = false;
        for _ in 0..=MAX_LINE / piece.len() {
            if lines.feed(&piece, |_| Ok(())).is_err() {
                refused = true;
                break;
            }
        }
        assert!(refused);
        assert!(lines.partial.len() <= MAX_LINE);
    }

    #[test]
    fn a_line_of_exactly_the_limit_is_accepted() {
        let mut line = vec![b'a'; MAX_LINE];
        line.push(b'\n');
        assert_eq!(lines_of(&[&line]).unwrap()[0].len(), MAX_LINE);
    }

    #[test]
    fn bytes_that_are_not_utf8_are_malformed() {
        assert!(matches!(
            lines_of(&[b"ok\n\xff\xfe\n"]),
            Err(ProviderError::Malformed(_))
        ));
    }
}
