//! Reserv's domain: the types, rules and state machines of continuity planning and
//! incident response, and the one policy that decides who may read and change what.
//!
//! This crate must never know about HTTP, GraphQL or the database: the API, the SMS
//! command handler and the CLI all call the same rules from here, and the compiler keeps
//! transport and storage types out because this crate does not depend on them.
#![deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

pub mod access;
pub mod audit;
pub mod classification;
pub mod error;
pub mod ids;
pub mod incidents;
pub mod people;
pub mod phone;
pub mod plans;
pub mod systems;
pub mod units;
mod validate;

pub use error::{DomainError, Result};

/// The source of the current time, injected so that tests control it.
pub trait Clock: Send + Sync + std::fmt::Debug {
    fn now(&self) -> chrono::DateTime<chrono::Utc>;
}

/// The real clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> chrono::DateTime<chrono::Utc> {
        chrono::Utc::now()
    }
}
