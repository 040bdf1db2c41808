//! `GET /metrics` (being built).

use crate::http::{AppState, HttpError};
use axum::extract::State;

#[utoipa::path(get, path = "/metrics", tag = "operations",
    responses((status = 200, description = "Prometheus text format", body = String)))]
pub async fn metrics(State(_state): State<AppState>) -> Result<String, HttpError> {
    Ok(String::new())
}
