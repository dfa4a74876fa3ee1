//! Replaying the demo's past incident event by event, with the store's clock set to the
//! time of each event, so that its record reads as it was written at the time.

use super::data_set::{DemoIncident, DemoNotice};
use super::load::{Loader, lookup};
use anyhow::{Context, bail};
use chrono::{DateTime, Duration, Utc};
use reserv_domain::Clock;
use reserv_domain::access::Principal;
use reserv_domain::classification::{Classification, Confidentiality};
use reserv_domain::ids::{IncidentId, LogEntryId, NoticeId};
use reserv_domain::incidents::{
    IncidentState, LogEntryKind, NewIncident, NewLogEntry, NewTask, TaskState,
};
use reserv_domain::notices::{HotlineDraft, NoticeDraft};
use reserv_store::Store;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// A clock the loader sets to the time of each past event it replays.
#[derive(Debug)]
struct ReplayClock(Mutex<DateTime<Utc>>);

impl ReplayClock {
    fn set(&self, time: DateTime<Utc>) {
        match self.0.lock() {
            Ok(mut now) => *now = time,
            Err(poisoned) => *poisoned.into_inner() = time,
        }
    }
}

impl Clock for ReplayClock {
    fn now(&self) -> DateTime<Utc> {
        match self.0.lock() {
            Ok(now) => *now,
            Err(poisoned) => *poisoned.into_inner(),
        }
    }
}

