//! Configuration: one typed struct filled from defaults, an optional TOML file and
//! `RESERV_*` environment variables, in that order. Unknown keys are refused, so that a
//! misspelt setting is an error and not a silent default.

use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use serde::{Deserialize, Serialize};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

/// Every setting, with its default. Environment variables are the key in upper case
/// with the prefix `RESERV_`, e.g. `RESERV_LISTEN`.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Address and port to listen on.
    pub listen: SocketAddr,
    /// Database URL: `sqlite://FILE` or `postgres://USER@HOST/DB`. Empty means the
    /// embedded SQLite file `reserv.db` in `data_dir`. `DATABASE_URL` is read too.
    pub database_url: Option<String>,
    /// Folder for the embedded database and other local state.
    pub data_dir: PathBuf,
    /// How long a sign-in lasts, in hours.
    pub session_hours: u32,
    /// Mark the session cookie `Secure` (set when Reserv is served over HTTPS).
    pub secure_cookies: bool,
    /// Largest accepted request body, in bytes.
    pub max_body_bytes: usize,
    /// Deepest GraphQL query accepted.
    pub graphql_max_depth: usize,
    /// Highest GraphQL query complexity accepted.
    pub graphql_max_complexity: usize,
    /// Who may introspect the GraphQL schema: `on`, `signed_in` or `off`.
    pub graphql_introspection: reserv_api::Introspection,
    /// Log filter, in `tracing` env-filter syntax.
    pub log: String,
    /// The SMS provider; none means SMS is off.
    pub sms: Option<crate::sms_config::SmsConfig>,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            database_url: None,
            data_dir: PathBuf::from("data"),
            session_hours: 12,
            secure_cookies: false,
            max_body_bytes: 64 * 1024,
            graphql_max_depth: 12,
            graphql_max_complexity: 2_000,
            graphql_introspection: reserv_api::Introspection::default(),
            log: "info,sqlx=warn,sea_orm=warn".into(),
            sms: None,
        }
    }
}

/// A setting that is missing, malformed or out of range.
#[derive(Debug, thiserror::Error)]
#[error("configuration: {0}")]
pub struct ConfigError(String);

impl ConfigError {
    pub(crate) fn new(message: String) -> Self {
        Self(message)
    }
}

impl Config {
    /// Loads the configuration. `file` is read when given (and must exist); otherwise
    /// `reserv.toml` in the working folder is read if it is there.
    pub fn load(file: Option<&Path>) -> Result<Self, ConfigError> {
        let mut figment = Figment::from(Serialized::defaults(Config::default()));
        match file {
            Some(file) if !file.exists() => {
                return Err(ConfigError(format!(
                    "the file {} does not exist",
                    file.display()
                )));
            }
            Some(file) => figment = figment.merge(Toml::file_exact(file)),
            None => figment = figment.merge(Toml::file("reserv.toml")),
        }
        let config: Config = figment
            .merge(Env::raw().only(&["DATABASE_URL"]).lowercase(true))
            .merge(
                Env::prefixed("RESERV_")
                    .ignore(&["CONFIG"])
                    .lowercase(true)
                    .split("__"),
            )
            .extract()
            .map_err(|error| ConfigError(error.to_string()))?;
        config.validate()
    }

    fn validate(self) -> Result<Self, ConfigError> {
        if !(1..=168).contains(&self.session_hours) {
            return Err(ConfigError(format!(
                "session_hours must be 1 to 168 (one week), not {}",
                self.session_hours
            )));
        }
        if !(1024..=16 * 1024 * 1024).contains(&self.max_body_bytes) {
            return Err(ConfigError(format!(
                "max_body_bytes must be 1024 to 16777216, not {}",
                self.max_body_bytes
            )));
        }
        if self.graphql_max_depth < 4 {
            return Err(ConfigError("graphql_max_depth must be at least 4".into()));
        }
        if let Some(sms) = &self.sms {
            sms.twilio_settings()?;
        }
        if tracing_subscriber::EnvFilter::try_new(&self.log).is_err() {
            return Err(ConfigError(format!(
                "log: '{}' is not a valid log filter",
                self.log
            )));
        }
        Ok(self)
    }

