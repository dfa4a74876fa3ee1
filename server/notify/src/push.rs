//! Web push (RFC 8030) with encrypted payloads (RFC 8291, `aes128gcm`) and VAPID
//! (RFC 8292): the server signs each request with its own P-256 key, whose public half
//! the PWA passes to `pushManager.subscribe`.
//!
//! Push passes through the browser maker's push service, so what goes out here is
//! decided by the domain (`ValidMessage::push_for`): content only up to
//! confidentiality 1. This module never logs endpoints (capabilities to push to a
//! device) or payloads.

use crate::provider::SendError;
use crate::{NotifyError, Result};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as BASE64URL;
use reserv_store::PushTarget;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};
use web_push_native::jwt_simple::algorithms::{
    ECDSAP256KeyPairLike, ECDSAP256PublicKeyLike, ES256KeyPair,
};
use web_push_native::jwt_simple::claims::Claims;
use web_push_native::p256::PublicKey;
use web_push_native::{Auth, WebPushBuilder};

/// How long a VAPID signature is valid; push services refuse more than 24 hours.
const SIGNATURE_VALIDITY: Duration = Duration::from_secs(12 * 60 * 60);
/// How long one signature is sent to a push service before a fresh one is made: well
/// inside its validity, so that it never expires on the way. Signing per message was
/// the larger part of a push's cost, and RFC 8292 lets a token be reused.
const SIGNATURE_REUSE: Duration = Duration::from_secs(60 * 60);

/// The server's VAPID key pair.
#[derive(Clone)]
pub struct VapidKey(Arc<ES256KeyPair>);

impl std::fmt::Debug for VapidKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "VapidKey({})", self.public_key_base64url())
    }
}

impl VapidKey {
    pub fn generate() -> Self {
        Self(Arc::new(ES256KeyPair::generate()))
    }

    /// Reads a PEM private key (PKCS#8 or SEC1, as `openssl ecparam -genkey` writes
    /// it) or the base64url private scalar that `web-push generate-vapid-keys` prints.
    pub fn parse(text: &str) -> Result<Self> {
        let text = text.trim();
        let key = if text.starts_with("-----BEGIN") {
            ES256KeyPair::from_pem(text)
        } else {
            let bytes = BASE64URL.decode(text.trim_end_matches('=')).map_err(|_| {
                NotifyError::Config("push.vapid_private_key: neither PEM nor base64url".into())
            })?;
            ES256KeyPair::from_bytes(&bytes)
        };
        key.map(|key| Self(Arc::new(key))).map_err(|_| {
            NotifyError::Config(
                "push.vapid_private_key: not a P-256 private key (PEM, or 32 bytes in base64url)"
                    .into(),
            )
        })
    }

    /// The private key as PKCS#8 PEM, for keeping it in a file.
    pub fn to_pem(&self) -> Result<String> {
        self.0
            .to_pem()
            .map_err(|error| NotifyError::Config(format!("cannot encode the VAPID key: {error}")))
    }

    /// The public key as the browser wants it for `applicationServerKey`: the
    /// uncompressed point in base64url without padding.
    pub fn public_key_base64url(&self) -> String {
        BASE64URL.encode(self.0.public_key().public_key().to_bytes_uncompressed())
    }
}

/// Settings of web push.
#[derive(Debug, Clone)]
pub struct PushSettings {
    pub key: VapidKey,
    /// The contact push services may write to about this server: `mailto:` or `https:`.
    pub subject: String,
    /// How long a push service keeps a message for a device that is off.
    pub ttl: Duration,
}

/// Why a push did not go through.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PushError {
    /// The push service says the subscription no longer exists (404, 410): the
    /// browser withdrew it. Retrying cannot help, and the subscription should go.
    Gone(String),
    Send(SendError),
}

pub struct PushClient {
    http: reqwest::Client,
    settings: PushSettings,
    /// The `Authorization` header per push service origin, with when it was signed.
    signatures: Mutex<HashMap<String, (Instant, reqwest::header::HeaderValue)>>,
}

impl PushClient {
    pub fn new(settings: PushSettings) -> Result<Self> {
        if !(settings.subject.starts_with("mailto:") || settings.subject.starts_with("https://")) {
            return Err(NotifyError::Config(
                "push.subject must be a mailto: or https: contact for the push services".into(),
            ));
        }
        Ok(Self {
            http: crate::http_client()?,
            settings,
            signatures: Mutex::new(HashMap::new()),
        })
    }

    pub fn public_key_base64url(&self) -> String {
        self.settings.key.public_key_base64url()
    }