impl Loader<'_> {
    /// Replays a past incident event by event, with the store's clock set to each
    /// event's time, so that its record reads as it was written at the time.
    pub(super) async fn load_incident(&self, incident: DemoIncident) -> anyhow::Result<()> {
        let clock = Arc::new(ReplayClock(Mutex::new(incident.reported_at)));
        let store = self.store.with_clock(clock.clone());
        let mut principals: HashMap<String, Principal> = HashMap::new();
        for username in std::iter::once(&incident.reported_by)
            .chain(incident.log.iter().map(|entry| &entry.author))
            .chain(incident.notices.iter().map(|notice| &notice.author))
        {
            if !principals.contains_key(username) {
                let principal = store
                    .principal_by_username(&self.operator, username)
                    .await?;
                principals.insert(username.clone(), principal);
            }
        }
        let reporter = lookup_principal(&principals, &incident.reported_by)?;
        let reported = store
            .report_incident(
                reporter,
                NewIncident {
                    title: incident.title,
                    description: incident.description,
                    kind: incident.kind,
                    severity: incident.severity,
                    exercise: incident.exercise,
                    classification: Classification::new(
                        incident.confidentiality,
                        incident.integrity,
                        incident.availability,
                    )?
                    .with_traceability(incident.traceability)?,
                    unit_ids: incident
                        .units
                        .iter()
                        .map(|key| lookup(&self.units, "unit", key))
                        .collect::<anyhow::Result<_>>()?,
                    system_ids: incident
                        .systems
                        .iter()
                        .map(|key| lookup(&self.systems, "IT system", key))
                        .collect::<anyhow::Result<_>>()?,
                },
            )
            .await?;
        let id = reported.id;
        let lead = &self.operator;

        // The response, in time order: triage, activation at the first decision, the log
        // entries, tasks, recovery once three quarters of the time had passed, closure.
        let start = incident.reported_at;
        let activated = incident
            .log
            .iter()
            .find(|entry| entry.kind == LogEntryKind::Decision)
            .map_or(start + Duration::minutes(10), |entry| entry.at);
        let recovering = activated + (incident.closed_at - activated) * 3 / 4;
        let mut events: Vec<(DateTime<Utc>, Event)> = vec![
            (
                start + Duration::minutes(5),
                Event::State(IncidentState::Triaged),
            ),
            (activated, Event::State(IncidentState::Active)),
            (recovering, Event::State(IncidentState::Recovering)),
        ];
        events.extend(
            incident
                .log
                .iter()
                .enumerate()
                .map(|(index, entry)| (entry.at, Event::Log(index))),
        );
        for (index, task) in incident.tasks.iter().enumerate() {
            events.push((activated, Event::CreateTask(index)));
            if task.state != TaskState::Open {
                let finished = task
                    .due_at
                    .unwrap_or(incident.closed_at)
                    .min(incident.closed_at - Duration::minutes(1));
                events.push((finished.max(activated), Event::FinishTask(index)));
            }
        }
        events.extend(
            incident
                .notices
                .iter()
                .enumerate()
                .map(|(index, notice)| (notice.at, Event::Notice(index))),
        );
        events.sort_by_key(|(time, _)| *time);

        clock.set(start + Duration::minutes(1));
        if let Some(commander) = &incident.commander {
            store
                .assign_commander(lead, id, lookup(&self.people, "person", commander)?)
                .await?;
        }
        let mut entries: Vec<LogEntryId> = Vec::new();
        let mut tasks = Vec::new();
        let mut notice = None;
        for (time, event) in events {
            clock.set(time);
            match event {
                Event::State(state) => {
                    store.change_incident_state(lead, id, state).await?;
                }
                Event::Log(index) => {
                    let entry = &incident.log[index];
                    let corrects = match entry.corrects {
                        Some(position) => Some(
                            *entries
                                .get(position.wrapping_sub(1))
                                .with_context(|| format!("log entry {} corrects entry {position}, which does not come before it", index + 1))?,
                        ),
                        None => None,
                    };
                    let written = store
                        .add_log_entry(
                            lookup_principal(&principals, &entry.author)?,
                            id,
                            NewLogEntry {
                                kind: entry.kind,
                                text: entry.text.clone(),
                                occurred_at: Some(entry.at),
                                corrects,
                                confidentiality: entry
                                    .confidentiality
                                    .map(Confidentiality::try_from)
                                    .transpose()?,
                            },
                        )
                        .await
                        .with_context(|| format!("log entry {}", index + 1))?;
                    entries.push(written.id);
                }
                Event::CreateTask(index) => {
                    let task = &incident.tasks[index];
                    let created = store
                        .create_task(
                            lead,
                            id,
                            NewTask {
                                title: task.title.clone(),
                                assignee_id: task
                                    .assignee
                                    .as_deref()
                                    .map(|key| lookup(&self.people, "person", key))
                                    .transpose()?,
                                assignee_role: task.assignee_role,
                                due_at: task.due_at,
                                confidentiality: task
                                    .confidentiality
                                    .map(Confidentiality::try_from)
                                    .transpose()?,
                            },
                        )
                        .await?;
                    tasks.push((index, created.id));
                }
                Event::Notice(index) => {
                    let revision = &incident.notices[index];
                    let author = lookup_principal(&principals, &revision.author)?;
                    notice = Some(
                        self.replay_notice(&store, author, id, notice, revision)
                            .await
                            .with_context(|| format!("notice revision {}", index + 1))?,
                    );
                }
                Event::FinishTask(index) => {
                    if let Some((_, task_id)) = tasks.iter().find(|(created, _)| *created == index)
                    {
                        store
                            .change_task_state(lead, *task_id, incident.tasks[index].state)
                            .await?;
                    }
                }
            }
        }
        clock.set(incident.closed_at);
        store
            .change_incident_state(lead, id, IncidentState::Closed)
            .await?;
        Ok(())
    }

    /// Publishes the incident's notice, changes it or withdraws it, as `revision` says.
    async fn replay_notice(
        &self,
        store: &Store,
        author: &Principal,
        incident: IncidentId,
        published: Option<NoticeId>,
        revision: &DemoNotice,
    ) -> anyhow::Result<NoticeId> {
        let draft = || -> anyhow::Result<NoticeDraft> {
            Ok(NoticeDraft {
                confidentiality: 0,
                headline: revision.headline.clone().context("headline is missing")?,
                body: revision.body.clone().context("body is missing")?,
                services: revision.services.clone(),
                hotlines: revision
                    .hotlines
                    .iter()
                    .map(|hotline| HotlineDraft {
                        name: hotline.name.clone(),
                        phone: hotline.phone.clone(),
                        opening_hours: hotline.opening_hours.clone(),
                    })
                    .collect(),
                valid_from: None,
                valid_to: None,
                incident_id: Some(incident),
            })
        };
        let notice = match (published, revision.withdrawn) {
            (None, true) => bail!("a notice cannot be withdrawn before it is published"),
            (None, false) => store.publish_notice(author, draft()?).await?,
            (Some(id), false) => store.update_notice(author, id, draft()?).await?,
            (Some(id), true) => store.withdraw_notice(author, id).await?,
        };
        Ok(notice.id)
    }
}

enum Event {
    State(IncidentState),
    Log(usize),
    Notice(usize),
    CreateTask(usize),
    FinishTask(usize),
}

fn lookup_principal<'p>(
    principals: &'p HashMap<String, Principal>,
    username: &str,
) -> anyhow::Result<&'p Principal> {
    principals
        .get(username)
        .with_context(|| format!("the account '{username}' is not defined in the demo data"))
}
