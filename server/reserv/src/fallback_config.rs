//! The `[fallback]` section of the configuration: the public status page's rate limit
//! and where, and how often, the static fallback site is published.

use crate::config::{ConfigError, read_secret};
use serde::{Deserialize, Serialize};
use std::num::NonZeroU32;
use std::path::PathBuf;
use std::time::Duration;

/// Settings of the public status page and the static fallback site.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct FallbackConfig {
    /// Requests one client address may make per minute to `/status`, `/status.json`
    /// and `/status.atom`.
    pub requests_per_minute: NonZeroU32,
    /// After how many minutes the static site warns its readers that it may be out of
    /// date.
    pub stale_after_minutes: NonZeroU32,
    /// How often, in minutes, the site is republished when no notice changes, so that
    /// its "page generated" time shows Reserv is alive.
    pub heartbeat_minutes: NonZeroU32,
    /// Where the static site is published (`[[fallback.targets]]`), each with a `kind`.
    pub targets: Vec<TargetConfig>,
}

/// One place the static site is published to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum TargetConfig {
    /// A folder, replaced whole on every publication: `kind = "dir"`, `path = "…"`.
    Dir { path: PathBuf },
    /// A bucket of an S3-compatible service: `kind = "s3"` and [`S3TargetConfig`]'s keys.
    S3(S3TargetConfig),
    /// A program run with a fresh copy of the site: `kind = "command"`, `program`,
    /// `args` (where `{site}` stands for the copy's folder), `timeout_seconds`.
    Command {
        program: String,
        #[serde(default)]
        args: Vec<String>,
        #[serde(default = "default_command_timeout")]
        timeout_seconds: NonZeroU32,
    },
}

/// A bucket, and optionally the service's `endpoint`, a `prefix`, the `region` and the
/// credentials (else the `AWS_*` variables).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct S3TargetConfig {
    pub bucket: String,
    pub endpoint: Option<String>,
    #[serde(default)]
    pub prefix: String,
    pub region: Option<String>,
    pub access_key_id: Option<String>,
    pub secret_access_key: Option<reserv_fallback::Secret>,
    pub secret_access_key_file: Option<PathBuf>,
}

fn default_command_timeout() -> NonZeroU32 {
    NonZeroU32::MIN.saturating_add(119)
}

impl Default for FallbackConfig {
    fn default() -> Self {
        Self {
            requests_per_minute: NonZeroU32::MIN.saturating_add(599),
            stale_after_minutes: NonZeroU32::MIN.saturating_add(29),
            heartbeat_minutes: NonZeroU32::MIN.saturating_add(9),
            targets: Vec::new(),
        }
    }
}

impl FallbackConfig {
    /// The publisher's settings, reading secret files and checking each target.
    pub fn publish_settings(&self) -> Result<reserv_fallback::PublishSettings, ConfigError> {
        let targets = self
            .targets
            .iter()
            .enumerate()
            .map(|(index, target)| target.settings(index))
            .collect::<Result<_, _>>()?;
        Ok(reserv_fallback::PublishSettings {
            targets,
            heartbeat: Duration::from_secs(u64::from(self.heartbeat_minutes.get()) * 60),
            stale_after_minutes: self.stale_after_minutes.get(),
        })
    }
}

impl TargetConfig {
    fn settings(&self, index: usize) -> Result<reserv_fallback::Target, ConfigError> {
        let key = |field: &str| format!("fallback.targets[{index}].{field}");
        Ok(match self {
            TargetConfig::Dir { path } => reserv_fallback::Target::Dir(path.clone()),
            TargetConfig::S3(s3) => {
                if s3.bucket.trim().is_empty() {
                    return Err(ConfigError::new(format!(
                        "{}: name a bucket",
                        key("bucket")
                    )));
                }
                if let Some(url) = &s3.endpoint
                    && !(url.starts_with("https://") || url.starts_with("http://"))
                {
                    return Err(ConfigError::new(format!(
                        "{}: '{url}' is not an http:// or https:// URL",
                        key("endpoint")
                    )));
                }
                reserv_fallback::Target::S3(reserv_fallback::S3Target {
                    endpoint: s3.endpoint.clone(),
                    bucket: s3.bucket.clone(),
                    prefix: s3.prefix.trim_matches('/').to_owned(),
                    region: s3.region.clone(),
                    access_key_id: s3.access_key_id.clone(),
                    secret_access_key: read_secret(
                        &key("secret_access_key"),
                        s3.secret_access_key.as_ref().map(|secret| &secret.0),
                        s3.secret_access_key_file.as_ref(),
                    )?
                    .map(reserv_fallback::Secret),
                })
            }
            TargetConfig::Command {
                program,
                args,
                timeout_seconds,
            } => {
                if program.trim().is_empty() {
                    return Err(ConfigError::new(format!(
                        "{}: name the program to run",
                        key("program")
                    )));
                }
                reserv_fallback::Target::Command(reserv_fallback::CommandTarget {
                    program: program.clone(),
                    args: args.clone(),
                    timeout: Duration::from_secs(u64::from(timeout_seconds.get())),
                })
            }
        })
    }
}
