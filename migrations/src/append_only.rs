//! Database triggers that refuse UPDATE, DELETE (and on PostgreSQL TRUNCATE) on
//! append-only tables, so that not
//! even a bug or a hand-written SQL statement can rewrite the crisis log or the audit
//! trail.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DbBackend};

pub async fn protect(manager: &SchemaManager<'_>, table: &str) -> Result<(), DbErr> {
    let db = manager.get_connection();
    match manager.get_database_backend() {
        DbBackend::Sqlite => {
            for operation in ["UPDATE", "DELETE"] {
                db.execute_unprepared(&format!(
                    "CREATE TRIGGER {table}_no_{op} BEFORE {operation} ON {table} \
                     BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END",
                    op = operation.to_lowercase()
                ))
                .await?;
            }
        }
        DbBackend::Postgres => {
            db.execute_unprepared(
                "CREATE OR REPLACE FUNCTION reserv_refuse_change() RETURNS trigger \
                 LANGUAGE plpgsql AS $$ BEGIN \
                 RAISE EXCEPTION '% is append-only', TG_TABLE_NAME; END $$",
            )
            .await?;
            db.execute_unprepared(&format!(
                "CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} \
                 FOR EACH ROW EXECUTE FUNCTION reserv_refuse_change()"
            ))
            .await?;
            // TRUNCATE bypasses row triggers; it gets a statement trigger of its own.
            db.execute_unprepared(&format!(
                "CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} \
                 FOR EACH STATEMENT EXECUTE FUNCTION reserv_refuse_change()"
            ))
            .await?;
        }
        other => {
            return Err(DbErr::Migration(format!(
                "Reserv supports SQLite and PostgreSQL, not {other:?}"
            )));
        }
    }
    Ok(())
}

/// Takes `table`'s protection away for a migration that must rewrite its rows once
/// (filling a new column); [`protect`] puts it back. Run both in the migration's
/// transaction, so that a failure leaves the table protected and unchanged.
pub async fn lift(manager: &SchemaManager<'_>, table: &str) -> Result<(), DbErr> {
    let db = manager.get_connection();
    let statements = match manager.get_database_backend() {
        DbBackend::Sqlite => vec![
            format!("DROP TRIGGER {table}_no_update"),
            format!("DROP TRIGGER {table}_no_delete"),
        ],
        DbBackend::Postgres => vec![
            format!("DROP TRIGGER {table}_append_only ON {table}"),
            format!("DROP TRIGGER {table}_no_truncate ON {table}"),
        ],
        other => {
            return Err(DbErr::Migration(format!(
                "Reserv supports SQLite and PostgreSQL, not {other:?}"
            )));
        }
    };
    for statement in statements {
        db.execute_unprepared(&statement).await?;
    }
    Ok(())
}
