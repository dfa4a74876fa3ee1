//! Configuration: one typed struct filled from defaults, an optional TOML file and
//! `RESERV_*` environment variables, in that order. Unknown keys are refused, so that a
//! misspelt setting is an error and not a silent default.

pub use crate::fallback_config::{FallbackConfig, S3TargetConfig, TargetConfig};
use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use serde::{Deserialize, Serialize};
use std::io::Write;
use std::net::SocketAddr;
use std::num::NonZeroU32;
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
    /// How long a session may go unused before it ends, in minutes.
    pub session_idle_minutes: u32,
    /// Password sign-in: hashing and throttling (`[login]`, `RESERV_LOGIN__<KEY>`).
    pub login: LoginConfig,
    /// Sign-in at an OpenID Connect identity provider (`[oidc]`,
    /// `RESERV_OIDC__<KEY>`); off without `oidc.issuer_url`.
    pub oidc: crate::oidc_config::OidcConfig,
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
    /// The highest confidentiality level (0–3) the PWA may store on a device for
    /// offline use.
    pub offline_max_confidentiality: u8,
    /// Log filter, in `tracing` env-filter syntax.
    pub log: String,
    /// Folder of playbook files, imported at start.
    pub playbooks_dir: PathBuf,
    /// The public status page and the static fallback site (`[fallback]`,
    /// `RESERV_FALLBACK__<KEY>`).
    pub fallback: FallbackConfig,
    /// The SMS provider; none means SMS is off.
    pub sms: Option<crate::sms_config::SmsConfig>,
    /// Web push to the PWA (`[push]`, `RESERV_PUSH__<KEY>`); always on.
    pub push: crate::push_config::PushConfig,
    /// How continuity plans are kept (`[plans]`, `RESERV_PLANS__<KEY>`).
    pub plans: PlansConfig,
    /// What fills the placeholders of the messages an activation prepares
    /// (`[messages]`, `RESERV_MESSAGES__<KEY>`).
    pub messages: MessagesConfig,
    /// The delivery worker's outbox (`[outbox]`, `RESERV_OUTBOX__<KEY>`).
    pub outbox: OutboxConfig,
    /// The relying party of WebAuthn passkeys (`[webauthn]`, `RESERV_WEBAUTHN__<KEY>`).
    pub webauthn: crate::webauthn_config::WebauthnConfig,
    /// Keeping answers to repeated reads for a few seconds (`[read_cache]`,
    /// `RESERV_READ_CACHE__<KEY>`).
    pub read_cache: ReadCacheConfig,
    /// The key sealing secrets at rest, base64 of 32 bytes; see `secret_key.rs`.
    pub secret_key: Option<String>,
    /// A file holding that key; neither set means `DATA_DIR/secret.key`, created at
    /// first start.
    pub secret_key_file: Option<PathBuf>,
}

/// What fills the placeholders of prepared messages that the database does not hold;
/// a placeholder without a value stays in the draft until someone writes it in.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MessagesConfig {
    /// The residents' hotline as residents dial it, for `{{ hotline }}`.
    pub hotline: Option<String>,
    /// The public status page's address, for `{{ status_url }}`.
    pub status_url: Option<String>,
}

impl MessagesConfig {
    /// The store's draft settings; blank values count as none.
    pub fn draft_settings(&self) -> reserv_store::DraftSettings {
        let given = |value: &Option<String>| {
            value
                .as_deref()
                .map(str::trim)
                .filter(|value| !value.is_empty())
                .map(str::to_owned)
        };
        reserv_store::DraftSettings {
            hotline: given(&self.hotline),
            status_url: given(&self.status_url),
        }
    }
}

/// Settings of the delivery worker's outbox.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct OutboxConfig {
    /// How long a claimed copy stays with the worker that claimed it, in seconds: when
    /// that process dies mid-send, its copies go out again once this has passed.
    pub lease_seconds: NonZeroU32,
}

