//! A file as clients see it: in an upload's answer and in the `attachments` of message events.
//! Everything a client needs to lay it out before fetching a byte (kind, type, size, image
//! dimensions, a voice note's duration) and where to fetch it.

use super::policy::Category;
use crate::store::FileRow;
use serde::Serialize;
use utoipa::ToSchema;

/// An uploaded file.
#[derive(Clone, Debug, PartialEq, Serialize, serde::Deserialize, ToSchema)]
pub struct FileView {
    /// 26 characters `[a-z2-7]`, unguessable.
    pub id: String,
    /// The name it was uploaded under: display only, never a path.
    pub name: String,
    /// Bytes.
    pub size: i64,
    /// The type detected from its bytes.
    pub mime: String,
    #[schema(value_type = String, example = "image")]
    pub kind: Category,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub width: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub height: Option<i64>,
    /// Audio and video: the length the uploader's client measured, in milliseconds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub duration_ms: Option<i64>,
    /// Whether a thumbnail is at `thumbnail_url`.
    pub thumbnail: bool,
    pub url: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub thumbnail_url: Option<String>,
}

impl From<&FileRow> for FileView {
    fn from(row: &FileRow) -> Self {
        let kind = match row.kind.as_str() {
            "image" => Category::Image,
            "video" => Category::Video,
            "audio" => Category::Audio,
            _ => Category::File,
        };
        Self {
            id: row.id.clone(),
            name: row.name.clone(),
            size: row.size,
            mime: row.mime.clone(),
            kind,
            width: row.width,
            height: row.height,
            duration_ms: row.duration_ms,
            thumbnail: row.thumbnail.is_some(),
            url: format!("/api/files/{}", row.id),
            thumbnail_url: row
                .thumbnail
                .as_ref()
                .map(|_| format!("/api/files/{}/thumbnail", row.id)),
        }
    }
}
