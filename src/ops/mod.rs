//! The operator's tools, run from the command line beside (or instead of) a serving node:
//! `parlor backup`, `parlor restore`, `parlor export` and `parlor doctor`.
//!
//! They live apart from the server's request path because they answer to the operator, not to
//! a client: they print plain sentences, may take minutes, and touch the storage directly
//! (through `store`, `crypto` and `files`) with the same configuration `parlor serve` reads.

pub mod backup;
pub mod doctor;
pub mod export;
