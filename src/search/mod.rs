//! Message search (issue 16): the messages a caller may read — rooms they are a member of,
//! conversations they accepted, ephemeral rooms they are in — by text, author, room and
//! date, newest first, a page at a time.
//!
//! Stored bodies are sealed with their room's key, so the database cannot search them, and
//! the search must never write plaintext to disk. The design: an in-memory cache per room of
//! its messages' lower-cased text ([`index`]), built the first time the room is searched
//! and brought up to date from the database before every search (messages above the
//! cached sequence, edits since the last look, what was cleared or pruned). The database
//! stays the only truth, on every node, so several nodes need no bus for it; and every hit
//! is read again from the database and opened before it is shown, so a deleted, cleared,
//! pruned or edited message, or a room the caller no longer belongs to, never surfaces stale
//! text. Which rooms are searched is decided at each query from membership alone: a public
//! room the caller has not joined is not searched, so a room turned private cannot leak.
//!
//! Nothing here writes: not to the database, not to files. Swap is the operating system's
//! matter (encrypt it or turn it off). The cache is bounded by `search_cache_mb`; the least
//! recently searched rooms are dropped first. The lobby (never stored) and whispers (never
//! stored) are not searchable. Costs are measured in `bench/SEARCH.md`.

mod index;
mod query;
mod service;

pub use query::{Cursor, QueryError, RawQuery, SearchQuery, DEFAULT_LIMIT, MAX_LIMIT};
pub use service::{Search, SearchHit, SearchPage};
