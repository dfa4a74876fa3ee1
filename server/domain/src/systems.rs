//! IT systems that critical activities depend on, and how bad it is when one is down.

use crate::ids::{PersonId, SystemId};
use crate::validate::{optional_text, required_text};
use crate::{DomainError, Result};
use serde::Deserialize;

crate::named_enum! {
    /// How much the organisation depends on a system.
    #[derive(PartialOrd, Ord)]
    pub enum Criticality as "criticality" {
            Low = "low",
            Medium = "medium",
            High = "high",
            /// Life and health depend on it (alarms, medication).
            Critical = "critical",
        }
}

crate::named_enum! {
    /// The last known state of a system, set by hand now and by health checks later.
    #[derive(Default)]
    pub enum SystemState as "state" {
            #[default]
            Operational = "operational",
            Degraded = "degraded",
            Down = "down",
            Unknown = "unknown",
        }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ItSystem {
    pub id: SystemId,
    pub name: String,
    pub description: Option<String>,
    pub owner_id: Option<PersonId>,
    pub supplier: Option<String>,
    pub criticality: Criticality,
    pub health_check_url: Option<String>,
    pub state: SystemState,
}

/// A request to create or replace an IT system's details.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct SystemRequest {
    pub name: String,
    pub description: Option<String>,
    pub owner_id: Option<PersonId>,
    pub supplier: Option<String>,
    pub criticality: Criticality,
    pub health_check_url: Option<String>,
}

impl SystemRequest {
    pub fn validate(self) -> Result<Self> {
        let health_check_url =
            optional_text("healthCheckUrl", self.health_check_url.as_deref(), 500)?;
        if let Some(url) = &health_check_url {
            let rest = url
                .strip_prefix("https://")
                .or_else(|| url.strip_prefix("http://"));
            if rest.is_none_or(|host| host.is_empty() || host.contains(char::is_whitespace)) {
                return Err(DomainError::validation(
                    "healthCheckUrl",
                    format!("'{url}' is not an http:// or https:// address"),
                ));
            }
        }
        Ok(Self {
            name: required_text("name", &self.name, 120)?,
            description: optional_text("description", self.description.as_deref(), 2000)?,
            supplier: optional_text("supplier", self.supplier.as_deref(), 120)?,
            health_check_url,
            ..self
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn health_check_must_be_http() {
        let system = SystemRequest {
            name: "Trygghetslarm".into(),
            description: None,
            owner_id: None,
            supplier: None,
            criticality: Criticality::Critical,
            health_check_url: Some("ftp://larm.example.se".into()),
        };
        assert!(
            matches!(system.validate(), Err(DomainError::Validation { field, .. }) if field == "healthCheckUrl")
        );
    }
}
