//! Information classification, after the Swedish KLASSA method: a confidentiality level
//! 0–3 (0 = public) and the integrity and availability needs, each 0–3.

use crate::{DomainError, Result};
use serde::{Deserialize, Serialize};

/// How secret a piece of information is. Only level 0 may reach public channels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "u8", into = "u8")]
pub struct Confidentiality(u8);

impl Confidentiality {
    pub const PUBLIC: Self = Self(0);
    pub const INTERNAL: Self = Self(1);
    pub const SENSITIVE: Self = Self(2);
    pub const STRICTLY_CONFIDENTIAL: Self = Self(3);

    pub fn new(field: &str, level: i64) -> Result<Self> {
        level_0_to_3(field, level).map(Self)
    }

    pub fn level(self) -> u8 {
        self.0
    }

    /// Reads of information at this level or above are written to the audit log.
    pub fn read_is_audited(self) -> bool {
        self >= Self::SENSITIVE
    }
}

impl TryFrom<u8> for Confidentiality {
    type Error = DomainError;
    fn try_from(level: u8) -> Result<Self> {
        Self::new("confidentiality", i64::from(level))
    }
}

impl From<Confidentiality> for u8 {
    fn from(value: Confidentiality) -> Self {
        value.0
    }
}

/// The full classification of a record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Classification {
    pub confidentiality: Confidentiality,
    /// How much harm wrong or altered information would do, 0–3.
    pub integrity: u8,
    /// How much harm unavailable information would do, 0–3.
    pub availability: u8,
}

impl Classification {
    /// Builds a classification from raw levels, naming the offending field.
    pub fn new(confidentiality: i64, integrity: i64, availability: i64) -> Result<Self> {
        Ok(Self {
            confidentiality: Confidentiality::new("confidentiality", confidentiality)?,
            integrity: level_0_to_3("integrity", integrity)?,
            availability: level_0_to_3("availability", availability)?,
        })
    }
}

impl Default for Classification {
    /// Internal information with moderate integrity and availability needs: the usual
    /// level of a unit's continuity plan.
    fn default() -> Self {
        Self {
            confidentiality: Confidentiality::INTERNAL,
            integrity: 2,
            availability: 2,
        }
    }
}

fn level_0_to_3(field: &str, level: i64) -> Result<u8> {
    u8::try_from(level)
        .ok()
        .filter(|level| *level <= 3)
        .ok_or_else(|| DomainError::validation(field, format!("must be 0 to 3, not {level}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_outside_0_to_3_name_the_field() {
        let err = Classification::new(1, 4, 0).err().map(|e| e.to_string());
        assert_eq!(err.as_deref(), Some("integrity: must be 0 to 3, not 4"));
        assert!(Classification::new(-1, 0, 0).is_err());
    }

    #[test]
    fn only_sensitive_reads_are_audited() {
        assert!(!Confidentiality::INTERNAL.read_is_audited());
        assert!(Confidentiality::SENSITIVE.read_is_audited());
    }
}
