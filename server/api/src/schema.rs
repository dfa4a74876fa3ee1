//! The GraphQL schema, composed from one slice per domain area.

use crate::accounts::{AccountMutation, AccountQuery};
use crate::break_glass::BreakGlassMutation;
use crate::checklists::ChecklistMutation;
use crate::client_settings::ClientSettingsQuery;
use crate::directory::{DirectoryMutation, DirectoryQuery};
use crate::error::ErrorCodes;
use crate::http::ApiSettings;
use crate::incidents::{IncidentMutation, IncidentQuery, IncidentSubscription};
use crate::message_drafts::MessageDraftMutation;
use crate::messages::{MessageMutation, MessageQuery};
use crate::notices::{NoticeMutation, NoticeQuery, PublishingQuery};
use crate::paper_backlog::PaperBacklogMutation;
use crate::passkeys::PasskeyMutation;
use crate::plans::{PlanMutation, PlanQuery};
use crate::playbook_suggestions::PlaybookSuggestionQuery;
use crate::playbooks::{PlaybookMutation, PlaybookQuery};
use crate::push::{PushMutation, PushQuery};
use crate::second_factor::SecondFactorMutation;
use async_graphql::{MergedObject, MergedSubscription, Schema};
use reserv_store::Store;

#[derive(MergedObject, Default)]
pub struct Query(
    AccountQuery,
    ClientSettingsQuery,
    DirectoryQuery,
    IncidentQuery,
    MessageQuery,
    NoticeQuery,
    PlanQuery,
    PlaybookQuery,
    PlaybookSuggestionQuery,
    PublishingQuery,
    PushQuery,
);

#[derive(MergedObject, Default)]
pub struct Mutation(
    AccountMutation,
    ChecklistMutation,
    DirectoryMutation,
    IncidentMutation,
    NoticeMutation,
    MessageMutation,
    MessageDraftMutation,
    PaperBacklogMutation,
    PlanMutation,
    PlaybookMutation,
    SecondFactorMutation,
    PasskeyMutation,
    BreakGlassMutation,
    PushMutation,
);

#[derive(MergedSubscription, Default)]
pub struct Subscription(IncidentSubscription);

pub type ReservSchema = Schema<Query, Mutation, Subscription>;

/// Bounds that keep a hostile or careless query from tying up the server.
#[derive(Debug, Clone, Copy)]
pub struct SchemaLimits {
    pub max_depth: usize,
    pub max_complexity: usize,
}

impl Default for SchemaLimits {
    fn default() -> Self {
        Self {
            max_depth: 12,
            max_complexity: 2_000,
        }
    }
}

/// The schema with the store and settings its resolvers use.
pub fn build_schema(store: Store, limits: SchemaLimits, settings: ApiSettings) -> ReservSchema {
    Schema::build(
        Query::default(),
        Mutation::default(),
        Subscription::default(),
    )
    .data(store)
    .data(settings)
    .limit_depth(limits.max_depth)
    .limit_complexity(limits.max_complexity)
    .extension(ErrorCodes)
    .finish()
}

/// The schema in SDL, as checked in at `server/api/schema.graphql`.
pub fn schema_sdl() -> String {
    Schema::build(
        Query::default(),
        Mutation::default(),
        Subscription::default(),
    )
    .finish()
    .sdl()
}

#[cfg(test)]
mod tests {
    /// The checked-in schema is what clients are written against; it must not drift
    /// from the code. Regenerate with `reserv schema > server/api/schema.graphql`.
    #[test]
    fn checked_in_schema_matches_the_code() {
        let checked_in = include_str!("../schema.graphql");
        let generated = super::schema_sdl();
        assert!(
            checked_in == generated,
            "server/api/schema.graphql is out of date; run `cargo run -p reserv -- schema > server/api/schema.graphql`"
        );
    }
}
