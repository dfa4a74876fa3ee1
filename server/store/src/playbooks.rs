//! Playbooks in use. An import stores every playbook of a folder that passed its checks
//! and replaces the list of problems; a playbook whose file is broken now keeps the
//! version it had, so the scenario can still be activated while its file is fixed.

use crate::audit::{Audit, AuditedObject};
use crate::entities::{playbook_problems, playbooks};
use crate::{Result, Store};
use chrono::{DateTime, Utc};
use reserv_domain::access::{Action, Principal, Scope};
use reserv_domain::audit::AuditAction;
use reserv_domain::incidents::IncidentKind;
use reserv_domain::notices::{Localized, PublicGuidance};
use reserv_playbooks::{FolderReport, Text};
use sea_orm::ActiveValue::{NotSet, Set};
use sea_orm::{ActiveModelTrait, EntityTrait, QueryOrder};
use std::path::Path;
use std::str::FromStr;

/// A playbook in use, as a list shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlaybookSummary {
    pub id: String,
    /// The name of the file it came from.
    pub file: String,
    pub title: Text,
    pub kind: IncidentKind,
    pub imported_at: DateTime<Utc>,
}

/// A problem the last import found, by file name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlaybookProblem {
    pub file: String,
    pub line: u64,
    pub column: u64,
    pub field: String,
    pub message: String,
    pub found_at: DateTime<Utc>,
}

/// What an import did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlaybookImport {
    /// Playbooks stored from their files as they are now.
    pub imported: Vec<String>,
    pub problems: usize,
}

impl AuditedObject for PlaybookImport {
    fn audit_id(&self) -> Option<String> {
        None
    }
}

fn localized(text: Text) -> Localized {
    Localized {
        sv: text.sv,
        en: text.en,
    }
}

/// Files are named without their folder: the folder differs between the machine that
/// checks and the server that imports.
fn file_name(path: &Path) -> String {
    path.file_name().map_or_else(
        || path.display().to_string(),
        |name| name.to_string_lossy().into_owned(),
    )
}

impl Store {
    /// Stores the playbooks of a checked folder that passed and replaces the problems
    /// with those found now, in one transaction.
    pub async fn import_playbooks(
        &self,
        who: &Principal,
        report: &FolderReport,
    ) -> Result<PlaybookImport> {
        let tx = self.begin().await?;
        let now = self.now();
        let result = async {
            who.authorize(Action::ImportPlaybooks, Scope::Organisation)?;
            for playbook in &report.playbooks {
                let row = playbooks::ActiveModel {
                    id: Set(playbook.id.clone()),
                    file: Set(file_name(&playbook.file)),
                    title_sv: Set(playbook.title.sv.clone()),
                    title_en: Set(playbook.title.en.clone()),
                    kind: Set(playbook.kind.as_str().to_owned()),
                    source: Set(playbook.source.clone()),
                    imported_at: Set(now),
                };
                if playbooks::Entity::find_by_id(playbook.id.clone())
                    .one(&tx)
                    .await?
                    .is_some()
                {
                    row.update(&tx).await?;
                } else {
                    row.insert(&tx).await?;
                }
            }
            playbook_problems::Entity::delete_many().exec(&tx).await?;
            for problem in &report.problems {
                playbook_problems::ActiveModel {
                    id: NotSet,
                    file: Set(file_name(&problem.file)),
                    line_number: Set(i64::try_from(problem.line).unwrap_or(i64::MAX)),
                    column_number: Set(i64::try_from(problem.column).unwrap_or(i64::MAX)),
                    field: Set(problem.field.clone()),
                    message: Set(problem.message.clone()),
                    found_at: Set(now),
                }
                .insert(&tx)
                .await?;
            }
            Ok(PlaybookImport {
                imported: report
                    .playbooks
                    .iter()
                    .map(|playbook| playbook.id.clone())
                    .collect(),
                problems: report.problems.len(),
            })
        }
        .await;
        self.finish(
            tx,
            who,
            Audit::new(AuditAction::Import, "playbooks"),
            result,
        )
        .await
    }

    /// The public advice of every playbook in use that has some, by scenario title.
    /// Needs no principal: the playbook format makes `public_guidance` public text.
    pub async fn public_guidance(&self) -> Result<Vec<PublicGuidance>> {
        let rows = playbooks::Entity::find()
            .order_by_asc(playbooks::Column::TitleSv)
            .all(&self.db)
            .await?;
        Ok(rows
            .iter()
            .filter_map(|row| {
                // A stored playbook that no longer reads is reported by the import and
                // by activation; the public page just goes without its advice.
                let playbook =
                    reserv_playbooks::check_source(Path::new(&row.file), &row.source, None).ok()?;
                let advice = playbook.public_guidance?;
                Some(PublicGuidance {
                    scenario: localized(playbook.title),
                    advice: localized(advice),
                })
            })
            .collect())
    }

    /// The playbooks in use, by id.
    pub async fn playbooks(&self, who: &Principal) -> Result<Vec<PlaybookSummary>> {
        who.authorize_somewhere(Action::ReadPlaybooks)?;
        playbooks::Entity::find()
            .order_by_asc(playbooks::Column::Id)
            .all(&self.db)
            .await?
            .into_iter()
            .map(|row| {
                Ok(PlaybookSummary {
                    kind: IncidentKind::from_str(&row.kind)?,
                    id: row.id,
                    file: row.file,
                    title: Text {
                        sv: row.title_sv,
                        en: row.title_en,
                    },
                    imported_at: row.imported_at,
                })
            })
            .collect()
    }

    /// What the last import found wrong, by file and place.
    pub async fn playbook_problems(&self, who: &Principal) -> Result<Vec<PlaybookProblem>> {
        who.authorize_somewhere(Action::ReadPlaybooks)?;
        Ok(playbook_problems::Entity::find()
            .order_by_asc(playbook_problems::Column::File)
            .order_by_asc(playbook_problems::Column::LineNumber)
            .order_by_asc(playbook_problems::Column::Id)
            .all(&self.db)
            .await?
            .into_iter()
            .map(|row| PlaybookProblem {
                file: row.file,
                line: u64::try_from(row.line_number).unwrap_or_default(),
                column: u64::try_from(row.column_number).unwrap_or_default(),
                field: row.field,
                message: row.message,
                found_at: row.found_at,
            })
            .collect())
    }
}
