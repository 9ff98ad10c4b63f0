//! Configuration in layers: built-in defaults, then a TOML file, then
//! `CELLTRACE_*` environment variables, then command-line flags. Secrets (the
//! signing key, database passwords) are never printed.

use crate::keys::{self, KeySource};
use serde::Deserialize;
use std::path::{Path, PathBuf};

/// Settings read from `celltrace.toml` (every field optional).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    /// SQLite file path or `postgres://` URL.
    pub database_url: Option<String>,
    /// Address to listen on.
    pub listen: Option<String>,
    /// Path of the checkpoint signing key file.
    pub signing_key: Option<PathBuf>,
    /// The URL people reach celltrace at (links, Secure cookies, HSTS).
    pub public_url: Option<String>,
    /// Seconds a client may take to send a request's headers.
    pub header_timeout_seconds: Option<u64>,
    /// Seconds a request may take.
    pub request_timeout_seconds: Option<u64>,
    /// Requests handled at once before new ones are refused with 503.
    pub max_concurrent_requests: Option<usize>,
    /// Seconds a stop (SIGTERM, Ctrl-C) waits for requests in flight before giving up on them.
    pub stop_timeout_seconds: Option<u64>,
    /// Seconds a ledger entry may stay unsigned before `/readyz` answers 503.
    pub ready_uncovered_seconds: Option<u64>,
}

/// The settings in force.
#[derive(Debug, Clone)]
pub struct Config {
    /// SQLite file path or `postgres://` URL.
    pub database_url: String,
    /// Address to listen on.
    pub listen: String,
    /// Where the checkpoint signing key comes from.
    pub signing_key: crate::keys::KeySource,
    /// The URL people reach celltrace at; `http://LISTEN` unless configured.
    pub public_url: String,
    /// Limits of the HTTP service.
    pub limits: celltrace_web::layers::Limits,
    /// How long a stop waits for requests in flight (then exits non-zero).
    pub stop_timeout: std::time::Duration,
    /// How long a ledger entry may stay unsigned before `/readyz` answers 503.
    pub ready_uncovered_limit: std::time::Duration,
}

/// Flags that override everything else.
#[derive(Debug, Default, Clone)]
pub struct Overrides {
    /// `--config`.
    pub config_file: Option<PathBuf>,
    /// `--database-url`.
    pub database_url: Option<String>,
    /// `--listen`.
    pub listen: Option<String>,
    /// `--signing-key` (or `--key`).
    pub signing_key: Option<PathBuf>,
}

/// Why the configuration could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read the configuration file {path}: {source}")]
    Read {
        /// File.
        path: PathBuf,
        /// Cause.
        source: std::io::Error,
    },
    /// A setting has a value celltrace cannot use.
    #[error("invalid setting: {0}")]
    Invalid(String),
    /// The file is not valid TOML or has unknown keys.
    #[error("the configuration file {path} is not valid: {message}")]
    Parse {
        /// File.
        path: PathBuf,
        /// What is wrong, with line and column.
        message: String,
    },
}

