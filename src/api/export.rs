//! `GET /api/user/@me/export` (being built).

use crate::http::{AppState, HttpError};
use axum::extract::State;

#[utoipa::path(get, path = "/api/user/@me/export", tag = "users",
    responses((status = 200, description = "The caller's data", body = String)))]
pub async fn export_me(State(_state): State<AppState>) -> Result<String, HttpError> {
    Ok(String::new())
}
