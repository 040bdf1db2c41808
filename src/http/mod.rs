//! The one HTTP edge, shared by the REST API (`api`), the real-time framings (`gateway`) and
//! the embedded web app (`web`): the state handlers receive, the HTTP error type, the
//! extractors (whose rejections all speak the error envelope), the connection gate, and the
//! admission check (Origin, client address, connection caps, admin networks, credentials).
//! Those three depend on this module and on the core, never on each other nor on `app`, which
//! only wires them together.

mod admission;
mod error;
mod extract;
mod gate;
mod origin;
pub mod serve_file;
mod socket;
mod state;

pub use admission::{Admitted, Credential, Door};
pub use error::{count_refusals, HttpError};
pub use extract::{
    peer, peer_of, room_name, user_name, Body, ClientIp, CurrentSession, GuestCaller, OwnerSession,
    Path, Query,
};
pub use gate::{Entered, Gate, GateLimits, Pass, Refusal, SharedCounts};
pub use origin::{Origin, Scheme};
pub use socket::{Frame, Line, Peer, Socket, Sockets};
pub use state::{App, AppState};
