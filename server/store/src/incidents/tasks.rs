//! The tasks of an incident's response: created by the crisis staff, worked on by the
//! people they are assigned to.

use super::rows::locate_many;
use super::visibility::part_clearances;
use super::{Located, locate, open_managed_incident, touch_open_incident};
use crate::audit::{Audit, AuditedObject, Change};
use crate::convert;
use crate::directory::ensure_person_exists;
use crate::entities::tasks;
use crate::per_key::{PerKey, answer_for};
use crate::{Result, Store};
use reserv_domain::DomainError;
use reserv_domain::access::{Action, Principal};
use reserv_domain::audit::AuditAction;
use reserv_domain::ids::{IncidentId, PersonId, TaskId};
use reserv_domain::incidents::{
    IncidentChange, NewTask, Task, TaskState, ensure_open, part_confidentiality,
};
use sea_orm::ActiveValue::{NotSet, Set};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, IntoActiveModel, QueryFilter,
    QueryOrder,
};
use std::collections::HashMap;

impl AuditedObject for Task {
    fn audit_id(&self) -> Option<String> {
        Some(self.id.to_string())
    }
}

impl Store {
    /// Adds a task to an open incident, assigned to a person, a role, or nobody yet.
    pub async fn create_task(
        &self,
        who: &Principal,
        incident_id: IncidentId,
        request: NewTask,
    ) -> Result<Task> {
        let mut change = self.change().await?;
        let result = self
            .create_task_in(&mut change, who, incident_id, request)
            .await;
        self.conclude(change, who, Audit::new(AuditAction::Create, "task"), result)
            .await
    }

    /// [`Store::create_task`] as part of a larger change.
    pub(crate) async fn create_task_in(
        &self,
        change: &mut Change,
        who: &Principal,
        incident_id: IncidentId,
        request: NewTask,
    ) -> Result<Task> {
        let mut created = self
            .create_tasks_in(change, who, incident_id, vec![request])
            .await?;
        created
            .pop()
            .ok_or_else(|| DomainError::not_found("task", incident_id).into())
    }

    /// Adds several tasks to one open incident as part of a larger change, with the
    /// checks and events of [`Store::create_task`] for each; the incident is read,
    /// checked and touched once, and each assignee looked up once.
    pub(crate) async fn create_tasks_in(
        &self,
        change: &mut Change,
        who: &Principal,
        incident_id: IncidentId,
        requests: Vec<NewTask>,
    ) -> Result<Vec<Task>> {
        let tx = change.tx();
        let incident = open_managed_incident(tx, who, incident_id).await?;
        let requests = requests
            .into_iter()
            .map(NewTask::validate)
            .collect::<std::result::Result<Vec<_>, _>>()?;
        let mut assignees: Vec<PersonId> = requests
            .iter()
            .filter_map(|request| request.assignee_id)
            .collect();
        assignees.sort_unstable_by_key(|id| id.0);
        assignees.dedup();
        for assignee in assignees {
            ensure_person_exists(tx, Some(assignee), "assigneeId").await?;
        }
        let now = self.now();
        let ceiling = incident.incident.classification.confidentiality;
        let mut created = Vec::with_capacity(requests.len());
        for request in requests {
            let confidentiality = part_confidentiality(request.confidentiality, ceiling)?;
            let row = tasks::ActiveModel {
                id: NotSet,
                incident_id: Set(incident_id.0),
                title: Set(request.title),
                assignee_id: Set(request.assignee_id.map(|id| id.0)),
                assignee_role: Set(request.assignee_role.map(|role| role.as_str().to_owned())),
                due_at: Set(request.due_at),
                state: Set(TaskState::Open.as_str().to_owned()),
                // A task belongs to its incident's world: every task of an exercise is
                // an exercise task, whoever creates it and however.
                exercise: Set(incident.incident.exercise),
                created_at: Set(now),
                updated_at: Set(now),
                confidentiality: Set(i16::from(confidentiality.level())),
            }
            .insert(tx)
            .await?;
            created.push(task(row)?);
        }
        touch_open_incident(tx, incident_id, now).await?;
        for task in &created {
            change.audited(self, who, &Audit::new(AuditAction::Create, "task"), task);
            change.announce(IncidentChange::TaskChanged { task: task.clone() });
        }
        Ok(created)
    }

    /// Moves a task on. The crisis staff may change any task; anyone may change the
    /// tasks assigned to them, wherever their own units are, because the assignment is
    /// what makes the task theirs.
    pub async fn change_task_state(
        &self,
        who: &Principal,
        id: TaskId,
        state: TaskState,
    ) -> Result<Task> {
        let tx = self.begin().await?;
        let result = async {
            let may_update_own = who.may_somewhere(Action::UpdateOwnTasks);
            if !may_update_own {
                who.authorize_somewhere(Action::ManageIncidents)?;
            }
            let current = find_task(&tx, id).await?;
            let incident = locate(&tx, IncidentId(current.incident_id)).await?;
            authorize_task_change(who, &current, &incident, may_update_own)?;
            ensure_open(incident.incident.state)?;
            let previous: TaskState = convert::stored(&current.state, "tasks.state")?;
            let next = previous.transition_to(state)?;
            let now = self.now();
            let mut row = current.into_active_model();
            row.state = Set(next.as_str().to_owned());
            row.updated_at = Set(now);
            // Only if nobody changed the state meanwhile: finished tasks stay finished.
            let updated = tasks::Entity::update_many()
                .set(row)
                .filter(tasks::Column::Id.eq(id.0))
                .filter(tasks::Column::State.eq(previous.as_str()))
                .exec(&tx)
                .await?;
            if updated.rows_affected == 0 {
                return Err(DomainError::conflict(
                    "The task was changed by someone else meanwhile; reload it and try again",
                )
                .into());
            }
            touch_open_incident(&tx, incident.incident.id, now).await?;
            task(find_task(&tx, id).await?)
        }
        .await;
        let task = self
            .finish(
                tx,
                who,
                Audit::new(AuditAction::ChangeState, "task").on(id),
                result,
            )
            .await?;
        self.publish(IncidentChange::TaskChanged { task: task.clone() });
        Ok(task)
    }