    /// Where the database is: the configured URL, or the embedded default.
    pub fn database(&self) -> Result<reserv_store::DatabaseLocation, ConfigError> {
        match self
            .database_url
            .as_deref()
            .map(str::trim)
            .filter(|url| !url.is_empty())
        {
            Some(url) => reserv_store::DatabaseLocation::parse(url)
                .map_err(|error| ConfigError(error.to_string())),
            None => Ok(reserv_store::DatabaseLocation::default_sqlite(
                self.data_dir.join("reserv.db"),
            )),
        }
    }
}

/// Shows settings without the database password.
impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Config")
            .field("listen", &self.listen)
            .field(
                "database",
                &self.database().map(|location| location.redacted()).ok(),
            )
            .field("data_dir", &self.data_dir)
            .field("session_hours", &self.session_hours)
            .field("secure_cookies", &self.secure_cookies)
            .field("max_body_bytes", &self.max_body_bytes)
            .field("graphql_max_depth", &self.graphql_max_depth)
            .field("graphql_max_complexity", &self.graphql_max_complexity)
            .field("graphql_introspection", &self.graphql_introspection)
            .field("log", &self.log)
            .field("sms", &self.sms)
            .finish()
    }
}

#[cfg(test)]
// figment's `Jail` decides the closure's error type (`figment::Error`, which is large).
#[allow(clippy::result_large_err)]
mod tests {
    use super::*;
    use figment::Jail;

    #[test]
    fn defaults_need_nothing() {
        Jail::expect_with(|_| {
            let config = Config::load(None).map_err(|error| error.to_string())?;
            assert_eq!(config.listen.to_string(), "127.0.0.1:8080");
            assert_eq!(
                config.database().map(|l| l.backend()).ok(),
                Some(reserv_store::DatabaseBackend::Sqlite)
            );
            Ok(())
        });
    }

    #[test]
    fn environment_overrides_file() {
        Jail::expect_with(|jail| {
            jail.create_file(
                "reserv.toml",
                "listen = \"127.0.0.1:9000\"\nsession_hours = 8\n",
            )?;
            jail.set_env("RESERV_SESSION_HOURS", "4");
            jail.set_env("DATABASE_URL", "postgres://postgres@127.0.0.1/test");
            let config = Config::load(None).map_err(|error| error.to_string())?;
            assert_eq!(config.listen.port(), 9000);
            assert_eq!(config.session_hours, 4);
            assert_eq!(
                config.database().map(|l| l.backend()).ok(),
                Some(reserv_store::DatabaseBackend::Postgres)
            );
            Ok(())
        });
    }

    #[test]
    fn sms_is_configured_from_the_environment_with_a_token_file() {
        Jail::expect_with(|jail| {
            jail.create_file("token", "secret-token\n")?;
            jail.set_env("RESERV_SMS__ACCOUNT_SID", "AC123");
            jail.set_env("RESERV_SMS__AUTH_TOKEN_FILE", "token");
            jail.set_env("RESERV_SMS__SENDERS", "[\"+46766860001\"]");
            let config = Config::load(None).map_err(|error| error.to_string())?;
            let settings = config
                .sms
                .as_ref()
                .map(|sms| sms.twilio_settings())
                .transpose()
                .map_err(|error| error.to_string())?;
            assert_eq!(
                settings.map(|s| (s.auth_token, s.senders)),
                Some(("secret-token".into(), vec!["+46766860001".into()]))
            );
            assert!(!format!("{config:?}").contains("secret-token"));
            Ok(())
        });
    }

    #[test]
    fn errors_name_the_key() {
        Jail::expect_with(|jail| {
            jail.set_env("RESERV_LISTEN", "not-an-address");
            let message = Config::load(None)
                .err()
                .map(|e| e.to_string())
                .unwrap_or_default();
            assert!(message.to_lowercase().contains("listen"), "{message}");
            Ok(())
        });
        Jail::expect_with(|jail| {
            jail.set_env("RESERV_LISTN", "127.0.0.1:1");
            let message = Config::load(None)
                .err()
                .map(|e| e.to_string())
                .unwrap_or_default();
            assert!(message.to_lowercase().contains("listn"), "{message}");
            Ok(())
        });
        Jail::expect_with(|jail| {
            jail.set_env("RESERV_SESSION_HOURS", "1000");
            let message = Config::load(None)
                .err()
                .map(|e| e.to_string())
                .unwrap_or_default();
            assert!(
                message.contains("session_hours must be 1 to 168"),
                "{message}"
            );
            Ok(())
        });
    }
}
