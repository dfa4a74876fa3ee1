//! People: staff members and external contacts, with the phone number that crisis
//! communication will use.

use crate::classification::Confidentiality;
use crate::ids::{PersonId, UnitId};
use crate::phone::E164;
use crate::validate::{optional_text, required_text};
use crate::{DomainError, Result};
use serde::Deserialize;

crate::named_enum! {
    /// The language a person reads messages and the UI in.
    #[derive(Default)]
    pub enum Language as "language" {
            #[default]
            Sv = "sv",
            En = "en",
        }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Person {
    pub id: PersonId,
    pub name: String,
    pub title: Option<String>,
    pub phone: Option<E164>,
    pub email: Option<String>,
    /// The person's identifier at the employer (employee number, HSA-id), unique; an
    /// identity provider's claim may be matched to it.
    pub external_id: Option<String>,
    pub language: Language,
    /// True for contacts outside the organisation (suppliers, the region, volunteers).
    pub external: bool,
    pub organisation: Option<String>,
    pub unit_ids: Vec<UnitId>,
    /// Contact details of most staff are internal; protected identities are higher.
    pub confidentiality: Confidentiality,
}

/// A request to create or replace a person's details, as typed by a user.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct PersonRequest {
    pub name: String,
    pub title: Option<String>,
    pub phone: Option<String>,
    pub email: Option<String>,
    #[serde(default)]
    pub external_id: Option<String>,
    #[serde(default)]
    pub language: Language,
    #[serde(default)]
    pub external: bool,
    pub organisation: Option<String>,
    #[serde(default)]
    pub unit_ids: Vec<UnitId>,
    pub confidentiality: Option<i64>,
}

/// A person's details once every rule holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidPerson {
    pub name: String,
    pub title: Option<String>,
    pub phone: Option<E164>,
    pub email: Option<String>,
    pub external_id: Option<String>,
    pub language: Language,
    pub external: bool,
    pub organisation: Option<String>,
    pub unit_ids: Vec<UnitId>,
    pub confidentiality: Confidentiality,
}

impl PersonRequest {
    pub fn validate(self) -> Result<ValidPerson> {
        let phone = match self.phone.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(phone) => Some(E164::parse("phone", phone)?),
        };
        let email = optional_text("email", self.email.as_deref(), 254)?;
        if let Some(email) = &email {
            let well_formed = email
                .split_once('@')
                .is_some_and(|(local, domain)| !local.is_empty() && domain.contains('.'))
                && !email.contains(char::is_whitespace);
            if !well_formed {
                return Err(DomainError::validation(
                    "email",
                    format!("'{email}' is not an e-mail address"),
                ));
            }
        }
        let mut unit_ids = self.unit_ids;
        unit_ids.sort();
        unit_ids.dedup();
        Ok(ValidPerson {
            name: required_text("name", &self.name, 120)?,
            title: optional_text("title", self.title.as_deref(), 120)?,
            phone,
            email,
            external_id: optional_text("externalId", self.external_id.as_deref(), 128)?,
            language: self.language,
            external: self.external,
            organisation: optional_text("organisation", self.organisation.as_deref(), 120)?,
            unit_ids,
            confidentiality: match self.confidentiality {
                Some(level) => Confidentiality::new("confidentiality", level)?,
                None => Confidentiality::INTERNAL,
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request() -> PersonRequest {
        PersonRequest {
            name: "Karin Lindqvist".into(),
            title: Some("Enhetschef".into()),
            phone: Some("+46 70-174 06 10".into()),
            email: Some("karin.lindqvist@example.se".into()),
            external_id: None,
            language: Language::Sv,
            external: false,
            organisation: None,
            unit_ids: vec![UnitId(4), UnitId(2), UnitId(4)],
            confidentiality: None,
        }
    }

    #[test]
    fn normalises_phone_and_units() {
        let person = request().validate().ok();
        assert_eq!(
            person
                .as_ref()
                .and_then(|p| p.phone.as_ref())
                .map(E164::as_str),
            Some("+46701740610")
        );
        assert_eq!(person.map(|p| p.unit_ids), Some(vec![UnitId(2), UnitId(4)]));
    }

    #[test]
    fn refuses_bad_phone_and_email() {
        let bad_phone = PersonRequest {
            phone: Some("070-17 40".into()),
            ..request()
        };
        assert!(
            matches!(bad_phone.validate(), Err(DomainError::Validation { field, .. }) if field == "phone")
        );
        let bad_email = PersonRequest {
            email: Some("karin@".into()),
            ..request()
        };
        assert!(
            matches!(bad_email.validate(), Err(DomainError::Validation { field, .. }) if field == "email")
        );
    }
}
