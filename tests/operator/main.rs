//! The binary as an operator meets it, spawned as a process with its output piped:
//! configuration mistakes stop it with one line naming the setting (`config`), `parlor user
//! add` changes a role only when told and keeps the password as typed (`users`), and a start
//! says what it runs on, without colour codes (`startup`).

#[path = "../common/mod.rs"]
mod common;
mod config;
mod process;
mod startup;
mod users;
