//! The model server, as the companion sees it (being built).

use crate::config::{AiProvider, Secret};
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

/// Where and how to reach the model server.
#[derive(Clone, Debug)]
pub struct ProviderSettings {
    pub kind: AiProvider,
    pub base_url: String,
    pub model: String,
    pub api_key: Option<Secret>,
    /// The whole reply.
    pub request_timeout: Duration,
    /// Until the first piece of text.
    pub first_token_timeout: Duration,
}

/// The reply's text, piece by piece, as the model produces it.
pub type ReplyStream =
    Pin<Box<dyn futures_util::Stream<Item = Result<String, ProviderError>> + Send>>;

/// Why a reply did not come (each has a stable code for logs and metrics).
#[derive(Debug, thiserror::Error)]
pub enum ProviderError {
    #[error("the model server is being built")]
    Unavailable,
}
