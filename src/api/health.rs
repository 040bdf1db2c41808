//! Readiness that tells the truth about storage: `/health` answers 200 only while the database
//! accepts a write (a row rewritten and committed, not just `SELECT 1`) and so does the object
//! store files go to (a small object written and deleted), and 503 naming the failing
//! component otherwise — a full disk, a read-only database file or a missing bucket included.
//! `/health/live` is liveness: it answers whenever the process serves requests, so an
//! orchestrator restarts a node that hangs, not one whose database is briefly away.

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
    /// The node that answered (`node_id`, or drawn at start).
    node: String,
    /// `ok`: the database accepts writes.
    database: &'static str,
    /// `ok`: the object store (a directory or an S3 bucket) accepts writes.
    files: &'static str,
    /// `ok`: Redis answers and this node listens to it; absent on a single node.
    #[serde(skip_serializing_if = "Option::is_none")]
    redis: Option<&'static str>,
    /// Stored messages found not to decrypt since start-up (each counted once); they are
    /// served marked `undecryptable`, and logged.
    undecryptable_messages: u64,
    /// How long each probe of this answer took.
    latency_ms: Latencies,
}

/// Milliseconds each dependency took to answer its probe.
#[derive(Serialize, ToSchema)]
pub struct Latencies {
    database: f64,
    files: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    redis: Option<f64>,
}

/// Runs a probe and measures it.
async fn timed<T>(probe: impl std::future::Future<Output = T>) -> (T, f64) {
    let started = std::time::Instant::now();
    let outcome = probe.await;
    (outcome, started.elapsed().as_secs_f64() * 1000.0)
}

#[utoipa::path(get, path = "/health", tag = "operations",
    responses(
        (status = 200, description = "Serving, and the database and the object store accept writes", body = Health),
        (status = 503, description = "unavailable: the message names the failing component", body = ErrorResponse)))]
pub async fn health(State(state): State<AppState>) -> Result<Json<Health>, HttpError> {
    let now = state.chat.upkeep.clock.now_millis();
    // Both are probed every time, and every failing one named: on a full disk both may fail.
    // The database probe logs a change itself, not every poll.
    let ((database, database_ms), (files, files_ms), (redis, redis_ms)) = tokio::join!(
        timed(state.store.check_writes(now)),
        timed(state.chat.files.library().probe()),
        timed(state.chat.bus.check())
    );
    let failing: Vec<String> = [
        database
            .err()
            .map(|err| format!("database: does not accept writes ({err})")),
        files
            .err()
            .map(|err| format!("files: the object store does not accept writes ({err})")),
        redis
            .as_ref()
            .and_then(|r| r.as_ref().err())
            .map(|err| format!("redis: {err}")),
    ]
    .into_iter()
    .flatten()
    .collect();
    if !failing.is_empty() {
        return Err(HttpError::new(ErrorCode::Unavailable, failing.join("; ")));
    }
    Ok(Json(Health {
        status: "ok",
        node: state.node.clone(),
        database: "ok",
        files: "ok",
        latency_ms: Latencies {
            database: database_ms,
            files: files_ms,
            redis: redis.is_some().then_some(redis_ms),
        },
        redis: redis.map(|_| "ok"),
        undecryptable_messages: state.chat.oversight.undecryptable_messages(),
    }))
}

/// Liveness: the process serves HTTP.
#[derive(Serialize, ToSchema)]
pub struct Alive {
    /// Always `alive`.
    status: &'static str,
    node: String,
}

#[utoipa::path(get, path = "/health/live", tag = "operations",
    responses((status = 200, description = "The process serves requests; nothing else is checked (an orchestrator restarts a node when this fails, and routes traffic by `/health`)", body = Alive)))]
pub async fn live(State(state): State<AppState>) -> Json<Alive> {
    Json(Alive {
        status: "alive",
        node: state.node.clone(),
    })
}
