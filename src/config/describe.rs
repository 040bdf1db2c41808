//! What the start-up log says about the configuration: the file read, the database and the
//! master key in use. Descriptions carry places, never credentials.

use super::Config;
use crate::crypto::MasterKey;
use std::path::Path;

impl Config {
    /// `/abs/parlor.toml`, or that no file was read.
    pub fn describe_file(&self) -> String {
        match self.provenance.file() {
            Some(path) => path.display().to_string(),
            None => "none (defaults and environment only)".to_owned(),
        }
    }

    /// The database engine and where it is: `SQLite /abs/parlor-data/parlor.db`, or
    /// `PostgreSQL on db.example:5432, database parlor` — without user, password or query.
    pub fn describe_database(&self) -> String {
        describe_database_url(&self.database_url())
    }

    /// Where files are stored: the bucket URL (it holds no secret) or the local directory.
    pub fn describe_file_store(&self) -> String {
        match &self.object_store_url {
            Some(url) => format!(
                "{url}{}",
                self.s3_endpoint
                    .as_deref()
                    .map(|e| format!(" at {e}"))
                    .unwrap_or_default()
            ),
            None => absolute(&self.data_dir.join("uploads")),
        }
    }

    /// Where the master key comes from: an absolute file path, or the setting holding it.
    pub fn describe_master_key(&self) -> String {
        match self.master_key {
            Some(_) => format!("from {}", self.provenance.name_of("master_key")),
            None => absolute(&MasterKey::file_in(&self.data_dir)),
        }
    }
}

fn absolute(path: &Path) -> String {
    std::path::absolute(path)
        .unwrap_or_else(|_| path.to_path_buf())
        .display()
        .to_string()
}

fn describe_database_url(url: &str) -> String {
    let (scheme, rest) = url.split_once(':').unwrap_or(("", url));
    match scheme {
        "sqlite" => {
            let path = rest.strip_prefix("//").unwrap_or(rest);
            let path = path.split(['?', '#']).next().unwrap_or_default();
            match path {
                "" | ":memory:" => "SQLite in memory".to_owned(),
                path => format!("SQLite {}", absolute(Path::new(path))),
            }
        }
        "postgres" | "postgresql" => {
            let rest = rest.strip_prefix("//").unwrap_or(rest);
            let rest = rest.split(['?', '#']).next().unwrap_or_default();
            let (authority, database) = rest.split_once('/').unwrap_or((rest, ""));
            // The user and password sit before the last `@` of the authority.
            let host = authority.rsplit('@').next().unwrap_or_default();
            let host = match host {
                "" => "the local socket",
                host => host,
            };
            match database {
                "" => format!("PostgreSQL on {host}"),
                database => format!("PostgreSQL on {host}, database {database}"),
            }
        }
        _ => "an unrecognised database URL".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::describe_database_url;

    #[test]
    fn database_descriptions_name_the_place_and_never_the_credentials() {
        let cases = [
            (
                "postgres://parlor:s3cret@db.example:5432/chat?sslmode=require&password=x",
                "PostgreSQL on db.example:5432, database chat",
            ),
            (
                "postgresql://user:p%40ss@word@10.0.0.1/parlor",
                "PostgreSQL on 10.0.0.1, database parlor",
            ),
            (
                "postgres:///parlor?host=/run/postgresql",
                "PostgreSQL on the local socket, database parlor",
            ),
            (
                "sqlite:///var/lib/parlor/parlor.db?mode=rwc",
                "SQLite /var/lib/parlor/parlor.db",
            ),
            ("sqlite::memory:", "SQLite in memory"),
            ("mysql://root:pw@host/db", "an unrecognised database URL"),
        ];
        for (url, expected) in cases {
            assert_eq!(describe_database_url(url), expected, "{url}");
        }
        let relative = describe_database_url("sqlite://parlor-data/parlor.db?mode=rwc");
        let cwd = std::env::current_dir().unwrap();
        assert_eq!(
            relative,
            format!("SQLite {}", cwd.join("parlor-data/parlor.db").display())
        );
    }
}