impl Default for OutboxConfig {
    fn default() -> Self {
        Self {
            lease_seconds: NonZeroU32::MIN.saturating_add(reserv_notify::DEFAULT_LEASE_SECONDS - 1),
        }
    }
}

/// Settings of the read cache, which serves a repeated read-only GraphQL request of
/// the same session again while nothing changed in the database.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ReadCacheConfig {
    pub enabled: bool,
    /// How long an answer may be served again at most, in milliseconds: the bound on
    /// how stale answers that change with time alone (overdue, expiries) may be.
    pub ttl_ms: NonZeroU32,
    /// The most memory kept answers may take, in bytes.
    pub max_bytes: u64,
}

impl Default for ReadCacheConfig {
    fn default() -> Self {
        let settings = reserv_api::ReadCacheSettings::default();
        Self {
            enabled: settings.enabled,
            ttl_ms: NonZeroU32::new(u32::try_from(settings.ttl.as_millis()).unwrap_or(u32::MAX))
                .unwrap_or(NonZeroU32::MIN),
            max_bytes: settings.max_bytes,
        }
    }
}

impl ReadCacheConfig {
    /// The API's read cache settings.
    pub fn settings(&self) -> reserv_api::ReadCacheSettings {
        reserv_api::ReadCacheSettings {
            enabled: self.enabled,
            ttl: std::time::Duration::from_millis(u64::from(self.ttl_ms.get())),
            max_bytes: self.max_bytes,
        }
    }
}

/// Settings of continuity plans.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PlansConfig {
    /// Approving a draft needs a person other than its last editor (four eyes).
    pub four_eyes: bool,
}

impl Default for PlansConfig {
    fn default() -> Self {
        Self {
            four_eyes: reserv_store::PlanSettings::default().four_eyes,
        }
    }
}

impl PlansConfig {
    /// The store's plan settings.
    pub fn plan_settings(&self) -> reserv_store::PlanSettings {
        reserv_store::PlanSettings {
            four_eyes: self.four_eyes,
        }
    }
}

/// Settings of password sign-in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LoginConfig {
    /// Password hashes computed at once (each takes one core and 19 MiB for about
    /// 30 ms); 0 means one per core.
    pub hash_concurrency: usize,
    /// Failed sign-ins for one username within `window_minutes` before it is locked.
    pub account_attempts: NonZeroU32,
    /// Failed sign-ins from one client address within `window_minutes` before it is
    /// locked.
    pub address_attempts: NonZeroU32,
    /// How far back failed sign-ins are counted, in minutes.
    pub window_minutes: NonZeroU32,
    /// How long a locked username or address must wait, in minutes.
    pub lockout_minutes: NonZeroU32,
    /// Who must prove a second factor: `everyone`, `above_care_worker` or `off`. Left
    /// out, `above_care_worker`, except for `serve --demo`, where it is `off` so that
    /// the demo accounts sign in with their printed passwords.
    pub require_second_factor: Option<reserv_domain::second_factor::SecondFactorRequirement>,
    /// How long a session opened with an emergency code (break-glass) lasts, in
    /// minutes.
    pub break_glass_minutes: NonZeroU32,
}

impl LoginConfig {
    /// The demo's choice when nothing is configured: no second factor required.
    pub fn demo_default(&mut self) {
        self.require_second_factor
            .get_or_insert(reserv_domain::second_factor::SecondFactorRequirement::Off);
    }
}

impl Default for LoginConfig {
    fn default() -> Self {
        let rules = reserv_domain::sign_in::ThrottleRules::default();
        let minutes = |duration: chrono::Duration| {
            NonZeroU32::new(u32::try_from(duration.num_minutes()).unwrap_or(1))
                .unwrap_or(NonZeroU32::MIN)
        };
        Self {
            hash_concurrency: 0,
            account_attempts: NonZeroU32::new(rules.account_failures).unwrap_or(NonZeroU32::MIN),
            address_attempts: NonZeroU32::new(rules.address_failures).unwrap_or(NonZeroU32::MIN),
            window_minutes: minutes(rules.window),
            lockout_minutes: minutes(rules.lockout),
            require_second_factor: None,
            break_glass_minutes: NonZeroU32::new(120).unwrap_or(NonZeroU32::MIN),
        }
    }
}

