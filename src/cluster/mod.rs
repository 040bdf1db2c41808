//! Several Parlor nodes behind one load balancer: the Redis bus.
//!
//! PostgreSQL holds everything that must last (messages with their per-room sequence numbers,
//! idempotency, memberships, sanctions, leases); Redis carries what is live: room events on a
//! channel per room (a node listens only to rooms it has someone in), directives on one channel
//! every node listens to, who is present where (a hash per room and a heartbeat per node), and
//! the `/ws` one-connection rule. Without `redis_url` none of this runs: [`LocalBus`] delivers
//! in-process.
//!
//! Redis is not trusted to be there. A stored message is acknowledged once committed and
//! published afterwards; what the bus loses, a node reads back from the database by sequence
//! number ([`sequencer`]). Lobby messages, typing and presence changes published while Redis
//! is unreachable reach only the publishing node's own connections; presence is told again,
//! and rooms are resynchronised, when the connection comes back.
//!
//! [`LocalBus`]: crate::core::LocalBus

mod counts;
mod redis_bus;
mod sequencer;
mod windows;
mod wire;

pub use counts::RedisCounts;
pub use redis_bus::RedisBus;
pub use windows::RedisWindows;
