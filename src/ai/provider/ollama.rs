//! Ollama's `/api/chat` wire format: one JSON request, and a reply of newline-delimited JSON
//! objects — `{"message":{"role":"assistant","content":"…"},"done":false}` per piece, then one
//! with `"done":true`. A failure while generating arrives as `{"error":"…"}` in the stream.
//!
//! Only the `content` of each message is text for the user (a reasoning model's `thinking`
//! stays out), and the server's error wording is not kept (see the parent module).

use super::{chat_messages, ChatMessage, Decoded, Prompt, ProviderError};
use serde::de::IgnoredAny;
use serde::{Deserialize, Serialize};

/// What the reply is asked to be.
pub(super) const ACCEPT: &str = "application/x-ndjson";

#[derive(Serialize)]
struct Request<'a> {
    model: &'a str,
    messages: Vec<ChatMessage<'a>>,
    stream: bool,
    options: Options,
}

/// Ollama takes sampling settings under `options`; `num_predict` is its `max_tokens`.
#[derive(Serialize)]
struct Options {
    temperature: f32,
    num_predict: u32,
}

/// The request body for `prompt`.
pub(super) fn body(model: &str, prompt: &Prompt) -> Vec<u8> {
    let request = Request {
        model,
        messages: chat_messages(prompt),
        stream: true,
        options: Options {
            temperature: prompt.temperature,
            num_predict: prompt.max_tokens,
        },
    };
    // Strings and numbers only: serialising cannot fail.
    serde_json::to_vec(&request).unwrap_or_default()
}

#[derive(Deserialize)]
struct Chunk {
    #[serde(default)]
    message: Option<Message>,
    #[serde(default)]
    done: bool,
    #[serde(default)]
    error: Option<IgnoredAny>,
}

#[derive(Deserialize)]
struct Message {
    #[serde(default)]
    content: Option<String>,
}

/// Reads the reply one line at a time.
#[derive(Debug, Default)]
pub(super) struct Decoder;

impl Decoder {
    pub(super) fn line(&mut self, line: &str, out: &mut Decoded) -> Result<(), ProviderError> {
        if line.trim().is_empty() {
            return Ok(());
        }
        let chunk: Chunk = serde_json::from_str(line)
            .map_err(|_| ProviderError::Malformed("a line that is not a chat chunk"))?;
        if chunk.error.is_some() {
            return Err(ProviderError::Model);
        }
        if let Some(content) = chunk.message.and_then(|m| m.content) {
            out.text.push_str(&content);
        }
        out.done |= chunk.done;
        Ok(())
    }

    /// The stream ended; without `"done":true` the reply is not whole.
    pub(super) fn end(&mut self, _out: &mut Decoded) -> Result<(), ProviderError> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::super::reply::Reader;
    use super::*;
    use crate::ai::provider::Speaker;
    use crate::config::AiProvider;

    const SAMPLE: &str = concat!(
        r#"{"model":"m","created_at":"2024-01-01T00:00:00Z","message":{"role":"assistant","content":"Hé"},"done":false}"#,
        "\n",
        r#"{"model":"m","message":{"role":"assistant","content":""},"done":false}"#,
        "\r\n\n",
        r#"{"model":"m","message":{"role":"assistant","content":"llo ✓","thinking":"hmm"},"done":false}"#,
        "\n",
        r#"{"model":"m","message":{"role":"assistant","content":""},"done":true,"done_reason":"stop","eval_count":3}"#,
        "\n",
    );

    /// Feeds `chunks` and returns the text, or the first error.
    fn read(chunks: &[&[u8]]) -> Result<(String, bool), ProviderError> {
        Reader::read_all(AiProvider::Ollama, chunks)
    }

    #[test]
    fn the_body_carries_model_turns_and_sampling() {
        let turns = [
            (Speaker::System, "be kind"),
            (Speaker::User, "hi"),
            (Speaker::Assistant, "hello"),
        ];
        let prompt = Prompt::of(&turns, 64, 0.5);
        let body: serde_json::Value = serde_json::from_slice(&body("llama3", &prompt)).unwrap();
        assert_eq!(
            body,
            serde_json::json!({
                "model": "llama3",
                "messages": [
                    {"role": "system", "content": "be kind"},
                    {"role": "user", "content": "hi"},
                    {"role": "assistant", "content": "hello"},
                ],
                "stream": true,
                "options": {"temperature": 0.5, "num_predict": 64},
            })
        );
    }

    #[test]
    fn a_reply_split_at_any_byte_reads_the_same() {
        Reader::assert_reads_however_split(AiProvider::Ollama, SAMPLE, "Héllo ✓");
    }

    #[test]
    fn what_follows_done_is_ignored() {
        let stream = format!("{SAMPLE}{{\"message\":{{\"content\":\"late\"}}}}\nnot json\n");
        assert_eq!(
            read(&[stream.as_bytes()]).unwrap(),
            ("Héllo ✓".into(), true)
        );
    }

    #[test]
    fn a_last_line_without_its_newline_still_counts() {
        let stream = SAMPLE.trim_end();
        assert_eq!(
            read(&[stream.as_bytes()]).unwrap(),
            ("Héllo ✓".into(), true)
        );
    }

    #[test]
    fn a_reply_without_done_is_not_finished() {
        let first_line = SAMPLE.lines().next().unwrap();
        assert_eq!(
            read(&[first_line.as_bytes()]).unwrap(),
            ("Hé".into(), false)
        );
    }

    #[test]
    fn malformed_lines_are_errors_not_panics() {
        for line in [
            "{\"message\":",
            "[1,2]",
            "42",
            "\"text\"",
            "{\"message\":{\"content\":7}}",
            "{\"done\":\"yes\"}",
            "data: {}",
        ] {
            let stream = format!("{line}\n");
            assert!(
                matches!(read(&[stream.as_bytes()]), Err(ProviderError::Malformed(_))),
                "{line}"
            );
        }
    }

    #[test]
    fn an_error_object_mid_stream_is_a_model_error() {
        let first_line = SAMPLE.lines().next().unwrap();
        let stream = format!("{first_line}\n{{\"error\":\"model 'm' not found\"}}\n");
        let error = read(&[stream.as_bytes()]).unwrap_err();
        assert!(matches!(error, ProviderError::Model));
        assert!(!error.to_string().contains("not found"));
    }

    #[test]
    fn an_overlong_line_is_malformed() {
        let line = format!(
            "{{\"message\":{{\"content\":\"{}\"}}}}\n",
            "a".repeat(70_000)
        );
        assert!(matches!(
            read(&[line.as_bytes()]),
            Err(ProviderError::Malformed(_))
        ));
    }
}
