//! The model server, as the companion sees it: a [`Prompt`] goes out, the reply's text comes
//! back piece by piece ([`ReplyStream`]) as the model produces it.
//!
//! Two wire formats, one file each: Ollama's `/api/chat` (newline-delimited JSON, [`ollama`])
//! and OpenAI's `/v1/chat/completions` with server-sent events ([`openai`]), which llama.cpp's
//! server, vLLM, LocalAI and hosted APIs all speak. [`reply`] turns either one's bytes into text
//! under the two deadlines; [`lines`] cuts the bytes into bounded lines.
//!
//! What this module must not do:
//! - call anything but the configured URL: no redirects are followed (a 3xx is an error like
//!   any other status), and nothing in a prompt chooses where a request goes;
//! - log or put into an error what was said: prompts, replies and the server's error bodies
//!   (which may quote the prompt) never reach a `Display` or a log line — errors carry a
//!   stable [`code`](ProviderError::code) and a fixed sentence;
//! - wait without end: the first-token timeout runs until the first piece of text, the request
//!   timeout over the whole reply, while it streams; both on the service's [`Clock`].
//! - hold an unbounded amount of a misbehaving server's output: a line may be 64 KiB.

mod lines;
mod ollama;
mod openai;
mod reply;

use crate::clock::Clock;
use crate::config::{AiProvider, Config, Secret};
use reply::{Deadlines, Reader};
use reqwest::header::{HeaderValue, ACCEPT, AUTHORIZATION, CONTENT_TYPE};
use reqwest::Url;
use serde::Serialize;
use std::pin::Pin;
use std::time::Duration;

/// Who said a turn of a prompt.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Speaker {
    System,
    User,
    Assistant,
}

/// One turn of a prompt.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Turn {
    pub speaker: Speaker,
    pub text: String,
}

/// What is sent for one reply.
#[derive(Clone, Debug)]
pub struct Prompt {
    /// The system prompt first, then remembered turns, then the new message.
    pub turns: Vec<Turn>,
    pub max_tokens: u32,
    pub temperature: f32,
}

#[cfg(test)]
impl Prompt {
    /// Test help: a prompt of these turns, in order.
    pub(crate) fn of(turns: &[(Speaker, &str)], max_tokens: u32, temperature: f32) -> Self {
        let turns = turns
            .iter()
            .map(|&(speaker, text)| Turn {
                speaker,
                text: text.to_owned(),
            })
            .collect();
        Self {
            turns,
            max_tokens,
            temperature,
        }
    }
}

/// Where and how to reach the model server.
#[derive(Clone, Debug)]
pub struct ProviderSettings {
    pub kind: AiProvider,
    /// The server's base URL; the endpoint's path is added to it (`/api/chat`, or
    /// `/v1/chat/completions`, `/chat/completions` when the base already ends in `/v1`).
    pub base_url: String,
    pub model: String,
    pub api_key: Option<Secret>,
    /// The whole reply.
    pub request_timeout: Duration,
    /// Until the first piece of text.
    pub first_token_timeout: Duration,
}

impl ProviderSettings {
    /// The settings of the configured model server; `None` when there is none (`ai_provider`
    /// unset — validation makes sure a provider comes with a base URL).
    pub fn from_config(config: &Config) -> Option<Self> {
        Some(Self {
            kind: config.ai_provider?,
            base_url: config.ai_base_url.clone()?,
            model: config.ai_model.clone(),
            api_key: config.ai_api_key.clone(),
            request_timeout: Duration::from_secs(config.ai_request_timeout_secs),
            first_token_timeout: Duration::from_secs(config.ai_first_token_timeout_secs),
        })
    }
}

/// The reply's text, piece by piece, as the model produces it. Pieces are never empty; the
/// stream ends after the last one, or after its one error.
pub type ReplyStream =
    Pin<Box<dyn futures_util::Stream<Item = Result<String, ProviderError>> + Send>>;

