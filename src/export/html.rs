//! `export.html`: an export as one page that opens in any browser, from disk, with nothing else
//! to load but its own files (images shown, other files linked).
//!
//! Every piece of text reaches the page through [`escape`] — there is no other way in — and
//! every link or image source is an export's own `files/…` path, built from characters that
//! need no escaping (escaped all the same). The page declares a Content-Security-Policy that
//! allows no script at all, so even a mistake here could not run one.

use super::{
    human_size, human_time, AccountInfo, AuditLine, Counts, Details, FileRef, MemberInfo,
    MessageLine, RoomInfo, Section, UploadLine,
};

/// `text` with `&`, `<`, `>`, `"` and `'` replaced by entities: safe in element content and in
/// quoted attribute values.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + text.len() / 8);
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

const STYLE: &str = "body{font:15px/1.45 system-ui,sans-serif;max-width:52rem;margin:2rem auto;\
padding:0 1rem;color:#1d2330;background:#fff}h1{font-size:1.5rem}h2{font-size:1.2rem;\
margin-top:2.2rem;border-bottom:1px solid #d8dce6;padding-bottom:.3rem}\
.meta{color:#5b6475;font-size:.85rem}ol.messages{list-style:none;padding:0}\
ol.messages li{padding:.45rem 0;border-bottom:1px solid #eef0f4}.author{font-weight:600}\
.text{white-space:pre-wrap;overflow-wrap:anywhere;margin:.2rem 0}.missing{color:#a33}\
img{max-width:100%;max-height:24rem;display:block;margin:.3rem 0}table{border-collapse:collapse}\
td,th{text-align:left;padding:.2rem .6rem .2rem 0;vertical-align:top}\
@media (prefers-color-scheme:dark){body{color:#e3e6ee;background:#161a22}\
ol.messages li{border-color:#2a303c}h2{border-color:#2a303c}.meta{color:#9aa3b5}}";