    /// Encrypts `payload` for the browser and posts it with `Urgency: high`; answers
    /// the push service's id for the message, when it gives one.
    pub async fn send(&self, target: &PushTarget, payload: &str) -> Result<String, PushError> {
        let permanent = |reason: &str| PushError::Send(SendError::Permanent(reason.into()));
        let endpoint = target
            .endpoint
            .parse()
            .map_err(|_| permanent("the subscription's endpoint is not a URL"))?;
        let public = BASE64URL
            .decode(&target.p256dh)
            .ok()
            .and_then(|bytes| PublicKey::from_sec1_bytes(&bytes).ok())
            .ok_or_else(|| permanent("the subscription's p256dh key is not a P-256 key"))?;
        let auth = BASE64URL
            .decode(&target.auth)
            .ok()
            .filter(|bytes| bytes.len() == 16)
            .map(|bytes| Auth::clone_from_slice(&bytes))
            .ok_or_else(|| permanent("the subscription's auth secret is not 16 bytes"))?;
        let authorization = self.vapid_authorization(&endpoint).map_err(|error| {
            PushError::Send(SendError::Permanent(format!(
                "cannot sign the push request: {error}"
            )))
        })?;
        let mut request = WebPushBuilder::new(endpoint, public, auth)
            .build(payload.as_bytes().to_vec())
            .map_err(|error| {
                PushError::Send(SendError::Permanent(format!(
                    "cannot encrypt the push message: {error}"
                )))
            })?;
        let headers = request.headers_mut();
        headers.insert(reqwest::header::AUTHORIZATION, authorization);
        headers.insert("ttl", self.settings.ttl.as_secs().into());
        // A crisis message should wake the phone (RFC 8030 section 5.3).
        headers.insert("urgency", reqwest::header::HeaderValue::from_static("high"));
        let request = reqwest::Request::try_from(request)
            .map_err(|error| permanent(&format!("cannot build the push request: {error}")))?;
        let response = self.http.execute(request).await.map_err(|error| {
            PushError::Send(SendError::Transient {
                reason: format!("the push service did not answer: {}", without_url(&error)),
                retry_after: None,
            })
        })?;
        let status = response.status();
        if status.is_success() {
            let id = response
                .headers()
                .get(reqwest::header::LOCATION)
                .and_then(|value| value.to_str().ok())
                .and_then(|location| location.rsplit('/').next())
                .map(|id| id.chars().take(59).collect::<String>())
                .unwrap_or_default();
            return Ok(format!("push:{id}"));
        }
        let retry_after = crate::retry_after(response.headers());
        let reason = format!("the push service refused with HTTP {}", status.as_u16());
        Err(match status.as_u16() {
            404 | 410 => PushError::Gone(format!(
                "{reason}: the browser no longer has this subscription"
            )),
            429 => PushError::Send(SendError::Busy {
                reason: format!("{reason}: too many messages at once"),
                retry_after,
            }),
            _ if status.is_server_error() => PushError::Send(SendError::Transient {
                reason,
                retry_after,
            }),
            413 => permanent(&format!("{reason}: the message is too long for push")),
            400 | 401 | 403 => permanent(&format!(
                "{reason}: the push service did not accept the server's VAPID signature or keys"
            )),
            _ => permanent(&reason),
        })
    }
}

impl PushClient {
    /// `vapid t=JWT, k=KEY` (RFC 8292): an ES256 token for the endpoint's origin,
    /// signed at most once per [`SIGNATURE_REUSE`] per origin. The crate's own signer
    /// leaves a non-default port out of the audience, which push services on such ports
    /// refuse; the origin here keeps it.
    fn vapid_authorization(
        &self,
        endpoint: &axum::http::Uri,
    ) -> Result<reqwest::header::HeaderValue, String> {
        let scheme = endpoint.scheme_str().ok_or("the endpoint has no scheme")?;
        let authority = endpoint.authority().ok_or("the endpoint has no host")?;
        let default_port = matches!(
            (scheme, authority.port_u16()),
            ("https", Some(443)) | ("http", Some(80))
        );
        let origin = if default_port {
            format!("{scheme}://{}", authority.host())
        } else {
            format!("{scheme}://{authority}")
        };
        let mut signatures = self
            .signatures
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if let Some((signed, header)) = signatures.get(&origin)
            && signed.elapsed() < SIGNATURE_REUSE
        {
            return Ok(header.clone());
        }
        let claims = Claims::create(SIGNATURE_VALIDITY.into())
            .with_audience(origin.clone())
            .with_subject(&self.settings.subject);
        let token = self
            .settings
            .key
            .0
            .sign(claims)
            .map_err(|error| error.to_string())?;
        let header: reqwest::header::HeaderValue =
            format!("vapid t={token}, k={}", self.public_key_base64url())
                .parse()
                .map_err(|_| "the signature is not a header value".to_owned())?;
        signatures.insert(origin, (Instant::now(), header.clone()));
        Ok(header)
    }
}

/// A reqwest error's text without the URL, which for push is the device's capability.
fn without_url(error: &reqwest::Error) -> String {
    let kind = if error.is_timeout() {
        "timed out"
    } else if error.is_connect() {
        "cannot connect"
    } else {
        "request failed"
    };
    kind.to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_survives_pem_and_the_base64url_form() -> Result<()> {
        let key = VapidKey::generate();
        let again = VapidKey::parse(&key.to_pem()?)?;
        assert_eq!(key.public_key_base64url(), again.public_key_base64url());
        assert_eq!(
            key.public_key_base64url().len(),
            87,
            "65 bytes in base64url"
        );
        let scalar = BASE64URL.encode(key.0.to_bytes());
        assert_eq!(
            VapidKey::parse(&scalar)?.public_key_base64url(),
            key.public_key_base64url()
        );
        assert!(VapidKey::parse("not a key").is_err());
        Ok(())
    }
}
