//! Incidents: reporting one, the state machine, the units and IT systems it affects, and
//! which incidents a person may see.
//!
//! An incident's scope is the set of units it affects: unit managers and care workers see
//! and act on incidents that touch their units, organisation-wide roles on all of them.
//! An incident that names no unit belongs to the whole organisation. Every change runs in
//! one transaction with its audit event and is announced to subscribers only after it is
//! committed, so that nobody is told about a change that was rolled back.

mod briefings;
pub(crate) mod log;
pub(crate) mod rows;
mod tasks;
#[cfg(test)]
mod tests;
mod visibility;

use crate::audit::{Audit, AuditedObject, Change, split_detail};
use crate::directory::{ensure_person_exists, ensure_units_exist, unit_paths};
use crate::entities::incidents;
use crate::page::{PageRequest, fetch_page};
use crate::per_key::{PerKey, answer_each, answer_for};
use crate::subtree::Subtrees;
use crate::{Page, Result, Store};
pub use briefings::Briefing;
use reserv_domain::DomainError;
use reserv_domain::access::{Action, Principal, Scope};
use reserv_domain::audit::AuditAction;
use reserv_domain::checklists::ensure_may_close;
use reserv_domain::classification::{Classification, lowering_detail};
use reserv_domain::ids::{IncidentId, PersonId, SystemId, UnitId};
use reserv_domain::incidents::{
    ClientWriteId, Incident, IncidentChange, IncidentState, LogEntryKind, NewIncident, NewLogEntry,
    Severity,
};
use rows::{
    ensure_systems_exist, incident, links, locate, locate_many, managed_incident,
    open_managed_incident, replace_systems, replace_units, save, sorted, touch_open_incident,
};
use sea_orm::ActiveValue::{NotSet, Set};
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, IntoActiveModel, QueryFilter};
use visibility::{Located, affecting_subtree, readable_by, scope_of, units_to_look_up};

/// Which incidents to list. Empty or `None` fields do not filter.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IncidentFilter {
    /// Incidents in any of these states.
    pub states: Vec<IncidentState>,
    /// Incidents affecting this unit or a unit below it.
    pub unit_id: Option<UnitId>,
    /// Incidents at least this severe (level 1 is the most severe).
    pub severity_at_least: Option<Severity>,
    /// Only exercises (`true`) or only real incidents (`false`).
    pub exercise: Option<bool>,
}

/// Changes to an incident's details; `None` leaves a field as it is.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IncidentEdit {
    pub title: Option<String>,
    /// `Some(None)` removes the description.
    pub description: Option<Option<String>>,
    pub severity: Option<i64>,
    pub classification: Option<Classification>,
    /// Why the confidentiality is lowered, when it is.
    pub lowering_reason: Option<String>,
}

impl AuditedObject for Incident {
    fn audit_id(&self) -> Option<String> {
        Some(self.id.to_string())
    }
}

impl Store {
    /// Records a new incident in the state `reported`.
    pub async fn report_incident(&self, who: &Principal, request: NewIncident) -> Result<Incident> {
        let mut change = self.change().await?;
        let result = self
            .report_incident_in(&mut change, who, request, None)
            .await;
        self.conclude(
            change,
            who,
            Audit::new(AuditAction::Report, "incident"),
            result,
        )
        .await
    }

    /// Reports an incident at most once per `client_id` and reporter: a phone resending
    /// a report it made offline gets the first incident back and changes nothing.
    pub async fn report_incident_once(
        &self,
        who: &Principal,
        request: NewIncident,
        client_id: ClientWriteId,
    ) -> Result<Incident> {
        if let Some(first) = self.reported_with(who, &client_id).await? {
            return Ok(first);
        }
        let mut change = self.change().await?;
        let result = self
            .report_incident_in(&mut change, who, request, Some(&client_id))
            .await;
        let result = self
            .conclude(
                change,
                who,
                Audit::new(AuditAction::Report, "incident"),
                result,
            )
            .await;
        match result {
            // Two resends raced: the other one's report stands.
            Err(error) if error.is_unique_violation() => {
                self.reported_with(who, &client_id).await?.ok_or(error)
            }
            other => other,
        }
    }

