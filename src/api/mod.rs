//! The REST API under `/api` (plus `/health`): one file per resource, each handler annotated
//! for the OpenAPI document served at `/api/openapi.json`. Handlers parse input into domain
//! types and call services; no SQL and no chat rules live here.

mod account;
mod error;
mod extract;
mod health;
mod users;

pub use error::ApiError;

use crate::app::AppState;
use crate::error::ErrorBody;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Serialize;
use utoipa::{OpenApi, ToSchema};

/// Every error response: `{"error": {"code", "message"}}`.
#[derive(Serialize, ToSchema)]
pub struct ErrorResponse {
    error: ErrorBody,
}

#[derive(OpenApi)]
#[openapi(
    info(title = "Parlor", description = "REST API of the Parlor chat server. Real-time commands and events are described in docs/protocol.md."),
    paths(
        account::register, account::login, account::guest, account::logout, account::change_password,
        users::me, users::user, users::online, health::health,
    ),
    tags(
        (name = "account", description = "Registration, login, guests, sessions"),
        (name = "users", description = "Profiles and presence"),
        (name = "operations", description = "Health"),
    )
)]
pub struct ApiDoc;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/register", post(account::register))
        .route("/api/login", post(account::login))
        .route("/api/guest", post(account::guest))
        .route("/api/logout", get(account::logout).post(account::logout))
        .route("/api/password", post(account::change_password))
        .route("/api/user/@me", get(users::me))
        .route("/api/user/{name}", get(users::user))
        .route("/api/online", get(users::online))
        .route("/api/openapi.json", get(openapi))
        .route("/health", get(health::health))
}

async fn openapi() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}
