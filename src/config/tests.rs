//! Loading from files and the environment (in figment's `Jail`, which serialises tests that
//! touch the process environment), and the README's table against the settings.

use super::*;
use crate::auth::PasswordParams;
use std::path::Path;

/// Runs `test` in a figment jail (a directory of its own, environment changes undone) with an
/// empty environment, so that no variable of the caller's (`PARLOR_TEST_POSTGRES_URL`) leaks in.
fn jailed(test: impl FnOnce(&mut figment::Jail) -> figment::error::Result<()>) {
    figment::Jail::expect_with(|jail| {
        jail.clear_env();
        test(jail)
    });
}

/// Loads with `parlor.toml` in the jail's directory and returns the error message.
fn refusal() -> String {
    Config::load(Path::new("parlor.toml"))
        .expect_err("refused")
        .to_string()
}

#[test]
fn environment_overrides_file_and_defaults() {
    jailed(|jail| {
        jail.create_file(
            "parlor.toml",
            "listen = \"127.0.0.1:9000\"\nmax_message_chars = 100",
        )?;
        jail.set_env("PARLOR_MAX_MESSAGE_CHARS", "42");
        jail.set_env(
            "PARLOR_PUBLIC_ORIGINS",
            "https://a.example, https://b.example",
        );
        jail.set_env("DATABASE_URL", "postgres://u:p@localhost/db");
        let config = Config::load(Path::new("parlor.toml")).expect("loads");
        assert_eq!(config.listen, "127.0.0.1:9000".parse().unwrap());
        assert_eq!(config.max_message_chars, 42);
        assert_eq!(
            config.public_origins,
            ["https://a.example", "https://b.example"]
        );
        assert_eq!(config.database_url(), "postgres://u:p@localhost/db");
        assert!(config.secure_cookies());
        assert!(
            !format!("{config:?}").contains("u:p"),
            "secrets are redacted"
        );
        let file = jail.directory().join("parlor.toml");
        assert_eq!(config.provenance.file(), Some(file.as_path()));
        assert_eq!(
            config.provenance.variables(),
            [
                "DATABASE_URL",
                "PARLOR_MAX_MESSAGE_CHARS",
                "PARLOR_PUBLIC_ORIGINS"
            ]
        );
        assert_eq!(
            config.provenance.name_of("listen"),
            format!("`listen` in {}", file.display())
        );
        assert_eq!(
            config.provenance.name_of("max_message_chars"),
            "PARLOR_MAX_MESSAGE_CHARS"
        );
        Ok(())
    });
}

#[test]
fn argon2_parameters_come_from_the_environment_and_are_checked() {
    jailed(|jail| {
        let defaults = Config::load(Path::new("missing.toml")).expect("loads");
        assert_eq!(
            defaults.password_params().unwrap(),
            PasswordParams::default(),
            "production defaults unchanged"
        );
        jail.set_env("PARLOR_ARGON2_MEMORY_KIB", "64");
        jail.set_env("PARLOR_ARGON2_ITERATIONS", "1");
        jail.set_env("PARLOR_ARGON2_PARALLELISM", "2");
        let cheap = Config::load(Path::new("missing.toml")).expect("loads");
        assert_eq!(
            (
                cheap.argon2_memory_kib,
                cheap.argon2_iterations,
                cheap.argon2_parallelism
            ),
            (64, 1, 2)
        );
        assert!(cheap.password_params().unwrap().below_owasp_minimum());
        jail.set_env("PARLOR_ARGON2_PARALLELISM", "16");
        let err = Config::load(Path::new("missing.toml")).expect_err("64 KiB for 16 lanes");
        assert!(
            err.to_string()
                .starts_with("invalid configuration: PARLOR_ARGON2_MEMORY_KIB, PARLOR_ARGON2_ITERATIONS, PARLOR_ARGON2_PARALLELISM: argon2"),
            "{err}"
        );
        Ok(())
    });
}

#[test]
fn zero_limits_are_refused_by_name() {
    jailed(|jail| {
        jail.set_env("PARLOR_OUTBOUND_QUEUE", "0");
        assert_eq!(
            refusal(),
            "invalid configuration: PARLOR_OUTBOUND_QUEUE: must be greater than 0"
        );
        Ok(())
    });
}

#[test]
fn an_unknown_key_in_the_file_is_refused_with_the_nearest_known_one() {
    jailed(|jail| {
        jail.create_file("parlor.toml", "lisen = \"127.0.0.1:9000\"")?;
        let file = jail.directory().join("parlor.toml");
        assert_eq!(
            refusal(),
            format!(
                "unknown setting: `lisen` in {} (did you mean `listen`?)",
                file.display()
            )
        );
        jail.create_file("parlor.toml", "[server]\nlisten = \"127.0.0.1:9000\"")?;
        assert_eq!(
            refusal(),
            format!("unknown setting: `server` in {}", file.display())
        );
        Ok(())
    });
}

#[test]
fn an_unknown_parlor_variable_is_refused_by_its_own_name() {
    jailed(|jail| {
        jail.set_env("PARLOR_LISTN", "127.0.0.1:9000");
        assert_eq!(
            refusal(),
            "unknown setting: environment variable PARLOR_LISTN (did you mean PARLOR_LISTEN?)"
        );
        Ok(())
    });
}