    /// The incident the caller reported with `client_id`, if any.
    async fn reported_with(
        &self,
        who: &Principal,
        client_id: &ClientWriteId,
    ) -> Result<Option<Incident>> {
        let Some(row) = incidents::Entity::find()
            .filter(incidents::Column::ReportedBy.eq(reporter(who)))
            .filter(incidents::Column::ClientId.eq(client_id.as_str()))
            .one(&self.db)
            .await?
        else {
            return Ok(None);
        };
        self.incident(who, IncidentId(row.id)).await.map(Some)
    }

    /// [`Store::report_incident`] as part of a larger change.
    pub(crate) async fn report_incident_in(
        &self,
        change: &mut Change,
        who: &Principal,
        request: NewIncident,
        client_id: Option<&ClientWriteId>,
    ) -> Result<Incident> {
        let tx = change.tx();
        let incident = async {
            who.authorize_somewhere(Action::ReportIncident)?;
            let request = request.validate()?;
            ensure_units_exist(tx, &request.unit_ids).await?;
            ensure_systems_exist(tx, &request.system_ids).await?;
            // A unit-scoped reporter may only report incidents that touch their units.
            let paths = unit_paths(tx, &request.unit_ids).await?;
            if paths.is_empty() && !who.may(Action::ReportIncident, Scope::Organisation) {
                return Err(DomainError::validation(
                    "unitIds",
                    "name one of your units: staff of a unit report incidents for the units they work in",
                )
                .into());
            }
            who.authorize(Action::ReportIncident, scope_of(&paths))?;
            let now = self.now();
            let row = incidents::ActiveModel {
                id: NotSet,
                title: Set(request.title),
                description: Set(request.description),
                kind: Set(request.kind.as_str().to_owned()),
                severity: Set(request.severity.level().into()),
                state: Set(IncidentState::Reported.as_str().to_owned()),
                commander_id: Set(None),
                exercise: Set(request.exercise),
                confidentiality: Set(request.classification.confidentiality.level().into()),
                integrity: Set(request.classification.integrity.into()),
                availability: Set(request.classification.availability.into()),
                traceability: Set(request.classification.traceability.map(i16::from)),
                reported_at: Set(now),
                reported_by: Set(Some(reporter(who))),
                closed_at: Set(None),
                updated_at: Set(now),
                client_id: Set(client_id.map(|id| id.as_str().to_owned())),
            }
            .insert(tx)
            .await?;
            replace_units(tx, row.id, &request.unit_ids).await?;
            replace_systems(tx, row.id, &request.system_ids).await?;
            incident(row, request.unit_ids, request.system_ids)
        }
        .await?;
        change.audited(
            self,
            who,
            &Audit::new(AuditAction::Report, "incident"),
            &incident,
        );
        change.announce(IncidentChange::Reported {
            incident: Box::new(incident.clone()),
        });
        Ok(incident)
    }

    /// Incidents the reader may see, ordered by id. Incidents outside the reader's units
    /// or above their clearance there are left out, as if they did not exist.
    pub async fn incidents(
        &self,
        who: &Principal,
        filter: IncidentFilter,
        page: PageRequest,
    ) -> Result<Page<Incident>> {
        who.authorize_somewhere(Action::ReadIncidents)?;
        let subtrees = Subtrees::of(&self.db, &units_to_look_up(who, filter.unit_id)).await?;
        let mut select = incidents::Entity::find().filter(readable_by(who, &subtrees));
        if !filter.states.is_empty() {
            select = select.filter(
                incidents::Column::State.is_in(filter.states.iter().map(|state| state.as_str())),
            );
        }
        if let Some(unit) = filter.unit_id {
            select = select
                .filter(incidents::Column::Id.in_subquery(affecting_subtree(&subtrees, unit)));
        }
        if let Some(severity) = filter.severity_at_least {
            select = select.filter(incidents::Column::Severity.lte(i16::from(severity.level())));
        }
        if let Some(exercise) = filter.exercise {
            select = select.filter(incidents::Column::Exercise.eq(exercise));
        }
        let rows = fetch_page(&self.db, select, incidents::Column::Id, page, |row| row.id).await?;
        let ids: Vec<i64> = rows.items.iter().map(|(id, _)| *id).collect();
        let (mut units, mut systems) = links(&self.db, &ids).await?;
        let listed = rows.try_map(|row| {
            let id = row.id;
            incident(
                row,
                units.remove(&id).unwrap_or_default(),
                systems.remove(&id).unwrap_or_default(),
            )
        })?;
        for (_, found) in &listed.items {
            if found.classification.confidentiality.read_is_audited() {
                self.record_read(who, "incident", found.id, "incident")
                    .await?;
            }
        }
        Ok(listed)
    }

