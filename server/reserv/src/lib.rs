//! The `reserv` program: configuration, wiring of store and API, the demo data set and
//! the command line. Start-up errors are reported with `anyhow`; the layers below have
//! their own error types.
#![deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

pub mod config;
pub mod demo;
pub mod fallback_config;
pub mod oidc_config;
pub mod playbooks;
pub mod push_config;
mod secret_key;
pub mod server;
pub mod sms_config;
pub mod webauthn_config;

pub use config::Config;
