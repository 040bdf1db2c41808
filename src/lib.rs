//! # Parlor
//!
//! A self-hosted, real-time chat server: one binary serves the web app, the REST API and the
//! real-time gateway, on SQLite by default and PostgreSQL when configured.
//!
//! ## Layout
//! Dependencies point inward: `gateway` and `api` call `core` and `auth`; `core` calls `auth`,
//! `rooms`, `domain` and the `Bus`; `rooms` calls `crypto`, `store` and `domain`; `auth` calls `store` and `domain`; `domain` calls nothing.
//!
//! - [`cli`] — the command line (`serve`, `user add`).
//! - [`clock`] — where time comes from: the system, or a clock tests move by hand.
//! - [`config`] — defaults → `parlor.toml` → `PARLOR_*` environment.
//! - [`app`] — builds the state and router, runs and shuts down the server.
//! - [`domain`] — pure rules and types: identities (`Principal`), names, roles, message text, rate windows.
//! - [`core`] — the transport-agnostic chat core: commands, events, rooms, presence, fan-out.
//! - [`auth`] — accounts, guests and sessions.
//! - [`rooms`] — persistent rooms: visibility, membership, invites, moderation, history.
//! - [`store`] — persistence on SQLite and PostgreSQL.
//! - [`gateway`] — real-time framings: native WebSocket, Socket.IO, simple `/ws`.
//! - [`api`] — the REST API and its OpenAPI document.
//! - [`crypto`] — encryption at rest: the master key, data keys, AES-256-GCM.
//! - [`web`] — the embedded browser app.
//! - [`error`] — the stable error codes shared by every layer's error type.

pub mod api;
pub mod app;
pub mod auth;
pub mod cli;
pub mod clock;
pub mod config;
pub mod core;
pub mod crypto;
pub mod domain;
pub mod error;
pub mod gateway;
pub mod http;
pub mod moderation;
pub mod rooms;
pub mod store;
pub mod web;
