//! Organisation units: the tree municipality → administration → service → unit that
//! plans, people and permissions hang from.

use crate::access::UnitPath;
use crate::ids::UnitId;
use crate::validate::required_text;
use crate::{DomainError, Result};
use serde::Deserialize;

crate::named_enum! {
    /// The level of a unit in the organisation tree.
    pub enum UnitKind as "kind" {
            Municipality = "municipality",
            Administration = "administration",
            Service = "service",
            Unit = "unit",
        }
}

impl UnitKind {
    /// Depth order: a child must sit deeper than its parent.
    fn depth(self) -> u8 {
        match self {
            UnitKind::Municipality => 0,
            UnitKind::Administration => 1,
            UnitKind::Service => 2,
            UnitKind::Unit => 3,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrgUnit {
    pub id: UnitId,
    pub parent_id: Option<UnitId>,
    pub name: String,
    pub kind: UnitKind,
    /// This unit's ancestors and itself, root first.
    pub path: UnitPath,
}

/// A request to create a unit.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct NewUnit {
    pub parent_id: Option<UnitId>,
    pub name: String,
    pub kind: UnitKind,
}

impl NewUnit {
    /// Checks the unit against its parent (`None` when it is to be a root).
    pub fn validate(self, parent: Option<&OrgUnit>) -> Result<Self> {
        let name = unit_name(&self.name)?;
        match parent {
            None if self.kind != UnitKind::Municipality => Err(DomainError::validation(
                "parentId",
                "only a municipality (or region) can be a top-level unit",
            )),
            Some(parent) if parent.kind.depth() >= self.kind.depth() => {
                Err(DomainError::validation(
                    "kind",
                    format!(
                        "a {:?} cannot be placed under the {:?} '{}'",
                        self.kind, parent.kind, parent.name
                    )
                    .to_lowercase(),
                ))
            }
            _ => Ok(Self { name, ..self }),
        }
    }
}

/// Checks a unit's name: 1–120 characters after trimming.
pub fn unit_name(name: &str) -> Result<String> {
    required_text("name", name, 120)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn service() -> OrgUnit {
        OrgUnit {
            id: UnitId(3),
            parent_id: Some(UnitId(2)),
            name: "Hemtjänst".into(),
            kind: UnitKind::Service,
            path: UnitPath(vec![UnitId(1), UnitId(2), UnitId(3)]),
        }
    }

    #[test]
    fn a_unit_goes_under_a_service() {
        let unit = NewUnit {
            parent_id: Some(UnitId(3)),
            name: " Hemtjänst Norr ".into(),
            kind: UnitKind::Unit,
        };
        assert_eq!(
            unit.validate(Some(&service())).map(|u| u.name).ok(),
            Some("Hemtjänst Norr".into())
        );
    }

    #[test]
    fn an_administration_cannot_go_under_a_service() {
        let unit = NewUnit {
            parent_id: Some(UnitId(3)),
            name: "Socialförvaltningen".into(),
            kind: UnitKind::Administration,
        };
        assert!(
            matches!(unit.validate(Some(&service())), Err(DomainError::Validation { field, .. }) if field == "kind")
        );
    }

    #[test]
    fn only_a_municipality_is_a_root() {
        let unit = NewUnit {
            parent_id: None,
            name: "Hemtjänst".into(),
            kind: UnitKind::Service,
        };
        assert!(unit.validate(None).is_err());
    }
}