    pub async fn incident(&self, who: &Principal, id: IncidentId) -> Result<Incident> {
        let found = self.readable_incident(who, id, "incident").await?;
        Ok(found.incident)
    }

    /// Moves the incident along its life cycle; closing it stamps `closed_at`. Moving to
    /// recovering opens the recovery checklist runs. Closing while a recovery run has
    /// unticked steps takes a `reason`, which is written to the crisis log; without one
    /// the refusal names each unit and routine still open.
    pub async fn change_incident_state(
        &self,
        who: &Principal,
        id: IncidentId,
        state: IncidentState,
    ) -> Result<Incident> {
        self.change_incident_state_for(who, id, state, None).await
    }

    /// [`Store::change_incident_state`] with the reason for the change, which is logged;
    /// closing with recovery steps left needs one.
    pub async fn change_incident_state_for(
        &self,
        who: &Principal,
        id: IncidentId,
        state: IncidentState,
        reason: Option<String>,
    ) -> Result<Incident> {
        let mut change = self.change().await?;
        let result = self
            .change_incident_state_in(&mut change, who, id, state, reason)
            .await;
        self.conclude(
            change,
            who,
            Audit::new(AuditAction::ChangeState, "incident").on(id),
            result,
        )
        .await
    }

    /// [`Store::change_incident_state`] as part of a larger change.
    pub(crate) async fn change_incident_state_in(
        &self,
        change: &mut Change,
        who: &Principal,
        id: IncidentId,
        state: IncidentState,
        reason: Option<String>,
    ) -> Result<Incident> {
        let current = managed_incident(change.tx(), who, id).await?;
        let next = current.incident.state.transition_to(state)?;
        match next {
            IncidentState::Recovering => {
                self.open_recovery_runs_in(change, who, id).await?;
            }
            IncidentState::Closed => {
                let open = self.open_recoveries(change.tx(), id).await?;
                let reason = ensure_may_close(&open, reason.as_deref())?;
                if let Some(reason) = reason {
                    // Written while the incident is still open: a closed log takes no entry.
                    let text = if open.is_empty() {
                        format!("Incidenten avslutas. Skäl: {reason}")
                    } else {
                        let left: Vec<String> = open
                            .iter()
                            .map(|run| format!("{}: {}", run.unit, run.routine))
                            .collect();
                        format!(
                            "Incidenten avslutas trots ej avbockade återställningssteg ({}). Skäl: {reason}",
                            left.join("; ")
                        )
                    };
                    let entry = NewLogEntry {
                        kind: LogEntryKind::Decision,
                        text,
                        occurred_at: None,
                        corrects: None,
                        confidentiality: None,
                    };
                    self.append_log_entry_in(change, who, id, entry, None)
                        .await?;
                }
            }
            _ => {}
        }
        let now = self.now();
        let mut row = current.row.into_active_model();
        row.state = Set(next.as_str().to_owned());
        if next.is_closed() {
            row.closed_at = Set(Some(now));
        }
        let incident = save(change.tx(), current.incident.state, row, now).await?;
        incident_changed_in(self, change, who, AuditAction::ChangeState, incident)
    }

    /// Names the person who leads the response.
    pub async fn assign_commander(
        &self,
        who: &Principal,
        id: IncidentId,
        commander: PersonId,
    ) -> Result<Incident> {
        let tx = self.begin().await?;
        let result = async {
            let current = open_managed_incident(&tx, who, id).await?;
            ensure_person_exists(&tx, Some(commander), "commanderId").await?;
            let mut row = current.row.into_active_model();
            row.commander_id = Set(Some(commander.0));
            save(&tx, current.incident.state, row, self.now()).await
        }
        .await;
        self.finish_incident_change(
            tx,
            who,
            Audit::new(AuditAction::AssignCommander, "incident").on(id),
            result,
        )
        .await
    }

    /// Replaces the units the incident affects, which also changes who sees it.
    pub async fn set_incident_units(
        &self,
        who: &Principal,
        id: IncidentId,
        unit_ids: Vec<UnitId>,
    ) -> Result<Incident> {
        let mut change = self.change().await?;
        let result = self
            .set_incident_units_in(&mut change, who, id, unit_ids)
            .await;
        self.conclude(
            change,
            who,
            Audit::new(AuditAction::SetUnits, "incident").on(id),
            result,
        )
        .await
    }

