//! Playbooks in use, what is wrong with their files, and activating them.

pub(crate) use crate::checklists::ChecklistRunObject;
use crate::context::{parse_id, principal, store};
use crate::error::ApiResult;
use crate::incidents::{IncidentKind, IncidentObject};
use async_graphql::{Context, ID, Object, SimpleObject};
use chrono::{DateTime, Utc};
use reserv_domain::ids::{IncidentId, UnitId};
use reserv_store::{
    ActivatedPlan, Activation, ActivationRequest, PlaybookProblem, PlaybookSummary,
};

#[derive(Default)]
pub struct PlaybookQuery;

#[Object]
impl PlaybookQuery {
    /// The playbooks that can be activated, each in the last version that passed its
    /// checks, with the problems its file has now.
    async fn playbooks(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<PlaybookObject>> {
        let store = store(ctx)?;
        let who = principal(ctx)?;
        let problems = store.playbook_problems(who).await.api()?;
        let playbooks = store.playbooks(who).await.api()?;
        Ok(playbooks
            .into_iter()
            .map(|playbook| PlaybookObject {
                problems: problems
                    .iter()
                    .filter(|problem| problem.file == playbook.file)
                    .cloned()
                    .map(Into::into)
                    .collect(),
                playbook,
            })
            .collect())
    }

    /// Every problem the last import found, including files that never passed.
    async fn playbook_problems(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<Vec<PlaybookProblemObject>> {
        let problems = store(ctx)?.playbook_problems(principal(ctx)?).await.api()?;
        Ok(problems.into_iter().map(Into::into).collect())
    }
}

/// A scenario that can be activated.
pub struct PlaybookObject {
    playbook: PlaybookSummary,
    problems: Vec<PlaybookProblemObject>,
}

#[Object(name = "Playbook")]
impl PlaybookObject {
    async fn id(&self) -> &str {
        &self.playbook.id
    }
    /// In Swedish.
    async fn title(&self) -> &str {
        &self.playbook.title.sv
    }
    async fn title_en(&self) -> Option<&str> {
        self.playbook.title.en.as_deref()
    }
    async fn kind(&self) -> IncidentKind {
        self.playbook.kind.into()
    }
    /// The file the version in use came from.
    async fn file(&self) -> &str {
        &self.playbook.file
    }
    async fn imported_at(&self) -> DateTime<Utc> {
        self.playbook.imported_at
    }
    /// What is wrong with the file now; while there is anything, the version in use
    /// stays the one imported at `importedAt`.
    async fn problems(&self) -> &[PlaybookProblemObject] {
        &self.problems
    }
}

/// Something wrong in a playbook file, where it is.
#[derive(SimpleObject, Clone)]
#[graphql(name = "PlaybookProblem")]
pub struct PlaybookProblemObject {
    file: String,
    line: u64,
    column: u64,
    /// Such as `tasks[2].role`; empty when the file as a whole could not be read.
    field: String,
    message: String,
    found_at: DateTime<Utc>,
}

impl From<PlaybookProblem> for PlaybookProblemObject {
    fn from(problem: PlaybookProblem) -> Self {
        Self {
            file: problem.file,
            line: problem.line,
            column: problem.column,
            field: problem.field,
            message: problem.message,
            found_at: problem.found_at,
        }
    }
}

#[derive(Default)]
pub struct PlaybookMutation;

#[Object]
impl PlaybookMutation {
    /// Activates a playbook in one transaction: opens an incident (or joins the open one
    /// named by `incidentId`), activates the named units' approved continuity plans,
    /// creates the playbook's tasks for the people holding each crisis role, starts a
    /// checklist run per activated routine and writes a crisis log entry for each. The
    /// same `idempotencyKey` again returns the first activation and creates nothing.
    #[allow(clippy::too_many_arguments)]
    async fn activate_playbook(
        &self,
        ctx: &Context<'_>,
        playbook_id: String,
        #[graphql(default)] unit_ids: Vec<ID>,
        severity: Option<i64>,
        #[graphql(default)] exercise: bool,
        note: Option<String>,
        idempotency_key: String,
        incident_id: Option<ID>,
    ) -> async_graphql::Result<ActivationObject> {
        let unit_ids = unit_ids
            .iter()
            .map(|id| parse_id("unitIds", id).map(UnitId))
            .collect::<async_graphql::Result<Vec<_>>>()?;
        let incident_id = incident_id
            .map(|id| parse_id("incidentId", &id).map(IncidentId))
            .transpose()?;
        let activation = store(ctx)?
            .activate_playbook(
                principal(ctx)?,
                ActivationRequest {
                    playbook_id,
                    unit_ids,
                    severity,
                    exercise,
                    note,
                    idempotency_key,
                    incident_id,
                },
            )
            .await
            .api()?;
        Ok(ActivationObject(activation))
    }
}

/// What an activation did.
pub struct ActivationObject(Activation);

#[Object(name = "Activation")]
impl ActivationObject {
    async fn id(&self) -> ID {
        self.0.id.into()
    }
    async fn playbook_id(&self) -> &str {
        &self.0.playbook_id
    }
    async fn incident(&self, ctx: &Context<'_>) -> async_graphql::Result<IncidentObject> {
        let incident = store(ctx)?
            .incident(principal(ctx)?, self.0.incident_id)
            .await
            .api()?;
        Ok(IncidentObject(incident))
    }
    async fn exercise(&self) -> bool {
        self.0.exercise
    }
    async fn activated_at(&self) -> DateTime<Utc> {
        self.0.activated_at
    }
    async fn activated_plans(&self) -> Vec<ActivatedPlanObject> {
        self.0
            .plans
            .iter()
            .cloned()
            .map(ActivatedPlanObject)
            .collect()
    }
    async fn checklist_runs(&self) -> Vec<ChecklistRunObject> {
        self.0
            .runs
            .iter()
            .cloned()
            .map(ChecklistRunObject)
            .collect()
    }
    /// How many tasks this call created: none when it returned an earlier activation.
    async fn tasks_created(&self) -> usize {
        self.0.tasks_created
    }
    /// How many message drafts this call prepared: none when it returned an earlier
    /// activation.
    async fn drafts_created(&self) -> usize {
        self.0.drafts_created
    }
    /// Whether this is the earlier activation with the same idempotency key.
    async fn replayed(&self) -> bool {
        self.0.replayed
    }
}

/// A unit's approved continuity plan version, activated for an incident.
pub struct ActivatedPlanObject(pub ActivatedPlan);

#[Object(name = "ActivatedPlan")]
impl ActivatedPlanObject {
    async fn unit_id(&self) -> ID {
        self.0.unit_id.0.into()
    }
    async fn plan_version_id(&self) -> ID {
        self.0.version_id.0.into()
    }
    async fn exercise(&self) -> bool {
        self.0.exercise
    }
    async fn activated_at(&self) -> DateTime<Utc> {
        self.0.activated_at
    }
}