/// Why a reply did not come. Each has a stable [`code`](Self::code) for logs and metrics; no
/// variant carries anything the server sent, so none can echo a prompt.
#[derive(Debug, thiserror::Error)]
pub enum ProviderError {
    /// The settings cannot make a request (checked once, by [`Provider::new`]).
    #[error("the AI settings cannot be used: {0}")]
    Config(&'static str),
    /// No connection, or the request could not be sent.
    #[error("the model server could not be reached")]
    Unreachable(#[source] reqwest::Error),
    /// The server answered with something other than 2xx (a redirect included).
    #[error("the model server answered with HTTP status {0}")]
    Status(u16),
    #[error("the model server sent no text within the first-token timeout")]
    FirstTokenTimeout,
    #[error("the reply took longer than the request timeout")]
    ReplyTimeout,
    /// The connection broke, or the reply ended without its end marker.
    #[error("the model server's reply broke off")]
    Interrupted(#[source] Option<reqwest::Error>),
    /// Bytes that are not the wire format; the reason is ours, never the server's text.
    #[error("the model server's reply is malformed: {0}")]
    Malformed(&'static str),
    /// The server said, in the stream, that generating failed (its words are not kept).
    #[error("the model server reported an error while replying")]
    Model,
}

impl ProviderError {
    /// The stable, machine-readable name of this error, for logs and metrics.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Config(_) => "ai_config",
            Self::Unreachable(_) => "ai_unreachable",
            Self::Status(_) => "ai_status",
            Self::FirstTokenTimeout | Self::ReplyTimeout => "ai_timeout",
            Self::Interrupted(_) => "ai_interrupted",
            Self::Malformed(_) => "ai_bad_reply",
            Self::Model => "ai_model_error",
        }
    }
}

/// The client of the one configured model server. Cheap to clone (the connection pool is
/// shared).
#[derive(Clone)]
pub struct Provider {
    kind: AiProvider,
    endpoint: Url,
    model: String,
    /// `Bearer <key>`, marked sensitive so no HTTP-level debug output shows it.
    authorization: Option<HeaderValue>,
    first_token_timeout: Duration,
    request_timeout: Duration,
    client: reqwest::Client,
    clock: Clock,
}

impl std::fmt::Debug for Provider {
    // The endpoint may carry credentials in its user-info part: only the kind and model.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Provider")
            .field("kind", &self.kind)
            .field("model", &self.model)
            .finish_non_exhaustive()
    }
}

impl Provider {
    /// A client for `settings`, its deadlines measured on `clock`.
    pub fn new(settings: ProviderSettings, clock: Clock) -> Result<Self, ProviderError> {
        let endpoint = endpoint(settings.kind, &settings.base_url)?;
        let authorization = match &settings.api_key {
            None => None,
            Some(key) => {
                let mut value = HeaderValue::try_from(format!("Bearer {}", key.expose()))
                    .map_err(|_| ProviderError::Config("the API key cannot be sent in a header"))?;
                value.set_sensitive(true);
                Some(value)
            }
        };
        let client = reqwest::Client::builder()
            // A redirect would send the prompt (and the key) somewhere not configured.
            .redirect(reqwest::redirect::Policy::none())
            // Nor may a proxy from the environment (HTTP_PROXY…) see them: the configured URL
            // is the only address the companion talks to.
            .no_proxy()
            .user_agent(concat!("parlor/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|_| ProviderError::Config("the HTTP client could not be built"))?;
        Ok(Self {
            kind: settings.kind,
            endpoint,
            model: settings.model,
            authorization,
            first_token_timeout: settings.first_token_timeout,
            request_timeout: settings.request_timeout,
            client,
            clock,
        })
    }

    /// Which wire format this client speaks.
    pub fn kind(&self) -> AiProvider {
        self.kind
    }

    /// Sends `prompt` and returns the reply as it streams. Resolves once the server has
    /// answered with a success status; a failure after that is the stream's last item.
    pub async fn stream(&self, prompt: &Prompt) -> Result<ReplyStream, ProviderError> {
        let deadlines =
            Deadlines::starting_now(&self.clock, self.first_token_timeout, self.request_timeout);
        let (body, accept) = match self.kind {
            AiProvider::Ollama => (ollama::body(&self.model, prompt), ollama::ACCEPT),
            AiProvider::Openai => (openai::body(&self.model, prompt), openai::ACCEPT),
        };
        let mut request = self
            .client
            .post(self.endpoint.clone())
            .header(CONTENT_TYPE, "application/json")
            .header(ACCEPT, accept)
            .body(body);
        if let Some(authorization) = &self.authorization {
            request = request.header(AUTHORIZATION, authorization.clone());
        }
        let response = deadlines
            .before_text(request.send())
            .await?
            .map_err(|e| ProviderError::Unreachable(e.without_url()))?;
        let status = response.status();
        if !status.is_success() {
            // The body is dropped unread: it may quote the prompt.
            return Err(ProviderError::Status(status.as_u16()));
        }
        Ok(reply::stream(
            response.bytes_stream(),
            Reader::new(self.kind),
            deadlines,
        ))
    }
}

/// The endpoint for `kind` under the operator's base URL.
fn endpoint(kind: AiProvider, base_url: &str) -> Result<Url, ProviderError> {
    let not_http = || ProviderError::Config("the base URL is not an http(s) URL");
    let mut url = Url::parse(base_url).map_err(|_| not_http())?;
    if !matches!(url.scheme(), "http" | "https") || url.cannot_be_a_base() {
        return Err(not_http());
    }
    let base = url.path().trim_end_matches('/').to_owned();
    let path = match kind {
        AiProvider::Ollama => format!("{base}/api/chat"),
        // Hosted APIs document their base URL with the version in it.
        AiProvider::Openai if base.ends_with("/v1") => format!("{base}/chat/completions"),
        AiProvider::Openai => format!("{base}/v1/chat/completions"),
    };
    url.set_path(&path);
    url.set_fragment(None);
    Ok(url)
}

/// A turn as both wire formats write it: `{"role", "content"}`.
#[derive(Serialize)]
struct ChatMessage<'a> {
    role: &'static str,
    content: &'a str,
}

fn chat_messages(prompt: &Prompt) -> Vec<ChatMessage<'_>> {
    prompt
        .turns
        .iter()
        .map(|turn| ChatMessage {
            role: match turn.speaker {
                Speaker::System => "system",
                Speaker::User => "user",
                Speaker::Assistant => "assistant",
            },
            content: &turn.text,
        })
        .collect()
}

/// What the decoders found in one piece of the byte stream.
#[derive(Debug, Default, PartialEq, Eq)]
struct Decoded {
    /// The text, possibly empty (a role-only chunk, a keep-alive).
    text: String,
    /// The end marker was seen; anything after it is ignored.
    done: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_go_under_the_base_url() {
        let cases = [
            (
                AiProvider::Ollama,
                "http://127.0.0.1:11434",
                "http://127.0.0.1:11434/api/chat",
            ),
            (
                AiProvider::Ollama,
                "http://h:1/ollama/",
                "http://h:1/ollama/api/chat",
            ),
            (
                AiProvider::Openai,
                "http://h:8000",
                "http://h:8000/v1/chat/completions",
            ),
            (
                AiProvider::Openai,
                "https://api.example/v1/",
                "https://api.example/v1/chat/completions",
            ),
            (
                AiProvider::Openai,
                "https://h/openai?v=2#x",
                "https://h/openai/v1/chat/completions?v=2",
            ),
        ];
        for (kind, base, expected) in cases {
            assert_eq!(endpoint(kind, base).unwrap().as_str(), expected, "{base}");
        }
    }

