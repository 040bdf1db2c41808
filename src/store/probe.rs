//! The write probe behind `/health`: one row rewritten and committed, so a store that can no
//! longer write (a full disk, a read-only file, a lock nobody releases) is reported instead of
//! answering `SELECT 1` happily.
//!
//! The probe writes more than a message's transaction does ([`PROBE_BYTES`], different bytes
//! each time): on a full disk SQLite keeps the space a failed transaction already took, and a
//! probe of one small row would fit into it while messages keep failing; and SQLite skips
//! writing a page an update leaves unchanged.

use crate::domain::Millis;
use sqlx::AnyPool;
use std::time::Duration;
use tokio::sync::Mutex;
use tokio::time::Instant;

/// How much one probe writes (about nine pages).
const PROBE_BYTES: usize = 32 * 1024;

/// How long a probe's answer is reused: `/health` may be polled hard, and each probe is a
/// write. A throttle on real work, so real time rather than the service clock.
const PROBE_REUSE: Duration = Duration::from_secs(1);

/// The last probe, shared by the store's clones.
#[derive(Debug, Default)]
pub(super) struct WriteProbe(Mutex<Probed>);

#[derive(Debug, Default)]
struct Probed {
    last: Option<(Instant, Result<(), String>)>,
    round: u8,
}

impl WriteProbe {
    /// Whether the store accepts writes right now (`Err` holds the reason). Answers within
    /// [`PROBE_REUSE`] of the last probe share its result; concurrent callers wait for the one
    /// probe in flight.
    pub(super) async fn check(&self, pool: &AnyPool, now: Millis) -> Result<(), String> {
        let mut probed = self.0.lock().await;
        if let Some((at, result)) = &probed.last {
            if at.elapsed() < PROBE_REUSE {
                return result.clone();
            }
        }
        probed.round = probed.round.wrapping_add(1);
        let result = sqlx::query(
            "INSERT INTO store_probe (id, checked_at, ballast) VALUES (1, $1, $2) \
             ON CONFLICT (id) DO UPDATE SET checked_at = excluded.checked_at, ballast = excluded.ballast",
        )
        .bind(now)
        .bind(vec![probed.round; PROBE_BYTES])
        .execute(pool)
        .await
        .map(|_| ())
        .map_err(|err| err.to_string());
        let was_ok = probed.last.as_ref().is_none_or(|(_, last)| last.is_ok());
        match (&result, was_ok) {
            (Err(err), true) => {
                tracing::error!(error = %err, "the database stopped accepting writes")
            }
            (Ok(()), false) => tracing::info!("the database accepts writes again"),
            _ => {}
        }
        probed.last = Some((Instant::now(), result.clone()));
        result
    }
}
