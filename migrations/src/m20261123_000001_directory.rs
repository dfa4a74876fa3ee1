//! Organisation units, people, IT systems, accounts, sessions and the audit trail.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("units")
                    .col(big_pk_auto("id"))
                    .col(big_integer_null("parent_id"))
                    .col(string_len("name", 120))
                    .col(string_len("kind", 32))
                    .col(string_len("path", 400))
                    .col(timestamp_with_time_zone("created_at"))
                    .foreign_key(&mut fk("units", "parent_id", "units"))
                    .to_owned(),
            )
            .await?;
        index(manager, "units", &["path"], false).await?;

        manager
            .create_table(
                Table::create()
                    .table("people")
                    .col(big_pk_auto("id"))
                    .col(string_len("name", 120))
                    .col(string_len_null("title", 120))
                    .col(string_len_null("phone", 16))
                    .col(string_len_null("email", 254))
                    .col(string_len("language", 8))
                    .col(boolean("external"))
                    .col(string_len_null("organisation", 120))
                    .col(small_integer("confidentiality"))
                    .col(timestamp_with_time_zone("created_at"))
                    .col(timestamp_with_time_zone("updated_at"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("person_units")
                    .col(big_integer("person_id"))
                    .col(big_integer("unit_id"))
                    .primary_key(Index::create().col("person_id").col("unit_id"))
                    .foreign_key(
                        fk("person_units", "person_id", "people")
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(&mut fk("person_units", "unit_id", "units"))
                    .to_owned(),
            )
            .await?;
        index(manager, "person_units", &["unit_id"], false).await?;

        manager
            .create_table(
                Table::create()
                    .table("it_systems")
                    .col(big_pk_auto("id"))
                    .col(string_len_uniq("name", 120))
                    .col(text_null("description"))
                    .col(big_integer_null("owner_id"))
                    .col(string_len_null("supplier", 120))
                    .col(string_len("criticality", 16))
                    .col(string_len_null("health_check_url", 500))
                    .col(string_len("state", 16))
                    .col(timestamp_with_time_zone("state_changed_at"))
                    .col(timestamp_with_time_zone("created_at"))
                    .foreign_key(&mut fk("it_systems", "owner_id", "people"))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table("accounts")
                    .col(big_pk_auto("id"))
                    .col(string_len_uniq("username", 64))
                    .col(big_integer_null("person_id"))
                    .col(string_len("password_hash", 200))
                    .col(boolean("disabled"))
                    .col(timestamp_with_time_zone("created_at"))
                    .foreign_key(&mut fk("accounts", "person_id", "people"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("account_roles")
                    .col(big_pk_auto("id"))
                    .col(big_integer("account_id"))
                    .col(string_len("role", 32))
                    .col(big_integer_null("unit_id"))
                    .foreign_key(
                        fk("account_roles", "account_id", "accounts")
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(&mut fk("account_roles", "unit_id", "units"))
                    .to_owned(),
            )
            .await?;
        index(manager, "account_roles", &["account_id"], false).await?;

        manager
            .create_table(
                Table::create()
                    .table("sessions")
                    .col(big_pk_auto("id"))
                    .col(big_integer("account_id"))
                    .col(string_len_uniq("token_hash", 64))
                    .col(timestamp_with_time_zone("created_at"))
                    .col(timestamp_with_time_zone("expires_at"))
                    .col(string_len_null("client_address", 64))
                    .foreign_key(
                        fk("sessions", "account_id", "accounts")
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table("audit_events")
                    .col(big_pk_auto("id"))
                    .col(timestamp_with_time_zone("at"))
                    .col(big_integer_null("actor_id"))
                    .col(string_len_null("actor", 64))
                    .col(string_len("action", 64))
                    .col(string_len("object_type", 64))
                    .col(string_len_null("object_id", 64))
                    .col(string_len_null("client_address", 64))
                    .col(string_len("outcome", 16))
                    .col(text_null("detail"))
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "audit_events",
            &["object_type", "object_id"],
            false,
        )
        .await?;
        crate::append_only::protect(manager, "audit_events").await
    }
}

/// A foreign key from `table.column` to `target.id`.
pub(crate) fn fk(
    table: &'static str,
    column: &'static str,
    target: &'static str,
) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .name(format!("fk_{table}_{column}"))
        .from(table, column)
        .to(target, "id")
        .to_owned()
}

pub(crate) async fn index(
    manager: &SchemaManager<'_>,
    table: &'static str,
    columns: &[&'static str],
    unique: bool,
) -> Result<(), DbErr> {
    let mut statement = Index::create();
    statement
        .name(format!("ix_{table}_{}", columns.join("_")))
        .table(table);
    for column in columns {
        statement.col(*column);
    }
    if unique {
        statement.unique();
    }
    manager.create_index(statement.to_owned()).await
}