    #[test]
    fn only_http_base_urls_are_accepted() {
        for base in ["ftp://h/", "file:///tmp/x", "mailto:a@b", "not a url", ""] {
            assert_eq!(
                endpoint(AiProvider::Ollama, base).unwrap_err().code(),
                "ai_config"
            );
        }
    }

    #[test]
    fn settings_come_from_the_config_only_with_a_provider() {
        let mut config = Config::default();
        assert!(ProviderSettings::from_config(&config).is_none());
        config.ai_provider = Some(AiProvider::Openai);
        config.ai_base_url = Some("http://127.0.0.1:8000".into());
        config.ai_model = "m".into();
        config.ai_first_token_timeout_secs = 3;
        let settings = ProviderSettings::from_config(&config).unwrap();
        assert_eq!(settings.kind, AiProvider::Openai);
        assert_eq!(settings.first_token_timeout, Duration::from_secs(3));
        assert!(Provider::new(settings, Clock::system()).is_ok());
    }

    #[test]
    fn an_api_key_that_cannot_be_a_header_is_a_config_error() {
        let settings = ProviderSettings {
            kind: AiProvider::Ollama,
            base_url: "http://127.0.0.1:1".into(),
            model: "m".into(),
            api_key: Some(Secret::new("line\nbreak")),
            request_timeout: Duration::from_secs(1),
            first_token_timeout: Duration::from_secs(1),
        };
        let error = Provider::new(settings, Clock::system()).unwrap_err();
        assert_eq!(error.code(), "ai_config");
        assert!(!error.to_string().contains("line"));
    }
}
