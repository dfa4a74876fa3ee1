//! The `[webauthn]` section of the configuration: the relying party passkeys are bound
//! to. Passkeys registered under one `rp_id` work only under it: choose it once, as the
//! domain people open (or a domain above it).

use crate::config::{Config, ConfigError};
use reserv_store::PasskeySettings;
use serde::{Deserialize, Serialize};

/// Settings of WebAuthn passkeys, from TOML `[webauthn]` or `RESERV_WEBAUTHN__<KEY>`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct WebauthnConfig {
    /// The domain passkeys are bound to, such as `reserv.kommun.se`. Left out, the
    /// host of `origin`.
    pub rp_id: Option<String>,
    /// The URL people open, such as `https://reserv.kommun.se`. Left out,
    /// `http://localhost:<port of listen>`, for local use (browsers allow passkeys over
    /// http only on localhost).
    pub origin: Option<String>,
    /// The name browsers show when they ask for a passkey.
    pub rp_name: String,
}

impl Default for WebauthnConfig {
    fn default() -> Self {
        Self {
            rp_id: None,
            origin: None,
            rp_name: "Reserv".into(),
        }
    }
}

impl Config {
    /// The relying party of passkeys, with the defaults filled in from `listen`.
    pub fn passkey_settings(&self) -> PasskeySettings {
        let webauthn = &self.webauthn;
        let origin = webauthn
            .origin
            .clone()
            .unwrap_or_else(|| format!("http://localhost:{}", self.listen.port()));
        let rp_id = webauthn.rp_id.clone().unwrap_or_else(|| {
            PasskeySettings::host_of(&origin).unwrap_or_else(|| "localhost".into())
        });
        PasskeySettings {
            rp_id,
            origin,
            rp_name: webauthn.rp_name.clone(),
        }
    }

    /// Checks the `[webauthn]` settings, naming what to change.
    pub(crate) fn check_webauthn(&self) -> Result<(), ConfigError> {
        self.passkey_settings()
            .relying_party()
            .map(|_| ())
            .map_err(|problem| {
                ConfigError::new(format!("webauthn.origin/webauthn.rp_id: {problem}"))
            })
    }
}

#[cfg(test)]
// figment's `Jail` decides the closure's error type (`figment::Error`, which is large).
#[allow(clippy::result_large_err)]
mod tests {
    use super::*;
    use figment::Jail;

    #[test]
    fn passkeys_default_to_localhost_and_follow_the_file_and_environment() {
        Jail::expect_with(|jail| {
            let config = Config::load(None).map_err(|e| e.to_string())?;
            let settings = config.passkey_settings();
            assert_eq!(settings.origin, "http://localhost:8080");
            assert_eq!(settings.rp_id, "localhost");
            assert_eq!(settings.rp_name, "Reserv");

            jail.create_file(
                "reserv.toml",
                "[webauthn]\norigin = \"https://reserv.kommun.se\"\n",
            )?;
            let settings = Config::load(None)
                .map_err(|e| e.to_string())?
                .passkey_settings();
            assert_eq!(settings.rp_id, "reserv.kommun.se", "the origin's host");

            jail.set_env("RESERV_WEBAUTHN__RP_ID", "kommun.se");
            jail.set_env("RESERV_WEBAUTHN__RP_NAME", "Kalix kommun");
            let settings = Config::load(None)
                .map_err(|e| e.to_string())?
                .passkey_settings();
            assert_eq!(settings.rp_id, "kommun.se");
            assert_eq!(settings.rp_name, "Kalix kommun");

            jail.set_env("RESERV_WEBAUTHN__RP_ID", "annan.se");
            let refused = Config::load(None).err().map(|e| e.to_string());
            assert!(
                refused
                    .as_deref()
                    .is_some_and(|m| m.contains("webauthn") && m.contains("annan.se")),
                "{refused:?}"
            );
            Ok(())
        });
    }
}
