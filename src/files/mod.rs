//! Files and media: what an upload is, detected from its bytes ([`kind`]); which rooms take
//! which kinds ([`policy`]); metadata scrubbed from images as they stream in ([`scrub`]);
//! thumbnails decoded under limits ([`preview`]); sealed files streamed into and out of an
//! object store ([`storage`]), sealed in chunks with the room's data key
//! (`crate::crypto::chunked`); and the pipeline tying them together ([`library`]). Who may
//! upload and read what is the chat core's `Files` service.

pub mod kind;
pub mod library;
pub mod policy;
pub mod preview;
pub mod scrub;
pub mod storage;
mod view;

pub use library::{Library, LibraryError, LibrarySettings, Stored};
pub use policy::Category;
pub use storage::{FileStore, FileStoreError, S3Options};
pub use view::FileView;
