//! Which attachments a room takes. Room owners and admins choose per kind (images, videos,
//! audio, any other file); conversations and ephemeral rooms keep the defaults (everything),
//! and the lobby takes everything the server accepts. What the server accepts at all (the
//! allowed types) is checked before this, on every upload.

use super::kind::{Detected, Kind};
use crate::rooms::Room;
use serde::Serialize;
use utoipa::ToSchema;

/// How a file shows in chat, and the unit of a room's policy.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, serde::Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Category {
    Image,
    Video,
    Audio,
    /// Shown as a name, a size and a download link.
    File,
}

impl Category {
    pub const ALL: [Category; 4] = [
        Category::Image,
        Category::Video,
        Category::Audio,
        Category::File,
    ];

    pub fn of(detected: &Detected) -> Self {
        match detected.kind {
            Kind::Image => Category::Image,
            Kind::Video => Category::Video,
            Kind::Audio => Category::Audio,
            Kind::Document | Kind::Scriptable | Kind::Other => Category::File,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Category::Image => "image",
            Category::Video => "video",
            Category::Audio => "audio",
            Category::File => "file",
        }
    }

    fn plural(self) -> &'static str {
        match self {
            Category::Image => "images",
            Category::Video => "videos",
            Category::Audio => "audio",
            Category::File => "other files",
        }
    }
}

/// The categories `room` takes.
pub fn accepts(room: &Room) -> Vec<Category> {
    Category::ALL
        .into_iter()
        .filter(|c| match c {
            Category::Image => room.allow_images,
            Category::Video => room.allow_videos,
            Category::Audio => room.allow_audio,
            Category::File => room.allow_files,
        })
        .collect()
}

/// Why `room` refuses a file of `category`, if it does: a sentence naming what it takes.
pub fn refusal(room: &Room, category: Category) -> Option<String> {
    let accepted = accepts(room);
    if accepted.contains(&category) {
        return None;
    }
    let takes = if accepted.is_empty() {
        "no attachments".to_owned()
    } else {
        accepted
            .iter()
            .map(|c| c.plural())
            .collect::<Vec<_>>()
            .join(", ")
    };
    Some(format!(
        "this room does not take {}; it takes {takes}",
        category.plural()
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::RoomRow;

    fn room(images: bool, videos: bool, audio: bool, files: bool) -> Room {
        Room::from(RoomRow {
            id: 1,
            slug: "r".into(),
            name: "r".into(),
            topic: None,
            private: 0,
            owner_id: Some(1),
            host_guest_id: None,
            data_key_id: 1,
            allow_images: images.into(),
            allow_videos: videos.into(),
            allow_audio: audio.into(),
            allow_files: files.into(),
            ai_mentions: 0,
            allow_guests: 1,
            slow_mode_secs: 0,
            retention_days: None,
            last_seq: 0,
            created_at: 0,
            kind: "room".into(),
            expires_at: None,
            e2e: 0,
            e2e_epoch: 0,
        })
    }

    #[test]
    fn a_room_takes_what_its_flags_allow_and_says_so_when_it_refuses() {
        let images_only = room(true, false, false, false);
        assert_eq!(accepts(&images_only), vec![Category::Image]);
        assert_eq!(refusal(&images_only, Category::Image), None);
        assert_eq!(
            refusal(&images_only, Category::Video).as_deref(),
            Some("this room does not take videos; it takes images")
        );
        let nothing = room(false, false, false, false);
        assert_eq!(
            refusal(&nothing, Category::File).as_deref(),
            Some("this room does not take other files; it takes no attachments")
        );
        assert_eq!(
            accepts(&room(true, true, true, true)),
            Category::ALL.to_vec()
        );
    }
}
