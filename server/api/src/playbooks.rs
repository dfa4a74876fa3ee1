//! Playbooks in use and what is wrong with their files.

use crate::context::{principal, store};
use crate::error::ApiResult;
use crate::incidents::IncidentKind;
use async_graphql::{Context, Object, SimpleObject};
use chrono::{DateTime, Utc};
use reserv_store::{PlaybookProblem, PlaybookSummary};

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
