//! Phone numbers in E.164 form, the only form the SMS providers accept.

use crate::{DomainError, Result};
use serde::{Deserialize, Serialize};
use std::fmt;

/// A phone number in E.164 form: `+`, a country code that does not start with 0, and at
/// most 15 digits in all. Spaces and dashes that people type are removed; anything else
/// is refused rather than guessed at, because a wrong number reaches the wrong person.
#[derive(Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct E164(String);

impl E164 {
    /// Parses `input`, naming `field` in the error.
    pub fn parse(field: &str, input: &str) -> Result<Self> {
        let compact: String = input
            .chars()
            .filter(|c| !matches!(c, ' ' | '-' | '\u{a0}'))
            .collect();
        let invalid = |why: &str| {
            DomainError::validation(
                field,
                format!("{why}; write the number in E.164 form, like +46701234567"),
            )
        };
        let Some(digits) = compact.strip_prefix('+') else {
            return Err(invalid("must start with + and the country code"));
        };
        if !digits.chars().all(|c| c.is_ascii_digit()) {
            return Err(invalid("may contain only digits after the +"));
        }
        if digits.starts_with('0') {
            return Err(invalid("country code cannot start with 0"));
        }
        if !(8..=15).contains(&digits.len()) {
            return Err(invalid("must have 8 to 15 digits"));
        }
        Ok(Self(compact))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The number as people write and dial it by hand: a Swedish mobile number grouped
    /// "070-174 06 90", another Swedish number in national form, a foreign one as it is.
    pub fn for_reading(&self) -> String {
        let Some(national) = self.0.strip_prefix("+46").map(|rest| format!("0{rest}")) else {
            return self.0.clone();
        };
        match (
            national.get(..3),
            national.get(3..6),
            national.get(6..8),
            national.get(8..),
        ) {
            (Some(prefix), Some(first), Some(second), Some(last))
                if national.starts_with("07") && national.len() == 10 =>
            {
                format!("{prefix}-{first} {second} {last}")
            }
            _ => national,
        }
    }
}

impl TryFrom<String> for E164 {
    type Error = DomainError;
    fn try_from(value: String) -> Result<Self> {
        Self::parse("phone", &value)
    }
}

impl From<E164> for String {
    fn from(value: E164) -> Self {
        value.0
    }
}

impl fmt::Display for E164 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Debug output masks all but the last two digits, so that a number never reaches a log
/// line by accident.
impl fmt::Debug for E164 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let tail: String = self
            .0
            .chars()
            .rev()
            .take(2)
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
            .collect();
        write!(f, "E164(+…{tail})")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_spaced_swedish_mobile_number() {
        let phone = E164::parse("phone", "+46 70-174 06 05").ok();
        assert_eq!(phone.as_ref().map(E164::as_str), Some("+46701740605"));
    }

    #[test]
    fn refuses_national_form_and_letters() {
        for input in [
            "070-1740605",
            "+46 70 ABC",
            "+0461234567",
            "+461234",
            "+4612345678901234",
        ] {
            let err = E164::parse("phone", input).err();
            assert!(
                matches!(&err, Some(DomainError::Validation { field, .. }) if field == "phone"),
                "{input} was accepted: {err:?}"
            );
        }
    }

    #[test]
    fn swedish_numbers_are_grouped_as_people_write_them() {
        let read = |number: &str| E164::parse("phone", number).map(|phone| phone.for_reading());
        assert_eq!(read("+46701740690").ok().as_deref(), Some("070-174 06 90"));
        assert_eq!(read("+4692365000").ok().as_deref(), Some("092365000"));
        assert_eq!(read("+4712345678").ok().as_deref(), Some("+4712345678"));
    }

    #[test]
    fn debug_hides_the_number() {
        let phone = E164::parse("phone", "+46701740605").ok();
        assert_eq!(format!("{phone:?}"), "Some(E164(+…05))");
    }
}
