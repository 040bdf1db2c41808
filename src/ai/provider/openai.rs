//! OpenAI's `/v1/chat/completions` wire format with `"stream": true`: one JSON request, and a
//! reply of server-sent events — `data: {"choices":[{"delta":{"content":"…"}}]}` per piece
//! (the first often carries only the role), then `data: [DONE]`.
//!
//! Events are read as the SSE specification says (`data:` lines joined until a blank line;
//! comments, `event:`, `id:` and `retry:` understood) but nothing else is let through: a line
//! that is no SSE field, or an event that is not a JSON chunk, is
//! [`Malformed`](ProviderError::Malformed). An `error` event or object is a
//! [`Model`](ProviderError::Model) error. Servers that close the stream after a
//! `finish_reason` without sending `[DONE]` are taken at their word.

use super::lines::MAX_LINE;
use super::{chat_messages, ChatMessage, Decoded, Prompt, ProviderError};
use serde::de::IgnoredAny;
use serde::{Deserialize, Serialize};

/// What the reply is asked to be.
pub(super) const ACCEPT: &str = "text/event-stream";

#[derive(Serialize)]
struct Request<'a> {
    model: &'a str,
    messages: Vec<ChatMessage<'a>>,
    stream: bool,
    max_tokens: u32,
    temperature: f32,
}

/// The request body for `prompt`.
pub(super) fn body(model: &str, prompt: &Prompt) -> Vec<u8> {
    let request = Request {
        model,
        messages: chat_messages(prompt),
        stream: true,
        max_tokens: prompt.max_tokens,
        temperature: prompt.temperature,
    };
    // Strings and numbers only: serialising cannot fail.
    serde_json::to_vec(&request).unwrap_or_default()
}

#[derive(Deserialize)]
struct Chunk {
    #[serde(default)]
    choices: Option<Vec<Choice>>,
    #[serde(default)]
    error: Option<IgnoredAny>,
}

#[derive(Deserialize)]
struct Choice {
    #[serde(default)]
    delta: Option<Delta>,
    #[serde(default)]
    finish_reason: Option<IgnoredAny>,
}

#[derive(Deserialize)]
struct Delta {
    #[serde(default)]
    content: Option<String>,
}

/// The event being read: its `data` lines so far and its type.
#[derive(Debug, Default)]
pub(super) struct Decoder {
    data: Option<String>,
    event: Option<String>,
    /// A choice said why it finished: the reply is whole even if `[DONE]` never comes.
    finished: bool,
}

impl Decoder {
    pub(super) fn line(&mut self, line: &str, out: &mut Decoded) -> Result<(), ProviderError> {
        if line.is_empty() {
            return self.dispatch(out);
        }
        if line.starts_with(':') {
            return Ok(()); // a comment, often a keep-alive
        }
        let (field, value) = match line.split_once(':') {
            Some((field, value)) => (field, value.strip_prefix(' ').unwrap_or(value)),
            None => (line, ""),
        };
        match field {
            "data" => {
                let data = match self.data.as_mut() {
                    Some(data) => {
                        data.push('\n');
                        data
                    }
                    None => self.data.insert(String::new()),
                };
                if data.len() + value.len() > MAX_LINE {
                    return Err(ProviderError::Malformed("an event longer than 64 KiB"));
                }
                data.push_str(value);
            }
            "event" => self.event = Some(value.to_owned()),
            "id" | "retry" => {}
            _ => {
                return Err(ProviderError::Malformed(
                    "a line that is not a server-sent event",
                ))
            }
        }
        Ok(())
    }

    /// The stream ended: an event still open counts (some servers omit the last blank line).
    pub(super) fn end(&mut self, out: &mut Decoded) -> Result<(), ProviderError> {
        self.dispatch(out)?;
        out.done |= self.finished;
        Ok(())
    }

    /// A blank line: the event read so far is complete.
    fn dispatch(&mut self, out: &mut Decoded) -> Result<(), ProviderError> {
        let event = self.event.take();
        let Some(data) = self.data.take() else {
            return Ok(());
        };
        if event.as_deref() == Some("error") {
            return Err(ProviderError::Model);
        }
        if data.trim() == "[DONE]" {
            out.done = true;
            return Ok(());
        }
        let chunk: Chunk = serde_json::from_str(&data)
            .map_err(|_| ProviderError::Malformed("an event that is not a chat chunk"))?;
        if chunk.error.is_some() {
            return Err(ProviderError::Model);
        }
        for choice in chunk.choices.into_iter().flatten() {
            if let Some(content) = choice.delta.and_then(|delta| delta.content) {
                out.text.push_str(&content);
            }
            self.finished |= choice.finish_reason.is_some();
        }
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
        ": keep-alive\n\n",
        r#"data: {"id":"c1","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"role":"assistant"},"finish_reason":null}]}"#,
        "\n\n",
        r#"data: {"id":"c1","choices":[{"index":0,"delta":{"content":"Hé"},"finish_reason":null}]}"#,
        "\r\n\r\n",
        r#"data: {"id":"c1","choices":[{"index":0,"delta":{"content":""}}]}"#,
        "\n\n",
        "id: 7\nevent: message\nretry: 100\n",
        r#"data: {"id":"c1","choices":[{"index":0,"delta":{"content":"llo ✓"}}]}"#,
        "\n\n",
        r#"data: {"id":"c1","choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}"#,
        "\n\n",
        r#"data: {"id":"c1","choices":[],"usage":{"completion_tokens":3}}"#,
        "\n\n",
        "data: [DONE]\n\n",
    );

