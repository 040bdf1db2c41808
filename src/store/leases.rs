//! Leases on cluster-wide tasks: one row per task naming the node that runs it and until
//! when. Taking or renewing is one statement, so two nodes asking at once cannot both win.

use super::StoreError;
use crate::domain::Millis;
use sqlx::AnyPool;

/// Queries on `leases`.
#[derive(Clone, Copy, Debug)]
pub struct Leases<'a> {
    pub(super) pool: &'a AnyPool,
}

impl Leases<'_> {
    /// Takes the lease on `task` for `holder` until `until`, or renews it: it succeeds when
    /// nobody holds it, `holder` already does, or the holder's lease ran out before `now`.
    pub async fn hold(
        &self,
        task: &str,
        holder: &str,
        now: Millis,
        until: Millis,
    ) -> Result<bool, StoreError> {
        let taken = sqlx::query(
            "INSERT INTO leases (name, holder, expires_at) VALUES ($1, $2, $3) \
             ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at \
             WHERE leases.holder = excluded.holder OR leases.expires_at < $4",
        )
        .bind(task)
        .bind(holder)
        .bind(until)
        .bind(now)
        .execute(self.pool)
        .await?;
        Ok(taken.rows_affected() > 0)
    }
}
