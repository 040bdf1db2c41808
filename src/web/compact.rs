//! Strips the bundled script of what only its readers need: comments, indentation and blank
//! lines.
//!
//! Why: a third of the app's source is its documentation comments and indentation. Served as
//! they are, a phone on a 10 Mbit/s link spends about 50 ms of its first load receiving them
//! (165 KB gzip-compressed against 103 KB without), and the browser scans them again on every
//! load. A full minifier (renaming, rewriting) would bring a JavaScript parser into the build
//! for little more; this only has to tell code from comments, strings, template literals and
//! regular expressions, which a small scanner does.
//!
//! What it keeps: every line break between two lines of code (automatic semicolon insertion
//! depends on them, so no statement changes meaning), and everything inside a string, a
//! template literal or a regular expression, byte for byte. A `/` starts a regular expression
//! where an operand is expected — at the start, after an operator or an opening bracket, or
//! after a keyword such as `return` — and is a division after a name, a number or a closing
//! bracket. That is the rule the language's grammar comes down to for code that does not put a
//! regular expression right after a block's `}` or a postfix `++`, which the app does not.

/// What came before a `/`, deciding whether it divides or starts a regular expression.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Before {
    /// A name, a number, a literal or a closing bracket: a `/` divides it.
    Operand,
    /// An operator, an opening bracket, a keyword or nothing: a `/` starts a regular expression.
    Operator,
}

/// Keywords after which an expression starts (so a `/` there begins a regular expression).
const EXPRESSION_KEYWORDS: [&str; 14] = [
    "return",
    "typeof",
    "instanceof",
    "in",
    "of",
    "new",
    "delete",
    "void",
    "throw",
    "case",
    "do",
    "else",
    "yield",
    "await",
];

/// `source` without comments, indentation, trailing spaces and blank lines.
pub fn compact(source: &str) -> String {
    let bytes = source.as_bytes();
    let mut out: Vec<u8> = Vec::with_capacity(bytes.len());
    let mut before = Before::Operator;
    // Brace depth in code, and for each template literal the code is inside of (`${ … }`),
    // the depth at which its `}` returns to the template.
    let mut depth = 0usize;
    let mut templates: Vec<usize> = Vec::new();
    let mut line_start = true;
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        match b {
            b' ' | b'\t' | b'\r' => {
                space(&mut out, line_start);
                i += 1;
            }
            b'\n' => {
                end_line(&mut out);
                line_start = true;
                i += 1;
            }
            b'/' if bytes.get(i + 1) == Some(&b'/') => {
                while i < bytes.len() && bytes[i] != b'\n' {
                    i += 1;
                }
            }
            b'/' if bytes.get(i + 1) == Some(&b'*') => {
                let end = find(bytes, i + 2, b"*/").map_or(bytes.len(), |at| at + 2);
                if bytes[i..end].contains(&b'\n') {
                    end_line(&mut out);
                    line_start = true;
                } else {
                    space(&mut out, line_start);
                }
                i = end;
            }
            b'/' if before == Before::Operator => {
                i = copy_regex(bytes, i, &mut out);
                line_start = false;
                before = Before::Operand;
            }
            b'\'' | b'"' => {
                i = copy_string(bytes, i, &mut out);
                line_start = false;
                before = Before::Operand;
            }
            // A template literal's text starts after its `` ` `` or after the `}` that closes
            // one of its substitutions.
            b'`' | b'}' if b == b'`' || templates.last() == Some(&depth) => {
                if b == b'}' {
                    templates.pop();
                }
                out.push(b);
                i = copy_template(bytes, i + 1, &mut out);
                before = if out.ends_with(b"${") {
                    templates.push(depth);
                    Before::Operator
                } else {
                    Before::Operand
                };
                line_start = false;
            }
            _ if b.is_ascii_alphanumeric() || b == b'_' || b == b'$' || b >= 0x80 => {
                let start = i;
                while i < bytes.len() && {
                    let c = bytes[i];
                    c.is_ascii_alphanumeric() || c == b'_' || c == b'$' || c >= 0x80
                } {
                    i += 1;
                }
                let word = &source[start..i];
                out.extend_from_slice(word.as_bytes());
                before = if EXPRESSION_KEYWORDS.contains(&word) {
                    Before::Operator
                } else {
                    Before::Operand
                };
                line_start = false;
            }
            _ => {
                match b {
                    b'{' => depth += 1,
                    b'}' => depth = depth.saturating_sub(1),
                    _ => {}
                }
                out.push(b);
                before = if matches!(b, b')' | b']' | b'}') {
                    Before::Operand
                } else {
                    Before::Operator
                };
                line_start = false;
                i += 1;
            }
        }
    }
    end_line(&mut out);
    // Only whole ASCII delimiters were removed and every other byte copied in order, so the
    // result is as valid UTF-8 as the source.
    String::from_utf8(out).unwrap_or_else(|_| source.to_owned())
}

/// One space between two pieces of a line: none at its start or after another.
fn space(out: &mut Vec<u8>, line_start: bool) {
    if !line_start && out.last().is_none_or(|&c| c != b' ') {
        out.push(b' ');
    }
}

/// Ends the line written so far, unless it is empty: drops its trailing space, then breaks.
fn end_line(out: &mut Vec<u8>) {
    while out.last() == Some(&b' ') {
        out.pop();
    }
    if out.last().is_some_and(|&c| c != b'\n') {
        out.push(b'\n');
    }
}

