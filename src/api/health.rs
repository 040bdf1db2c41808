//! Liveness that tells the truth about storage: `/health` answers 200 only while the database
//! accepts a write (a row rewritten and committed, not just `SELECT 1`), and 503 naming the
//! failing component otherwise — a full disk or a read-only database file included.

use super::ErrorResponse;
use crate::error::ErrorCode;
use crate::http::{AppState, HttpError};
use axum::extract::State;
use axum::Json;
use serde::Serialize;
use utoipa::ToSchema;

#[derive(Serialize, ToSchema)]
pub struct Health {
    status: &'static str,
    /// `ok`: the database accepts writes.
    database: &'static str,
    /// Stored messages found not to decrypt since start-up (each counted once); they are
    /// served marked `undecryptable`, and logged.
    undecryptable_messages: u64,
}

#[utoipa::path(get, path = "/health", tag = "operations",
    responses(
        (status = 200, description = "Serving, and the database accepts writes", body = Health),
        (status = 503, description = "unavailable: the message names the failing component", body = ErrorResponse)))]
pub async fn health(State(state): State<AppState>) -> Result<Json<Health>, HttpError> {
    let now = state.chat.upkeep.clock.now_millis();
    match state.store.check_writes(now).await {
        Ok(()) => Ok(Json(Health {
            status: "ok",
            database: "ok",
            undecryptable_messages: state.chat.oversight.undecryptable_messages(),
        })),
        // Logged by the probe when it changes, not on every poll.
        Err(err) => Err(HttpError::new(
            ErrorCode::Unavailable,
            format!("database: does not accept writes ({err})"),
        )),
    }
}
