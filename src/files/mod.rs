//! Files and media (issue 12, being built): what an upload is, detected from its bytes
//! ([`kind`]). Files are sealed at rest in chunks with the room's data key
//! (`crate::crypto::chunked`). Storage through `object_store`, the upload and download routes,
//! thumbnails and the web app's attachments come next; see the notes.

pub mod kind;
