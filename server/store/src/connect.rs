//! Choosing and opening the database from its URL.

use crate::{Result, StoreError};
use reserv_migrations::{Migrator, MigratorTrait};
use sea_orm::sqlx::sqlite::{SqliteJournalMode, SqliteSynchronous};
use sea_orm::{ConnectOptions, Database, DatabaseConnection};
use std::path::PathBuf;
use std::time::Duration;

/// The database kinds Reserv runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DatabaseBackend {
    Sqlite,
    Postgres,
}

/// Where the database is, parsed from a URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DatabaseLocation {
    url: String,
    backend: DatabaseBackend,
    /// For SQLite: the file, so its folder can be made and its absence reported.
    sqlite_file: Option<PathBuf>,
    create_if_missing: bool,
}

impl DatabaseLocation {
    /// The embedded default: a SQLite file that is created when missing.
    pub fn default_sqlite(file: PathBuf) -> Self {
        Self {
            url: format!("sqlite://{}?mode=rwc", file.display()),
            backend: DatabaseBackend::Sqlite,
            sqlite_file: Some(file),
            create_if_missing: true,
        }
    }

    /// Parses a URL given by the operator. An explicit SQLite URL must point at an
    /// existing file unless it says `mode=rwc`: a typo must not start an empty database.
    pub fn parse(url: &str) -> Result<Self> {
        let url = url.trim();
        if let Some(rest) = url
            .strip_prefix("sqlite://")
            .or_else(|| url.strip_prefix("sqlite:"))
        {
            let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
            if path.is_empty() || path == ":memory:" {
                return Err(StoreError::Location(
                    "database_url: an in-memory SQLite database would lose everything at exit; give a file path".into(),
                ));
            }
            return Ok(Self {
                url: url.to_owned(),
                backend: DatabaseBackend::Sqlite,
                sqlite_file: Some(PathBuf::from(path)),
                create_if_missing: query.split('&').any(|pair| pair == "mode=rwc"),
            });
        }
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            return Ok(Self {
                url: url.to_owned(),
                backend: DatabaseBackend::Postgres,
                sqlite_file: None,
                create_if_missing: false,
            });
        }
        let scheme = url.split(':').next().unwrap_or_default();
        Err(StoreError::Location(format!(
            "database_url: the scheme '{scheme}' is not supported; use sqlite://FILE or postgres://USER@HOST/DATABASE"
        )))
    }

    pub fn backend(&self) -> DatabaseBackend {
        self.backend
    }

    /// The URL with any password removed, for logs.
    pub fn redacted(&self) -> String {
        match self.url.split_once("://") {
            Some((scheme, rest)) => match rest.split_once('@') {
                Some((credentials, host)) => {
                    let user = credentials.split(':').next().unwrap_or_default();
                    format!("{scheme}://{user}@{host}")
                }
                None => self.url.clone(),
            },
            None => self.url.clone(),
        }
    }
}

pub(crate) async fn connect(location: &DatabaseLocation) -> Result<DatabaseConnection> {
    if let Some(file) = &location.sqlite_file {
        if location.create_if_missing {
            if let Some(folder) = file.parent().filter(|p| !p.as_os_str().is_empty()) {
                std::fs::create_dir_all(folder).map_err(|error| {
                    StoreError::Location(format!(
                        "database_url: cannot create the folder {}: {error}",
                        folder.display()
                    ))
                })?;
            }
        } else if !file.exists() {
            return Err(StoreError::Location(format!(
                "database_url: the SQLite file {} does not exist; add ?mode=rwc to the URL to create it",
                file.display()
            )));
        }
    }
    let mut options = ConnectOptions::new(location.url.clone());
    options
        .sqlx_logging(false)
        .connect_timeout(Duration::from_secs(10))
        .max_connections(match location.backend {
            // One writer at a time is what SQLite can do; more connections only queue.
            DatabaseBackend::Sqlite => 4,
            DatabaseBackend::Postgres => 16,
        });
    // Most of SQLite's settings belong to a connection, not to the file: every
    // connection the pool opens gets them. WAL lets readers go on while one writes;
    // NORMAL synchronisation is durable across a process crash in WAL mode.
    options.map_sqlx_sqlite_opts(|sqlite| {
        sqlite
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(5))
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
    });
    Ok(Database::connect(options).await?)
}

