//! What the model is sent: the persona (the system prompt), the user's remembered turns and
//! the new message. Only ever this user's own turns: the model never sees anyone else's
//! conversation. When it does not fit the context budget, the oldest turns go first; the
//! persona and the new message always stay.

use super::provider::{Speaker, Turn};
use std::path::Path;

/// The system prompt when the operator gives no `ai_persona_file`; `{name}` is the bot's name.
pub const DEFAULT_PERSONA: &str = "You are {name}, a friendly companion in a chat server. \
Answer in plain text, briefly and warmly, in the language the user writes in. You cannot see \
other people's messages, browse the web or act on anything outside this conversation; say so \
when asked. Never claim to be human.";

/// The persona, read once at start-up.
#[derive(Clone, Debug)]
pub struct Persona(String);

impl Persona {
    /// The operator's file, or the built-in default; `{name}` becomes the bot's name in both.
    pub fn load(file: Option<&Path>, name: &str) -> std::io::Result<Self> {
        let text = match file {
            Some(path) => std::fs::read_to_string(path)?,
            None => DEFAULT_PERSONA.to_owned(),
        };
        Ok(Self(text.trim().replace("{name}", name)))
    }

    pub fn text(&self) -> &str {
        &self.0
    }
}

/// The turns to send: the persona, as many of the newest remembered turns as fit both
/// `max_turns` and `budget_chars` (counted with the persona and the new message), then the
/// new message. A remembered exchange is kept whole where possible: the window never starts
/// with a reply whose question was dropped.
pub fn assemble(
    persona: &Persona,
    memory: &[Turn],
    message: &str,
    max_turns: usize,
    budget_chars: usize,
) -> Vec<Turn> {
    let chars = |t: &str| t.chars().count();
    let mut left = budget_chars.saturating_sub(chars(persona.text()) + chars(message));
    let mut start = memory.len();
    for (at, turn) in memory.iter().enumerate().rev() {
        let cost = chars(&turn.text);
        if memory.len() - at > max_turns || cost > left {
            break;
        }
        left -= cost;
        start = at;
    }
    while memory
        .get(start)
        .is_some_and(|t| t.speaker != Speaker::User)
    {
        start += 1;
    }
    let mut turns = Vec::with_capacity(memory.len() - start + 2);
    turns.push(Turn {
        speaker: Speaker::System,
        text: persona.text().to_owned(),
    });
    turns.extend_from_slice(&memory[start..]);
    turns.push(Turn {
        speaker: Speaker::User,
        text: message.to_owned(),
    });
    turns
}

#[cfg(test)]
mod tests {
    use super::*;

    fn turn(speaker: Speaker, text: &str) -> Turn {
        Turn {
            speaker,
            text: text.into(),
        }
    }

    #[test]
    fn the_persona_names_the_bot() {
        let persona = Persona::load(None, "Violet").unwrap();
        assert!(persona.text().starts_with("You are Violet,"));
    }

    #[test]
    fn keeps_the_newest_turns_that_fit_in_order() {
        let persona = Persona("sys".into());
        let memory = [
            turn(Speaker::User, "one"),
            turn(Speaker::Assistant, "two"),
            turn(Speaker::User, "three"),
            turn(Speaker::Assistant, "four"),
        ];
        let all = assemble(&persona, &memory, "new", 20, 1000);
        let texts: Vec<_> = all.iter().map(|t| t.text.as_str()).collect();
        assert_eq!(texts, ["sys", "one", "two", "three", "four", "new"]);
        assert_eq!(all[0].speaker, Speaker::System);
        assert_eq!(all[5].speaker, Speaker::User);

        let by_turns = assemble(&persona, &memory, "new", 3, 1000);
        let texts: Vec<_> = by_turns.iter().map(|t| t.text.as_str()).collect();
        assert_eq!(
            texts,
            ["sys", "three", "four", "new"],
            "a reply is never kept without its question"
        );

        // sys + new = 6 chars; 10 more fit "four" (4) and "three" (5) but not "two".
        let by_chars = assemble(&persona, &memory, "new", 20, 16);
        let texts: Vec<_> = by_chars.iter().map(|t| t.text.as_str()).collect();
        assert_eq!(texts, ["sys", "three", "four", "new"]);

        let nothing_fits = assemble(&persona, &memory, "new", 20, 0);
        assert_eq!(nothing_fits.len(), 2);
    }
}