    /// The incident's tasks in the order they were created.
    pub async fn tasks(&self, who: &Principal, incident_id: IncidentId) -> Result<Vec<Task>> {
        answer_for(
            self.task_lists(who, &[incident_id]).await?,
            incident_id,
            "incident",
        )
    }

    /// The tasks of several incidents in one query, each as [`Store::tasks`].
    pub async fn task_lists(
        &self,
        who: &Principal,
        incident_ids: &[IncidentId],
    ) -> Result<PerKey<IncidentId, Vec<Task>>> {
        let readable = self
            .readable_incidents(who, incident_ids, "incident_tasks")
            .await?;
        let clearances = part_clearances(who, &readable);
        let mut lists: HashMap<IncidentId, Vec<Task>> = HashMap::new();
        for row in tasks::Entity::find()
            .filter(
                tasks::Column::IncidentId.is_in(
                    readable
                        .iter()
                        .filter(|(_, answer)| answer.is_ok())
                        .map(|(id, _)| id.0),
                ),
            )
            .order_by_asc(tasks::Column::Id)
            .all(&self.db)
            .await?
        {
            let task = task(row)?;
            if clearances.get(&task.incident_id) >= Some(&task.confidentiality) {
                lists.entry(task.incident_id).or_default().push(task);
            }
        }
        Ok(readable
            .into_iter()
            .map(|(id, answer)| (id, answer.map(|_| lists.remove(&id).unwrap_or_default())))
            .collect())
    }

    /// The unfinished tasks assigned to the signed-in person, across all incidents,
    /// oldest first. Empty for an account that is not linked to a person. A task shows
    /// when its own level is one she may read where the incident is, or is no more than
    /// internal (see `assignment_clearance`): the assignment is her need to know, and a
    /// task's title can say what a sensitive incident is about.
    pub async fn my_tasks(&self, who: &Principal) -> Result<Vec<Task>> {
        let Some(person) = who.person_id else {
            return Ok(Vec::new());
        };
        let assigned: Vec<Task> = tasks::Entity::find()
            .filter(tasks::Column::AssigneeId.eq(person.0))
            .filter(
                tasks::Column::State
                    .is_in([TaskState::Open.as_str(), TaskState::InProgress.as_str()]),
            )
            .order_by_asc(tasks::Column::Id)
            .all(&self.db)
            .await?
            .into_iter()
            .map(task)
            .collect::<Result<_>>()?;
        let mut incident_ids: Vec<IncidentId> =
            assigned.iter().map(|task| task.incident_id).collect();
        incident_ids.sort_unstable_by_key(|id| id.0);
        incident_ids.dedup();
        let incidents = locate_many(&self.db, &incident_ids).await?;
        let by_assignment = who.assignment_clearance();
        Ok(assigned
            .into_iter()
            .filter(|task| {
                let in_place = incidents
                    .get(&task.incident_id)
                    .map(|located| who.clearance_in(Action::ReadIncidents, located.scope()));
                in_place.unwrap_or(by_assignment).max(by_assignment) >= task.confidentiality
            })
            .collect())
    }
}

fn authorize_task_change(
    who: &Principal,
    task: &tasks::Model,
    incident: &Located,
    may_update_own: bool,
) -> Result<()> {
    let own = who
        .person_id
        .is_some_and(|person| task.assignee_id == Some(person.0));
    if own && may_update_own {
        return Ok(());
    }
    Ok(incident.authorize(who, Action::ManageIncidents)?)
}

async fn find_task(db: &impl ConnectionTrait, id: TaskId) -> Result<tasks::Model> {
    Ok(tasks::Entity::find_by_id(id.0)
        .one(db)
        .await?
        .ok_or_else(|| DomainError::not_found("task", id))?)
}

pub(super) fn task(row: tasks::Model) -> Result<Task> {
    Ok(Task {
        id: TaskId(row.id),
        incident_id: IncidentId(row.incident_id),
        state: convert::stored(&row.state, "tasks.state")?,
        assignee_id: row.assignee_id.map(PersonId),
        title: row.title,
        assignee_role: row
            .assignee_role
            .as_deref()
            .map(|role| convert::stored(role, "tasks.assignee_role"))
            .transpose()?,
        due_at: row.due_at,
        exercise: row.exercise,
        created_at: row.created_at,
        updated_at: row.updated_at,
        confidentiality: convert::confidentiality(row.confidentiality)?,
    })
}
