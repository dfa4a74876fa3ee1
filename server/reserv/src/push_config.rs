//! The `[push]` section of the configuration: web push to the PWA. Push is always on:
//! the server's VAPID key is given inline (`push.vapid_private_key`, for an environment
//! variable), in a file (`push.vapid_private_key_file`), or created at first start as
//! `DATA_DIR/vapid.pem`, readable by the server's user only. Browsers subscribed with
//! one key cannot be reached with another: keep the file with the backups.

use crate::config::{Config, ConfigError, configured_or_kept_key, write_private_file};
use reserv_notify::push::{PushSettings, VapidKey};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// Settings of web push, from TOML `[push]` or `RESERV_PUSH__<KEY>`.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PushConfig {
    /// The VAPID private key: PEM, or the 32-byte scalar in base64url.
    pub vapid_private_key: Option<String>,
    /// A file holding it; neither set means `DATA_DIR/vapid.pem`, created at first start.
    pub vapid_private_key_file: Option<PathBuf>,
    /// The contact the push services may write to about this server:
    /// `mailto:it-jour@kommun.se` or an `https:` page. Apple refuses pushes without one.
    pub subject: Option<String>,
    /// How long a push service keeps a message for a phone that is off, in seconds.
    pub ttl_seconds: u32,
}

impl Default for PushConfig {
    fn default() -> Self {
        Self {
            vapid_private_key: None,
            vapid_private_key_file: None,
            subject: None,
            ttl_seconds: 12 * 60 * 60,
        }
    }
}

/// Until a subject is configured; push services may refuse it, so start-up warns.
const PLACEHOLDER_SUBJECT: &str = "mailto:reserv@example.invalid";

impl std::fmt::Debug for PushConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PushConfig")
            .field(
                "vapid_private_key",
                &self.vapid_private_key.as_ref().map(|_| "(hidden)"),
            )
            .field("vapid_private_key_file", &self.vapid_private_key_file)
            .field("subject", &self.subject)
            .field("ttl_seconds", &self.ttl_seconds)
            .finish()
    }
}

impl PushConfig {
    /// Refuses a subject push services would refuse and a TTL they would cap.
    pub(crate) fn validate(&self) -> Result<(), ConfigError> {
        if let Some(subject) = &self.subject
            && !(subject.starts_with("mailto:") || subject.starts_with("https://"))
        {
            return Err(ConfigError::new(format!(
                "push.subject must start with mailto: or https://, not '{subject}'"
            )));
        }
        if !(60..=28 * 24 * 60 * 60).contains(&self.ttl_seconds) {
            return Err(ConfigError::new(format!(
                "push.ttl_seconds must be 60 to 2419200 (four weeks), not {}",
                self.ttl_seconds
            )));
        }
        Ok(())
    }
}

impl Config {
    /// The push settings with the server's VAPID key; creates `DATA_DIR/vapid.pem` when
    /// no key is configured and none was created before.
    pub fn push_settings(&self) -> Result<PushSettings, ConfigError> {
        let push = &self.push;
        let key = configured_or_kept_key(
            "push.vapid_private_key",
            push.vapid_private_key.as_ref(),
            push.vapid_private_key_file.as_ref(),
            &self.data_dir.join("vapid.pem"),
            parse,
            create,
        )?;
        Ok(PushSettings {
            key,
            subject: push
                .subject
                .clone()
                .unwrap_or_else(|| PLACEHOLDER_SUBJECT.into()),
            ttl: std::time::Duration::from_secs(u64::from(push.ttl_seconds)),
        })
    }
}

fn parse(text: &str) -> Result<VapidKey, ConfigError> {
    VapidKey::parse(text).map_err(|error| ConfigError::new(error.to_string()))
}

/// Writes a fresh key to `path`, never over an existing file, readable by the owner only.
fn create(path: &Path) -> Result<VapidKey, ConfigError> {
    let key = VapidKey::generate();
    let pem = key
        .to_pem()
        .map_err(|error| ConfigError::new(error.to_string()))?;
    write_private_file("push.vapid_private_key_file", path, &pem)?;
    tracing::warn!(
        path = %path.display(),
        public_key = %key.public_key_base64url(),
        "created a new VAPID key for web push; back it up, or every browser must subscribe again"
    );
    Ok(key)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_vapid_key_is_created_once_readable_by_the_owner_and_read_back() -> anyhow::Result<()> {
        let folder = tempfile::tempdir()?;
        let config = Config {
            data_dir: folder.path().to_path_buf(),
            ..Config::default()
        };
        let first = config.push_settings()?;
        let second = config.push_settings()?;
        assert_eq!(
            first.key.public_key_base64url(),
            second.key.public_key_base64url()
        );
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(folder.path().join("vapid.pem"))?
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let configured = Config {
            push: PushConfig {
                vapid_private_key: Some(first.key.to_pem()?),
                subject: Some("ftp://nope".into()),
                ..PushConfig::default()
            },
            data_dir: folder.path().join("elsewhere"),
            ..Config::default()
        };
        assert_eq!(
            configured.push_settings()?.key.public_key_base64url(),
            first.key.public_key_base64url()
        );
        assert!(!folder.path().join("elsewhere/vapid.pem").exists());
        assert!(configured.push.validate().is_err(), "ftp: is no contact");
        Ok(())
    }
}
