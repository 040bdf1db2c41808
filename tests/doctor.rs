//! `parlor doctor` as an operator runs it: on a healthy install it says so check by check and
//! exits 0; on each broken one (missing key, wrong key, unreachable database, unwritable data
//! directory, a configuration that does not load) it names the problem in plain words and
//! exits non-zero — and never prints a credential.

mod common;

use common::binary;
use common::{spawn_app, unique_name, TestApp};
use parlor::crypto::MasterKey;
use std::process::Output;

/// What one `parlor doctor` run printed, and how it ended.
struct Diagnosis {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

impl Diagnosis {
    fn from(output: Output) -> Self {
        Diagnosis {
            code: output.status.code(),
            stdout: String::from_utf8(output.stdout).expect("text"),
            stderr: String::from_utf8(output.stderr).expect("text"),
        }
    }

    /// The line of the check on `subject`, as (verdict, detail).
    fn check(&self, subject: &str) -> (String, String) {
        let line = self
            .stdout
            .lines()
            .find(|l| l.get(9..24).map(str::trim) == Some(subject))
            .unwrap_or_else(|| panic!("no line for {subject}: {self}"));
        let verdict = line
            .split_whitespace()
            .next()
            .unwrap_or_default()
            .to_owned();
        (verdict, line[9 + 15..].trim().to_owned())
    }
}

impl std::fmt::Display for Diagnosis {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "exit {:?}\n{}\nstderr: {}",
            self.code, self.stdout, self.stderr
        )
    }
}

/// The variables that point the binary at the app's data (its database when not SQLite in
/// the data directory).
fn store_env(app: &TestApp) -> Vec<(&'static str, String)> {
    let mut env = Vec::new();
    if let Some(url) = &app.config.database_url {
        env.push(("DATABASE_URL", url.expose().to_owned()));
    }
    env
}

