//! What goes into a binder, read as the person printing it.

use crate::{PrintError, Result};
use reserv_domain::DomainError;
use reserv_domain::access::{Action, Principal, Scope};
use reserv_domain::ids::{PersonId, PlanVersionId, SystemId, UnitId};
use reserv_domain::people::Person;
use reserv_domain::plans::{CriticalActivity, Plan, PlanVersion, Routine};
use reserv_domain::systems::ItSystem;
use reserv_domain::units::OrgUnit;
use reserv_store::{DependencyEntry, PageRequest, PlanFilter, Store, StoreError};
use std::collections::{BTreeSet, HashMap};

/// A unit's binder: its approved plan and everything printed with it.
#[derive(Debug, Clone)]
pub struct Binder {
    pub unit: OrgUnit,
    pub plan: Plan,
    pub version_id: PlanVersionId,
    pub version: i32,
    pub approved_at: Option<chrono::DateTime<chrono::Utc>>,
    /// The approved version's text, activities and dependencies; `None` when the reader
    /// is not cleared for it (a care worker reads the routines of a sensitive plan).
    pub text: Option<PlanText>,
    /// The routines of the approved version the reader may read, in the plan's order.
    pub routines: Vec<Routine>,
    /// The people of the unit and of the units above it that the reader may see.
    pub contacts: Vec<Person>,
    /// The plan's owner, when the reader may see them.
    pub owner: Option<Person>,
}

/// The approved version's own content.
#[derive(Debug, Clone)]
pub struct PlanText {
    pub version: PlanVersion,
    pub activities: Vec<(CriticalActivity, Vec<DependencyEntry>)>,
    pub systems: HashMap<SystemId, ItSystem>,
}

/// Reads the binder of `unit` as `who` may read it.
pub async fn gather_binder(store: &Store, who: &Principal, unit: UnitId) -> Result<Binder> {
    let unit = store.unit(who, unit).await?;
    who.authorize(Action::ReadPlans, Scope::Unit(&unit.path))
        .map_err(StoreError::from)?;
    let plans = store
        .plans(
            who,
            PlanFilter {
                unit_id: Some(unit.id),
                state: Some(reserv_domain::plans::PlanState::Approved),
                due_for_review: false,
            },
            PageRequest::default(),
        )
        .await?;
    let nothing_approved = || {
        PrintError::NothingApproved(format!(
            "{} har ingen godkänd kontinuitetsplan att skriva ut / has no approved continuity plan to print",
            unit.name
        ))
    };
    // A unit has one continuity plan; should it have more, the oldest is printed.
    let (_, plan) = plans
        .items
        .into_iter()
        .next()
        .ok_or_else(nothing_approved)?;
    let (version_id, place) = store
        .approved_version(who, plan.id)
        .await?
        .ok_or_else(nothing_approved)?;
    let routines = store.routines(who, version_id).await?;
    let text = plan_text(store, who, version_id).await?;
    let contacts = contacts(store, who, &unit).await?;
    let owner = match plan.owner_id {
        Some(owner) => visible(store.person(who, owner).await)?,
        None => None,
    };
    Ok(Binder {
        unit,
        plan,
        version_id,
        version: place.version,
        approved_at: place.approved_at,
        text,
        routines,
        contacts,
        owner,
    })
}

/// The version's text, or `None` when the reader is not cleared for it.
async fn plan_text(store: &Store, who: &Principal, id: PlanVersionId) -> Result<Option<PlanText>> {
    let Some(version) = visible(store.plan_version(who, id).await)? else {
        return Ok(None);
    };
    let activities = store.activities(who, id).await?;
    let ids: Vec<_> = activities.iter().map(|activity| activity.id).collect();
    let mut contents = store.contents_of_activities(who, &ids).await?;
    let mut with_dependencies = vec![];
    for activity in activities {
        let dependencies = contents
            .remove(&activity.id)
            .transpose()
            .map_err(StoreError::from)?
            .map(|contents| contents.dependencies)
            .unwrap_or_default();
        with_dependencies.push((activity, dependencies));
    }
    let system_ids: BTreeSet<SystemId> = with_dependencies
        .iter()
        .flat_map(|(_, dependencies)| dependencies.iter())
        .filter_map(|entry| entry.dependency.system_id)
        .collect();
    let system_ids: Vec<SystemId> = system_ids.into_iter().collect();
    let mut systems = HashMap::new();
    for (id, answer) in store.systems_by_id(who, &system_ids).await? {
        if let Ok(system) = answer {
            systems.insert(id, system);
        }
    }
    Ok(Some(PlanText {
        version,
        activities: with_dependencies,
        systems,
    }))
}

/// The people of the unit and of each unit above it, as far as the reader may see
/// them: the nurse and the head of operations are as much a part of a unit's contact
/// list as its own staff.
async fn contacts(store: &Store, who: &Principal, unit: &OrgUnit) -> Result<Vec<Person>> {
    let mut seen: BTreeSet<PersonId> = BTreeSet::new();
    let mut found = vec![];
    // The unit's own people first, then outwards.
    for level in unit.path.0.iter().rev() {
        let page = match store
            .people(who, Some(*level), PageRequest::new(None, Some(200))?)
            .await
        {
            Ok(page) => page,
            Err(StoreError::Domain(DomainError::Forbidden(_))) => continue,
            Err(error) => return Err(error.into()),
        };
        for (_, person) in page.items {
            if seen.insert(person.id) {
                found.push(person);
            }
        }
    }
    Ok(found)
}

/// An answer the reader may not have (refused, or not found for them) as `None`.
fn visible<T>(answer: reserv_store::Result<T>) -> Result<Option<T>> {
    match answer {
        Ok(found) => Ok(Some(found)),
        Err(StoreError::Domain(DomainError::Forbidden(_) | DomainError::NotFound { .. })) => {
            Ok(None)
        }
        Err(error) => Err(error.into()),
    }
}
