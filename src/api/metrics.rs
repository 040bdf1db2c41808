//! `GET /metrics`: the server's metrics in the Prometheus text format (version 0.0.4), for
//! Prometheus to scrape. What each metric means is documented in [`crate::metrics`].
//!
//! It answers only inside the admin networks (`admin_cidrs`, the admin API's check, behind
//! trusted proxies like every address) and asks for no session: Prometheus scrapes without
//! one, and what it shows — traffic, queue depths, error counts — is for operators, not for the
//! public listener. Everyone else gets 403 `forbidden` in the error envelope.
//!
//! The numbers that are cheaper to read than to count (how full the queues are) are read here,
//! at scrape time.

use super::ErrorResponse;
use crate::http::{peer, AppState, Door, HttpError};
use crate::metrics::{Snapshot, CONTENT_TYPE};
use axum::extract::State;
use axum::http::header;
use axum::http::request::Parts;
use axum::response::IntoResponse;

#[utoipa::path(get, path = "/metrics", tag = "operations",
    responses(
        (status = 200, description = "The server's metrics in the Prometheus text format (version 0.0.4)",
            body = String, content_type = "text/plain; version=0.0.4; charset=utf-8"),
        (status = 403, description = "forbidden: the caller is not in an admin network", body = ErrorResponse)))]
pub async fn metrics(
    State(state): State<AppState>,
    parts: Parts,
) -> Result<impl IntoResponse, HttpError> {
    state
        .admit(peer(&parts), &parts.headers, Door::Operator)
        .await?;
    let (outbound, bus) = state.chat.oversight.queues();
    let (bytes, rooms) = state.chat.search.cache_usage();
    let snapshot = Snapshot {
        outbound,
        outbound_capacity: state.config.outbound_queue as u64,
        bus,
        search_cache: (bytes as u64, rooms as u64),
    };
    Ok((
        [(header::CONTENT_TYPE, CONTENT_TYPE)],
        state.metrics.render(snapshot),
    ))
}
