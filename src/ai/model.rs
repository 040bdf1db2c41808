//! The seam between the companion and whatever writes its replies: the [`Provider`] in
//! production, a scripted model in tests. The companion only needs "a prompt in, pieces of
//! text out"; timeouts, the breaker and the fallback are the companion's, not the model's.
//!
//! [`Provider`]: super::provider

use super::provider::{Prompt, Provider, ProviderError, ReplyStream};
use futures_util::future::BoxFuture;

/// Something that streams a reply to a prompt.
pub trait Model: Send + Sync + 'static {
    fn stream<'a>(
        &'a self,
        prompt: &'a Prompt,
    ) -> BoxFuture<'a, Result<ReplyStream, ProviderError>>;
}

impl Model for Provider {
    fn stream<'a>(
        &'a self,
        prompt: &'a Prompt,
    ) -> BoxFuture<'a, Result<ReplyStream, ProviderError>> {
        Box::pin(Provider::stream(self, prompt))
    }
}
