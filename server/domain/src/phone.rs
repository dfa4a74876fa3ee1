//! Phone numbers in E.164 form, the only form the SMS providers accept.

use crate::{DomainError, Result};
use phonenumber::{Mode, country};
use serde::{Deserialize, Serialize};
use std::fmt;

/// A phone number in E.164 form, as the SMS providers want it. Staff type numbers as they
/// know them ("070-123 45 67", "+46 70 123 45 67", "0046…"); a number without a country
/// code is read as Swedish. Numbers that cannot exist by libphonenumber's numbering plans
/// are refused rather than guessed at, because a wrong number reaches the wrong person.
#[derive(Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct E164(String);

impl E164 {
    /// Parses `input`, naming `field` in the error.
    pub fn parse(field: &str, input: &str) -> Result<Self> {
        let invalid = |why: &str| {
            DomainError::validation(
                field,
                format!("{why}; write it like 070-123 45 67 or, from abroad, +46 70 123 45 67"),
            )
        };
        let trimmed = input.trim();
        if trimmed.is_empty() {
            return Err(invalid("is empty"));
        }
        if trimmed.chars().any(|c| c.is_alphabetic()) {
            return Err(invalid(
                "may contain only digits, spaces, dashes and a leading +",
            ));
        }
        let number = phonenumber::parse(Some(country::Id::SE), trimmed)
            .map_err(|_| invalid("is not a phone number"))?;
        if !phonenumber::is_valid(&number) {
            return Err(invalid(
                "is not a number that can exist in its country's numbering plan",
            ));
        }
        Ok(Self(number.format().mode(Mode::E164).to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The number as people write and dial it by hand: a Swedish number in national form
    /// ("070-174 06 90", "0923-650 00"), another in international form ("+47 412 34 567").
    pub fn for_reading(&self) -> String {
        let Ok(number) = phonenumber::parse(None, &self.0) else {
            return self.0.clone();
        };
        let mode = if number.country().id() == Some(country::Id::SE) {
            Mode::National
        } else {
            Mode::International
        };
        number.format().mode(mode).to_string()
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

    fn parsed(input: &str) -> Option<String> {
        E164::parse("phone", input).ok().map(String::from)
    }

    #[test]
    fn accepts_numbers_as_staff_type_them() {
        for input in [
            "+46 70-174 06 05",
            "070-174 06 05",
            "0701740605",
            "0046 70 174 06 05",
            " 070 174 06 05 ",
        ] {
            assert_eq!(parsed(input).as_deref(), Some("+46701740605"), "{input}");
        }
        assert_eq!(parsed("0923-650 00").as_deref(), Some("+4692365000"));
        assert_eq!(parsed("+47 412 34 567").as_deref(), Some("+4741234567"));
    }

    #[test]
    fn refuses_impossible_numbers_and_letters() {
        for input in [
            "",
            "070-17",
            "+46 70 ABC",
            "070-174 06 05 99 99",
            "+0461234567",
            "+4612345678901234",
        ] {
            let err = E164::parse("phone", input).err();
            assert!(
                matches!(&err, Some(DomainError::Validation { field, .. }) if field == "phone"),
                "{input:?} was accepted: {err:?}"
            );
        }
    }

    #[test]
    fn numbers_are_grouped_as_people_write_them() {
        let read = |number: &str| E164::parse("phone", number).map(|phone| phone.for_reading());
        assert_eq!(read("+46701740690").ok().as_deref(), Some("070-174 06 90"));
        assert_eq!(read("+4692365000").ok().as_deref(), Some("0923-650 00"));
        assert_eq!(read("+4741234567").ok().as_deref(), Some("+47 41 23 45 67"));
    }

    #[test]
    fn debug_hides_the_number() {
        let phone = E164::parse("phone", "+46701740605").ok();
        assert_eq!(format!("{phone:?}"), "Some(E164(+…05))");
    }
}
