//! Mentions and reactions as text: which `@name`s a message names, whether it calls on the
//! whole room, and what counts as a reaction's emoji. Who those names are is the room
//! service's business; this only reads text.

use super::name::MAX_NAME_LEN;

/// Words that mention everyone in the room instead of one member.
const EVERYONE_WORDS: [&str; 3] = ["here", "room", "everyone"];

/// Who may mention everyone in a room.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EveryoneMentions {
    /// The room's owner and admins, and staff (moderators and above).
    #[default]
    Moderators,
    /// Every member.
    Members,
}

/// What a message's text mentions.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Mentioned {
    /// Case-folded names, each once, in order of first appearance.
    pub names: Vec<String>,
    /// `@here`, `@room` or `@everyone` appears.
    pub everyone: bool,
}

impl Mentioned {
    /// Reads the `@name`s of a text. A mention starts at `@` at the start of the text or after
    /// a character that cannot be part of a name or an address (so `me@host` is no mention),
    /// and takes the longest run of name characters that follows (`[A-Za-z0-9_-]`, at most
    /// [`MAX_NAME_LEN`]; a longer run is no name). Mentions inside code (between backticks)
    /// count too: people quote names there rarely, and a highlight is harmless.
    pub fn in_text(text: &str) -> Self {
        let mut found = Self::default();
        let bytes = text.as_bytes();
        let mut i = 0;
        while i < bytes.len() {
            if bytes[i] != b'@'
                || (i > 0 && is_name_byte(bytes[i - 1]))
                || (i > 0 && bytes[i - 1] == b'@')
            {
                i += 1;
                continue;
            }
            let start = i + 1;
            let mut end = start;
            while end < bytes.len() && is_name_byte(bytes[end]) {
                end += 1;
            }
            // A trailing '-' belongs to the sentence ("@ann- ok"), not the name.
            let mut name_end = end;
            while name_end > start && bytes[name_end - 1] == b'-' {
                name_end -= 1;
            }
            let len = name_end - start;
            if (1..=MAX_NAME_LEN).contains(&len) {
                let key = text[start..name_end].to_ascii_lowercase();
                if EVERYONE_WORDS.contains(&key.as_str()) {
                    found.everyone = true;
                } else if !found.names.contains(&key) {
                    found.names.push(key);
                }
            }
            i = end.max(i + 1);
        }
        found
    }
}

fn is_name_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b == b'-'
}

/// A reaction's emoji: 1 to 8 characters, at most 32 bytes, none of them an ASCII letter,
/// digit, white space or control character — emoji and their modifiers and joiners, not words.
pub fn is_reaction_emoji(emoji: &str) -> bool {
    let chars = emoji.chars().count();
    (1..=8).contains(&chars)
        && emoji.len() <= 32
        && emoji
            .chars()
            .all(|c| !c.is_ascii() && !c.is_whitespace() && !c.is_control())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(text: &str) -> Vec<String> {
        Mentioned::in_text(text).names
    }

    #[test]
    fn reads_names_after_an_at_sign_at_a_word_start() {
        assert_eq!(names("hi @Ann and @bob_2, @ann again"), ["ann", "bob_2"]);
        assert_eq!(names("@carol: look"), ["carol"]);
        assert_eq!(names("(@dave)"), ["dave"]);
        assert_eq!(names("@eve-"), ["eve"]);
    }

    #[test]
    fn addresses_doubled_signs_and_overlong_runs_are_no_mentions() {
        assert!(names("mail me@host.org").is_empty());
        assert!(names("@@ann").is_empty());
        assert!(names("@").is_empty());
        assert!(names(&format!("@{}", "a".repeat(MAX_NAME_LEN + 1))).is_empty());
        assert_eq!(names(&format!("@{}", "a".repeat(MAX_NAME_LEN))).len(), 1);
    }

    #[test]
    fn here_room_and_everyone_call_on_the_whole_room() {
        for text in ["@here look", "hey @Room", "@everyone!"] {
            let found = Mentioned::in_text(text);
            assert!(found.everyone, "{text}");
            assert!(found.names.is_empty(), "{text}");
        }
        assert!(!Mentioned::in_text("here and room").everyone);
    }

    #[test]
    fn reaction_emoji_are_short_and_not_words() {
        for ok in ["👍", "❤️", "👍🏽", "👨‍👩‍👧", "🎉"] {
            assert!(is_reaction_emoji(ok), "{ok}");
        }
        for bad in ["", "a", "ok", "👍 ", " 👍", "<b>", "\u{0}", &"🎉".repeat(9)] {
            assert!(!is_reaction_emoji(bad), "{bad:?}");
        }
    }
}
