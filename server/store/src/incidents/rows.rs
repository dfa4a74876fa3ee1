//! Reading and writing the rows of an incident: the incident itself and the units and
//! IT systems it affects.

use super::visibility::Located;
use crate::directory::{unit_paths, unit_rows};
use crate::entities::{incident_systems, incident_units, incidents, it_systems};
use crate::links::replace_links;
use crate::{Result, StoreError, convert};
use chrono::{DateTime, Utc};
use reserv_domain::DomainError;
use reserv_domain::access::{Action, Principal};
use reserv_domain::ids::{IncidentId, PersonId, SystemId, UnitId};
use reserv_domain::incidents::{Incident, IncidentState, Severity, ensure_open};
use sea_orm::ActiveValue::Set;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
};
use std::collections::{BTreeMap, HashMap};

/// Loads an incident with the paths of its units.
pub(crate) async fn locate(db: &impl ConnectionTrait, id: IncidentId) -> Result<Located> {
    let row = incidents::Entity::find_by_id(id.0).one(db).await?;
    located(db, id, row).await
}

/// Like [`locate`], holding the incident's row lock until the transaction ends, so
/// that two changes of one incident (say, two `setIncidentUnits`) run one after the
/// other instead of interleaving their deletes and inserts. SQLite's write
/// transactions are serialised already.
async fn locate_for_update(db: &impl ConnectionTrait, id: IncidentId) -> Result<Located> {
    let row = incidents::Entity::find_by_id(id.0)
        .lock_exclusive()
        .one(db)
        .await?;
    located(db, id, row).await
}

async fn located(
    db: &impl ConnectionTrait,
    id: IncidentId,
    row: Option<incidents::Model>,
) -> Result<Located> {
    let row = row.ok_or_else(|| DomainError::not_found("incident", id))?;
    let (mut units, mut systems) = links(db, &[row.id]).await?;
    let unit_ids = units.remove(&row.id).unwrap_or_default();
    let paths = unit_paths(db, &unit_ids).await?;
    let found = incident(
        row.clone(),
        unit_ids,
        systems.remove(&row.id).unwrap_or_default(),
    )?;
    Ok(Located {
        row,
        incident: found,
        paths,
    })
}

/// Loads several incidents with the paths of their units, in four queries; ids that
/// do not exist are absent.
pub(crate) async fn locate_many(
    db: &impl ConnectionTrait,
    ids: &[IncidentId],
) -> Result<HashMap<IncidentId, Located>> {
    let rows = incidents::Entity::find()
        .filter(incidents::Column::Id.is_in(ids.iter().map(|id| id.0)))
        .all(db)
        .await?;
    let row_ids: Vec<i64> = rows.iter().map(|row| row.id).collect();
    let (mut units, mut systems) = links(db, &row_ids).await?;
    let all_units: Vec<UnitId> = units.values().flatten().copied().collect();
    let known = unit_rows(db, &all_units).await?;
    let mut found = HashMap::new();
    for row in rows {
        let unit_ids = units.remove(&row.id).unwrap_or_default();
        let paths = unit_ids
            .iter()
            .filter_map(|id| known.get(id).map(|unit| unit.path.clone()))
            .collect();
        let incident = incident(
            row.clone(),
            unit_ids,
            systems.remove(&row.id).unwrap_or_default(),
        )?;
        found.insert(
            incident.id,
            Located {
                row,
                incident,
                paths,
            },
        );
    }
    Ok(found)
}

/// Loads and locks an incident for a change by a manager, checking the policy first.
pub(super) async fn managed_incident(
    db: &impl ConnectionTrait,
    who: &Principal,
    id: IncidentId,
) -> Result<Located> {
    who.authorize_somewhere(Action::ManageIncidents)?;
    let found = locate_for_update(db, id).await?;
    found.authorize(who, Action::ManageIncidents)?;
    Ok(found)
}

pub(super) async fn open_managed_incident(
    db: &impl ConnectionTrait,
    who: &Principal,
    id: IncidentId,
) -> Result<Located> {
    let found = managed_incident(db, who, id).await?;
    ensure_open(found.incident.state)?;
    Ok(found)
}

/// Writes a changed incident row, provided its state is still `expected`: two people
/// changing one incident at once must not, say, reopen an incident the other just
/// closed. Returns the incident as stored.
pub(super) async fn save(
    db: &impl ConnectionTrait,
    expected: IncidentState,
    mut row: incidents::ActiveModel,
    now: DateTime<Utc>,
) -> Result<Incident> {
    row.updated_at = Set(now);
    let id = match &row.id {
        sea_orm::ActiveValue::Set(id) | sea_orm::ActiveValue::Unchanged(id) => *id,
        sea_orm::ActiveValue::NotSet => {
            return Err(StoreError::Database(DbErr::Custom(
                "an incident row without id cannot be saved".into(),
            )));
        }
    };
    let updated = incidents::Entity::update_many()
        .set(row)
        .filter(incidents::Column::Id.eq(id))
        .filter(incidents::Column::State.eq(expected.as_str()))
        .exec(db)
        .await?;
    if updated.rows_affected == 0 {
        return Err(DomainError::conflict(
            "The incident was changed by someone else meanwhile; reload it and try again",
        )
        .into());
    }
    Ok(locate(db, IncidentId(id)).await?.incident)
}

