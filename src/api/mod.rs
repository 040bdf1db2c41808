//! The REST API under `/api` (plus `/health`): one file per resource, each handler annotated
//! for the OpenAPI document served at `/api/openapi.json`. Handlers parse input into domain
//! types and call services; no SQL and no chat rules live here.

mod account;
mod admin;
mod companion;
mod conversations;
mod ephemeral;
mod export;
mod files;
mod health;
mod ignores;
mod keys;
mod me;
mod membership;
mod messages;
mod metrics;
mod openapi;
mod payments;
mod premium;
mod room_keys;
mod rooms;
mod search;
mod users;

use crate::error::ErrorBody;
use crate::http::AppState;
use axum::extract::State;
use axum::routing::{delete, get, patch, post, put};
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
        users::me, users::user, users::online, me::preferences, me::set_preferences, me::sessions,
        me::revoke_session, me::revoke_other_sessions, me::rename, me::change_email, me::rotate_key,
        me::delete_me, keys::publish, keys::rewrap, keys::own, keys::public, room_keys::show, room_keys::store, ignores::list, ignores::add, ignores::remove,
        companion::show, companion::forget,
        health::health, health::live, metrics::metrics, export::export_me,
        rooms::list, rooms::create, rooms::show, rooms::update, rooms::delete, rooms::history,
        rooms::post, rooms::clear, messages::edit, messages::delete, messages::react, messages::unreact,
        membership::join, membership::leave, membership::members, membership::remove_member,
        membership::set_role, membership::ban, membership::unban, membership::create_invite, membership::invites,
        membership::revoke_invite, membership::redeem, membership::request_access, membership::requests, membership::decide,
        conversations::list, conversations::open, conversations::accept, conversations::decline,
        conversations::close, conversations::mark_read, ephemeral::create, ephemeral::hosted, ephemeral::activate,
        ephemeral::door, admin::users, admin::sanctions, admin::connections,
        admin::close_connection, admin::act, admin::audit, admin::rooms, admin::transcript,
        admin::archives, admin::file, files::upload, files::download, files::thumbnail,
        premium::grant, premium::revoke, payments::webhook, payments::simple, search::search,
    ),
    // `unmute`'s payload refers to the kick's (see `openapi::split_actions`).
    components(schemas(crate::core::ModTarget, admin::ExportFormat)),
    tags(
        (name = "account", description = "Registration, login, guests, sessions"),
        (name = "users", description = "Profiles and presence"),
        (name = "rooms", description = "Persistent rooms: membership, history, invites, access requests, moderation"),
        (name = "conversations", description = "Private conversations between two accounts, and read markers"),
        (name = "files", description = "Uploads, downloads and thumbnails; a file is sent by naming it in a message's `attachments`"),
        (name = "search", description = "Searching the messages one may read"),
        (name = "ephemeral", description = "Ephemeral 1-on-1 rooms reached by a short code"),
        (name = "admin", description = "The admin panel's API: mod+ from an admin network; cookie-authenticated changes need this server's Origin"),
        (name = "operations", description = "Health and metrics"),
        (name = "payments", description = "A payment provider's webhook (HMAC-signed) and the simple payment form; each answers 404 until configured"),
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
        .route("/api/user/@me", get(users::me).delete(me::delete_me))
        .route(
            "/api/user/@me/preferences",
            get(me::preferences).put(me::set_preferences).layer(
                axum::extract::DefaultBodyLimit::max(crate::domain::MAX_PREFERENCES_BYTES),
            ),
        )
        .route(
            "/api/user/@me/sessions",
            get(me::sessions).delete(me::revoke_other_sessions),
        )
        .route("/api/user/@me/sessions/{id}", delete(me::revoke_session))
        .route("/api/user/@me/username", post(me::rename))
        .route("/api/user/@me/email", post(me::change_email))
        .route("/api/user/@me/key", post(me::rotate_key))
        .route("/api/user/@me/keys", get(keys::own).put(keys::publish))
        .route("/api/user/@me/keys/wrapped", put(keys::rewrap))
        .route("/api/user/{name}/keys", get(keys::public))
        .route("/api/user/{name}", get(users::user))
        .route("/api/online", get(users::online))
        .route("/api/companion", get(companion::show))
        .route("/api/companion/memory", delete(companion::forget))
        .route("/api/ignores", get(ignores::list))
        .route(
            "/api/ignores/{name}",
            put(ignores::add).delete(ignores::remove),
        )
        .route("/api/rooms", get(rooms::list).post(rooms::create))
        .route(
            "/api/rooms/{slug}",
            get(rooms::show).patch(rooms::update).delete(rooms::delete),
        )
        .route(
            "/api/rooms/{slug}/messages",
            get(rooms::history).post(rooms::post).delete(rooms::clear),
        )
        .route(
            "/api/rooms/{slug}/messages/{seq}",
            patch(messages::edit).delete(messages::delete),
        )
        .route(
            "/api/rooms/{slug}/messages/{seq}/reactions/{emoji}",
            put(messages::react).delete(messages::unreact),
        )
        .route(
            "/api/rooms/{slug}/membership",
            post(membership::join).delete(membership::leave),
        )
        .route("/api/rooms/{slug}/e2e", get(room_keys::show))
        .route("/api/rooms/{slug}/e2e/keys", put(room_keys::store))
        .route("/api/rooms/{slug}/members", get(membership::members))
        .route(
            "/api/rooms/{slug}/members/{name}",
            delete(membership::remove_member),
        )
        .route(
            "/api/rooms/{slug}/members/{name}/role",
            put(membership::set_role),
        )
        .route(
            "/api/rooms/{slug}/bans/{name}",
            put(membership::ban).delete(membership::unban),
        )
        .route(
            "/api/rooms/{slug}/invites",
            get(membership::invites).post(membership::create_invite),
        )
        .route(
            "/api/rooms/{slug}/invites/{id}",
            delete(membership::revoke_invite),
        )
        .route("/api/invites/{token}", post(membership::redeem))
        .route(
            "/api/rooms/{slug}/requests",
            get(membership::requests).post(membership::request_access),
        )
        .route(
            "/api/rooms/{slug}/requests/{name}",
            post(membership::decide),
        )
        .route(
            "/api/conversations",
            get(conversations::list).post(conversations::open),
        )
        .route("/api/conversations/{room}", delete(conversations::close))
        .route(
            "/api/conversations/{room}/accept",
            post(conversations::accept),
        )
        .route(
            "/api/conversations/{room}/decline",
            post(conversations::decline),
        )
        .route("/api/rooms/{slug}/read", post(conversations::mark_read))
        .route("/api/search", get(search::search))
        .route(
            "/api/ephemeral",
            get(ephemeral::hosted).post(ephemeral::create),
        )
        .route("/api/ephemeral/{code}", get(ephemeral::door))
        .route("/api/ephemeral/{code}/activate", post(ephemeral::activate))
        .route("/api/admin/users", get(admin::users))
        .route("/api/admin/sanctions", get(admin::sanctions))
        .route("/api/admin/connections", get(admin::connections))
        .route(
            "/api/admin/connections/{id}",
            delete(admin::close_connection),
        )
        .route("/api/admin/actions/{action}", post(admin::act))
        .route("/api/admin/audit", get(admin::audit))
        .route("/api/admin/rooms", get(admin::rooms))
        .route("/api/admin/rooms/{slug}/messages", get(admin::transcript))
        .route("/api/admin/archives", get(admin::archives))
        .route("/api/admin/files/{id}", get(admin::file))
        .route(
            "/api/admin/users/{name}/premium",
            put(premium::grant).delete(premium::revoke),
        )
        // Read with their own, smaller limit (64 KiB) after the endpoint is known to be on.
        .route("/api/payments/webhook", post(payments::webhook))
        .route("/api/payment/success", post(payments::simple))
        // Uploads are limited while they stream (the configured file size), not by the
        // default body limit.
        .route(
            "/api/files",
            post(files::upload).layer(axum::extract::DefaultBodyLimit::disable()),
        )
        .route("/api/files/{id}", get(files::download))
        .route("/api/files/{id}/thumbnail", get(files::thumbnail))
        .route("/api/openapi.json", get(openapi_document))
        .route("/health", get(health::health))
        .route("/health/live", get(health::live))
        .route("/metrics", get(metrics::metrics))
        .route("/api/user/@me/export", get(export::export_me))
}

async fn openapi_document(State(state): State<AppState>) -> Json<serde_json::Value> {
    Json(openapi::document(&state.config))
}
