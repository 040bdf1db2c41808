//! Liveness with a database round trip.

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
    database: &'static str,
}

#[utoipa::path(get, path = "/health", tag = "operations",
    responses(
        (status = 200, description = "Serving, and the database answers", body = Health),
        (status = 503, description = "unavailable", body = ErrorResponse)))]
pub async fn health(State(state): State<AppState>) -> Result<Json<Health>, HttpError> {
    match state.store.ping().await {
        Ok(()) => Ok(Json(Health {
            status: "ok",
            database: "ok",
        })),
        Err(err) => {
            tracing::warn!(error = %err, "health check: database unreachable");
            Err(HttpError::new(
                ErrorCode::Unavailable,
                "the database is unreachable",
            ))
        }
    }
}