/// Marks activity on an incident (a log entry, a task) by moving its `updated_at`,
/// refusing when it has been closed. The update also locks the incident row, so a
/// concurrent close either waits for this change or makes it fail.
pub(crate) async fn touch_open_incident(
    db: &impl ConnectionTrait,
    id: IncidentId,
    now: DateTime<Utc>,
) -> Result<()> {
    let updated = incidents::Entity::update_many()
        .col_expr(incidents::Column::UpdatedAt, Expr::value(now))
        .filter(incidents::Column::Id.eq(id.0))
        .filter(incidents::Column::State.ne(IncidentState::Closed.as_str()))
        .exec(db)
        .await?;
    if updated.rows_affected == 0 {
        ensure_open(IncidentState::Closed)?;
    }
    Ok(())
}

/// Refuses references to IT systems that do not exist, naming the first missing one.
pub(super) async fn ensure_systems_exist(
    db: &impl ConnectionTrait,
    ids: &[SystemId],
) -> Result<()> {
    let found: Vec<i64> = it_systems::Entity::find()
        .filter(it_systems::Column::Id.is_in(ids.iter().map(|id| id.0)))
        .all(db)
        .await?
        .into_iter()
        .map(|row| row.id)
        .collect();
    match ids.iter().find(|id| !found.contains(&id.0)) {
        Some(missing) => Err(DomainError::validation(
            "systemIds",
            format!("IT system {missing} was not found"),
        )
        .into()),
        None => Ok(()),
    }
}

pub(super) fn sorted<T: Ord>(mut ids: Vec<T>) -> Vec<T> {
    ids.sort();
    ids.dedup();
    ids
}

pub(super) async fn replace_units(
    db: &impl ConnectionTrait,
    incident: i64,
    ids: &[UnitId],
) -> Result<()> {
    let links = ids
        .iter()
        .map(|unit| incident_units::ActiveModel {
            incident_id: Set(incident),
            unit_id: Set(unit.0),
        })
        .collect();
    replace_links(db, incident_units::Column::IncidentId.eq(incident), links).await
}

pub(super) async fn replace_systems(
    db: &impl ConnectionTrait,
    incident: i64,
    ids: &[SystemId],
) -> Result<()> {
    let links = ids
        .iter()
        .map(|system| incident_systems::ActiveModel {
            incident_id: Set(incident),
            system_id: Set(system.0),
        })
        .collect();
    replace_links(db, incident_systems::Column::IncidentId.eq(incident), links).await
}

pub(super) type Links<T> = BTreeMap<i64, Vec<T>>;

/// The affected units and systems of several incidents, by incident id.
pub(super) async fn links(
    db: &impl ConnectionTrait,
    incidents: &[i64],
) -> Result<(Links<UnitId>, Links<SystemId>)> {
    let mut units: Links<UnitId> = BTreeMap::new();
    for row in incident_units::Entity::find()
        .filter(incident_units::Column::IncidentId.is_in(incidents.iter().copied()))
        .order_by_asc(incident_units::Column::UnitId)
        .all(db)
        .await?
    {
        units
            .entry(row.incident_id)
            .or_default()
            .push(UnitId(row.unit_id));
    }
    let mut systems: Links<SystemId> = BTreeMap::new();
    for row in incident_systems::Entity::find()
        .filter(incident_systems::Column::IncidentId.is_in(incidents.iter().copied()))
        .order_by_asc(incident_systems::Column::SystemId)
        .all(db)
        .await?
    {
        systems
            .entry(row.incident_id)
            .or_default()
            .push(SystemId(row.system_id));
    }
    Ok((units, systems))
}

pub(super) fn incident(
    row: incidents::Model,
    unit_ids: Vec<UnitId>,
    system_ids: Vec<SystemId>,
) -> Result<Incident> {
    Ok(Incident {
        id: IncidentId(row.id),
        kind: convert::stored(&row.kind, "incidents.kind")?,
        severity: Severity::new(row.severity.into())
            .map_err(|error| StoreError::Database(DbErr::Type(error.to_string())))?,
        state: convert::stored(&row.state, "incidents.state")?,
        classification: convert::classification(
            row.confidentiality,
            row.integrity,
            row.availability,
            row.traceability,
        )?,
        commander_id: row.commander_id.map(PersonId),
        title: row.title,
        description: row.description,
        exercise: row.exercise,
        unit_ids,
        system_ids,
        reported_at: row.reported_at,
        reported_by: row.reported_by,
        closed_at: row.closed_at,
        updated_at: row.updated_at,
    })
}
