//! Web push subscriptions: the browser a person allowed to show crisis messages, as the
//! PWA hands it over (`PushSubscription.toJSON()` of the Push API).
//!
//! This module checks the shape of what a browser sends; it never talks to a push
//! service. The keys are public material of the browser, not secrets of the person.

use crate::{DomainError, Result};

/// A subscription as the browser gives it.
#[derive(Clone, PartialEq, Eq)]
pub struct NewPushSubscription {
    /// The push service's URL for this browser.
    pub endpoint: String,
    /// The browser's P-256 public key, base64url (65 bytes uncompressed).
    pub p256dh: String,
    /// The browser's 16-byte authentication secret, base64url.
    pub auth: String,
}

impl std::fmt::Debug for NewPushSubscription {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The endpoint is a capability: whoever has it may push to the device.
        f.debug_struct("NewPushSubscription")
            .field("endpoint", &"(hidden)")
            .finish_non_exhaustive()
    }
}

/// A subscription kept for the signed-in person.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PushSubscription {
    pub id: i64,
    pub endpoint: String,
    pub created_at: chrono::DateTime<chrono::Utc>,
    /// When a push service last accepted a message for it.
    pub last_success: Option<chrono::DateTime<chrono::Utc>>,
}

/// The longest endpoint kept; push services' are a few hundred characters.
pub const MAX_ENDPOINT: usize = 1024;

impl NewPushSubscription {
    /// Refuses what no push service hands out, naming the field.
    pub fn validate(self) -> Result<Self> {
        let endpoint = self.endpoint.trim().to_owned();
        let loopback = ["http://127.0.0.1", "http://localhost", "http://[::1]"]
            .iter()
            .any(|prefix| endpoint.starts_with(prefix));
        if !(endpoint.starts_with("https://") || loopback)
            || endpoint.len() > MAX_ENDPOINT
            || endpoint.chars().any(char::is_whitespace)
        {
            return Err(DomainError::validation(
                "endpoint",
                format!(
                    "must be the push service's https URL of at most {MAX_ENDPOINT} characters"
                ),
            ));
        }
        let p256dh = base64url("p256dh", &self.p256dh, 65)?;
        if !p256dh.starts_with('B') {
            // An uncompressed P-256 point starts with the byte 0x04, base64url 'B'.
            return Err(DomainError::validation(
                "p256dh",
                "must be an uncompressed P-256 public key",
            ));
        }
        let auth = base64url("auth", &self.auth, 16)?;
        Ok(Self {
            endpoint,
            p256dh,
            auth,
        })
    }
}

/// `value` without padding when it is base64url of exactly `bytes` bytes.
fn base64url(field: &str, value: &str, bytes: usize) -> Result<String> {
    let trimmed = value.trim().trim_end_matches('=');
    let length = (bytes * 4).div_ceil(3);
    let alphabet = |c: char| c.is_ascii_alphanumeric() || c == '-' || c == '_';
    if trimmed.len() != length || !trimmed.chars().all(alphabet) {
        return Err(DomainError::validation(
            field,
            format!(
                "must be {bytes} bytes in base64url, as the browser's PushSubscription gives it"
            ),
        ));
    }
    Ok(trimmed.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    const P256DH: &str =
        "BLn9b-VR0ca83knDNZ32dCHGyjJp-1riX9ZTN40MqV8K_LpQmLqxC_DoHvqvFXO_nGdAB4W9dogZb_sM-uV4JbY";

    fn subscription(endpoint: &str, auth: &str) -> NewPushSubscription {
        NewPushSubscription {
            endpoint: endpoint.into(),
            p256dh: P256DH.into(),
            auth: auth.into(),
        }
    }

    #[test]
    fn a_browser_subscription_is_accepted_and_odd_ones_are_refused_by_field() {
        assert!(
            subscription(
                "https://fcm.googleapis.com/fcm/send/abc",
                "_ordMnz7uTCmrpBTeUV4Bw"
            )
            .validate()
            .is_ok()
        );
        let field = |result: Result<NewPushSubscription>| match result {
            Err(DomainError::Validation { field, .. }) => field,
            _ => String::new(),
        };
        assert_eq!(
            field(subscription("http://push.example.com/x", "_ordMnz7uTCmrpBTeUV4Bw").validate()),
            "endpoint"
        );
        assert_eq!(
            field(subscription("https://push.example.com/x", "short").validate()),
            "auth"
        );
    }
}
