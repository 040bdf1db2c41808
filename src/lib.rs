//! # Parlor
//!
//! A self-hosted, real-time chat server: one binary serves the web app, the REST API and the
//! real-time gateway, on SQLite by default and PostgreSQL when configured.
//!
//! ## Layout
//! Dependencies point inward: `api`, `gateway` and `web` use `http` and `core`, never each
//! other; `app` only wires the parts together; `core` calls `auth`, `rooms`, `search`, `moderation`,
//! `domain` and the `Bus`; `rooms`, `auth` and `moderation` call `crypto`, `store` and
//! `domain`; `domain` calls nothing. Everything that reads time takes a [`clock::Clock`]; every
//! layer may count into [`metrics`], which calls only `domain` and `error`.
//!
//! - [`ai`] — the AI companion: the model server's client, and the bot that answers in
//!   private conversations.
//! - [`cli`] — the command line (`serve`, `user add`, `keys rotate`).
//! - [`clock`] — where time comes from: the system, or a clock tests move by hand.
//! - [`metrics`] — what `/metrics` tells Prometheus: counts every layer keeps (atomics, no
//!   locks on the hot path), rendered in the Prometheus text format.
//! - [`config`] — defaults → `parlor.toml` → `PARLOR_*` environment.
//! - [`app`] — builds the state and router, runs and shuts down the server.
//! - [`http`] — the one HTTP edge: state, error envelope, extractors, admission.
//! - [`api`] — the REST API and its OpenAPI document.
//! - [`gateway`] — real-time framings: native WebSocket, Socket.IO, simple `/ws`.
//! - [`web`] — the embedded browser app.
//! - [`core`] — the chat core: commands declared once, events, and its services.
//! - [`auth`] — accounts, guests and sessions; login throttles and bounded password hashing.
//! - [`rooms`] — persistent rooms, conversations, ephemeral rooms, sealed history.
//! - [`search`] — message search: an in-memory cache of opened text per room, checked
//!   against the database at every query; nothing written to disk.
//! - [`moderation`] — roles, bans, mutes, ignore lists, the audit log.
//! - [`crypto`] — encryption at rest: the master key, data keys, AES-256-GCM (whole, or in
//!   chunks for files).
//! - [`files`] — uploads (being built): the type of a file, from its bytes.
//! - [`ops`] — the operator's commands: backup, restore, export, doctor.
//! - [`export`] — data exports as files: JSON Lines, Markdown, HTML, a zip archive.
//! - [`store`] — persistence on SQLite and PostgreSQL.
//! - [`domain`] — pure rules and types: names, roles, room names, message text, rate windows.
//! - [`error`] — the stable error codes shared by every layer's error type.

pub mod ai;
pub mod api;
pub mod app;
pub mod auth;
pub mod cli;
pub mod clock;
pub mod cluster;
pub mod config;
pub mod core;
pub mod crypto;
pub mod domain;
pub mod error;
pub mod export;
pub mod files;
pub mod gateway;
pub mod http;
pub mod metrics;
pub mod moderation;
pub mod ops;
pub mod rooms;
pub mod search;
pub mod store;
pub mod web;