    fn read(chunks: &[&[u8]]) -> Result<(String, bool), ProviderError> {
        Reader::read_all(AiProvider::Openai, chunks)
    }

    #[test]
    fn the_body_carries_model_turns_and_sampling() {
        let prompt = Prompt::of(
            &[(Speaker::System, "be kind"), (Speaker::User, "hi")],
            32,
            1.25,
        );
        let body: serde_json::Value = serde_json::from_slice(&body("gpt", &prompt)).unwrap();
        assert_eq!(
            body,
            serde_json::json!({
                "model": "gpt",
                "messages": [
                    {"role": "system", "content": "be kind"},
                    {"role": "user", "content": "hi"},
                ],
                "stream": true,
                "max_tokens": 32,
                "temperature": 1.25,
            })
        );
    }

    #[test]
    fn a_reply_split_at_any_byte_reads_the_same() {
        Reader::assert_reads_however_split(AiProvider::Openai, SAMPLE, "Héllo ✓");
    }

    #[test]
    fn done_ends_the_reply_and_what_follows_is_ignored() {
        let stream =
            format!("{SAMPLE}data: {{\"choices\":[{{\"delta\":{{\"content\":\"late\"}}}}]}}\n\n");
        assert_eq!(
            read(&[stream.as_bytes()]).unwrap(),
            ("Héllo ✓".into(), true)
        );
    }

    #[test]
    fn data_split_over_lines_is_one_event() {
        let stream =
            "data: {\"choices\":\ndata: [{\"delta\":{\"content\":\"hi\"}}]}\n\ndata: [DONE]\n\n";
        assert_eq!(read(&[stream.as_bytes()]).unwrap(), ("hi".into(), true));
    }

    #[test]
    fn a_finish_reason_then_the_end_of_the_stream_is_a_whole_reply() {
        let stream = concat!(
            r#"data: {"choices":[{"delta":{"content":"ok"},"finish_reason":null}]}"#,
            "\n\n",
            r#"data: {"choices":[{"delta":{},"finish_reason":"length"}]}"#,
        );
        assert_eq!(read(&[stream.as_bytes()]).unwrap(), ("ok".into(), true));
    }

    #[test]
    fn a_stream_that_stops_midway_is_not_finished() {
        let stream = "data: {\"choices\":[{\"delta\":{\"content\":\"par\"}}]}\n\n";
        assert_eq!(read(&[stream.as_bytes()]).unwrap(), ("par".into(), false));
    }

    #[test]
    fn malformed_events_are_errors_not_panics() {
        for stream in [
            "data: {\"choices\":[{\"delta\":\n\n",
            "data: [1]\n\n",
            "data: {\"choices\":[{\"delta\":{\"content\":5}}]}\n\n",
            "data: [DONE\n\n",
            "{\"choices\":[]}\n\n",
            "hello there\n",
        ] {
            assert!(
                matches!(read(&[stream.as_bytes()]), Err(ProviderError::Malformed(_))),
                "{stream}"
            );
        }
    }

    #[test]
    fn error_events_and_objects_are_model_errors() {
        for stream in [
            "data: {\"error\":{\"message\":\"context too long\",\"type\":\"invalid_request\"}}\n\n",
            "event: error\ndata: {\"message\":\"overloaded\"}\n\n",
        ] {
            let error = read(&[stream.as_bytes()]).unwrap_err();
            assert!(matches!(error, ProviderError::Model), "{stream}");
            assert_eq!(error.code(), "ai_model_error");
        }
    }

    #[test]
    fn an_event_longer_than_the_limit_is_malformed() {
        let line = format!("data: {}\n", "a".repeat(40_000));
        let stream = format!("{line}{line}\n");
        assert!(matches!(
            read(&[stream.as_bytes()]),
            Err(ProviderError::Malformed(_))
        ));
    }
}