pub(crate) async fn migrate(db: &DatabaseConnection) -> Result<()> {
    Migrator::up(db, None).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backend_comes_from_the_scheme() {
        let sqlite = DatabaseLocation::parse("sqlite://data/reserv.db").ok();
        assert_eq!(sqlite.map(|l| l.backend()), Some(DatabaseBackend::Sqlite));
        let postgres = DatabaseLocation::parse("postgres://postgres@127.0.0.1/test").ok();
        assert_eq!(
            postgres.map(|l| l.backend()),
            Some(DatabaseBackend::Postgres)
        );
        let err = DatabaseLocation::parse("mysql://root@localhost/reserv")
            .err()
            .map(|e| e.to_string());
        assert_eq!(
            err.as_deref(),
            Some(
                "database_url: the scheme 'mysql' is not supported; use sqlite://FILE or postgres://USER@HOST/DATABASE"
            )
        );
    }

    #[test]
    fn redacts_the_password() {
        let location =
            DatabaseLocation::parse("postgres://reserv:hemligt@db.example.se/reserv").ok();
        assert_eq!(
            location.map(|l| l.redacted()).as_deref(),
            Some("postgres://reserv@db.example.se/reserv")
        );
    }

    /// Every connection of the pool, not only the first, enforces foreign keys and
    /// waits for the write lock.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn every_pooled_connection_has_the_sqlite_settings() -> Result<()> {
        use sea_orm::{ConnectionTrait, Statement, TransactionTrait};
        let dir = tempfile::tempdir().map_err(|e| StoreError::Location(e.to_string()))?;
        let location = DatabaseLocation::default_sqlite(dir.path().join("pragmas.db"));
        let db = connect(&location).await?;
        // Holding four transactions at once makes the pool open four connections.
        let mut open = vec![];
        for _ in 0..4 {
            open.push(db.begin().await?);
        }
        for tx in &open {
            for (pragma, expected) in [
                ("foreign_keys", 1),
                ("busy_timeout", 5000),
                ("synchronous", 1),
            ] {
                let row = tx
                    .query_one_raw(Statement::from_string(
                        sea_orm::DbBackend::Sqlite,
                        format!("PRAGMA {pragma}"),
                    ))
                    .await?;
                let value: i64 = row.map_or(Ok(-1), |row| row.try_get_by_index(0))?;
                assert_eq!(value, expected, "PRAGMA {pragma}");
            }
            let row = tx
                .query_one_raw(Statement::from_string(
                    sea_orm::DbBackend::Sqlite,
                    "PRAGMA journal_mode",
                ))
                .await?;
            let mode: String = row.map_or(Ok(String::new()), |row| row.try_get_by_index(0))?;
            assert_eq!(mode, "wal");
        }
        Ok(())
    }

    #[tokio::test]
    async fn a_typo_does_not_create_a_fresh_database() {
        let dir = tempfile::tempdir().ok();
        let missing = dir.as_ref().map(|d| d.path().join("reserv-typo.db"));
        let location = missing
            .as_ref()
            .map(|file| DatabaseLocation::parse(&format!("sqlite://{}", file.display())));
        let result = match location {
            Some(Ok(location)) => connect(&location).await.err().map(|e| e.to_string()),
            _ => None,
        };
        assert!(result.is_some_and(|message| message.contains("does not exist")));
        assert!(missing.is_some_and(|file| !file.exists()));
    }

    /// A database written before roles were typed: role names and Swedish titles
    /// become roles, anything else stays readable in the task's title, and the
    /// database then refuses a role that does not exist.
    #[tokio::test]
    async fn free_text_task_roles_become_roles_or_stay_in_the_title() -> Result<()> {
        use sea_orm::{ConnectionTrait, DbBackend, Statement};
        let dir = tempfile::tempdir().map_err(|e| StoreError::Location(e.to_string()))?;
        let location = DatabaseLocation::default_sqlite(dir.path().join("before.db"));
        let db = connect(&location).await?;
        let before_typed = Migrator::migrations()
            .iter()
            .position(|migration| migration.name() == "m20261207_000200_typed_task_roles")
            .and_then(|position| u32::try_from(position).ok())
            .ok_or_else(|| StoreError::Location("the typed roles migration is missing".into()))?;
        Migrator::up(&db, Some(before_typed)).await?;
        let sql = |text: &str| Statement::from_string(DbBackend::Sqlite, text.to_owned());
        db.execute_raw(sql(
            "INSERT INTO incidents (id, title, kind, severity, state, exercise, confidentiality, \
             integrity, availability, reported_at, updated_at) VALUES (1, 'Övning: larmen tysta', \
             'it_outage', 2, 'active', true, 1, 2, 2, '2026-02-10T03:00:00Z', '2026-02-10T03:00:00Z')",
        ))
        .await?;
        for (id, role) in [
            (1, "'Enhetschef hemtjänst'"),
            (2, "'crisis_lead'"),
            (3, "'MAS'"),
            (4, "NULL"),
        ] {
            db.execute_raw(sql(&format!(
                "INSERT INTO tasks (id, incident_id, title, assignee_role, state, created_at, \
                 updated_at) VALUES ({id}, 1, 'Uppgift {id}', {role}, 'open', \
                 '2026-02-10T03:00:00Z', '2026-02-10T03:00:00Z')"
            )))
            .await?;
        }
        migrate(&db).await?;
        let rows = db
            .query_all_raw(sql(
                "SELECT title, assignee_role, exercise FROM tasks ORDER BY id",
            ))
            .await?;
        let mut found = Vec::new();
        for row in rows {
            let title: String = row.try_get("", "title")?;
            let role: Option<String> = row.try_get("", "assignee_role")?;
            let exercise: bool = row.try_get("", "exercise")?;
            found.push((title, role, exercise));
        }
        let task =
            |title: &str, role: Option<&str>| (title.to_owned(), role.map(str::to_owned), true);
        assert_eq!(
            found,
            [
                task("Uppgift 1", Some("unit_manager")),
                task("Uppgift 2", Some("crisis_lead")),
                task("Uppgift 3 (roll: MAS)", None),
                task("Uppgift 4", None),
            ]
        );
        let refused = db
            .execute_raw(sql(
                "UPDATE tasks SET assignee_role = 'Enhetschef' WHERE id = 1",
            ))
            .await;
        assert!(refused.is_err(), "the column takes roles only");
        Ok(())
    }
}
