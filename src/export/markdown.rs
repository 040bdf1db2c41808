//! `export.md`: an export as Markdown, readable as plain text and rendered by any viewer.
//!
//! Whatever a user wrote (message text, room names and topics, file names) is escaped by
//! [`escape`] or quoted by [`quote`], so it reads back as written and never becomes markup: no
//! emphasis, links, headings, lists or tables, and no raw HTML — a viewer that renders HTML in
//! Markdown would otherwise run a message's `<script>`. Only ASCII punctuation that means
//! something to CommonMark (and GitHub's tables and strike-through) is escaped, so the plain
//! text stays readable.

use super::{
    human_size, human_time, AccountInfo, AuditLine, Counts, Details, FileRef, MemberInfo,
    MessageLine, RoomInfo, Section, UploadLine,
};

/// `text` escaped for the middle of a line (a list item, a heading after its `##`): every
/// character that could start inline markup, and line breaks turned into spaces.
pub fn escape(text: &str) -> String {
    escaped(text, false)
}

/// `text` as a block quote, line by line, escaped: inline markup as in [`escape`], and at the
/// start of each line whatever would start a block (a heading, a list, a rule).
pub fn quote(text: &str) -> String {
    escaped(text, true)
        .lines()
        .map(|line| {
            if line.is_empty() {
                ">\n".to_owned()
            } else {
                format!("> {line}\n")
            }
        })
        .collect()
}

