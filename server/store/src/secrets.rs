//! Secrets the server must read back, sealed with a key kept outside the database.
//!
//! A TOTP seed cannot be hashed like a password: the server needs it to check codes.
//! So it is sealed with XChaCha20-Poly1305 under a key that lives in a file (or the
//! environment) beside the server, never in the database: a stolen dump or backup then
//! holds nothing that produces codes. Each sealed value is bound to what it belongs to
//! (the associated data, such as `totp:42`), so that a value copied onto another
//! account's row does not open. A short fingerprint of the key travels with the value,
//! so that a server started with the wrong key says so instead of refusing every code.

use crate::{Result, StoreError};
use base64::Engine;
use base64::engine::general_purpose::STANDARD_NO_PAD as BASE64;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use rand::Rng;
use sha2::{Digest, Sha256};

/// The prefix of sealed values; values without it are from before sealing.
const VERSION: &str = "v1";
const NONCE_BYTES: usize = 24;
pub const KEY_BYTES: usize = 32;

/// The key that seals secrets at rest. Its `Debug` shows only the fingerprint.
#[derive(Clone)]
pub struct SecretKey {
    cipher: XChaCha20Poly1305,
    fingerprint: String,
}

impl std::fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SecretKey({})", self.fingerprint)
    }
}

impl SecretKey {
    pub fn from_bytes(bytes: &[u8; KEY_BYTES]) -> Self {
        let digest = Sha256::digest(bytes);
        Self {
            cipher: XChaCha20Poly1305::new(bytes.into()),
            fingerprint: digest[..4]
                .iter()
                .map(|byte| format!("{byte:02x}"))
                .collect(),
        }
    }

    /// A fresh random key, for a server's first start.
    pub fn generate() -> [u8; KEY_BYTES] {
        let mut bytes = [0; KEY_BYTES];
        rand::rng().fill(&mut bytes);
        bytes
    }

    /// Eight hex digits that tell keys apart without revealing them.
    pub fn fingerprint(&self) -> &str {
        &self.fingerprint
    }

    /// `plain` sealed for `context`: `v1:<fingerprint>:<base64 of nonce and ciphertext>`.
    pub fn seal(&self, plain: &str, context: &str) -> Result<String> {
        let mut nonce = [0; NONCE_BYTES];
        rand::rng().fill(&mut nonce);
        let sealed = self
            .cipher
            .encrypt(
                XNonce::from_slice(&nonce),
                Payload {
                    msg: plain.as_bytes(),
                    aad: context.as_bytes(),
                },
            )
            .map_err(|_| internal("a secret could not be sealed".into()))?;
        let mut bytes = nonce.to_vec();
        bytes.extend(sealed);
        Ok(format!(
            "{VERSION}:{}:{}",
            self.fingerprint,
            BASE64.encode(bytes)
        ))
    }

    /// The plain text of a value sealed for `context`.
    pub fn open(&self, sealed: &str, context: &str) -> Result<String> {
        let broken = |why: &str| internal(format!("a sealed secret {why}"));
        let mut parts = sealed.splitn(3, ':');
        let (Some(VERSION), Some(fingerprint), Some(body)) =
            (parts.next(), parts.next(), parts.next())
        else {
            return Err(broken("is not in the sealed form"));
        };
        if fingerprint != self.fingerprint {
            return Err(internal(format!(
                "a secret is sealed with key {fingerprint}, but this server has key {}; \
                 start it with the key it was sealed with (secret_key_file)",
                self.fingerprint
            )));
        }
        let bytes = BASE64
            .decode(body)
            .map_err(|_| broken("is not valid base64"))?;
        if bytes.len() <= NONCE_BYTES {
            return Err(broken("is too short"));
        }
        let (nonce, ciphertext) = bytes.split_at(NONCE_BYTES);
        let plain = self
            .cipher
            .decrypt(
                XNonce::from_slice(nonce),
                Payload {
                    msg: ciphertext,
                    aad: context.as_bytes(),
                },
            )
            .map_err(|_| broken("does not open: it was changed or belongs elsewhere"))?;
        String::from_utf8(plain).map_err(|_| broken("is not text"))
    }

    /// Whether `stored` is already sealed (by any key).
    pub fn is_sealed(stored: &str) -> bool {
        stored.starts_with("v1:")
    }

    /// The fingerprint of the key `stored` was sealed with, if it is sealed.
    pub fn fingerprint_of(stored: &str) -> Option<&str> {
        stored.strip_prefix("v1:")?.split(':').next()
    }
}

/// A failure for the operator's log: the user only learns that something went wrong.
fn internal(message: String) -> StoreError {
    StoreError::Database(sea_orm::DbErr::Custom(message))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(byte: u8) -> SecretKey {
        SecretKey::from_bytes(&[byte; KEY_BYTES])
    }

    #[test]
    fn a_sealed_secret_opens_only_with_its_key_and_context() {
        let key = key(7);
        let sealed = key.seal("JBSWY3DPEHPK3PXP", "totp:42").ok();
        let sealed = sealed.as_deref().unwrap_or_default();
        assert!(SecretKey::is_sealed(sealed), "{sealed}");
        assert!(!sealed.contains("JBSWY3DPEHPK3PXP"));
        assert_eq!(
            key.open(sealed, "totp:42").ok().as_deref(),
            Some("JBSWY3DPEHPK3PXP")
        );
        assert!(
            key.open(sealed, "totp:43").is_err(),
            "moved to another account"
        );
        let other = SecretKey::from_bytes(&[8; KEY_BYTES]);
        let wrong_key = other.open(sealed, "totp:42").err().map(|e| e.to_string());
        assert!(
            wrong_key.is_some_and(|message| message.contains(key.fingerprint())),
            "the error names the key the secret needs"
        );
        let mut tampered = sealed.to_owned();
        tampered.pop();
        tampered.push(if sealed.ends_with('A') { 'B' } else { 'A' });
        assert!(key.open(&tampered, "totp:42").is_err());
    }

    #[test]
    fn each_seal_is_different_and_shows_its_key() {
        let key = key(1);
        let first = key.seal("same", "totp:1").ok();
        let second = key.seal("same", "totp:1").ok();
        assert_ne!(first, second, "a fresh nonce each time");
        assert_eq!(
            first.as_deref().and_then(SecretKey::fingerprint_of),
            Some(key.fingerprint())
        );
        assert_eq!(SecretKey::fingerprint_of("JBSWY3DPEHPK3PXP"), None);
        assert_eq!(
            format!("{key:?}"),
            format!("SecretKey({})", key.fingerprint())
        );
    }
}
