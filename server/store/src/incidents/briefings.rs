//! What staff see of a sensitive incident in their unit that they are not cleared to
//! read: the crisis log entries and tasks written at a level they may read (an
//! instruction to all staff, say, inside a cyberattack incident), with the incident's
//! state but not its title or description.

use super::rows::locate_many;
use super::visibility::{in_reach, units_to_look_up};
use crate::entities::{crisis_log_entries, incidents, tasks};
use crate::subtree::Subtrees;
use crate::{Result, Store};
use reserv_domain::access::{Action, Principal};
use reserv_domain::classification::Confidentiality;
use reserv_domain::ids::IncidentId;
use reserv_domain::incidents::{IncidentState, LogEntry, Task};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use std::collections::BTreeMap;

/// The parts of one incident that a reader below its level may see.
#[derive(Debug, Clone)]
pub struct Briefing {
    pub incident_id: IncidentId,
    pub state: IncidentState,
    pub exercise: bool,
    /// The incident's level, which the reader is not cleared for.
    pub confidentiality: Confidentiality,
    pub entries: Vec<LogEntry>,
    pub tasks: Vec<Task>,
}

impl Store {
    /// The briefings of the incidents affecting the reader's units that she may not read
    /// in full, oldest incident first; closed ones only with `include_closed`. An
    /// incident with nothing at her level is left out, so that she learns nothing of it.
    /// Reads of entries or tasks at a level whose reads are audited are recorded, once
    /// per incident.
    pub async fn briefings(&self, who: &Principal, include_closed: bool) -> Result<Vec<Briefing>> {
        if !who.may_somewhere(Action::ReadIncidents) {
            return Ok(Vec::new());
        }
        let subtrees = Subtrees::of(&self.db, &units_to_look_up(who, None)).await?;
        let mut candidates = incidents::Entity::find()
            .select_only()
            .column(incidents::Column::Id)
            .filter(in_reach(who, &subtrees));
        if !include_closed {
            candidates =
                candidates.filter(incidents::Column::State.ne(IncidentState::Closed.as_str()));
        }
        let candidates: Vec<IncidentId> = candidates
            .into_tuple::<i64>()
            .all(&self.db)
            .await?
            .into_iter()
            .map(IncidentId)
            .collect();
        let mut below: BTreeMap<IncidentId, (Confidentiality, Briefing)> = BTreeMap::new();
        for (id, located) in locate_many(&self.db, &candidates).await? {
            let level = located.incident.classification.confidentiality;
            let clearance = who.clearance_in(Action::ReadIncidents, located.scope());
            if clearance >= level || !who.may(Action::ReadIncidents, located.scope()) {
                continue;
            }
            let briefing = Briefing {
                incident_id: id,
                state: located.incident.state,
                exercise: located.incident.exercise,
                confidentiality: level,
                entries: Vec::new(),
                tasks: Vec::new(),
            };
            below.insert(id, (clearance, briefing));
        }
        if below.is_empty() {
            return Ok(Vec::new());
        }
        let ids: Vec<i64> = below.keys().map(|id| id.0).collect();
        let highest = below
            .values()
            .map(|(clearance, _)| i16::from(clearance.level()))
            .max()
            .unwrap_or_default();
        for row in crisis_log_entries::Entity::find()
            .filter(crisis_log_entries::Column::IncidentId.is_in(ids.clone()))
            .filter(crisis_log_entries::Column::Confidentiality.lte(highest))
            .order_by_asc(crisis_log_entries::Column::OccurredAt)
            .order_by_asc(crisis_log_entries::Column::Id)
            .all(&self.db)
            .await?
        {
            let entry = super::log::log_entry(row)?;
            if let Some((clearance, briefing)) = below.get_mut(&entry.incident_id)
                && entry.confidentiality <= *clearance
            {
                briefing.entries.push(entry);
            }
        }
        for row in tasks::Entity::find()
            .filter(tasks::Column::IncidentId.is_in(ids))
            .filter(tasks::Column::Confidentiality.lte(highest))
            .order_by_asc(tasks::Column::Id)
            .all(&self.db)
            .await?
        {
            let task = super::tasks::task(row)?;
            if let Some((clearance, briefing)) = below.get_mut(&task.incident_id)
                && task.confidentiality <= *clearance
            {
                briefing.tasks.push(task);
            }
        }
        let mut briefings = Vec::new();
        for (id, (_, briefing)) in below {
            if briefing.entries.is_empty() && briefing.tasks.is_empty() {
                continue;
            }
            let audited = briefing
                .entries
                .iter()
                .map(|entry| entry.confidentiality)
                .chain(briefing.tasks.iter().map(|task| task.confidentiality))
                .any(Confidentiality::read_is_audited);
            if audited {
                self.record_read(who, "incident", id, "briefing").await?;
            }
            briefings.push(briefing);
        }
        Ok(briefings)
    }
}
