//! Message drafts: the messages an activation prepares from its playbook, one per
//! audience, kept until the crisis lead sends or discards them. A sent draft points to
//! the message it became, or for the public to the public notice it was published as.
//! The audience and state are checked by the database as well as by the domain.

use crate::m20261123_000001_directory::{fk, index};
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("message_drafts")
                    .col(big_pk_auto("id"))
                    .col(big_integer("incident_id"))
                    .col(big_integer("activation_id"))
                    .col(
                        string_len("audience", 16).check(Expr::col("audience").is_in([
                            "staff",
                            "managers",
                            "crisis_group",
                            "public",
                        ])),
                    )
                    .col(text("body_sv"))
                    .col(text_null("body_en"))
                    .col(small_integer("confidentiality"))
                    .col(small_integer("integrity"))
                    .col(small_integer("availability"))
                    .col(boolean("exercise"))
                    .col(string_len("state", 16).check(Expr::col("state").is_in([
                        "draft",
                        "sent",
                        "discarded",
                    ])))
                    .col(big_integer_null("message_id"))
                    .col(big_integer_null("notice_id"))
                    .col(timestamp_with_time_zone("created_at"))
                    .col(timestamp_with_time_zone("updated_at"))
                    .col(string_len_null("updated_by", 64))
                    .foreign_key(&mut fk("message_drafts", "incident_id", "incidents"))
                    .foreign_key(&mut fk("message_drafts", "activation_id", "activations"))
                    .foreign_key(&mut fk("message_drafts", "message_id", "messages"))
                    .foreign_key(&mut fk("message_drafts", "notice_id", "public_notices"))
                    .to_owned(),
            )
            .await?;
        index(manager, "message_drafts", &["incident_id"], false).await?;
        index(manager, "message_drafts", &["activation_id"], false).await
    }
}