pub fn header(title: &str, exported_at: i64) -> String {
    let title = escape(&format!("Parlor export: {title}"));
    format!(
        "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; \
         style-src 'unsafe-inline'; img-src 'self' file:; media-src 'self' file:\">\n\
         <title>{title}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n<h1>{title}</h1>\n\
         <p class=\"meta\">Exported {} by Parlor {}.</p>\n",
        escape(&human_time(exported_at)),
        escape(env!("CARGO_PKG_VERSION"))
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

/// A two-column table of labels and (escaped) values.
fn facts(rows: &[(&str, String)]) -> String {
    let mut out = String::from("<table>\n");
    for (label, value) in rows {
        out.push_str(&format!(
            "<tr><th>{}</th><td>{}</td></tr>\n",
            escape(label),
            escape(value)
        ));
    }
    out.push_str("</table>\n");
    out
}

fn room_block(room: &RoomInfo) -> String {
    let mut rows = vec![
        ("Address", room.address.clone()),
        ("Name", room.name.clone()),
        ("Kind", room.kind.to_owned()),
    ];
    if let Some(topic) = &room.topic {
        rows.push(("Topic", topic.clone()));
    }
    rows.push(("Private", if room.private { "yes" } else { "no" }.into()));
    rows.push(("Created", human_time(room.created_at)));
    format!("<section>\n<h2>Room</h2>\n{}</section>\n", facts(&rows))
}

fn members_block(members: &[MemberInfo]) -> String {
    let mut out = format!("<section>\n<h2>Members ({})</h2>\n<table>\n", members.len());
    for member in members {
        out.push_str(&format!(
            "<tr><td>{}</td><td>{}</td><td>since {}</td></tr>\n",
            escape(&member.name),
            escape(&member.role),
            escape(&human_time(member.joined_at))
        ));
    }
    out.push_str("</table>\n</section>\n");
    out
}

fn account_block(account: &AccountInfo) -> String {
    let profile = facts(&[
        ("Name", account.name.clone()),
        ("Role", account.role.clone()),
        (
            "E-mail",
            account.email.clone().unwrap_or_else(|| "none".into()),
        ),
        (
            "Verified",
            if account.verified { "yes" } else { "no" }.into(),
        ),
        ("Created", human_time(account.created_at)),
    ]);
    let mut out = format!("<section>\n<h2>Profile</h2>\n{profile}</section>\n");
    out.push_str(&format!(
        "<section>\n<h2>Sessions ({})</h2>\n<table>\n<tr><th>Address</th><th>Signed in</th>\
         <th>Runs until</th></tr>\n",
        account.sessions.len()
    ));
    for session in &account.sessions {
        out.push_str(&format!(
            "<tr><td>{}</td><td>{}</td><td>{}</td></tr>\n",
            escape(&session.ip),
            escape(&human_time(session.created_at)),
            escape(&human_time(session.expires_at))
        ));
    }
    out.push_str(&format!(
        "</table>\n</section>\n<section>\n<h2>Rooms and conversations ({})</h2>\n<table>\n",
        account.memberships.len()
    ));
    for membership in &account.memberships {
        let place = match &membership.peer {
            Some(peer) => format!("conversation with {peer}"),
            None if membership.room.name == membership.room.address => {
                membership.room.address.clone()
            }
            None => format!("{} ({})", membership.room.address, membership.room.name),
        };
        out.push_str(&format!(
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>since {}</td></tr>\n",
            escape(&place),
            escape(&membership.role),
            escape(membership.state.unwrap_or("")),
            escape(&human_time(membership.joined_at))
        ));
    }
    out.push_str(&format!(
        "</table>\n</section>\n<section>\n<h2>Ignored ({})</h2>\n<ul>\n",
        account.ignores.len()
    ));
    for name in &account.ignores {
        out.push_str(&format!("<li>{}</li>\n", escape(name)));
    }
    out.push_str("</ul>\n</section>\n");
    out
}

/// Opens the activity log; closed by [`CLOSE_TABLE`].
pub fn audit_heading() -> String {
    "<section>\n<h2>Activity log</h2>\n<p class=\"meta\">Every entry is in audit.jsonl, with the \
     address each message was sent from; listed here are the entries other than messages.</p>\n\
     <table>\n<tr><th>When</th><th>What</th><th>By</th><th>Target</th><th>Room</th>\
     <th>Detail</th></tr>\n"
        .to_owned()
}

pub const CLOSE_TABLE: &str = "</table>\n</section>\n";

pub fn audit_entry(entry: &AuditLine) -> String {
    let cell = |value: &Option<String>| escape(value.as_deref().unwrap_or(""));
    format!(
        "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>\n",
        escape(&human_time(entry.ts)),
        escape(&entry.action),
        if entry.by_you { "you" } else { "staff" },
        cell(&entry.target),
        cell(&entry.room),
        cell(&entry.detail)
    )
}

/// Opens a room's messages; closed by [`CLOSE_MESSAGES`].
pub fn section(section: &Section) -> String {
    format!(
        "<section>\n<h2>{}</h2>\n<ol class=\"messages\">\n",
        escape(&section.title())
    )
}

pub const CLOSE_MESSAGES: &str = "</ol>\n</section>\n";

pub fn message(line: &MessageLine) -> String {
    let mut out = format!(
        "<li id=\"m-{}-{}\"><span class=\"author\">{}</span> \
         <span class=\"meta\">{} · #{}</span>\n",
        escape(&anchor(&line.room)),
        line.seq,
        escape(&line.author),
        escape(&human_time(line.ts)),
        line.seq
    );
    if line.undecryptable {
        out.push_str("<p class=\"text missing\">(this message could not be decrypted)</p>\n");
    } else if line.envelope.is_some() {
        out.push_str("<p class=\"text missing\">(end-to-end encrypted: see messages.jsonl)</p>\n");
    } else if !line.text.is_empty() {
        out.push_str(&format!("<p class=\"text\">{}</p>\n", escape(&line.text)));
    }
    for file in &line.attachments {
        out.push_str(&attachment(file));
    }
    out.push_str("</li>\n");
    out
}

/// An attachment: an image shown, anything else linked; a file that could not be read named.
fn attachment(file: &FileRef) -> String {
    let about = escape(&format!("{}, {}", file.mime, human_size(file.size)));
    let name = escape(&file.name);
    match &file.path {
        Some(path) if file.mime.starts_with("image/") && file.mime != "image/svg+xml" => format!(
            "<a href=\"{path}\"><img src=\"{path}\" alt=\"{name}\"></a>\
             <span class=\"meta\">{name} ({about})</span>\n",
            path = escape(path)
        ),
        Some(path) => format!(
            "<p>📎 <a href=\"{}\">{name}</a> <span class=\"meta\">({about})</span></p>\n",
            escape(path)
        ),
        None => format!(
            "<p class=\"missing\">📎 {name} <span class=\"meta\">({about}; could not be read)\
             </span></p>\n"
        ),
    }
}

/// Opens the list of uploads; closed by [`CLOSE_TABLE`].
pub fn uploads_heading() -> String {
    "<section>\n<h2>Files you uploaded</h2>\n<table>\n<tr><th>File</th><th>For</th>\
     <th>Sent</th><th>Uploaded</th></tr>\n"
        .to_owned()
}

pub fn upload(upload: &UploadLine) -> String {
    let file = &upload.file;
    let link = match &file.path {
        Some(path) => format!("<a href=\"{}\">{}</a>", escape(path), escape(&file.name)),
        None => format!("{} (could not be read)", escape(&file.name)),
    };
    format!(
        "<tr><td>{link} <span class=\"meta\">{}</span></td><td>{}</td><td>{}</td><td>{}</td></tr>\n",
        escape(&format!("{}, {}", file.mime, human_size(file.size))),
        escape(upload.room.as_deref().unwrap_or("the lobby")),
        if upload.sent { "yes" } else { "not yet" },
        escape(&human_time(upload.created_at))
    )
}

pub fn footer(counts: &Counts) -> String {
    format!(
        "<p class=\"meta\">{}</p>\n</body>\n</html>\n",
        escape(&super::describe(counts))
    )
}

/// A room's wire name as part of an element id (`pm:1:2` → `pm-1-2`).
fn anchor(room: &str) -> String {
    room.chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_escaped_for_content_and_attributes() {
        assert_eq!(
            escape(r#"<script>alert("x&y")</script>'"#),
            "&lt;script&gt;alert(&quot;x&amp;y&quot;)&lt;/script&gt;&#39;"
        );
    }

    #[test]
    fn a_message_never_carries_raw_markup() {
        let line = MessageLine {
            room: "general".into(),
            seq: 3,
            ts: 0,
            time: String::new(),
            author: "eve".into(),
            text: "<img src=x onerror=alert(1)>".into(),
            undecryptable: false,
            envelope: None,
            edited_at: None,
            attachments: vec![FileRef {
                id: "id".into(),
                name: "\"><script>.png".into(),
                mime: "image/png".into(),
                size: 1,
                path: Some("files/id-script.png".into()),
            }],
        };
        let html = message(&line);
        assert!(!html.contains("<img src=x"), "{html}");
        assert!(!html.contains("<script>"), "{html}");
        assert!(
            html.contains("&lt;img src=x onerror=alert(1)&gt;"),
            "{html}"
        );
    }
}
