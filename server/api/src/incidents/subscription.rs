//! The `incidentUpdated` subscription: changes to one incident, pushed as they are
//! committed.

use super::objects::{IncidentObject, LogEntryObject, TaskObject};
use crate::checklists::ChecklistMarkObject;
use crate::context::{parse_id, principal, store};
use crate::error::ApiResult;
use async_graphql::{Context, Enum, ID, SimpleObject, Subscription};
use futures_util::{Stream, StreamExt, future};
use reserv_domain::ids::IncidentId;
use reserv_domain::incidents::{Incident, IncidentChange};
use tokio_stream::wrappers::BroadcastStream;

#[derive(Enum, Copy, Clone, Eq, PartialEq)]
pub enum IncidentUpdateKind {
    /// A new incident was reported.
    Reported,
    /// The incident itself changed: its state, commander, units, systems or details.
    StateChanged,
    LogEntryAdded,
    TaskChanged,
    /// A step of one of the incident's checklist runs was ticked, unticked or commented.
    ChecklistMarked,
}

/// One change to an incident, pushed to those watching it.
#[derive(SimpleObject)]
pub struct IncidentUpdate {
    pub kind: IncidentUpdateKind,
    /// The incident as it is after the change.
    pub incident: Option<IncidentObject>,
    pub log_entry: Option<LogEntryObject>,
    pub task: Option<TaskObject>,
    /// The mark, for CHECKLIST_MARKED; the incident's `checklistProgress` is current.
    pub checklist_mark: Option<ChecklistMarkObject>,
}

impl IncidentUpdate {
    fn new(change: IncidentChange, incident: Incident) -> Self {
        let exercise = incident.exercise;
        let incident = Some(IncidentObject(incident));
        match change {
            IncidentChange::Reported { .. } => Self {
                kind: IncidentUpdateKind::Reported,
                incident,
                log_entry: None,
                task: None,
                checklist_mark: None,
            },
            IncidentChange::StateChanged { .. } => Self {
                kind: IncidentUpdateKind::StateChanged,
                incident,
                log_entry: None,
                task: None,
                checklist_mark: None,
            },
            IncidentChange::LogEntryAdded { entry } => Self {
                kind: IncidentUpdateKind::LogEntryAdded,
                incident,
                log_entry: Some(LogEntryObject::new(entry)),
                task: None,
                checklist_mark: None,
            },
            IncidentChange::TaskChanged { task } => Self {
                kind: IncidentUpdateKind::TaskChanged,
                incident,
                log_entry: None,
                task: Some(TaskObject(task)),
                checklist_mark: None,
            },
            IncidentChange::ChecklistMarked { mark, step, .. } => Self {
                kind: IncidentUpdateKind::ChecklistMarked,
                log_entry: None,
                task: None,
                checklist_mark: Some(ChecklistMarkObject::new(mark, step, exercise)),
                incident,
            },
        }
    }
}

#[derive(Default)]
pub struct IncidentSubscription;

#[Subscription]
impl IncidentSubscription {
    /// Changes to one incident as they are committed. Fails at once when the caller may
    /// not read the incident, and ends when they lose the right to (say, when it is
    /// classified higher), since each change is read through the same access checks.
    async fn incident_updated(
        &self,
        ctx: &Context<'_>,
        id: ID,
    ) -> async_graphql::Result<impl Stream<Item = IncidentUpdate> + use<>> {
        let id = IncidentId(parse_id("id", &id)?);
        let store = store(ctx)?.clone();
        let who = principal(ctx)?.clone();
        // Subscribe before the check, so that no change between the two is missed.
        let changes = store.subscribe_incident_changes();
        store.incident(&who, id).await.api()?;
        let updates = BroadcastStream::new(changes)
            .filter_map(move |change| {
                future::ready(match change {
                    Ok(change) if change.incident_id() == id => Some(change),
                    Ok(_) => None,
                    Err(lagged) => {
                        // A watcher too slow to keep up loses changes rather than slowing
                        // everyone; its next update still carries the current incident.
                        tracing::warn!(%lagged, incident = %id, "incident subscriber fell behind");
                        None
                    }
                })
            })
            .then(move |change| {
                let (store, who) = (store.clone(), who.clone());
                // `None` ends the stream (the incident is no longer readable); `Some(None)`
                // skips a change the watcher may not see.
                async move {
                    let incident = store.incident(&who, id).await.ok()?;
                    let visible = store.may_see_change(&who, &change).await.ok()?;
                    Some(visible.then(|| IncidentUpdate::new(change, incident)))
                }
            })
            .take_while(|update| future::ready(update.is_some()))
            .filter_map(|update| future::ready(update.flatten()));
        Ok(updates)
    }

    /// Every change to the incidents the caller may read, new reports included, so that
    /// crisis leads see a report from the floor the moment it is made. Changes to
    /// incidents the caller may not read are left out.
    async fn incidents_changed(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<impl Stream<Item = IncidentUpdate> + use<>> {
        let store = store(ctx)?.clone();
        let who = principal(ctx)?.clone();
        let updates = BroadcastStream::new(store.watch_incidents(&who).api()?)
            .filter_map(|change| {
                future::ready(match change {
                    Ok(change) => Some(change),
                    Err(lagged) => {
                        tracing::warn!(%lagged, "incidents subscriber fell behind");
                        None
                    }
                })
            })
            .filter_map(move |change| {
                let (store, who) = (store.clone(), who.clone());
                async move {
                    let incident = store.incident(&who, change.incident_id()).await.ok()?;
                    if !store.may_see_change(&who, &change).await.ok()? {
                        return None;
                    }
                    Some(IncidentUpdate::new(change, incident))
                }
            });
        Ok(updates)
    }
}
