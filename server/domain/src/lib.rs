//! Reserv's domain: the types, rules and state machines of continuity planning and
//! incident response, and the one policy that decides who may read and change what.
//!
//! This crate must never know about HTTP, GraphQL or the database: the API, the SMS
//! command handler and the CLI all call the same rules from here, and the compiler keeps
//! transport and storage types out because this crate does not depend on them.
#![deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

/// Declares an enum whose variants have one textual name, used in storage, the API and
/// error messages alike, with `as_str`, `Display`, `FromStr` and `ALL`.
macro_rules! named_enum {
    (
        $(#[$meta:meta])*
        pub enum $name:ident as $field:literal {
            $($(#[$variant_meta:meta])* $variant:ident = $text:literal),+ $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
        pub enum $name {
            $($(#[$variant_meta])* #[serde(rename = $text)] $variant),+
        }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text),+
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl std::str::FromStr for $name {
            type Err = $crate::DomainError;
            fn from_str(value: &str) -> $crate::Result<Self> {
                Self::ALL
                    .iter()
                    .copied()
                    .find(|candidate| candidate.as_str() == value)
                    .ok_or_else(|| {
                        let known: Vec<&str> = Self::ALL.iter().map(|v| v.as_str()).collect();
                        $crate::DomainError::validation(
                            $field,
                            format!("unknown value '{value}'; use one of {}", known.join(", ")),
                        )
                    })
            }
        }
    };
}
pub(crate) use named_enum;

pub mod access;
pub mod audit;
pub mod checklists;
pub mod classification;
pub mod disclosure;
pub mod error;
pub mod escalation;
pub mod ids;
pub mod incidents;
pub mod message_drafts;
pub mod messages;
pub mod notices;
pub mod oidc;
pub mod opening_hours;
pub mod paper_backlog;
pub mod people;
pub mod phone;
pub mod plan_diff;
pub mod plans;
pub mod publishing;
pub mod push;
pub mod resident_line;
pub mod second_factor;
pub mod sign_in;
pub mod sms;
pub mod sms_commands;
pub mod sms_failover;
pub mod swedish_time;
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
