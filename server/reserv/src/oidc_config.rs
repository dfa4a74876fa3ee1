//! The `[oidc]` section of the configuration: sign-in at the organisation's OpenID
//! Connect identity provider. Without `oidc.issuer_url` it is off, and people sign in
//! with password (and TOTP) or an emergency code as before; those stay on when it is on,
//! for the day the provider is down.

use crate::config::{ConfigError, read_secret};
use reserv_api::OidcSettings;
use reserv_domain::access::Role;
use reserv_domain::oidc::{AssuranceRule, PersonField};
use serde::{Deserialize, Serialize};
use std::num::NonZeroU32;
use std::path::PathBuf;

/// Settings of OpenID Connect sign-in, from TOML `[oidc]` or `RESERV_OIDC__<KEY>`.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct OidcConfig {
    /// The provider's issuer URL; its discovery document is read from
    /// `{issuer_url}/.well-known/openid-configuration`. Unset: OIDC sign-in is off.
    pub issuer_url: Option<String>,
    /// The client id Reserv is registered with at the provider.
    pub client_id: Option<String>,
    /// The client secret; or `client_secret_file`.
    pub client_secret: Option<String>,
    pub client_secret_file: Option<PathBuf>,
    /// This server's base URL as the browser sees it; the redirect URI registered at the
    /// provider is `{public_url}/auth/oidc/callback`.
    pub public_url: Option<String>,
    /// The ID token claim that names the person: `email`, `employee_id`, `hsa_id`, `sub` …
    pub claim: String,
    /// What the claim is matched to: `email` (the person's e-mail, ignoring case) or
    /// `external_id` (the person's identifier at the employer).
    pub person_field: PersonField,
    /// Scopes asked for besides `openid`.
    pub scopes: Vec<String>,
    /// The acr values asked for, most wanted first (sent as `acr_values`).
    pub acr_values: Vec<String>,
    /// The text of the sign-in button in the PWA.
    pub label: String,
    /// The acr values that count as high assurance; any one is enough.
    pub required_acr: Vec<String>,
    /// Roles that may only sign in by OIDC with one of `required_acr`.
    pub roles_requiring_acr: Vec<Role>,
    /// How long a person may spend at the provider before the sign-in runs out, in
    /// minutes.
    pub sign_in_minutes: NonZeroU32,
}

impl Default for OidcConfig {
    fn default() -> Self {
        Self {
            issuer_url: None,
            client_id: None,
            client_secret: None,
            client_secret_file: None,
            public_url: None,
            claim: "email".into(),
            person_field: PersonField::Email,
            scopes: vec!["email".into(), "profile".into()],
            acr_values: Vec::new(),
            label: "Logga in med e-legitimation".into(),
            required_acr: Vec::new(),
            roles_requiring_acr: Vec::new(),
            sign_in_minutes: NonZeroU32::MIN.saturating_add(9),
        }
    }
}

impl std::fmt::Debug for OidcConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OidcConfig")
            .field("issuer_url", &self.issuer_url)
            .field("client_id", &self.client_id)
            .field(
                "client_secret",
                &self.client_secret.as_ref().map(|_| "(hidden)"),
            )
            .field("client_secret_file", &self.client_secret_file)
            .field("public_url", &self.public_url)
            .field("claim", &self.claim)
            .field("person_field", &self.person_field)
            .field("scopes", &self.scopes)
            .field("acr_values", &self.acr_values)
            .field("label", &self.label)
            .field("required_acr", &self.required_acr)
            .field("roles_requiring_acr", &self.roles_requiring_acr)
            .field("sign_in_minutes", &self.sign_in_minutes)
            .finish()
    }
}

impl OidcConfig {
    /// The API's settings, or `None` when OIDC is off; refuses a half-made section.
    pub fn settings(&self) -> Result<Option<OidcSettings>, ConfigError> {
        let Some(issuer_url) = given(&self.issuer_url) else {
            return Ok(None);
        };
        let web_url = |key: &str, url: &str| {
            // Plain HTTP only to this machine: tokens and codes cross this connection.
            let loopback = ["http://127.0.0.1", "http://localhost", "http://[::1]"]
                .iter()
                .any(|prefix| url.starts_with(prefix));
            if url.starts_with("https://") || loopback {
                Ok(url.trim_end_matches('/').to_owned())
            } else {
                Err(ConfigError::new(format!(
                    "oidc.{key} must be an https:// URL (http:// only on loopback), not '{url}'"
                )))
            }
        };
        let issuer_url = web_url("issuer_url", &issuer_url)?;
        let public_url = given(&self.public_url).ok_or_else(|| {
            ConfigError::new(
                "oidc.public_url: set this server's base URL as the browser sees it (the redirect URI is {public_url}/auth/oidc/callback)".into(),
            )
        })?;
        let public_url = web_url("public_url", &public_url)?;
        let client_id = given(&self.client_id).ok_or_else(|| {
            ConfigError::new("oidc.client_id: set the client id Reserv is registered with".into())
        })?;
        let client_secret = read_secret(
            "oidc.client_secret",
            self.client_secret.as_ref(),
            self.client_secret_file.as_ref(),
        )?;
        let claim = self.claim.trim();
        if claim.is_empty() {
            return Err(ConfigError::new(
                "oidc.claim: name the ID token claim that identifies the person, such as email"
                    .into(),
            ));
        }
        if !self.roles_requiring_acr.is_empty() && self.required_acr.is_empty() {
            return Err(ConfigError::new(
                "oidc.required_acr: roles_requiring_acr is set, so name the acr values that are enough".into(),
            ));
        }
        Ok(Some(OidcSettings {
            issuer_url,
            client_id,
            client_secret,
            public_url,
            claim: claim.to_owned(),
            person_field: self.person_field,
            scopes: self
                .scopes
                .iter()
                .map(|scope| scope.trim())
                .filter(|scope| !scope.is_empty() && *scope != "openid")
                .map(str::to_owned)
                .collect(),
            acr_values: self.acr_values.clone(),
            label: given(&Some(self.label.clone())).unwrap_or_else(|| OidcConfig::default().label),
            assurance: AssuranceRule {
                required_acr: self.required_acr.clone(),
                roles_requiring_acr: self.roles_requiring_acr.clone(),
            },
            sign_in_lifetime: chrono::Duration::minutes(i64::from(self.sign_in_minutes.get())),
        }))
    }
}

fn given(value: &Option<String>) -> Option<String> {
    value
        .as_deref()
        .map(str::trim)
        .filter(|value| !value.is_empty())
        .map(str::to_owned)
}
