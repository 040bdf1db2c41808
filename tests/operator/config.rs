//! Configuration mistakes stop `parlor serve` before it binds, with status 2 and one line that
//! names the setting as the operator wrote it.

use crate::process::{assert_one_line, finish, shown, WorkDir};
use std::process::Command;

/// Runs `command` and returns its one-line refusal (exit status 2).
fn refusal(command: Command) -> String {
    let run = finish(command, b"");
    assert_eq!(run.status.code(), Some(2), "stderr: {}", run.stderr);
    assert_one_line(&run.stderr);
    assert_eq!(run.stdout, "");
    run.stderr
}

#[test]
fn a_misspelled_key_in_parlor_toml_stops_the_server_and_is_named() {
    let dir = WorkDir::new();
    dir.write("parlor.toml", "lisen = \"127.0.0.1:9\"\n");
    assert_eq!(
        refusal(dir.parlor(&["serve"])),
        format!(
            "parlor: unknown setting: `lisen` in {} (did you mean `listen`?)\n",
            shown(&dir.path, "parlor.toml")
        )
    );
}

#[test]
fn an_unknown_parlor_variable_stops_the_server_and_is_named() {
    let dir = WorkDir::new();
    let mut serve = dir.parlor(&["serve"]);
    serve.env("PARLOR_MAX_MESAGE_CHARS", "100");
    assert_eq!(
        refusal(serve),
        "parlor: unknown setting: environment variable PARLOR_MAX_MESAGE_CHARS \
         (did you mean PARLOR_MAX_MESSAGE_CHARS?)\n"
    );
}

#[test]
fn a_config_file_named_with_the_flag_must_exist() {
    let dir = WorkDir::new();
    assert_eq!(
        refusal(dir.parlor(&["--config", "missing.toml", "serve"])),
        "parlor: the configuration file missing.toml (given by --config) does not exist\n"
    );
    // The flag is global: after the subcommand it means the same.
    assert_eq!(
        refusal(dir.parlor(&["user", "add", "alice", "--config", "missing.toml"])),
        "parlor: the configuration file missing.toml (given by --config) does not exist\n"
    );
}

#[test]
fn a_config_file_named_in_the_environment_must_exist() {
    let dir = WorkDir::new();
    let mut serve = dir.parlor(&["serve"]);
    serve.env("PARLOR_CONFIG", "/nowhere/parlor.toml");
    assert_eq!(
        refusal(serve),
        "parlor: the configuration file /nowhere/parlor.toml (given by PARLOR_CONFIG) does not exist\n"
    );
}

#[test]
fn a_root_password_without_a_root_user_stops_the_server() {
    let dir = WorkDir::new();
    for (variable, value) in [
        ("PARLOR_ROOT_PASSWORD", "a sturdy password"),
        (
            "PARLOR_ROOT_PASSWORD_HASH",
            "$argon2id$v=19$m=64,t=1,p=1$c2FsdHNhbHQ$aGFzaA",
        ),
    ] {
        let mut serve = dir.parlor(&["serve"]);
        serve.env(variable, value);
        let refusal = refusal(serve);
        assert_eq!(
            refusal,
            format!(
                "parlor: invalid configuration: {variable} is set without PARLOR_ROOT_USER; \
                 set both, or neither\n"
            )
        );
        assert!(!refusal.contains(value), "the secret is not echoed");
    }
}

#[test]
fn a_root_password_in_the_file_without_a_root_user_is_named_in_the_file() {
    let dir = WorkDir::new();
    dir.write("parlor.toml", "root_password = \"a sturdy password\"\n");
    assert_eq!(
        refusal(dir.parlor(&["serve"])),
        format!(
            "parlor: invalid configuration: `root_password` in {} is set without \
             PARLOR_ROOT_USER; set both, or neither\n",
            shown(&dir.path, "parlor.toml")
        )
    );
}

#[test]
fn an_invalid_log_filter_stops_the_server() {
    let dir = WorkDir::new();
    let mut serve = dir.parlor(&["serve"]);
    serve.env("PARLOR_LOG", "parlor=loud");
    let refusal = refusal(serve);
    assert!(
        refusal.starts_with("parlor: invalid configuration: PARLOR_LOG: ")
            && refusal.contains("\"parlor=loud\""),
        "{refusal}"
    );
}

#[test]
fn a_bad_value_is_named_by_its_variable_not_by_figments_key() {
    let dir = WorkDir::new();
    let mut serve = dir.parlor(&["serve"]);
    serve.env("PARLOR_LISTEN", "everywhere");
    let refusal = refusal(serve);
    assert!(
        refusal.starts_with("parlor: invalid configuration: PARLOR_LISTEN: "),
        "{refusal}"
    );
}

#[test]
fn a_bad_value_in_the_file_is_named_by_its_key_and_file() {
    let dir = WorkDir::new();
    dir.write("parlor.toml", "log_format = \"xml\"\n");
    let refusal = refusal(dir.parlor(&["serve"]));
    assert!(
        refusal.starts_with(&format!(
            "parlor: invalid configuration: `log_format` in {}: unknown variant",
            shown(&dir.path, "parlor.toml")
        )) && !refusal.contains("default."),
        "{refusal}"
    );
}

#[test]
fn a_zero_limit_in_the_file_is_named_by_its_key_and_file() {
    let dir = WorkDir::new();
    dir.write("parlor.toml", "outbound_queue = 0\n");
    assert_eq!(
        refusal(dir.parlor(&["serve"])),
        format!(
            "parlor: invalid configuration: `outbound_queue` in {}: must be greater than 0\n",
            shown(&dir.path, "parlor.toml")
        )
    );
}

#[test]
fn a_file_that_is_not_toml_is_refused_on_one_line() {
    let dir = WorkDir::new();
    dir.write("parlor.toml", "listen = 127.0.0.1:9\n");
    let refusal = refusal(dir.parlor(&["serve"]));
    assert!(
        refusal.starts_with(&format!(
            "parlor: cannot read the configuration file {}: TOML parse error at line 1",
            shown(&dir.path, "parlor.toml")
        )),
        "{refusal}"
    );
}
