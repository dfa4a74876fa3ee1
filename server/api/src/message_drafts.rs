//! GraphQL fields of message drafts: the messages an activation prepared, which the
//! crisis lead edits, discards or sends. Resolvers parse input and call the store.

use crate::context::{parse_id, principal, store};
use crate::error::ApiResult;
use crate::loaders::load_all;
use crate::messages::MessageObject;
use crate::types::{Classification, ClassificationInput, Unit};
use async_graphql::{Context, Enum, ID, InputObject, MaybeUndefined, Object};
use chrono::{DateTime, Utc};
use reserv_domain::ids::MessageDraftId;
use reserv_domain::message_drafts::{DraftEdit, MessageDraft, unfilled_in};

/// Who a message draft is for.
#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(
    name = "MessageDraftAudience",
    remote = "reserv_domain::message_drafts::DraftAudience"
)]
pub enum DraftAudience {
    /// The people of the units the activation covers.
    Staff,
    /// The unit managers of the units the activation covers.
    Managers,
    /// The crisis leads and communicators.
    CrisisGroup,
    /// Residents and relatives: sent, it is published as a public notice.
    Public,
}

/// Where a message draft stands.
#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(
    name = "MessageDraftState",
    remote = "reserv_domain::message_drafts::DraftState"
)]
pub enum DraftState {
    Draft,
    Sent,
    Discarded,
}

pub struct MessageDraftObject(pub MessageDraft);

#[Object(name = "MessageDraft")]
impl MessageDraftObject {
    async fn id(&self) -> ID {
        self.0.id.0.into()
    }
    async fn incident_id(&self) -> ID {
        self.0.incident_id.0.into()
    }
    async fn audience(&self) -> DraftAudience {
        self.0.audience.into()
    }
    /// The units whose staff or managers the draft reaches.
    async fn units(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<Unit>> {
        Ok(load_all(ctx, &self.0.unit_ids)
            .await?
            .into_iter()
            .map(Unit)
            .collect())
    }
    async fn body_sv(&self) -> &str {
        &self.0.body_sv
    }
    async fn body_en(&self) -> Option<&str> {
        self.0.body_en.as_deref()
    }
    /// Placeholders nothing was known to fill at activation, still written
    /// `{{ name }}`; the draft cannot be sent until they are written in.
    async fn unfilled_placeholders(&self) -> Vec<String> {
        let mut names = unfilled_in(&self.0.body_sv);
        names.extend(
            self.0
                .body_en
                .as_deref()
                .map(unfilled_in)
                .unwrap_or_default(),
        );
        names.sort();
        names.dedup();
        names
    }
    async fn classification(&self) -> Classification {
        self.0.classification.into()
    }
    /// Prepared by an exercise activation: every copy sent says ÖVNING / EXERCISE.
    async fn exercise(&self) -> bool {
        self.0.exercise
    }
    /// The playbook's time to acknowledge: once sent, a recipient who has not
    /// acknowledged after it is texted, then her unit manager told.
    async fn escalate_after_minutes(&self) -> Option<i64> {
        self.0.escalate_after_minutes
    }
    async fn state(&self) -> DraftState {
        self.0.state.into()
    }
    /// The message the draft was sent as.
    async fn message(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<MessageObject>> {
        let Some(id) = self.0.message_id else {
            return Ok(None);
        };
        Ok(Some(MessageObject(
            store(ctx)?.message(principal(ctx)?, id).await.api()?,
        )))
    }
    /// The public notice the public's draft was published as.
    async fn notice_id(&self) -> Option<ID> {
        self.0.notice_id.map(|id| id.0.into())
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at
    }
    /// Who last edited, sent or discarded it.
    async fn updated_by(&self) -> Option<&str> {
        self.0.updated_by.as_deref()
    }
}

/// A change to a draft; what is left out stays.
#[derive(InputObject)]
pub struct MessageDraftInput {
    pub body_sv: Option<String>,
    /// Null removes the English text.
    pub body_en: MaybeUndefined<String>,
    pub classification: Option<ClassificationInput>,
}

#[derive(Default)]
pub struct MessageDraftMutation;

#[Object]
impl MessageDraftMutation {
    /// Changes a draft's texts or classification before it is sent.
    async fn update_message_draft(
        &self,
        ctx: &Context<'_>,
        id: ID,
        input: MessageDraftInput,
    ) -> async_graphql::Result<MessageDraftObject> {
        let id = MessageDraftId(parse_id("id", &id)?);
        let edit = DraftEdit {
            body_sv: input.body_sv,
            body_en: match input.body_en {
                MaybeUndefined::Undefined => None,
                MaybeUndefined::Null => Some(None),
                MaybeUndefined::Value(text) => Some(Some(text)),
            },
            classification: input
                .classification
                .as_ref()
                .map(ClassificationInput::to_domain)
                .transpose()
                .api()?,
            lowering_reason: input
                .classification
                .and_then(|classification| classification.lowering_reason),
        };
        Ok(MessageDraftObject(
            store(ctx)?
                .update_message_draft(principal(ctx)?, id, edit)
                .await
                .api()?,
        ))
    }

    /// Sets a draft aside without sending it; the crisis log says so.
    async fn discard_message_draft(
        &self,
        ctx: &Context<'_>,
        id: ID,
    ) -> async_graphql::Result<MessageDraftObject> {
        let id = MessageDraftId(parse_id("id", &id)?);
        Ok(MessageDraftObject(
            store(ctx)?
                .discard_message_draft(principal(ctx)?, id)
                .await
                .api()?,
        ))
    }

    /// Sends a draft as a crisis message to its audience (the public's draft is
    /// published as a public notice), in one step with marking it sent.
    async fn send_message_draft(
        &self,
        ctx: &Context<'_>,
        id: ID,
    ) -> async_graphql::Result<MessageDraftObject> {
        let id = MessageDraftId(parse_id("id", &id)?);
        Ok(MessageDraftObject(
            store(ctx)?
                .send_message_draft(principal(ctx)?, id)
                .await
                .api()?,
        ))
    }
}
