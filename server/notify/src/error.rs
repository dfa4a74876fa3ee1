//! The notify crate's error type: a provider set up wrongly, or the store failing.

use reserv_store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum NotifyError {
    /// The SMS or push settings cannot work; the message names the setting.
    #[error("configuration: {0}")]
    Config(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

pub type Result<T, E = NotifyError> = std::result::Result<T, E>;
