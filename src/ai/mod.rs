//! The AI companion (being built, issue 15): a bot account answered by a model server the
//! operator runs (Ollama, or anything speaking OpenAI's chat completions).
//!
//! - [`provider`] — the one outbound HTTP client: a prompt in, the reply's text streamed out,
//!   with the request and first-token timeouts. It only ever calls the configured URL.

pub mod provider;