impl Config {
    /// Resolves the layers. `env` is passed in so tests need not touch the process environment.
    pub fn load(flags: &Overrides, env: impl Fn(&str) -> Option<String>) -> Result<Config, ConfigError> {
        let explicit = flags.config_file.clone().or_else(|| env("CELLTRACE_CONFIG").map(PathBuf::from));
        let file = match explicit {
            Some(path) => read_file(&path)?,
            None if Path::new("celltrace.toml").exists() => read_file(Path::new("celltrace.toml"))?,
            None => FileConfig::default(),
        };
        let pick = |flag: Option<String>, var: &str, file: Option<String>, default: &str| {
            flag.or_else(|| env(var).filter(|v| !v.is_empty())).or(file).unwrap_or_else(|| default.to_owned())
        };
        let listen = pick(flags.listen.clone(), "CELLTRACE_LISTEN", file.listen, "127.0.0.1:8080");
        let public_url = pick(None, "CELLTRACE_PUBLIC_URL", file.public_url, &format!("http://{listen}"));
        if !(public_url.starts_with("http://") || public_url.starts_with("https://")) || public_url.contains(char::is_whitespace) {
            return Err(ConfigError::Invalid(format!("public_url '{public_url}' must start with http:// or https:// and contain no spaces")));
        }
        let number = |var: &str, file: Option<u64>, default: u64| -> Result<u64, ConfigError> {
            match env(var).filter(|v| !v.is_empty()) {
                Some(v) => v.trim().parse().map_err(|_| ConfigError::Invalid(format!("{var}='{v}' is not a whole number"))),
                None => Ok(file.unwrap_or(default)),
            }
        };
        let defaults = celltrace_web::layers::Limits::default();
        let limits = celltrace_web::layers::Limits {
            header_read: std::time::Duration::from_secs(number("CELLTRACE_HEADER_TIMEOUT_SECONDS", file.header_timeout_seconds, defaults.header_read.as_secs())?.max(1)),
            request: std::time::Duration::from_secs(number("CELLTRACE_REQUEST_TIMEOUT_SECONDS", file.request_timeout_seconds, defaults.request.as_secs())?.max(1)),
            concurrent_requests: usize::try_from(number("CELLTRACE_MAX_CONCURRENT_REQUESTS", file.max_concurrent_requests.map(|n| n as u64), defaults.concurrent_requests as u64)?.max(1)).unwrap_or(defaults.concurrent_requests),
            body_bytes: defaults.body_bytes,
        };
        let stop_timeout = std::time::Duration::from_secs(
            number("CELLTRACE_STOP_TIMEOUT_SECONDS", file.stop_timeout_seconds, celltrace_web::serve::DRAIN.as_secs())?.max(1),
        );
        let ready_uncovered_limit = std::time::Duration::from_secs(number(
            "CELLTRACE_READY_UNCOVERED_SECONDS",
            file.ready_uncovered_seconds,
            celltrace_web::READY_UNCOVERED_LIMIT.as_secs(),
        )?);
        let database_url = pick(flags.database_url.clone(), "CELLTRACE_DATABASE_URL", file.database_url, "celltrace.db");
        let signing_key = signing_key(flags, file.signing_key, &env, &database_url)?;
        Ok(Config { stop_timeout, ready_uncovered_limit, database_url, public_url: public_url.trim_end_matches('/').to_owned(), limits, listen, signing_key })
    }

    /// The SQLite file the database URL names (None for PostgreSQL).
    pub fn sqlite_file(&self) -> Option<PathBuf> {
        sqlite_file(&self.database_url)
    }
}

/// The key named by a flag, then the environment (the key itself, or its
/// file), then the configuration file; else the default location, apart
/// from the database.
fn signing_key(flags: &Overrides, file: Option<PathBuf>, env: &impl Fn(&str) -> Option<String>, database_url: &str) -> Result<KeySource, ConfigError> {
    let named = |path: PathBuf| KeySource::File { path, default: false };
    if let Some(path) = &flags.signing_key {
        return Ok(named(path.clone()));
    }
    if let Some(secret) = env(keys::SECRET_VAR).filter(|v| !v.is_empty()) {
        return keys::parse_secret(&secret).map(|k| KeySource::Secret(Box::new(k))).map_err(|e| ConfigError::Invalid(e.to_string()));
    }
    if let Some(path) = env(keys::FILE_VAR).filter(|v| !v.is_empty()).map(PathBuf::from).or(file) {
        return Ok(named(path));
    }
    let name = database_name(database_url);
    keys::default_file(env, &name).map(|path| KeySource::File { path, default: true }).ok_or_else(|| {
        ConfigError::Invalid("there is no default place for the signing key (neither HOME nor XDG_DATA_HOME is set): pass --signing-key FILE".into())
    })
}

/// The file a SQLite location names, without `sqlite://` and options.
pub fn sqlite_file(database_url: &str) -> Option<PathBuf> {
    let url = database_url.trim();
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        return None;
    }
    let path = url.strip_prefix("sqlite:").map_or(url, |rest| rest.trim_start_matches("//"));
    let path = path.split('?').next().unwrap_or(path);
    (!path.is_empty()).then(|| PathBuf::from(path))
}