    /// [`Store::set_incident_units`] as part of a larger change.
    pub(crate) async fn set_incident_units_in(
        &self,
        change: &mut Change,
        who: &Principal,
        id: IncidentId,
        unit_ids: Vec<UnitId>,
    ) -> Result<Incident> {
        let tx = change.tx();
        let current = open_managed_incident(tx, who, id).await?;
        let unit_ids = sorted(unit_ids);
        ensure_units_exist(tx, &unit_ids).await?;
        replace_units(tx, id.0, &unit_ids).await?;
        let state = current.incident.state;
        let incident = save(tx, state, current.row.into_active_model(), self.now()).await?;
        incident_changed_in(self, change, who, AuditAction::SetUnits, incident)
    }

    /// Replaces the IT systems the incident affects.
    pub async fn set_incident_systems(
        &self,
        who: &Principal,
        id: IncidentId,
        system_ids: Vec<SystemId>,
    ) -> Result<Incident> {
        let mut change = self.change().await?;
        let result = self
            .set_incident_systems_in(&mut change, who, id, system_ids)
            .await;
        self.conclude(
            change,
            who,
            Audit::new(AuditAction::SetSystems, "incident").on(id),
            result,
        )
        .await
    }

    /// [`Store::set_incident_systems`] as part of a larger change.
    pub(crate) async fn set_incident_systems_in(
        &self,
        change: &mut Change,
        who: &Principal,
        id: IncidentId,
        system_ids: Vec<SystemId>,
    ) -> Result<Incident> {
        let tx = change.tx();
        let current = open_managed_incident(tx, who, id).await?;
        let system_ids = sorted(system_ids);
        ensure_systems_exist(tx, &system_ids).await?;
        replace_systems(tx, id.0, &system_ids).await?;
        let state = current.incident.state;
        let incident = save(tx, state, current.row.into_active_model(), self.now()).await?;
        incident_changed_in(self, change, who, AuditAction::SetSystems, incident)
    }

    /// Changes the title, description, severity or classification of an open incident.
    pub async fn update_incident(
        &self,
        who: &Principal,
        id: IncidentId,
        edit: IncidentEdit,
    ) -> Result<Incident> {
        let tx = self.begin().await?;
        let result = async {
            let current = open_managed_incident(&tx, who, id).await?;
            let old = &current.incident;
            // The edited incident must pass the same rules as a new report.
            let valid = NewIncident {
                title: edit.title.unwrap_or_else(|| old.title.clone()),
                description: edit.description.unwrap_or_else(|| old.description.clone()),
                kind: old.kind,
                severity: edit.severity.unwrap_or(i64::from(old.severity.level())),
                exercise: old.exercise,
                classification: edit.classification.unwrap_or(old.classification),
                unit_ids: Vec::new(),
                system_ids: Vec::new(),
            }
            .validate()?;
            let lowered = lowering_detail(
                old.classification.confidentiality,
                valid.classification.confidentiality,
                edit.lowering_reason.as_deref(),
            )?;
            let state = old.state;
            let mut row = current.row.into_active_model();
            row.title = Set(valid.title);
            row.description = Set(valid.description);
            row.severity = Set(valid.severity.level().into());
            row.confidentiality = Set(valid.classification.confidentiality.level().into());
            row.integrity = Set(valid.classification.integrity.into());
            row.availability = Set(valid.classification.availability.into());
            row.traceability = Set(valid.classification.traceability.map(i16::from));
            Ok((save(&tx, state, row, self.now()).await?, lowered))
        }
        .await;
        let (result, lowered) = split_detail(result);
        let audit = Audit::new(AuditAction::Update, "incident")
            .on(id)
            .with_detail(lowered);
        self.finish_incident_change(tx, who, audit, result).await
    }

    /// Commits a change to an incident and tells subscribers about it. Every change to the
    /// incident itself is announced, not only state changes, so that open views of it stay
    /// current when the commander, units or severity change.
    async fn finish_incident_change(
        &self,
        tx: sea_orm::DatabaseTransaction,
        who: &Principal,
        audit: Audit,
        result: Result<Incident>,
    ) -> Result<Incident> {
        let incident = self.finish(tx, who, audit, result).await?;
        self.publish(IncidentChange::StateChanged {
            incident: Box::new(incident.clone()),
        });
        Ok(incident)
    }

