//! Files and media (issue 12, being built): what an upload is, detected from its bytes
//! ([`kind`]), and sealed files streamed into and out of an object store ([`storage`]), sealed
//! in chunks with the room's data key (`crate::crypto::chunked`). The metadata table, the
//! upload and download routes, thumbnails, S3 configuration and the web app's attachments come
//! next; see the notes.

pub mod kind;
pub mod storage;
