//! What a start tells the operator, with the output piped (no terminal): the version, the
//! configuration file, the data directory, the database, the master key, whether anyone can
//! administer the server, and where it listens — and no colour codes.

use crate::process::{finish, line_with, shown, start_and_stop, WorkDir};

/// 32 bytes of base64: a valid master key.
const MASTER_KEY: &str = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=";

/// Asserts that no line carries an ANSI escape sequence.
fn assert_no_colour(lines: &[String]) {
    for line in lines {
        assert!(!line.contains("\u{1b}["), "escape code in {line:?}");
    }
}

#[test]
fn a_first_start_says_what_it_runs_on_and_how_to_create_an_admin() {
    let dir = WorkDir::new();
    let (lines, url) = start_and_stop(dir.parlor(&["serve"]));
    line_with(
        &lines,
        &format!("Parlor {} starting", env!("CARGO_PKG_VERSION")),
    );
    line_with(
        &lines,
        "configuration file: none (defaults and environment only)",
    );
    line_with(
        &lines,
        "set by the environment: PARLOR_ARGON2_ITERATIONS, PARLOR_ARGON2_MEMORY_KIB, PARLOR_LISTEN",
    );
    line_with(
        &lines,
        &format!("data directory: {}", shown(&dir.path, "parlor-data")),
    );
    line_with(
        &lines,
        &format!(
            "database: SQLite {}",
            shown(&dir.path, "parlor-data/parlor.db")
        ),
    );
    line_with(
        &lines,
        &format!("master key: {}", shown(&dir.path, "parlor-data/master.key")),
    );
    line_with(
        &lines,
        "no admin account yet: create one with `parlor user add NAME --role root` \
         (or set PARLOR_ROOT_USER and PARLOR_ROOT_PASSWORD)",
    );
    assert!(url.starts_with("http://127.0.0.1:"), "{url}");
    assert_no_colour(&lines);
}

#[test]
fn a_configured_start_names_the_file_the_key_setting_and_the_admins() {
    let dir = WorkDir::new();
    dir.write("parlor.toml", "max_message_chars = 300\n");
    let mut serve = dir.parlor(&["serve"]);
    serve
        .env("PARLOR_MASTER_KEY", MASTER_KEY)
        .env("PARLOR_ROOT_USER", "chief")
        .env("PARLOR_ROOT_PASSWORD", "the chief's password");
    let (lines, _) = start_and_stop(serve);
    line_with(
        &lines,
        &format!("configuration file: {}", shown(&dir.path, "parlor.toml")),
    );
    line_with(&lines, "master key: from PARLOR_MASTER_KEY");
    line_with(&lines, "admin accounts: 1 root, 0 admin");
    for secret in [MASTER_KEY, "the chief's password"] {
        assert!(
            lines.iter().all(|line| !line.contains(secret)),
            "a secret in {lines:#?}"
        );
    }
    assert_no_colour(&lines);
}

#[test]
fn the_database_is_described_without_its_credentials() {
    let dir = WorkDir::new();
    let mut serve = dir.parlor(&["serve"]);
    serve.env("PARLOR_MASTER_KEY", MASTER_KEY).env(
        "DATABASE_URL",
        "postgres://chatuser:hunter2hunter2@127.0.0.1:1/chat",
    );
    // Nothing listens on port 1: the start fails after describing the database.
    let run = finish(serve, b"");
    assert_eq!(run.status.code(), Some(1), "{}", run.stderr);
    let lines: Vec<String> = run.stderr.lines().map(str::to_owned).collect();
    line_with(&lines, "database: PostgreSQL on 127.0.0.1:1, database chat");
    line_with(&lines, "parlor: cannot open the database");
    for secret in ["chatuser", "hunter2hunter2"] {
        assert!(!run.stderr.contains(secret), "{secret} in {}", run.stderr);
    }
    assert_no_colour(&lines);
}

#[test]
fn json_logs_carry_the_same_start_up_lines() {
    let dir = WorkDir::new();
    let mut serve = dir.parlor(&["serve"]);
    serve.env("PARLOR_LOG_FORMAT", "json");
    let (lines, _) = start_and_stop(serve);
    let line = line_with(&lines, "data directory: ");
    let event: serde_json::Value = serde_json::from_str(line).expect("a JSON line");
    assert_eq!(
        event["fields"]["message"],
        format!("data directory: {}", shown(&dir.path, "parlor-data"))
    );
    assert_no_colour(&lines);
}
