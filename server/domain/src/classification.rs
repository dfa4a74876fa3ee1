//! Information classification, after the Swedish KLASSA method: a confidentiality level
//! 0–3 (0 = public), the integrity ("riktighet") and availability needs, each 0–3, and
//! for personal data the traceability ("spårbarhet") need, 0–3.
//!
//! KLASSA's level 4 ("synnerligen allvarlig") is information whose loss would do
//! exceptionally serious harm; it is handled in systems built for it, never in Reserv,
//! so every aspect refuses it with a message that says so.

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
    /// For personal data: how much it matters that every access and change can be
    /// traced to a person, 0–3. `None` for records that hold no personal data.
    pub traceability: Option<u8>,
}

impl Classification {
    /// Builds a classification from raw levels, naming the offending field.
    pub fn new(confidentiality: i64, integrity: i64, availability: i64) -> Result<Self> {
        Ok(Self {
            confidentiality: Confidentiality::new("confidentiality", confidentiality)?,
            integrity: level_0_to_3("integrity", integrity)?,
            availability: level_0_to_3("availability", availability)?,
            traceability: None,
        })
    }

    /// The same classification with a traceability need, checked like the other aspects.
    pub fn with_traceability(mut self, traceability: Option<i64>) -> Result<Self> {
        self.traceability = traceability
            .map(|level| level_0_to_3("traceability", level))
            .transpose()?;
        Ok(self)
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
            traceability: None,
        }
    }
}

/// Checks a change of a record's confidentiality. Lowering it makes the record readable
/// by more people, so it takes a reason, which the audit trail keeps; the callers have
/// already checked that the editor is cleared for the old level. Returns the audit
/// detail for a lowering, `None` for any other change.
pub fn lowering_detail(
    old: Confidentiality,
    new: Confidentiality,
    reason: Option<&str>,
) -> Result<Option<String>> {
    if new >= old {
        return Ok(None);
    }
    let reason = crate::validate::required_text(
        "classification.loweringReason",
        reason.unwrap_or_default(),
        500,
    )
    .map_err(|_| {
        DomainError::validation(
            "classification.loweringReason",
            format!(
                "lowering confidentiality from {} to {} needs a reason (who may now read it, and why)",
                old.level(),
                new.level()
            ),
        )
    })?;
    Ok(Some(format!(
        "confidentiality lowered from {} to {}: {reason}",
        old.level(),
        new.level()
    )))
}

fn level_0_to_3(field: &str, level: i64) -> Result<u8> {
    if level == 4 {
        return Err(DomainError::validation(
            field,
            "level 4 (\"synnerligen allvarlig\") is not handled in Reserv; such information \
             belongs in the systems and binders your organisation keeps for it, so leave it \
             out and refer to where it is kept",
        ));
    }
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
        let err = Classification::new(1, 5, 0).err().map(|e| e.to_string());
        assert_eq!(err.as_deref(), Some("integrity: must be 0 to 3, not 5"));
        assert!(Classification::new(-1, 0, 0).is_err());
    }

    #[test]
    fn level_4_is_refused_as_handled_outside_reserv() {
        for (c, i, a) in [(4, 0, 0), (0, 4, 0), (0, 0, 4)] {
            let message = Classification::new(c, i, a).err().map(|e| e.to_string());
            assert!(
                message
                    .as_deref()
                    .is_some_and(|m| m.contains("synnerligen allvarlig")
                        && m.contains("not handled in Reserv")),
                "{message:?}"
            );
        }
        let traced = Classification::default().with_traceability(Some(4));
        assert!(
            traced
                .err()
                .is_some_and(|e| e.to_string().starts_with("traceability: level 4"))
        );
    }

    #[test]
    fn traceability_is_optional_and_checked() -> Result<()> {
        assert_eq!(Classification::default().traceability, None);
        let traced = Classification::new(2, 2, 2)?.with_traceability(Some(3))?;
        assert_eq!(traced.traceability, Some(3));
        assert_eq!(traced.with_traceability(None)?.traceability, None);
        let err = traced
            .with_traceability(Some(-1))
            .err()
            .map(|e| e.to_string());
        assert_eq!(err.as_deref(), Some("traceability: must be 0 to 3, not -1"));
        Ok(())
    }

    #[test]
    fn lowering_confidentiality_takes_a_reason() -> Result<()> {
        let (internal, sensitive) = (Confidentiality::INTERNAL, Confidentiality::SENSITIVE);
        assert_eq!(lowering_detail(internal, sensitive, None)?, None);
        assert_eq!(lowering_detail(sensitive, sensitive, None)?, None);
        let refused = lowering_detail(sensitive, internal, Some("  "));
        assert_eq!(
            refused.err().map(|e| e.to_string()).as_deref(),
            Some(
                "classification.loweringReason: lowering confidentiality from 2 to 1 needs a reason (who may now read it, and why)"
            )
        );
        assert_eq!(
            lowering_detail(sensitive, internal, Some(" Instruktion till all personal "))?,
            Some("confidentiality lowered from 2 to 1: Instruktion till all personal".to_owned())
        );
        Ok(())
    }

    #[test]
    fn only_sensitive_reads_are_audited() {
        assert!(!Confidentiality::INTERNAL.read_is_audited());
        assert!(Confidentiality::SENSITIVE.read_is_audited());
    }
}
