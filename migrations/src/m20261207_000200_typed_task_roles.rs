//! A task's `assignee_role` becomes one of the roles accounts hold (`crisis_lead`,
//! `unit_manager`, …) instead of free text, so that activation and messages can find the
//! people who hold it. The database refuses any other value (a CHECK constraint).
//!
//! Existing free text is converted where its meaning is plain: a role's own name, or
//! the Swedish title of a role ("Krisledare", "Enhetschef hemtjänst", "Kommunikatör",
//! "Undersköterska" …). Any other text ("MAS", "IT-säkerhetssamordnare") cannot be
//! guessed: the role is left empty and the text is kept at the end of the task's title
//! as "(roll: MAS)", so that nothing a crisis lead wrote is lost and the task shows who
//! was meant.
//!
//! The role names are written out here rather than taken from the domain: a migration
//! that has been released must do the same thing whatever the domain becomes.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, Statement};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// The roles a task may name, as stored.
const ROLES: &[&str] = &[
    "admin",
    "crisis_lead",
    "unit_manager",
    "care_worker",
    "communicator",
    "viewer",
];

/// The longest task title the tasks table holds, in characters.
const TITLE_MAX: usize = 300;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    /// One transaction on SQLite too: the column is swapped and the rows converted
    /// together, or not at all.
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        let allowed = ROLES
            .iter()
            .map(|role| format!("'{role}'"))
            .collect::<Vec<_>>()
            .join(", ");
        // A new column with the constraint, filled, then put in the old one's place:
        // SQLite cannot add a constraint to a column that exists.
        db.execute_unprepared(&format!(
            "ALTER TABLE tasks ADD COLUMN typed_role VARCHAR(32) NULL \
             CHECK (typed_role IS NULL OR typed_role IN ({allowed}))"
        ))
        .await?;
        let backend = manager.get_database_backend();
        let rows = db
            .query_all_raw(Statement::from_string(
                backend,
                "SELECT id, title, assignee_role FROM tasks WHERE assignee_role IS NOT NULL",
            ))
            .await?;
        for row in rows {
            let id: i64 = row.try_get("", "id")?;
            let title: String = row.try_get("", "title")?;
            let written: String = row.try_get("", "assignee_role")?;
            let mut update = Query::update();
            update.table("tasks").and_where(Expr::col("id").eq(id));
            match role_named(&written) {
                Some(role) => update.value("typed_role", role),
                None if written.trim().is_empty() => continue,
                None => update.value("title", title_keeping(&title, written.trim())),
            };
            manager.exec_stmt(update).await?;
        }
        manager
            .alter_table(
                Table::alter()
                    .table("tasks")
                    .drop_column("assignee_role")
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table("tasks")
                    .rename_column("typed_role", "assignee_role")
                    .to_owned(),
            )
            .await
    }
}

/// The role free text plainly means, if any.
fn role_named(written: &str) -> Option<&'static str> {
    let text = written.trim().to_lowercase();
    if let Some(role) = ROLES.iter().find(|role| **role == text) {
        return Some(role);
    }
    let starts = |prefixes: &[&str]| prefixes.iter().any(|prefix| text.starts_with(prefix));
    if starts(&["enhetschef", "unit manager"]) {
        Some("unit_manager")
    } else if starts(&["krisledare", "krisledning", "crisis lead"]) {
        Some("crisis_lead")
    } else if starts(&["kommunikatör", "kommunikationsansvarig", "communicator"]) {
        Some("communicator")
    } else if starts(&[
        "undersköterska",
        "vårdbiträde",
        "omsorgspersonal",
        "vårdpersonal",
        "care worker",
    ]) {
        Some("care_worker")
    } else if starts(&["administratör", "systemadministratör"]) {
        Some("admin")
    } else {
        None
    }
}

/// The title with the role text that could not be converted kept at its end, shortened
/// from the title's end when both do not fit.
fn title_keeping(title: &str, written: &str) -> String {
    let kept = format!(" (roll: {written})");
    let room = TITLE_MAX.saturating_sub(kept.chars().count());
    if title.chars().count() <= room {
        return format!("{title}{kept}");
    }
    let short: String = title.chars().take(room.saturating_sub(1)).collect();
    let whole = format!("{short}…{kept}");
    whole.chars().take(TITLE_MAX).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_titles_become_roles_and_the_rest_is_kept_in_the_title() {
        assert_eq!(role_named("Enhetschef hemtjänst"), Some("unit_manager"));
        assert_eq!(role_named(" crisis_lead "), Some("crisis_lead"));
        assert_eq!(role_named("Kommunikatör"), Some("communicator"));
        assert_eq!(role_named("Undersköterska"), Some("care_worker"));
        assert_eq!(role_named("MAS"), None);
        assert_eq!(
            title_keeping("Kontrollera läkemedelslistor", "MAS"),
            "Kontrollera läkemedelslistor (roll: MAS)"
        );
        let long = "x".repeat(TITLE_MAX);
        let kept = title_keeping(&long, "IT-säkerhetssamordnare");
        assert_eq!(kept.chars().count(), TITLE_MAX);
        assert!(kept.ends_with("… (roll: IT-säkerhetssamordnare)"));
    }
}
