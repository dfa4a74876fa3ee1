//! Which playbooks fit when IT systems go down: for a crisis lead deciding what to
//! activate, the playbooks in use whose triggers name one of the systems (by name, or by
//! a criticality the system reaches), each with the units it would apply to, the
//! routines it would start there and how many people it would involve.
//!
//! Read only: nothing here activates anything or writes to the database. It answers as
//! an activation without named units would choose: the units the playbook involves that
//! have an approved continuity plan.

use crate::convert;
use crate::entities::{
    account_roles, accounts, it_systems, person_units, plan_versions, plans, playbooks, routines,
    units,
};
use crate::{Result, Store};
use reserv_domain::DomainError;
use reserv_domain::access::{Action, Principal, Scope};
use reserv_domain::ids::{PersonId, SystemId, UnitId};
use reserv_domain::plans::{PlanState, RoutineKey};
use reserv_domain::systems::ItSystem;
use reserv_playbooks::{Playbook, PlaybookTrigger};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::Path;

/// A playbook that fits, and what activating it would involve.
#[derive(Debug, Clone, PartialEq)]
pub struct PlaybookSuggestion {
    pub playbook: Playbook,
    /// The given systems that one of its triggers names.
    pub matched_systems: Vec<SystemId>,
    /// The units whose approved plans it would activate, parents first.
    pub units: Vec<UnitId>,
    pub routines: Vec<SuggestedRoutine>,
    /// The distinct people of those units and the holders of the crisis roles its tasks
    /// name.
    pub people: usize,
}

/// A routine the playbook names, with the units whose approved plan has it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SuggestedRoutine {
    pub key: RoutineKey,
    /// Its title in the first of those units' plans.
    pub title: String,
    pub units: Vec<UnitId>,
}

impl Store {
    /// The playbooks whose triggers match `systems` being down; see the module
    /// documentation. For those who may activate playbooks.
    pub async fn suggest_playbooks(
        &self,
        who: &Principal,
        systems: &[SystemId],
    ) -> Result<Vec<PlaybookSuggestion>> {
        who.authorize(Action::ActivatePlaybooks, Scope::Organisation)?;
        let down = systems_down(&self.db, systems).await?;
        let in_use = playbooks_in_use(&self.db).await?;
        let mut fitting = Vec::new();
        for playbook in in_use {
            let matched: Vec<SystemId> = down
                .iter()
                .filter(|system| triggered_by(&playbook, system))
                .map(|system| system.id)
                .collect();
            if !matched.is_empty() {
                fitting.push((playbook, matched));
            }
        }
        if fitting.is_empty() {
            return Ok(Vec::new());
        }
        let organisation = Organisation::load(&self.db).await?;
        let mut suggestions = Vec::new();
        for (playbook, matched_systems) in fitting {
            let units = organisation.units_of(&playbook);
            let routines = organisation.routines_of(&playbook, &units);
            let people = organisation.people_of(&playbook, &units);
            suggestions.push(PlaybookSuggestion {
                playbook,
                matched_systems,
                units,
                routines,
                people,
            });
        }
        Ok(suggestions)
    }
}

/// Whether one of the playbook's triggers names `system` being down.
fn triggered_by(playbook: &Playbook, system: &ItSystem) -> bool {
    playbook.triggers.iter().any(|trigger| match trigger {
        PlaybookTrigger::SystemDown(name) => name.trim() == system.name.trim(),
        PlaybookTrigger::CriticalityDown(level) => system.criticality >= *level,
        PlaybookTrigger::Manual => false,
    })
}

/// The systems asked about, in the order given; an unknown id is refused by name.
async fn systems_down(db: &impl ConnectionTrait, ids: &[SystemId]) -> Result<Vec<ItSystem>> {
    if ids.is_empty() {
        return Err(DomainError::validation(
            "itSystemIds",
            "ange minst ett IT-system; name at least one IT system",
        )
        .into());
    }
    let rows: HashMap<i64, it_systems::Model> = it_systems::Entity::find()
        .filter(it_systems::Column::Id.is_in(ids.iter().map(|id| id.0)))
        .all(db)
        .await?
        .into_iter()
        .map(|row| (row.id, row))
        .collect();
    let mut found = Vec::new();
    for id in ids {
        let row = rows.get(&id.0).cloned().ok_or_else(|| {
            DomainError::validation("itSystemIds", format!("there is no IT system {id}"))
        })?;
        if !found.iter().any(|system: &ItSystem| system.id == *id) {
            found.push(convert::system(row)?);
        }
    }
    Ok(found)
}

/// The playbooks in use, read back from the versions stored at import. A stored version
/// that no longer reads (the format changed since) is left out and logged.
async fn playbooks_in_use(db: &impl ConnectionTrait) -> Result<Vec<Playbook>> {
    let rows = playbooks::Entity::find()
        .order_by_asc(playbooks::Column::Id)
        .all(db)
        .await?;
    Ok(rows
        .into_iter()
        .filter_map(|row| {
            match reserv_playbooks::check_source(Path::new(&row.file), &row.source, None) {
                Ok(playbook) => Some(playbook),
                Err(problems) => {
                    tracing::warn!(
                        playbook = row.id,
                        problems = problems.len(),
                        "a stored playbook no longer reads; it is not suggested"
                    );
                    None
                }
            }
        })
        .collect())
}

