//! The one HTTP edge, shared by the REST API (`api`), the real-time framings (`gateway`) and
//! the embedded web app (`web`): the state handlers receive, the HTTP error type, the
//! extractors, and the admission check (Origin, client address, connection caps, admin
//! networks, credentials). Those three depend on this module and on the core, never on each
//! other nor on `app`, which only wires them together.

mod admission;
mod error;
mod extract;
mod origin;
mod state;

pub use admission::{Admitted, Credential, Door};
pub use error::HttpError;
pub use extract::{peer, room_name, user_name, Body, ClientIp, CurrentSession};
pub use state::{App, AppState};