async fn doctor(app: &TestApp, extra: &[(&'static str, String)]) -> Diagnosis {
    let mut env = store_env(app);
    env.extend(extra.iter().cloned());
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    Diagnosis::from(binary::run(&app.config.data_dir, &["doctor"], &env).await)
}

/// An app holding a room with a message, so the database holds data keys.
async fn app_with_data() -> TestApp {
    let app = spawn_app().await;
    let owner = app.caller(&unique_name("doc")).await;
    let room = owner.create_room(&unique_name("clinic"), false).await.slug;
    owner.say_in(&room, "something worth keeping").await;
    app
}

#[tokio::test]
async fn a_healthy_install_passes_every_check() {
    let app = app_with_data().await;
    let found = doctor(&app, &[]).await;
    assert_eq!(found.code, Some(0), "{found}");
    for subject in [
        "configuration",
        "data directory",
        "database",
        "master key",
        "files",
        "redis",
    ] {
        assert_eq!(found.check(subject).0, "ok", "{subject}: {found}");
    }
    let (_, key) = found.check("master key");
    assert!(key.contains("opens all"), "{found}");
    let (_, database) = found.check("database");
    assert!(
        database.contains("schema current") && database.contains("takes writes"),
        "{found}"
    );
}

#[tokio::test]
async fn a_fresh_install_is_healthy_before_its_first_start() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let found = Diagnosis::from(binary::run(&data, &["doctor"], &[]).await);
    assert_eq!(found.code, Some(0), "{found}");
    assert!(
        found.check("master key").1.contains("first start creates"),
        "{found}"
    );
    assert!(!data.exists(), "the doctor creates nothing: {found}");
}

#[tokio::test]
async fn a_missing_master_key_is_named_with_what_it_wraps() {
    let app = app_with_data().await;
    let key_file = MasterKey::file_in(&app.config.data_dir);
    std::fs::remove_file(&key_file).unwrap();
    let found = doctor(&app, &[]).await;
    assert_eq!(found.code, Some(1), "{found}");
    let (verdict, detail) = found.check("master key");
    assert_eq!(verdict, "FAILED", "{found}");
    assert!(
        detail.starts_with("missing: there is no key at") && detail.contains("restore that key"),
        "{found}"
    );
    assert!(found.stderr.contains("1 problem found"), "{found}");
    assert!(!key_file.exists(), "the doctor never makes a key");
}

#[tokio::test]
async fn a_wrong_master_key_is_named() {
    let app = app_with_data().await;
    let key_file = MasterKey::file_in(&app.config.data_dir);
    let right = MasterKey::read_file(&key_file).unwrap().unwrap();
    std::fs::remove_file(&key_file).unwrap();
    let wrong = MasterKey::generate();
    wrong.write_new_file(&key_file).unwrap();
    let found = doctor(&app, &[]).await;
    assert_eq!(found.code, Some(1), "{found}");
    let (verdict, detail) = found.check("master key");
    assert_eq!(verdict, "FAILED", "{found}");
    assert!(
        detail.starts_with("wrong key:")
            && detail.contains(&wrong.id())
            && detail.contains(&right.id()),
        "{found}"
    );
    // The same key given in the environment instead is just as wrong; a malformed one says so.
    let found = doctor(&app, &[("PARLOR_MASTER_KEY", "not-a-key".into())]).await;
    let (verdict, detail) = found.check("master key");
    assert_eq!(verdict, "FAILED", "{found}");
    assert!(detail.contains("is not a usable key"), "{found}");
    assert!(!found.stdout.contains("not-a-key"), "{found}");
}

#[tokio::test]
async fn an_unreachable_database_is_named_without_its_password() {
    let app = app_with_data().await;
    // A port nothing listens on: bound, then released.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("postgres://parlor:hunter2-secret@127.0.0.1:{port}/parlor");
    let found = doctor(&app, &[("DATABASE_URL", url)]).await;
    assert_eq!(found.code, Some(1), "{found}");
    let (verdict, detail) = found.check("database");
    assert_eq!(verdict, "FAILED", "{found}");
    assert!(
        detail.starts_with(&format!(
            "cannot reach PostgreSQL on 127.0.0.1:{port}, database parlor"
        )) && detail.contains("refused"),
        "{found}"
    );
    assert!(!found.stdout.contains("hunter2"), "{found}");
    assert!(!found.stderr.contains("hunter2"), "{found}");
    // Whether the key fits is unknown, and said to be.
    assert_eq!(found.check("master key").0, "warning", "{found}");
}

#[tokio::test]
async fn an_unwritable_data_directory_is_named() {
    use std::os::unix::fs::PermissionsExt;
    let app = app_with_data().await;
    let data = app.config.data_dir.clone();
    std::fs::set_permissions(&data, std::fs::Permissions::from_mode(0o555)).unwrap();
    let found = if is_root() {
        // Root writes anywhere: run the doctor as an unprivileged user, from a copy of the
        // binary that user may execute.
        let bin_dir = tempfile::tempdir().unwrap();
        std::fs::set_permissions(bin_dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
        let bin = bin_dir.path().join("parlor");
        std::fs::copy(binary::BIN, &bin).unwrap();
        let mut command = std::process::Command::new("runuser");
        command
            .args(["-u", "nobody", "--"])
            .arg(&bin)
            .arg("doctor")
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("PARLOR_DATA_DIR", &data)
            .env("NO_COLOR", "1")
            .current_dir(bin_dir.path());
        for (name, value) in store_env(&app) {
            command.env(name, value);
        }
        let output = tokio::task::spawn_blocking(move || command.output().expect("runuser"))
            .await
            .unwrap();
        Diagnosis::from(output)
    } else {
        doctor(&app, &[]).await
    };
    std::fs::set_permissions(&data, std::fs::Permissions::from_mode(0o755)).unwrap();
    assert_eq!(found.code, Some(1), "{found}");
    let (verdict, detail) = found.check("data directory");
    assert_eq!(verdict, "FAILED", "{found}");
    assert!(
        detail.contains("does not take writes") && detail.contains("ermission denied"),
        "{found}"
    );
}

#[tokio::test]
async fn a_configuration_that_does_not_load_is_named_and_exits_2() {
    let app = spawn_app().await;
    let found = doctor(&app, &[("PARLOR_ADMIN_CIDRS", "not-a-network".into())]).await;
    assert_eq!(found.code, Some(2), "{found}");
    let (verdict, detail) = found.check("configuration");
    assert_eq!(verdict, "FAILED", "{found}");
    assert!(
        detail.contains("PARLOR_ADMIN_CIDRS") && detail.contains("not-a-network"),
        "{found}"
    );
}

fn is_root() -> bool {
    rustix::process::geteuid().is_root()
}

#[tokio::test]
async fn an_unreachable_redis_is_named_without_its_password() {
    let app = app_with_data().await;
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("redis://:hunter2-secret@127.0.0.1:{port}");
    let found = doctor(&app, &[("PARLOR_REDIS_URL", url)]).await;
    assert_eq!(found.code, Some(1), "{found}");
    let (verdict, detail) = found.check("redis");
    assert_eq!(verdict, "FAILED", "{found}");
    assert!(
        detail.starts_with(&format!("cannot reach redis://127.0.0.1:{port}")),
        "{found}"
    );
    assert!(!found.stdout.contains("hunter2"), "{found}");
    assert_eq!(found.check("database").0, "ok", "{found}");
}