fn find(bytes: &[u8], from: usize, needle: &[u8]) -> Option<usize> {
    bytes
        .get(from..)?
        .windows(needle.len())
        .position(|w| w == needle)
        .map(|at| from + at)
}

/// Copies the string that starts at `start` (its quote) and returns where it ends.
fn copy_string(bytes: &[u8], start: usize, out: &mut Vec<u8>) -> usize {
    let quote = bytes[start];
    let mut i = start + 1;
    while i < bytes.len() && bytes[i] != quote && bytes[i] != b'\n' {
        i += if bytes[i] == b'\\' { 2 } else { 1 };
    }
    let end = (i + 1).min(bytes.len());
    out.extend_from_slice(&bytes[start..end]);
    end
}

/// Copies a template literal's text from `start` (just after its `` ` `` or a `}` closing a
/// substitution) through its closing `` ` `` or the next `${`, and returns where it stopped.
fn copy_template(bytes: &[u8], start: usize, out: &mut Vec<u8>) -> usize {
    let mut i = start;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' => i += 2,
            b'`' => {
                i += 1;
                break;
            }
            b'$' if bytes.get(i + 1) == Some(&b'{') => {
                i += 2;
                break;
            }
            _ => i += 1,
        }
    }
    let end = i.min(bytes.len());
    out.extend_from_slice(&bytes[start..end]);
    end
}

/// Copies the regular expression that starts at `start` (its `/`), without its flags (they
/// read as a name), and returns where it ends.
fn copy_regex(bytes: &[u8], start: usize, out: &mut Vec<u8>) -> usize {
    let mut i = start + 1;
    let mut in_class = false;
    while i < bytes.len() && bytes[i] != b'\n' {
        match bytes[i] {
            b'\\' => i += 1,
            b'[' => in_class = true,
            b']' => in_class = false,
            b'/' if !in_class => break,
            _ => {}
        }
        i += 1;
    }
    let end = (i + 1).min(bytes.len());
    out.extend_from_slice(&bytes[start..end]);
    end
}

#[cfg(test)]
mod tests {
    use super::compact;

    #[test]
    fn comments_indentation_and_blank_lines_go_and_line_breaks_between_code_stay() {
        let source = "/**\n * Docs.\n */\n\nfunction f(a) { // why\n    const b = a   /* inline */ + 1;\n\n\t  return b\n}\n";
        assert_eq!(
            compact(source),
            "function f(a) {\nconst b = a + 1;\nreturn b\n}\n"
        );
    }

    #[test]
    fn strings_templates_and_regular_expressions_are_copied_as_they_are() {
        let cases = [
            "const s = 'a // not a comment /* nor this */';\n",
            "const s = \"it's \\\" // still the string\";\n",
            "const t = `line one\n    // kept, indentation and all\n  ${a + `inner ${b /* gone */}`} /* kept */`;\n",
            "const r = /\\/\\/[/*]'\"`/g.test(x);\n",
            "if (!/^[a-z]+$/i.test(name)) return;\n",
            "return /x\\/y/.exec(s);\n",
            "const o = { a: `${x}` };\nconst half = total / 2 / 1; // divided\n",
            "const q = (a) / b, w = c[0] / d;\n",
        ];
        let expected = [
            "const s = 'a // not a comment /* nor this */';\n",
            "const s = \"it's \\\" // still the string\";\n",
            "const t = `line one\n    // kept, indentation and all\n  ${a + `inner ${b }`} /* kept */`;\n",
            "const r = /\\/\\/[/*]'\"`/g.test(x);\n",
            "if (!/^[a-z]+$/i.test(name)) return;\n",
            "return /x\\/y/.exec(s);\n",
            "const o = { a: `${x}` };\nconst half = total / 2 / 1;\n",
            "const q = (a) / b, w = c[0] / d;\n",
        ];
        for (source, expected) in cases.iter().zip(expected) {
            assert_eq!(compact(source), expected, "{source}");
        }
    }

    #[test]
    fn a_block_comment_spanning_lines_still_ends_the_statement_before_it() {
        // `a` and `b()` must stay on separate lines, or ASI would not end the first statement.
        assert_eq!(compact("let x = a /*\n*/ b()\n"), "let x = a\nb()\n");
    }

    #[test]
    fn text_outside_ascii_is_kept() {
        assert_eq!(
            compact("const dash = '—'; // “quoted”\nconst ünï = 1;\n"),
            "const dash = '—';\nconst ünï = 1;\n"
        );
    }

    #[test]
    fn the_real_app_loses_about_a_third_and_keeps_every_string() {
        let mut files = std::collections::BTreeMap::new();
        for file in super::super::ASSETS.get_dir("js").expect("web/js").files() {
            let path = file.path().to_string_lossy().replace('\\', "/");
            files.insert(path, file.contents_utf8().unwrap().to_owned());
        }
        let bundled = super::super::bundle::bundle(&files, "js/main.js").unwrap();
        let compacted = compact(&bundled);
        assert!(
            compacted.len() < bundled.len() * 3 / 4,
            "{} of {}",
            compacted.len(),
            bundled.len()
        );
        // Lines that hold a string in quotes are copied whole (modulo indentation), so every
        // quoted piece of user-facing text is still there.
        for line in bundled.lines().map(str::trim) {
            if line.starts_with("'") && line.ends_with("',") {
                assert!(compacted.contains(line), "lost: {line}");
            }
        }
        assert!(!compacted.contains("\n\n"));
        assert!(!compacted.contains("\n "));
    }
}
