//! The key that seals secrets at rest (TOTP seeds), kept outside the database: given
//! inline (`secret_key`, base64 of 32 bytes, for an environment variable), in a file
//! (`secret_key_file`), or created at first start as `DATA_DIR/secret.key`, readable by
//! the server's user only. Whoever restores a backup needs this key beside it, or every
//! enrolled authenticator app must be enrolled again.

use crate::config::{Config, ConfigError, configured_or_kept_key, write_private_file};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use reserv_store::{KEY_BYTES, SecretKey};
use std::path::Path;

impl Config {
    /// The configured secret key; creates `DATA_DIR/secret.key` when no key is
    /// configured and none was created before.
    pub fn secret_key(&self) -> Result<SecretKey, ConfigError> {
        configured_or_kept_key(
            "secret_key",
            self.secret_key.as_ref(),
            self.secret_key_file.as_ref(),
            &self.data_dir.join("secret.key"),
            decode,
            create,
        )
    }
}

fn decode(encoded: &str) -> Result<SecretKey, ConfigError> {
    let bytes = BASE64
        .decode(encoded.trim())
        .ok()
        .and_then(|bytes| <[u8; KEY_BYTES]>::try_from(bytes).ok())
        .ok_or_else(|| {
            ConfigError::new(format!(
                "secret_key: must be {KEY_BYTES} bytes in base64 (44 characters), \
                 such as the output of `openssl rand -base64 32`"
            ))
        })?;
    Ok(SecretKey::from_bytes(&bytes))
}

/// Writes a fresh key to `path`, never over an existing file, readable by the owner only.
fn create(path: &Path) -> Result<SecretKey, ConfigError> {
    let bytes = SecretKey::generate();
    write_private_file(
        "secret_key_file",
        path,
        &format!("{}\n", BASE64.encode(bytes)),
    )?;
    let key = SecretKey::from_bytes(&bytes);
    tracing::warn!(
        path = %path.display(),
        fingerprint = key.fingerprint(),
        "created a new secret key for secrets at rest; back it up apart from the database"
    );
    Ok(key)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config_in(folder: &Path) -> Config {
        Config {
            data_dir: folder.to_path_buf(),
            ..Config::default()
        }
    }

    #[test]
    fn a_key_is_created_once_and_read_back() -> anyhow::Result<()> {
        let folder = tempfile::tempdir()?;
        let config = config_in(folder.path());
        let first = config.secret_key()?;
        let second = config.secret_key()?;
        assert_eq!(first.fingerprint(), second.fingerprint());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(folder.path().join("secret.key"))?
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600, "only the server's user reads the key");
        }
        Ok(())
    }

    #[test]
    fn a_configured_key_wins_and_a_malformed_one_is_refused() -> anyhow::Result<()> {
        let folder = tempfile::tempdir()?;
        let inline = Config {
            secret_key: Some(BASE64.encode([3; KEY_BYTES])),
            ..config_in(folder.path())
        };
        assert_eq!(
            inline.secret_key()?.fingerprint(),
            SecretKey::from_bytes(&[3; KEY_BYTES]).fingerprint()
        );
        assert!(
            !folder.path().join("secret.key").exists(),
            "no file was made"
        );
        let short = Config {
            secret_key: Some(BASE64.encode([3; 16])),
            ..config_in(folder.path())
        };
        let error = short.secret_key().err().map(|error| error.to_string());
        assert!(
            error
                .as_deref()
                .is_some_and(|message| message.contains("secret_key: must be 32 bytes")),
            "{error:?}"
        );
        let missing = Config {
            secret_key_file: Some(folder.path().join("nowhere.key")),
            ..config_in(folder.path())
        };
        let error = missing.secret_key().err().map(|error| error.to_string());
        assert!(
            error
                .as_deref()
                .is_some_and(|message| message.contains("secret_key_file: cannot read")),
            "a named file that is missing is an error, not a new key: {error:?}"
        );
        Ok(())
    }
}