    /// The incident, when `who` may read it; records the read when its classification
    /// requires, naming `what` was read.
    pub(crate) async fn readable_incident(
        &self,
        who: &Principal,
        id: IncidentId,
        what: &'static str,
    ) -> Result<Located> {
        answer_for(
            self.readable_incidents(who, &[id], what).await?,
            id,
            "incident",
        )
    }

    /// The incidents among `ids` that `who` may read, each answered as a read of it
    /// alone would be, with the reads recorded that their classification requires.
    pub(crate) async fn readable_incidents(
        &self,
        who: &Principal,
        ids: &[IncidentId],
        what: &'static str,
    ) -> Result<PerKey<IncidentId, Located>> {
        if let Err(refusal) = who.authorize_somewhere(Action::ReadIncidents) {
            return Ok(answer_each(ids, |_| Err(refusal.clone())));
        }
        let mut found = locate_many(&self.db, ids).await?;
        let mut answers = PerKey::new();
        for id in ids {
            let answer = found
                .remove(id)
                .ok_or_else(|| DomainError::not_found("incident", id))
                .and_then(|located| {
                    located.authorize(who, Action::ReadIncidents)?;
                    Ok(located)
                });
            if let Ok(located) = &answer
                && located
                    .incident
                    .classification
                    .confidentiality
                    .read_is_audited()
            {
                self.record_read(who, "incident", id, what).await?;
            }
            answers.insert(*id, answer);
        }
        Ok(answers)
    }

    /// Whether `who`, who may read the incident, may also see `change` of it: an entry
    /// or task written before the incident was lowered keeps its higher level.
    pub async fn may_see_change(&self, who: &Principal, change: &IncidentChange) -> Result<bool> {
        let Some(level) = change.part_confidentiality() else {
            return Ok(true);
        };
        let located = locate(&self.db, change.incident_id()).await?;
        Ok(who.clearance_in(Action::ReadIncidents, located.scope()) >= level)
    }

    /// Incidents by id, each answered as [`Store::incident`] answers for one.
    pub async fn incidents_by_id(
        &self,
        who: &Principal,
        ids: &[IncidentId],
    ) -> Result<PerKey<IncidentId, Incident>> {
        Ok(self
            .readable_incidents(who, ids, "incident")
            .await?
            .into_iter()
            .map(|(id, answer)| (id, answer.map(|located| located.incident)))
            .collect())
    }
}

/// Records a change to an incident in `change` and announces it once committed; see
/// [`Store::finish_incident_change`].
fn incident_changed_in(
    store: &Store,
    change: &mut Change,
    who: &Principal,
    action: AuditAction,
    incident: Incident,
) -> Result<Incident> {
    change.audited(store, who, &Audit::new(action, "incident"), &incident);
    change.announce(IncidentChange::StateChanged {
        incident: Box::new(incident.clone()),
    });
    Ok(incident)
}

/// Refuses to link something (such as a public notice) to an incident that does not exist
/// or that `who` may not read: nobody links to what they cannot see.
pub(crate) async fn ensure_incident_readable(
    db: &impl sea_orm::ConnectionTrait,
    who: &Principal,
    id: IncidentId,
) -> Result<()> {
    Ok(locate(db, id)
        .await?
        .authorize(who, Action::ReadIncidents)?)
}

/// The open incidents `who` may read, at confidentiality `at_most` or below, newest
/// first: what the SMS line may tell a sender (`STATUS`) and where a crisis lead's
/// `LOGG` may land. Nothing above `at_most` is read, so nothing classified is fetched.
pub(crate) async fn open_incidents_readable(
    db: &impl sea_orm::ConnectionTrait,
    who: &Principal,
    at_most: reserv_domain::classification::Confidentiality,
) -> Result<Vec<incidents::Model>> {
    use sea_orm::QueryOrder;
    let subtrees = Subtrees::of(db, &units_to_look_up(who, None)).await?;
    Ok(incidents::Entity::find()
        .filter(readable_by(who, &subtrees))
        .filter(incidents::Column::Confidentiality.lte(i16::from(at_most.level())))
        .filter(incidents::Column::State.ne(IncidentState::Closed.as_str()))
        .order_by_desc(incidents::Column::Id)
        .all(db)
        .await?)
}

/// How a reporter is recorded on their incidents.
fn reporter(who: &Principal) -> String {
    who.username.chars().take(64).collect()
}
