//! The reply as it is stored and shown: plain text like any message (clients render it
//! escaped), with the mentions that would notify a whole room neutralised, control and
//! direction-override characters removed, and the length cut to what a message may hold. A
//! model can be talked into writing anything; none of it may act as more than text.

/// What a user gets when the model is down, hangs or is switched off by the breaker.
pub const FALLBACK: &str = "Sorry, I can't answer right now. Please try again in a little while.";

/// What a guest gets instead of an answer (guests' messages are not counted).
pub const SIGN_UP: &str = "I'd love to chat! Please sign up for a free account to talk with me.";

/// What `/reset` answers.
pub const FORGOTTEN: &str = "Done: I have forgotten our conversation.";

/// Mentions that notify everyone somewhere; `@` is followed by a word joiner so they read the
/// same but match nothing.
const BROADCAST_MENTIONS: [&str; 5] = ["everyone", "here", "room", "channel", "all"];
const WORD_JOINER: char = '\u{2060}';

/// Makes the model's text safe to store and show; at most `max_chars` characters.
pub fn neutralise(text: &str, max_chars: usize) -> String {
    let cleaned: String = text
        .chars()
        .filter(|&c| c == '\n' || c == '\t' || !(c.is_control() || is_bidi_control(c)))
        .collect();
    let mut out = String::with_capacity(cleaned.len());
    let mut rest = cleaned.as_str();
    while let Some(at) = rest.find('@') {
        out.push_str(&rest[..=at]);
        rest = &rest[at + 1..];
        let word: String = rest
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric())
            .collect();
        if BROADCAST_MENTIONS
            .iter()
            .any(|m| m.eq_ignore_ascii_case(&word))
        {
            out.push(WORD_JOINER);
        }
    }
    out.push_str(rest);
    let out = out.trim();
    if out.chars().count() <= max_chars {
        return out.to_owned();
    }
    let mut cut: String = out.chars().take(max_chars.saturating_sub(1)).collect();
    cut.push('…');
    cut
}

fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{200E}' | '\u{200F}')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn room_wide_mentions_match_nothing_but_read_the_same() {
        let out = neutralise("Hi @everyone and @Here, ask @alice", 500);
        assert!(!out.contains("@everyone") && !out.contains("@Here"));
        assert!(out.contains("@alice"));
        assert_eq!(
            out.replace(WORD_JOINER, ""),
            "Hi @everyone and @Here, ask @alice"
        );
    }

    #[test]
    fn controls_and_overrides_go_and_length_is_capped() {
        assert_eq!(neutralise(" a\u{202E}b\u{0007}c\n ", 500), "abc");
        let long = "x".repeat(600);
        let out = neutralise(&long, 500);
        assert_eq!(out.chars().count(), 500);
        assert!(out.ends_with('…'));
    }
}
