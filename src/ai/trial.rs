//! The free trial: registered users who are not premium get `ai_free_messages` answers, counted
//! in the store so a restart does not reset them. Premium users are never counted.

use crate::domain::Millis;
use futures_util::future::BoxFuture;

/// Whether a user's premium is active at a time. The payments service implements this once it
/// exists (`users.premium_until`); until then [`NoPremium`] treats everyone as on the trial.
pub trait Premium: Send + Sync + 'static {
    fn active(&self, user_id: i64, now: Millis) -> BoxFuture<'_, bool>;
}

/// Nobody is premium: everyone gets the free messages only.
#[derive(Clone, Copy, Debug, Default)]
pub struct NoPremium;

impl Premium for NoPremium {
    fn active(&self, _user_id: i64, _now: Millis) -> BoxFuture<'_, bool> {
        Box::pin(async { false })
    }
}
