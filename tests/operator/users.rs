//! `parlor user add`: a role changes only when `--role` says so, and the password is the first
//! line of standard input without its line ending — nothing else trimmed, never empty.

use crate::common::protocol::{Role, Session};
use crate::common::{spawn_app_with, Reply, TestApp};
use crate::process::{assert_one_line, finish, WorkDir};
use serde_json::json;

/// `parlor user add NAME [--role ROLE]` with `stdin`; returns what it printed on success.
fn add(dir: &WorkDir, name: &str, role: Option<&str>, stdin: &str) -> String {
    let mut args = vec!["user", "add", name];
    args.extend(role.map(|role| ["--role", role]).into_iter().flatten());
    let run = finish(dir.parlor(&args), stdin.as_bytes());
    assert!(run.status.success(), "{}: {}", run.status, run.stderr);
    run.stdout
}

/// A server (in-process, on a manual clock) over the data `parlor user add` wrote in `dir`.
async fn server_on(dir: &WorkDir) -> TestApp {
    let data_dir = dir.path.join("parlor-data");
    spawn_app_with(move |config| {
        config.data_dir = data_dir;
        config.database_url = None;
    })
    .await
}

async fn login(app: &TestApp, name: &str, password: &str) -> Reply {
    app.request("POST", "/api/login")
        .json(json!({ "username": name, "password": password }))
        .send()
        .await
}

#[tokio::test]
async fn re_adding_a_root_without_a_role_keeps_it_root() {
    let dir = WorkDir::new();
    assert_eq!(
        add(&dir, "chief", Some("root"), "first password\n"),
        "user chief created with role root\n"
    );
    assert_eq!(
        add(&dir, "Chief", None, "second password\n"),
        "user chief: password reset; role root kept (change it with --role)\n"
    );
    let app = server_on(&dir).await;
    let session: Session = login(&app, "chief", "second password").await.expect(200);
    assert_eq!(session.user.role, Role::Root);
}

#[tokio::test]
async fn a_new_account_without_a_role_is_a_user() {
    let dir = WorkDir::new();
    assert_eq!(
        add(&dir, "alice", None, "alice password\n"),
        "user alice created with role user\n"
    );
    let app = server_on(&dir).await;
    let session: Session = login(&app, "alice", "alice password").await.expect(200);
    assert_eq!(session.user.role, Role::User);
}

#[tokio::test]
async fn a_role_changes_when_given_and_says_from_what() {
    let dir = WorkDir::new();
    add(&dir, "chief", Some("root"), "first password\n");
    assert_eq!(
        add(&dir, "chief", Some("root"), "second password\n"),
        "user chief: password reset; role root unchanged\n"
    );
    assert_eq!(
        add(&dir, "chief", Some("admin"), "third password\n"),
        "user chief: password reset; role changed from root to admin\n"
    );
    let app = server_on(&dir).await;
    login(&app, "chief", "second password")
        .await
        .expect_error(401, "invalid_credentials");
    let session: Session = login(&app, "chief", "third password").await.expect(200);
    assert_eq!(session.user.role, Role::Admin);
}

#[tokio::test]
async fn the_password_keeps_its_spaces_and_loses_only_the_line_ending() {
    let dir = WorkDir::new();
    add(&dir, "spacey", None, "  padded password \r\n");
    let app = server_on(&dir).await;
    for trimmed in [
        "padded password",
        "  padded password \r",
        "  padded password \r\n",
    ] {
        login(&app, "spacey", trimmed)
            .await
            .expect_error(401, "invalid_credentials");
    }
    let session: Session = login(&app, "spacey", "  padded password ")
        .await
        .expect(200);
    assert_eq!(session.user.username, "spacey");
}

#[test]
fn an_empty_password_is_refused_and_nothing_is_created() {
    let dir = WorkDir::new();
    for stdin in ["", "\n", "\r\n"] {
        let run = finish(dir.parlor(&["user", "add", "nobody"]), stdin.as_bytes());
        assert_eq!(run.status.code(), Some(1), "{stdin:?}: {}", run.stderr);
        assert_one_line(&run.stderr);
        assert_eq!(
            run.stderr,
            "parlor: the password is empty; nothing was changed\n"
        );
    }
    assert_eq!(
        add(&dir, "nobody", None, "finally a password\n"),
        "user nobody created with role user\n"
    );
}

#[test]
fn an_invalid_name_is_refused_before_the_password_is_read() {
    let dir = WorkDir::new();
    let run = finish(
        dir.parlor(&["user", "add", "no body"]),
        b"a sturdy password\n",
    );
    assert_eq!(run.status.code(), Some(1));
    assert_one_line(&run.stderr);
    assert!(
        run.stderr
            .starts_with("parlor: invalid user name \"no body\": "),
        "{}",
        run.stderr
    );
}
