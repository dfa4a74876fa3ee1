//! Turning stored rows into domain types. A stored value the domain does not know is a
//! damaged database, reported as a database error rather than shown to the user.

use crate::entities::{it_systems, people, units};
use crate::{Result, StoreError};
use reserv_domain::access::UnitPath;
use reserv_domain::classification::{Classification, Confidentiality};
use reserv_domain::ids::{PersonId, SystemId, UnitId};
use reserv_domain::people::Person;
use reserv_domain::phone::E164;
use reserv_domain::systems::ItSystem;
use reserv_domain::units::OrgUnit;
use sea_orm::DbErr;
use std::str::FromStr;

pub(crate) fn stored<T: FromStr>(value: &str, column: &str) -> Result<T> {
    value.parse().map_err(|_| {
        StoreError::Database(DbErr::Type(format!(
            "{column} holds an unknown value '{value}'"
        )))
    })
}

pub(crate) fn classification(
    confidentiality: i16,
    integrity: i16,
    availability: i16,
    traceability: Option<i16>,
) -> Result<Classification> {
    Classification::new(
        confidentiality.into(),
        integrity.into(),
        availability.into(),
    )
    .and_then(|classification| classification.with_traceability(traceability.map(i64::from)))
    .map_err(|error| {
        StoreError::Database(DbErr::Type(format!(
            "stored classification is invalid: {error}"
        )))
    })
}

pub(crate) fn confidentiality(level: i16) -> Result<Confidentiality> {
    Ok(classification(level, 0, 0, None)?.confidentiality)
}

/// `/1/4/9/` → [1, 4, 9].
pub(crate) fn unit_path(path: &str) -> Result<UnitPath> {
    path.split('/')
        .filter(|part| !part.is_empty())
        .map(|part| stored::<i64>(part, "units.path").map(UnitId))
        .collect::<Result<_>>()
        .map(UnitPath)
}

pub(crate) fn path_text(path: &UnitPath) -> String {
    let mut text = String::from("/");
    for unit in &path.0 {
        text.push_str(&unit.0.to_string());
        text.push('/');
    }
    text
}

pub(crate) fn unit(row: units::Model) -> Result<OrgUnit> {
    Ok(OrgUnit {
        id: UnitId(row.id),
        parent_id: row.parent_id.map(UnitId),
        kind: stored(&row.kind, "units.kind")?,
        path: unit_path(&row.path)?,
        name: row.name,
    })
}

pub(crate) fn person(row: people::Model, unit_ids: Vec<UnitId>) -> Result<Person> {
    Ok(Person {
        id: PersonId(row.id),
        phone: row
            .phone
            .as_deref()
            .map(|phone| E164::parse("people.phone", phone))
            .transpose()
            .map_err(|error| StoreError::Database(DbErr::Type(error.to_string())))?,
        language: stored(&row.language, "people.language")?,
        confidentiality: confidentiality(row.confidentiality)?,
        name: row.name,
        title: row.title,
        email: row.email,
        external_id: row.external_id,
        external: row.external,
        organisation: row.organisation,
        unit_ids,
    })
}

pub(crate) fn system(row: it_systems::Model) -> Result<ItSystem> {
    Ok(ItSystem {
        id: SystemId(row.id),
        criticality: stored(&row.criticality, "it_systems.criticality")?,
        state: stored(&row.state, "it_systems.state")?,
        owner_id: row.owner_id.map(PersonId),
        name: row.name,
        description: row.description,
        supplier: row.supplier,
        health_check_url: row.health_check_url,
    })
}