/// The names of the units on `unit`'s path, itself included, by `names` of unit ids.
pub(crate) fn path_names<'a>(
    unit: &'a units::Model,
    names: &'a HashMap<i64, &'a str>,
) -> impl Iterator<Item = &'a str> {
    unit.path
        .split('/')
        .filter_map(|part| part.parse::<i64>().ok())
        .filter_map(|ancestor| names.get(&ancestor).copied())
}

/// What the suggestions are computed from: the unit tree, the approved plans' routines,
/// the people per unit and the crisis roles people hold.
struct Organisation {
    /// Parents before children.
    units: Vec<units::Model>,
    /// The units with an approved plan, and that version's routines.
    approved_routines: HashMap<i64, Vec<routines::Model>>,
    people_by_unit: HashMap<i64, Vec<i64>>,
    /// Per role: the unit it is held for (none for the whole organisation) and the
    /// person holding it.
    role_holders: HashMap<String, Vec<(Option<i64>, i64)>>,
}

impl Organisation {
    async fn load(db: &impl ConnectionTrait) -> Result<Self> {
        let units = units::Entity::find()
            .order_by_asc(units::Column::Path)
            .all(db)
            .await?;
        let approved = plan_versions::Entity::find()
            .filter(plan_versions::Column::State.eq(PlanState::Approved.as_str()))
            .all(db)
            .await?;
        let plan_units: HashMap<i64, i64> = plans::Entity::find()
            .filter(plans::Column::Id.is_in(approved.iter().map(|version| version.plan_id)))
            .all(db)
            .await?
            .into_iter()
            .map(|plan| (plan.id, plan.unit_id))
            .collect();
        let unit_of_version: HashMap<i64, i64> = approved
            .iter()
            .filter_map(|version| Some((version.id, *plan_units.get(&version.plan_id)?)))
            .collect();
        let mut approved_routines: HashMap<i64, Vec<routines::Model>> = unit_of_version
            .values()
            .map(|unit| (*unit, Vec::new()))
            .collect();
        for routine in routines::Entity::find()
            .filter(routines::Column::VersionId.is_in(unit_of_version.keys().copied()))
            .order_by_asc(routines::Column::Id)
            .all(db)
            .await?
        {
            if let Some(unit) = unit_of_version.get(&routine.version_id) {
                approved_routines.entry(*unit).or_default().push(routine);
            }
        }
        let mut people_by_unit: HashMap<i64, Vec<i64>> = HashMap::new();
        for membership in person_units::Entity::find().all(db).await? {
            people_by_unit
                .entry(membership.unit_id)
                .or_default()
                .push(membership.person_id);
        }
        let people_of_accounts: HashMap<i64, i64> = accounts::Entity::find()
            .filter(accounts::Column::Disabled.eq(false))
            .all(db)
            .await?
            .into_iter()
            .filter_map(|account| Some((account.id, account.person_id?)))
            .collect();
        let mut role_holders: HashMap<String, Vec<(Option<i64>, i64)>> = HashMap::new();
        for grant in account_roles::Entity::find().all(db).await? {
            if let Some(person) = people_of_accounts.get(&grant.account_id) {
                role_holders
                    .entry(grant.role)
                    .or_default()
                    .push((grant.unit_id, *person));
            }
        }
        Ok(Self {
            units,
            approved_routines,
            people_by_unit,
            role_holders,
        })
    }

    /// The units the playbook involves that have an approved plan, parents first. A
    /// unit is involved when the playbook names all units, names it, or names a unit on
    /// its path (`within`).
    fn units_of(&self, playbook: &Playbook) -> Vec<UnitId> {
        let names: HashMap<i64, &str> = self
            .units
            .iter()
            .map(|unit| (unit.id, unit.name.as_str()))
            .collect();
        self.units
            .iter()
            .filter(|unit| self.approved_routines.contains_key(&unit.id))
            .filter(|unit| {
                playbook
                    .involves
                    .covers(&unit.name, path_names(unit, &names))
            })
            .map(|unit| UnitId(unit.id))
            .collect()
    }

    /// The routines the playbook names, each with the units whose approved plan has it.
    fn routines_of(&self, playbook: &Playbook, units: &[UnitId]) -> Vec<SuggestedRoutine> {
        let mut found: BTreeMap<&str, SuggestedRoutine> = BTreeMap::new();
        for unit in units {
            for routine in self.approved_routines.get(&unit.0).into_iter().flatten() {
                let Some(key) = playbook
                    .routines
                    .iter()
                    .find(|key| key.as_str() == routine.key)
                else {
                    continue;
                };
                found
                    .entry(key.as_str())
                    .or_insert_with(|| SuggestedRoutine {
                        key: key.clone(),
                        title: routine.title.clone(),
                        units: Vec::new(),
                    })
                    .units
                    .push(*unit);
            }
        }
        // In the playbook's order.
        playbook
            .routines
            .iter()
            .filter_map(|key| found.remove(key.as_str()))
            .collect()
    }

    /// The people of the units, and those who hold a role the playbook's tasks name
    /// for one of the units or for the whole organisation, each counted once.
    fn people_of(&self, playbook: &Playbook, units: &[UnitId]) -> usize {
        let mut people: BTreeSet<PersonId> = units
            .iter()
            .flat_map(|unit| self.people_by_unit.get(&unit.0).into_iter().flatten())
            .map(|person| PersonId(*person))
            .collect();
        for task in &playbook.tasks {
            for (for_unit, person) in self
                .role_holders
                .get(task.role.as_str())
                .into_iter()
                .flatten()
            {
                if for_unit.is_none_or(|unit| units.contains(&UnitId(unit))) {
                    people.insert(PersonId(*person));
                }
            }
        }
        people.len()
    }
}