#[test]
fn a_bad_value_names_the_variable_or_the_key_in_the_file() {
    jailed(|jail| {
        jail.create_file("parlor.toml", "log_format = \"xml\"")?;
        let file = jail.directory().join("parlor.toml");
        let err = refusal();
        assert!(
            err.starts_with(&format!(
                "invalid configuration: `log_format` in {}: unknown variant",
                file.display()
            )),
            "{err}"
        );
        assert!(!err.contains("default."), "{err}");
        jail.set_env("PARLOR_LOG_FORMAT", "text");
        jail.set_env("PARLOR_LISTEN", "everywhere");
        let err = refusal();
        assert!(
            err.starts_with("invalid configuration: PARLOR_LISTEN: "),
            "{err}"
        );
        Ok(())
    });
}

#[test]
fn a_broken_file_is_refused_on_one_line() {
    jailed(|jail| {
        jail.create_file("parlor.toml", "listen = 127.0.0.1:9000\n")?;
        let err = refusal();
        assert!(
            err.starts_with("cannot read the configuration file") && !err.contains('\n'),
            "{err}"
        );
        Ok(())
    });
}

#[test]
fn a_named_file_must_exist_and_the_default_one_may_not() {
    jailed(|_| {
        assert!(Config::load(Path::new("parlor.toml")).is_ok());
        let named = ConfigFile::Given {
            path: "elsewhere.toml".into(),
            given_by: "--config",
        };
        assert_eq!(
            Config::load_from(&named).expect_err("missing").to_string(),
            "the configuration file elsewhere.toml (given by --config) does not exist"
        );
        Ok(())
    });
}

#[test]
fn a_root_secret_without_the_root_user_is_refused() {
    jailed(|jail| {
        jail.set_env("PARLOR_ROOT_PASSWORD", "a sturdy password");
        assert_eq!(
            refusal(),
            "invalid configuration: PARLOR_ROOT_PASSWORD is set without PARLOR_ROOT_USER; set both, or neither"
        );
        jail.set_env("PARLOR_ROOT_USER", "chief");
        assert!(Config::load(Path::new("parlor.toml")).is_ok());
        jail.set_env("PARLOR_ROOT_USER", "chief officer");
        assert!(
            refusal().starts_with("invalid configuration: PARLOR_ROOT_USER: a name may only"),
            "{}",
            refusal()
        );
        Ok(())
    });
}

#[test]
fn an_invalid_log_filter_is_refused() {
    jailed(|jail| {
        jail.set_env("PARLOR_LOG", "parlor=loud");
        let err = refusal();
        assert!(
            err.starts_with("invalid configuration: PARLOR_LOG: "),
            "{err}"
        );
        jail.set_env("PARLOR_LOG", "warn,parlor=debug");
        assert!(Config::load(Path::new("parlor.toml")).is_ok());
        Ok(())
    });
}

#[test]
fn object_store_settings_and_the_node_name_are_checked() {
    jailed(|jail| {
        jail.set_env("PARLOR_S3_REGION", "eu-west-1");
        assert_eq!(
            refusal(),
            "invalid configuration: PARLOR_S3_REGION: is set without PARLOR_OBJECT_STORE_URL"
        );
        jail.set_env("PARLOR_OBJECT_STORE_URL", "https://bucket.example");
        assert_eq!(
            refusal(),
            "invalid configuration: PARLOR_OBJECT_STORE_URL: must look like s3://bucket/prefix"
        );
        jail.set_env("PARLOR_OBJECT_STORE_URL", "s3://chat-files/parlor");
        assert!(Config::load(Path::new("parlor.toml")).is_ok());
        jail.set_env("PARLOR_NODE_ID", "node 1");
        assert_eq!(
            refusal(),
            "invalid configuration: PARLOR_NODE_ID: 1 to 64 of A-Z a-z 0-9 . _ -"
        );
        jail.set_env("PARLOR_NODE_ID", "eu-1.b");
        let config = Config::load(Path::new("parlor.toml")).unwrap();
        assert_eq!(config.node_name(), "eu-1.b");
        jail.set_env("PARLOR_S3_SECRET_ACCESS_KEY", "hunter2-very-secret");
        let shown = format!("{:?}", Config::load(Path::new("parlor.toml")).unwrap());
        assert!(
            !shown.contains("hunter2"),
            "a secret in the debug output: {shown}"
        );
        Ok(())
    });
}

/// The README's configuration table lists every setting once, with the variable that sets it.
#[test]
fn the_readme_table_lists_every_setting() {
    let readme = include_str!("../../README.md");
    let documented: std::collections::BTreeMap<String, String> = readme
        .lines()
        .filter_map(|line| {
            let cells: Vec<&str> = line.split('|').map(str::trim).collect();
            let variable = cells.get(1)?.strip_prefix('`')?.strip_suffix('`')?;
            let key = cells.get(2)?.strip_prefix('`')?.strip_suffix('`')?;
            (variable.contains("PARLOR_") || variable == "DATABASE_URL")
                .then(|| (key.to_owned(), variable.to_owned()))
        })
        .filter(|(key, _)| key != "parlor.toml")
        .collect();
    let expected: std::collections::BTreeMap<String, String> = super::load::known_keys()
        .into_iter()
        .map(|key| {
            let variable = provenance::variable_for(&key);
            (key, variable)
        })
        .collect();
    assert_eq!(documented, expected);
}