impl Config {
    /// The store's sign-in settings.
    pub fn sign_in_settings(&self) -> reserv_store::SignInSettings {
        let login = &self.login;
        reserv_store::SignInSettings {
            hash_concurrency: login.hash_concurrency,
            throttle: reserv_domain::sign_in::ThrottleRules {
                account_failures: login.account_attempts.get(),
                address_failures: login.address_attempts.get(),
                window: chrono::Duration::minutes(i64::from(login.window_minutes.get())),
                lockout: chrono::Duration::minutes(i64::from(login.lockout_minutes.get())),
            },
            session_idle: chrono::Duration::minutes(i64::from(self.session_idle_minutes)),
            second_factor: login
                .require_second_factor
                .unwrap_or(reserv_domain::second_factor::SecondFactorRequirement::AboveCareWorker),
            break_glass_lifetime: chrono::Duration::minutes(i64::from(
                login.break_glass_minutes.get(),
            )),
        }
    }
}

impl Default for Config {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            database_url: None,
            data_dir: PathBuf::from("data"),
            session_hours: 12,
            session_idle_minutes: 240,
            login: LoginConfig::default(),
            oidc: crate::oidc_config::OidcConfig::default(),
            secure_cookies: false,
            max_body_bytes: 64 * 1024,
            graphql_max_depth: 12,
            graphql_max_complexity: 2_000,
            graphql_introspection: reserv_api::Introspection::default(),
            offline_max_confidentiality: 1,
            log: "info,sqlx=warn,sea_orm=warn".into(),
            playbooks_dir: PathBuf::from("playbooks"),
            fallback: FallbackConfig::default(),
            sms: None,
            push: crate::push_config::PushConfig::default(),
            plans: PlansConfig::default(),
            messages: MessagesConfig::default(),
            outbox: OutboxConfig::default(),
            webauthn: crate::webauthn_config::WebauthnConfig::default(),
            read_cache: ReadCacheConfig::default(),
            secret_key: None,
            secret_key_file: None,
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

/// A secret given either in the configuration (`key`) or as a file holding it
/// (`key_file`, for secrets mounted as files), never both. `None` when neither is set.
pub(crate) fn read_secret(
    key: &str,
    value: Option<&String>,
    file: Option<&PathBuf>,
) -> Result<Option<String>, ConfigError> {
    match (value, file) {
        (None, None) => Ok(None),
        (Some(value), None) => Ok(Some(value.clone())),
        (None, Some(file)) => std::fs::read_to_string(file)
            .map(|secret| Some(secret.trim().to_owned()))
            .map_err(|error| {
                ConfigError(format!(
                    "{key}_file: cannot read {}: {error}",
                    file.display()
                ))
            }),
        (Some(_), Some(_)) => Err(ConfigError(format!(
            "{key}: set {key} or {key}_file, not both"
        ))),
    }
}

/// A key given in the configuration (`key`, or the file `key_file`), else the one kept
/// at `kept`, which `create` makes at first start. Both server keys (the secret key and
/// the VAPID key) are found this way.
pub(crate) fn configured_or_kept_key<K>(
    key: &str,
    value: Option<&String>,
    file: Option<&PathBuf>,
    kept: &Path,
    read: impl Fn(&str) -> Result<K, ConfigError>,
    create: impl FnOnce(&Path) -> Result<K, ConfigError>,
) -> Result<K, ConfigError> {
    if let Some(text) = read_secret(key, value, file)? {
        return read(&text);
    }
    match std::fs::read_to_string(kept) {
        Ok(text) => read(&text),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => create(kept),
        Err(error) => Err(ConfigError(format!(
            "{key}_file: cannot read {}: {error}",
            kept.display()
        ))),
    }
}

/// Writes `contents` to a new file at `path` (never over an existing one), readable by
/// the server's user only; errors name the setting `key`.
pub(crate) fn write_private_file(
    key: &str,
    path: &Path,
    contents: &str,
) -> Result<(), ConfigError> {
    let cannot = |error: std::io::Error| {
        ConfigError(format!("{key}: cannot create {}: {error}", path.display()))
    };
    if let Some(folder) = path.parent() {
        std::fs::create_dir_all(folder).map_err(cannot)?;
    }
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(path).map_err(cannot)?;
    file.write_all(contents.as_bytes()).map_err(cannot)?;
    file.sync_all().map_err(cannot)
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
                    // RESERV_PWA_BUILD is read by the build, not by the server.
                    .ignore(&["CONFIG", "PWA_BUILD"])
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
        if !(5..=self.session_hours * 60).contains(&self.session_idle_minutes) {
            return Err(ConfigError(format!(
                "session_idle_minutes must be 5 to {} (session_hours in minutes), not {}",
                self.session_hours * 60,
                self.session_idle_minutes
            )));
        }
        if self.login.hash_concurrency > 256 {
            return Err(ConfigError(format!(
                "login.hash_concurrency must be 0 (one per core) to 256, not {}",
                self.login.hash_concurrency
            )));
        }
        if self.login.break_glass_minutes.get() > 12 * 60 {
            return Err(ConfigError(format!(
                "login.break_glass_minutes must be 1 to 720 (a break-glass session is short), not {}",
                self.login.break_glass_minutes
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
        // Level 3 may be read on a phone but is never cached on one: a lost phone must
        // not carry it.
        if self.offline_max_confidentiality > 2 {
            return Err(ConfigError(format!(
                "offline_max_confidentiality must be 0 to 2, not {}",
                self.offline_max_confidentiality
            )));
        }
        if let Some(sms) = &self.sms {
            sms.check()?;
        }
        self.push.validate()?;
        self.check_webauthn()?;
        self.oidc.settings()?;
        self.fallback.publish_settings()?;
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
            .field("session_idle_minutes", &self.session_idle_minutes)
            .field("login", &self.login)
            .field("oidc", &self.oidc)
            .field("secure_cookies", &self.secure_cookies)
            .field("max_body_bytes", &self.max_body_bytes)
            .field("graphql_max_depth", &self.graphql_max_depth)
            .field("graphql_max_complexity", &self.graphql_max_complexity)
            .field("graphql_introspection", &self.graphql_introspection)
            .field(
                "offline_max_confidentiality",
                &self.offline_max_confidentiality,
            )
            .field("log", &self.log)
            .field("plans", &self.plans)
            .field("messages", &self.messages)
            .field("playbooks_dir", &self.playbooks_dir)
            .field("fallback", &self.fallback)
            .field("sms", &self.sms)
            .field("push", &self.push)
            .field("webauthn", &self.webauthn)
            .field("secret_key", &self.secret_key.as_ref().map(|_| "(hidden)"))
            .field("secret_key_file", &self.secret_key_file)
            .finish()
    }
}

#[cfg(test)]
// figment's `Jail` decides the closure's error type (`figment::Error`, which is large).
#[allow(clippy::result_large_err)]
mod tests {
    use super::*;
    use figment::Jail;
    use reserv_domain::phone::E164;
    use reserv_notify::provider::ProviderSettings;

    #[test]
    fn defaults_need_nothing() {
        Jail::expect_with(|_| {
            let config = Config::load(None).map_err(|error| error.to_string())?;
            assert_eq!(config.listen.to_string(), "127.0.0.1:8080");
            assert_eq!(config.offline_max_confidentiality, 1);
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
    fn nested_fallback_keys_come_from_the_environment() {
        Jail::expect_with(|jail| {
            jail.create_file(
                "reserv.toml",
                "[fallback]\nstale_after_minutes = 45\n[[fallback.targets]]\nkind = \"dir\"\npath = \"/srv/status\"\n",
            )?;
            jail.set_env("RESERV_FALLBACK__REQUESTS_PER_MINUTE", "5");
            let config = Config::load(None).map_err(|error| error.to_string())?;
            assert_eq!(config.fallback.requests_per_minute.get(), 5);
            assert_eq!(config.fallback.stale_after_minutes.get(), 45);
            assert_eq!(config.fallback.heartbeat_minutes.get(), 10);
            assert_eq!(
                config.fallback.targets,
                [TargetConfig::Dir {
                    path: "/srv/status".into()
                }]
            );
            Ok(())
        });
    }

    #[test]
    fn s3_and_command_targets_read_their_settings_and_hide_the_secret() {
        Jail::expect_with(|jail| {
            jail.create_file("s3-secret", "hemligt-nyckelord\n")?;
            jail.create_file(
                "reserv.toml",
                "[[fallback.targets]]\nkind = \"s3\"\nbucket = \"status\"\nendpoint = \"http://127.0.0.1:9000\"\nprefix = \"/kris/\"\naccess_key_id = \"reserv\"\nsecret_access_key_file = \"s3-secret\"\n\n[[fallback.targets]]\nkind = \"command\"\nprogram = \"rsync\"\nargs = [\"-a\", \"{site}/\", \"web2:/srv/status/\"]\n",
            )?;
            let config = Config::load(None).map_err(|error| error.to_string())?;
            let settings = config
                .fallback
                .publish_settings()
                .map_err(|error| error.to_string())?;
            let [
                reserv_fallback::Target::S3(s3),
                reserv_fallback::Target::Command(command),
            ] = settings.targets.as_slice()
            else {
                return Err(format!("{:?}", settings.targets).into());
            };
            assert_eq!(s3.prefix, "kris", "slashes around the prefix are dropped");
            assert_eq!(
                s3.secret_access_key
                    .as_ref()
                    .map(|secret| secret.0.as_str()),
                Some("hemligt-nyckelord")
            );
            assert_eq!(command.args[1], "{site}/");
            assert_eq!(command.timeout.as_secs(), 120);
            assert!(
                !format!("{config:?} {s3:?}").contains("hemligt"),
                "secrets stay out of debug output"
            );
            Ok(())
        });
    }

    #[test]
    fn a_bad_target_is_refused_by_its_place_in_the_list() {
        Jail::expect_with(|jail| {
            jail.create_file(
                "reserv.toml",
                "[[fallback.targets]]\nkind = \"dir\"\npath = \"/srv/status\"\n[[fallback.targets]]\nkind = \"s3\"\nbucket = \"status\"\nendpoint = \"minio.local:9000\"\n",
            )?;
            let message = Config::load(None)
                .map(|_| ())
                .map_err(|error| error.to_string());
            assert!(
                message
                    .as_ref()
                    .is_err_and(|m| m.contains("fallback.targets[1].endpoint")),
                "{message:?}"
            );
            Ok(())
        });
    }

    #[test]
    fn the_second_factor_requirement_defaults_to_roles_above_care_worker() {
        use reserv_domain::second_factor::SecondFactorRequirement;
        Jail::expect_with(|jail| {
            let config = Config::load(None).map_err(|error| error.to_string())?;
            assert_eq!(
                config.sign_in_settings().second_factor,
                SecondFactorRequirement::AboveCareWorker
            );
            let mut demo = config.clone();
            demo.login.demo_default();
            assert_eq!(
                demo.sign_in_settings().second_factor,
                SecondFactorRequirement::Off
            );
            jail.set_env("RESERV_LOGIN__REQUIRE_SECOND_FACTOR", "everyone");
            let mut config = Config::load(None).map_err(|error| error.to_string())?;
            config.login.demo_default();
            assert_eq!(
                config.sign_in_settings().second_factor,
                SecondFactorRequirement::Everyone,
                "a configured requirement wins over the demo's default"
            );
            jail.set_env("RESERV_LOGIN__REQUIRE_SECOND_FACTOR", "sometimes");
            let message = Config::load(None).err().map(|error| error.to_string());
            assert!(
                message.as_deref().is_some_and(|message| message
                    .to_lowercase()
                    .contains("require_second_factor")
                    && message.contains("above_care_worker")),
                "{message:?}"
            );
            Ok(())
        });
    }

    #[test]
    fn four_eyes_is_on_unless_the_file_or_environment_turns_it_off() {
        Jail::expect_with(|jail| {
            assert!(
                Config::load(None)
                    .map_err(|e| e.to_string())?
                    .plans
                    .four_eyes
            );
            jail.create_file("reserv.toml", "[plans]\nfour_eyes = false\n")?;
            let config = Config::load(None).map_err(|e| e.to_string())?;
            assert!(!config.plans.plan_settings().four_eyes);
            jail.set_env("RESERV_PLANS__FOUR_EYES", "true");
            assert!(
                Config::load(None)
                    .map_err(|e| e.to_string())?
                    .plans
                    .four_eyes
            );
            jail.create_file("reserv.toml", "[plans]\nfour_eye = false\n")?;
            let refused = Config::load(None).err().map(|e| e.to_string());
            assert!(
                refused.as_deref().is_some_and(|m| m.contains("four_eye")),
                "{refused:?}"
            );
            Ok(())
        });
    }

    #[test]
    fn the_hotline_and_status_page_for_prepared_messages_come_from_file_and_environment() {
        Jail::expect_with(|jail| {
            let none = Config::load(None).map_err(|e| e.to_string())?;
            assert_eq!(
                none.messages.draft_settings(),
                reserv_store::DraftSettings::default()
            );
            jail.create_file(
                "reserv.toml",
                "[messages]\nhotline = \"0660-88 00 00\"\nstatus_url = \"  \"\n",
            )?;
            jail.set_env("RESERV_MESSAGES__STATUS_URL", "https://status.example.se");
            let settings = Config::load(None)
                .map_err(|e| e.to_string())?
                .messages
                .draft_settings();
            assert_eq!(settings.hotline.as_deref(), Some("0660-88 00 00"));
            assert_eq!(
                settings.status_url.as_deref(),
                Some("https://status.example.se")
            );
            jail.create_file("reserv.toml", "[messages]\nhotlines = \"112\"\n")?;
            let refused = Config::load(None).err().map(|e| e.to_string());
            assert!(
                refused.as_deref().is_some_and(|m| m.contains("hotlines")),
                "{refused:?}"
            );
            Ok(())
        });
    }

    #[test]
    fn login_throttling_and_idle_timeout_come_from_file_and_environment() {
        Jail::expect_with(|jail| {
            jail.create_file(
                "reserv.toml",
                "session_idle_minutes = 30\n[login]\naccount_attempts = 3\n",
            )?;
            jail.set_env("RESERV_LOGIN__LOCKOUT_MINUTES", "10");
            jail.set_env("RESERV_LOGIN__HASH_CONCURRENCY", "1");
            let config = Config::load(None).map_err(|error| error.to_string())?;
            let settings = config.sign_in_settings();
            assert_eq!(settings.hash_concurrency, 1);
            assert_eq!(settings.throttle.account_failures, 3);
            assert_eq!(settings.throttle.address_failures, 30);
            assert_eq!(settings.throttle.window, chrono::Duration::minutes(15));
            assert_eq!(settings.throttle.lockout, chrono::Duration::minutes(10));
            assert_eq!(settings.session_idle, chrono::Duration::minutes(30));
            Ok(())
        });
        Jail::expect_with(|jail| {
            jail.set_env("RESERV_SESSION_IDLE_MINUTES", "2000");
            let message = Config::load(None)
                .err()
                .map(|e| e.to_string())
                .unwrap_or_default();
            assert!(
                message.contains("session_idle_minutes must be 5 to 720"),
                "{message}"
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
                .map(|sms| sms.primary_settings())
                .transpose()
                .map_err(|error| error.to_string())?;
            let Some(ProviderSettings::Twilio(settings)) = settings else {
                return Err("the default provider is Twilio".into());
            };
            assert_eq!(
                (settings.auth_token, settings.senders),
                ("secret-token".into(), vec!["+46766860001".into()])
            );
            assert!(!format!("{config:?}").contains("secret-token"));
            Ok(())
        });
    }

    #[test]
    fn a_46elks_failover_is_configured_in_its_own_section() {
        Jail::expect_with(|jail| {
            jail.create_file(
                "reserv.toml",
                r#"
                [sms]
                account_sid = "AC123"
                auth_token = "twilio-token"
                senders = ["+46766860001"]
                public_url = "https://reserv.example.se"
                delivery_report_token = "f3b9c2d7a1e84b6c9d0e2f4a"
                failover_after = 5
                failover_retry_seconds = 30

                [sms.failover]
                provider = "46elks"
                account_sid = "u0123456789abcdef"
                auth_token = "elks-password"
                senders = ["0766-86 00 02"]
                "#,
            )?;
            let config = Config::load(Some(std::path::Path::new("reserv.toml")))
                .map_err(|error| error.to_string())?;
            let sms = config.sms.as_ref().ok_or("sms is configured")?;
            let Some(ProviderSettings::Elks(elks)) =
                sms.failover_settings().map_err(|error| error.to_string())?
            else {
                return Err("the failover is 46elks".into());
            };
            assert_eq!(elks.base_url, "https://api.46elks.com");
            assert_eq!(elks.senders, vec!["+46766860002".to_owned()]);
            assert_eq!(
                elks.delivery_report_url.as_deref(),
                Some("https://reserv.example.se/sms/status/46elks?token=f3b9c2d7a1e84b6c9d0e2f4a")
            );
            let policy = sms.failover_policy();
            assert_eq!(policy.failures_before_switch.get(), 5);
            assert_eq!(policy.primary_retry_after, chrono::Duration::seconds(30));
            let debug = format!("{config:?}");
            assert!(
                !debug.contains("elks-password") && !debug.contains("f3b9c2d7"),
                "{debug}"
            );

            jail.set_env("RESERV_SMS__DELIVERY_REPORT_TOKEN", "short");
            let message = Config::load(Some(std::path::Path::new("reserv.toml")))
                .err()
                .map(|e| e.to_string())
                .unwrap_or_default();
            assert!(message.contains("sms.delivery_report_token"), "{message}");
            jail.set_env(
                "RESERV_SMS__DELIVERY_REPORT_TOKEN",
                "f3b9c2d7a1e84b6c9d0e2f4a",
            );
            jail.set_env("RESERV_SMS__FAILOVER__PROVIDER", "sinch");
            let message = Config::load(Some(std::path::Path::new("reserv.toml")))
                .err()
                .map(|e| e.to_string())
                .unwrap_or_default();
            assert!(message.contains("sms.failover.provider"), "{message}");
            Ok(())
        });
    }

    #[test]
    fn the_residents_line_needs_an_e164_number_and_has_a_text_for_no_notice() {
        Jail::expect_with(|jail| {
            jail.set_env("RESERV_SMS__ACCOUNT_SID", "AC123");
            jail.set_env("RESERV_SMS__AUTH_TOKEN", "secret-token");
            jail.set_env("RESERV_SMS__SENDERS", "[\"+46766860001\"]");
            jail.set_env("RESERV_SMS__PUBLIC_URL", "https://reserv.example.se/");
            jail.set_env("RESERV_SMS__RESIDENT_NUMBER", "+46766860099");
            let config = Config::load(None).map_err(|error| error.to_string())?;
            let webhooks = config
                .sms
                .as_ref()
                .map(|sms| sms.webhook_settings())
                .transpose()
                .map_err(|error| error.to_string())?
                .flatten();
            assert_eq!(
                webhooks.as_ref().map(|w| (
                    w.resident_number.as_ref().map(E164::as_str),
                    w.without_notice
                        .sv
                        .starts_with("Kommunen har inga störningar")
                )),
                Some((Some("+46766860099"), true))
            );
            assert!(!format!("{webhooks:?}").contains("secret-token"));
            assert!(
                !format!("{config:?}").contains("+46766860099"),
                "the number stays out of logs"
            );

            jail.set_env("RESERV_SMS__RESIDENT_NUMBER", "0766860099");
            let message = Config::load(None)
                .err()
                .map(|e| e.to_string())
                .unwrap_or_default();
            assert!(
                message.contains("country code"),
                "a dropped leading 0: {message}"
            );
            jail.set_env("RESERV_SMS__RESIDENT_NUMBER", "070-123");
            let message = Config::load(None)
                .err()
                .map(|e| e.to_string())
                .unwrap_or_default();
            assert!(message.contains("sms.resident_number"), "{message}");
            Ok(())
        });
    }

    #[test]
    fn oidc_is_off_without_an_issuer_and_refuses_a_half_made_section() {
        Jail::expect_with(|jail| {
            let config = Config::load(None).map_err(|e| e.to_string())?;
            assert!(config.oidc.settings().map_err(|e| e.to_string())?.is_none());

            jail.create_file("oidc-secret", "client-hemlighet\n")?;
            jail.create_file(
                "reserv.toml",
                "[oidc]\nissuer_url = \"https://idp.kommun.se/\"\nclient_id = \"reserv\"\nclient_secret_file = \"oidc-secret\"\nperson_field = \"external_id\"\nclaim = \"hsa_id\"\nscopes = [\"openid\", \"profile\"]\nrequired_acr = [\"http://id.elegnamnden.se/loa/1.0/loa3\"]\nroles_requiring_acr = [\"admin\", \"crisis_lead\"]\n",
            )?;
            jail.set_env("RESERV_OIDC__PUBLIC_URL", "https://reserv.kommun.se/");
            let config = Config::load(None).map_err(|e| e.to_string())?;
            let settings = config
                .oidc
                .settings()
                .map_err(|e| e.to_string())?
                .ok_or("oidc is on")?;
            assert_eq!(settings.issuer_url, "https://idp.kommun.se");
            assert_eq!(settings.public_url, "https://reserv.kommun.se");
            assert_eq!(settings.client_secret.as_deref(), Some("client-hemlighet"));
            assert_eq!(settings.scopes, ["profile"]);
            assert_eq!(settings.label, "Logga in med e-legitimation");
            assert_eq!(
                settings.assurance.roles_requiring_acr,
                [
                    reserv_domain::access::Role::Admin,
                    reserv_domain::access::Role::CrisisLead
                ]
            );
            assert!(!format!("{config:?} {settings:?}").contains("hemlighet"));

            jail.set_env("RESERV_OIDC__PUBLIC_URL", "http://reserv.kommun.se");
            let message = Config::load(None)
                .err()
                .map(|e| e.to_string())
                .unwrap_or_default();
            assert!(
                message.contains("oidc.public_url must be an https://"),
                "{message}"
            );
            jail.set_env("RESERV_OIDC__PUBLIC_URL", "");
            let message = Config::load(None)
                .err()
                .map(|e| e.to_string())
                .unwrap_or_default();
            assert!(message.contains("oidc.public_url"), "{message}");
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
        Jail::expect_with(|jail| {
            jail.set_env("RESERV_OFFLINE_MAX_CONFIDENTIALITY", "3");
            let message = Config::load(None)
                .err()
                .map(|e| e.to_string())
                .unwrap_or_default();
            assert!(
                message.contains("offline_max_confidentiality must be 0 to 2"),
                "{message}"
            );
            Ok(())
        });
    }
}