/// A short name of the database for its default key file: the SQLite file's
/// stem or the PostgreSQL database's name.
fn database_name(database_url: &str) -> String {
    let name = match sqlite_file(database_url) {
        Some(file) => file.file_stem().and_then(|s| s.to_str()).unwrap_or("celltrace").to_owned(),
        None => database_url.split('?').next().unwrap_or("").rsplit('/').next().unwrap_or("").to_owned(),
    };
    let clean: String = name.chars().filter(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')).collect();
    if clean.is_empty() || clean.starts_with('.') { "celltrace".to_owned() } else { clean }
}

fn read_file(path: &Path) -> Result<FileConfig, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read { path: path.to_owned(), source })?;
    toml::from_str(&text).map_err(|e| ConfigError::Parse { path: path.to_owned(), message: e.to_string() })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// No settings, only a home directory (for the default key file).
    fn no_env(k: &str) -> Option<String> {
        (k == "HOME").then(|| "/home/test".to_owned())
    }

    #[test]
    fn defaults_then_file_then_env_then_flags() {
        let dir = tempfile::tempdir().expect("temp dir");
        let file = dir.path().join("c.toml");
        std::fs::write(&file, "database_url = \"file.db\"\nlisten = \"127.0.0.1:9000\"\n").expect("write");

        let defaults = Config::load(&Overrides::default(), no_env).expect("defaults");
        assert_eq!(defaults.database_url, "celltrace.db");
        assert_eq!(defaults.listen, "127.0.0.1:8080");
        assert_eq!(defaults.public_url, "http://127.0.0.1:8080");
        let bad = |k: &str| (k == "CELLTRACE_PUBLIC_URL").then(|| "javascript://evil.example".to_owned());
        assert!(Config::load(&Overrides::default(), bad).is_err(), "only http(s) public URLs");
        let slow = |k: &str| (k == "CELLTRACE_HEADER_TIMEOUT_SECONDS").then(|| "2".to_owned()).or_else(|| no_env(k));
        assert_eq!(Config::load(&Overrides::default(), slow).expect("limits").limits.header_read.as_secs(), 2);

        let flags = Overrides { config_file: Some(file.clone()), ..Overrides::default() };
        let from_file = Config::load(&flags, no_env).expect("file");
        assert_eq!(from_file.database_url, "file.db");

        let env = |k: &str| (k == "CELLTRACE_DATABASE_URL").then(|| "env.db".to_owned()).or_else(|| no_env(k));
        assert_eq!(Config::load(&flags, env).expect("env").database_url, "env.db");
        assert_eq!(Config::load(&flags, env).expect("env").listen, "127.0.0.1:9000");

        let flags = Overrides { database_url: Some("flag.db".into()), ..flags };
        assert_eq!(Config::load(&flags, env).expect("flags").database_url, "flag.db");
    }

    #[test]
    fn the_key_defaults_to_a_place_apart_from_the_database() {
        let home = |k: &str| (k == "HOME").then(|| "/home/ana".to_owned());
        let flags = Overrides { database_url: Some("/srv/ct/site-a.db".into()), ..Overrides::default() };
        let config = Config::load(&flags, home).expect("config");
        assert_eq!(config.signing_key.file(), Some(Path::new("/home/ana/.local/share/celltrace/site-a.key")));
        let xdg = |k: &str| match k {
            "XDG_DATA_HOME" => Some("/data".to_owned()),
            "HOME" => Some("/home/ana".to_owned()),
            _ => None,
        };
        let flags = Overrides { database_url: Some("postgres://u:p@db/clinic?sslmode=require".into()), ..Overrides::default() };
        assert_eq!(Config::load(&flags, xdg).expect("config").signing_key.file(), Some(Path::new("/data/celltrace/clinic.key")));
        assert!(Config::load(&Overrides::default(), |_| None).is_err(), "no HOME: the operator must name the key");
        let secret = |k: &str| (k == keys::SECRET_VAR).then(|| "11".repeat(32));
        let config = Config::load(&Overrides::default(), secret).expect("secret");
        assert!(config.signing_key.file().is_none());
        assert!(!format!("{config:?}").contains("1111"), "the secret is never printed");
        let bad = |k: &str| (k == keys::SECRET_VAR).then(|| "/etc/celltrace.key".to_owned());
        let err = Config::load(&Overrides::default(), bad).expect_err("a path is not a key").to_string();
        assert!(err.contains(keys::FILE_VAR) && !err.contains("/etc/celltrace.key"), "{err}");
    }

    #[test]
    fn a_bad_file_is_refused_with_its_line() {
        let dir = tempfile::tempdir().expect("temp dir");
        let file = dir.path().join("c.toml");
        std::fs::write(&file, "listen = \"x\"\ndatabse_url = 3\n").expect("write");
        let flags = Overrides { config_file: Some(file), ..Overrides::default() };
        let err = Config::load(&flags, no_env).expect_err("unknown key");
        let text = err.to_string();
        assert!(text.contains("line 2"), "{text}");
        assert!(text.contains("databse_url"), "{text}");
    }
}