fn escaped(text: &str, block: bool) -> String {
    let mut out = String::with_capacity(text.len() + text.len() / 8);
    let mut line_start = block;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' | '`' | '*' | '_' | '[' | ']' | '<' | '>' | '&' | '|' | '~' => {
                out.push('\\');
                out.push(c);
            }
            '\r' => {}
            '\n' if !block => out.push(' '),
            // Headings, list items, setext underlines and thematic breaks start a line.
            '#' | '-' | '+' | '=' if line_start => {
                out.push('\\');
                out.push(c);
            }
            // `1.` or `1)` at the start of a line is an ordered list.
            '0'..='9' if line_start => {
                out.push(c);
                while let Some(&d) = chars.peek().filter(|d| d.is_ascii_digit()) {
                    out.push(d);
                    chars.next();
                }
                if let Some(&marker) = chars.peek().filter(|m| matches!(m, '.' | ')')) {
                    out.push('\\');
                    out.push(marker);
                    chars.next();
                }
            }
            _ => out.push(c),
        }
        line_start = block && (c == '\n' || (line_start && c == ' '));
    }
    out
}

pub fn header(title: &str, exported_at: i64) -> String {
    format!(
        "# Parlor export: {}\n\nExported {} by Parlor {}.\n\n",
        escape(title),
        human_time(exported_at),
        env!("CARGO_PKG_VERSION")
    )
}

pub fn details(details: &Details) -> String {
    match details {
        Details::Room { room, members } | Details::Conversation { room, members } => {
            format!("{}{}", room_block(room), members_block(members))
        }
        Details::Account(account) => account_block(account),
    }
}

fn room_block(room: &RoomInfo) -> String {
    let mut out = format!(
        "## Room\n\n- Address: {}\n- Name: {}\n- Kind: {}\n",
        escape(&room.address),
        escape(&room.name),
        room.kind
    );
    if let Some(topic) = &room.topic {
        out.push_str(&format!("- Topic: {}\n", escape(topic)));
    }
    out.push_str(&format!(
        "- Private: {}\n- Created: {}\n\n",
        if room.private { "yes" } else { "no" },
        human_time(room.created_at)
    ));
    out
}

fn members_block(members: &[MemberInfo]) -> String {
    let mut out = format!("## Members ({})\n\n", members.len());
    for member in members {
        out.push_str(&format!(
            "- {} — {}, since {}\n",
            escape(&member.name),
            member.role,
            human_time(member.joined_at)
        ));
    }
    out
}

fn account_block(account: &AccountInfo) -> String {
    let mut out = format!(
        "## Profile\n\n- Name: {}\n- Role: {}\n- E-mail: {}\n- Verified: {}\n- Created: {}\n\n",
        escape(&account.name),
        account.role,
        account.email.as_deref().map_or("none".into(), escape),
        if account.verified { "yes" } else { "no" },
        human_time(account.created_at)
    );
    out.push_str(&format!("## Sessions ({})\n\n", account.sessions.len()));
    for session in &account.sessions {
        out.push_str(&format!(
            "- from {}, signed in {}, runs until {}\n",
            escape(&session.ip),
            human_time(session.created_at),
            human_time(session.expires_at)
        ));
    }
    out.push_str(&format!(
        "\n## Rooms and conversations ({})\n\n",
        account.memberships.len()
    ));
    for membership in &account.memberships {
        let room = &membership.room;
        let place = match &membership.peer {
            Some(peer) => format!("conversation with {}", escape(peer)),
            None if room.name == room.address => escape(&room.address),
            None => format!("{} ({})", escape(&room.address), escape(&room.name)),
        };
        let state = membership
            .state
            .map(|s| format!(", {s}"))
            .unwrap_or_default();
        out.push_str(&format!(
            "- {place} — {}{state}, since {}\n",
            membership.role,
            human_time(membership.joined_at)
        ));
    }
    out.push_str(&format!("\n## Ignored ({})\n\n", account.ignores.len()));
    for name in &account.ignores {
        out.push_str(&format!("- {}\n", escape(name)));
    }
    out
}

pub fn audit_heading() -> String {
    "\n## Activity log\n\nEvery entry is in `audit.jsonl`, with the address each message was sent \
     from; listed here are the entries other than messages.\n\n"
        .to_owned()
}

pub fn audit_entry(entry: &AuditLine) -> String {
    let who = if entry.by_you { "you" } else { "staff" };
    let mut out = format!(
        "- {} — {} by {who}",
        human_time(entry.ts),
        escape(&entry.action)
    );
    for (label, value) in [
        ("target", &entry.target),
        ("room", &entry.room),
        ("detail", &entry.detail),
    ] {
        if let Some(value) = value {
            out.push_str(&format!(", {label}: {}", escape(value)));
        }
    }
    out.push('\n');
    out
}

pub fn section(section: &Section) -> String {
    format!("\n## {}\n\n", escape(&section.title()))
}

pub fn message(line: &MessageLine) -> String {
    let mut out = format!(
        "**{}** · {} · #{}\n",
        escape(&line.author),
        human_time(line.ts),
        line.seq
    );
    if line.undecryptable {
        out.push_str("> *(this message could not be decrypted)*\n");
    } else if line.envelope.is_some() {
        out.push_str("> *(end-to-end encrypted: see messages.jsonl)*\n");
    } else if !line.text.is_empty() {
        out.push_str(&quote(&line.text));
    }
    for file in &line.attachments {
        out.push_str(&format!("> 📎 {}\n", file_link(file)));
    }
    out.push('\n');
    out
}

pub fn uploads_heading() -> String {
    "\n## Files you uploaded\n\n".to_owned()
}

pub fn upload(upload: &UploadLine) -> String {
    let place = match &upload.room {
        Some(room) => escape(room),
        None => "the lobby".to_owned(),
    };
    format!(
        "- {} — for {place}, {} {}\n",
        file_link(&upload.file),
        if upload.sent { "sent" } else { "not sent yet," },
        human_time(upload.created_at)
    )
}

pub fn footer(counts: &Counts) -> String {
    format!("\n---\n\n{}\n", super::describe(counts))
}

/// A link to an exported file (its path holds only characters that need no escaping), or its
/// name alone when it could not be read.
fn file_link(file: &FileRef) -> String {
    let about = format!("{}, {}", escape(&file.mime), human_size(file.size));
    match &file.path {
        Some(path) => format!("[{}]({path}) ({about})", escape(&file.name)),
        None => format!("{} ({about}; could not be read)", escape(&file.name)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markup_in_user_text_is_escaped() {
        assert_eq!(
            escape("<script>alert(1)</script>"),
            "\\<script\\>alert(1)\\</script\\>"
        );
        assert_eq!(
            escape("*bold* _it_ [l](x)"),
            "\\*bold\\* \\_it\\_ \\[l\\](x)"
        );
        assert_eq!(escape("# not\n- a list"), "# not - a list", "one line");
        assert_eq!(escape("a - b 3. c"), "a - b 3. c");
        assert_eq!(escape("`code` | a & b"), "\\`code\\` \\| a \\& b");
    }

    #[test]
    fn quotes_prefix_every_line_and_keep_blank_ones() {
        assert_eq!(quote("one\n\n> two"), "> one\n>\n> \\> two\n");
        assert_eq!(
            quote("# title\n- item\n  + more\n2. two\n===\nsee #3"),
            "> \\# title\n> \\- item\n>   \\+ more\n> 2\\. two\n> \\===\n> see #3\n"
        );
    }
}
