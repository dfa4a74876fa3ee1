//! GraphQL fields of crisis messages: sending one to an audience, acknowledging it, and
//! the roll-call of who has been reached. Resolvers parse input and call the store.

use crate::context::{parse_id, principal, store};
use crate::error::ApiResult;
use crate::loaders::load_all;
use crate::types::{Classification, ClassificationInput, Language, PersonObject, Role, Unit};
use async_graphql::{Context, Enum, ID, InputObject, Object, SimpleObject};
use chrono::{DateTime, Utc};
use reserv_domain::access::Action;
use reserv_domain::escalation::EscalationStep;
use reserv_domain::ids::{IncidentId, MessageId, PersonId, TaskId, UnitId};
use reserv_domain::messages::{Audience, Message, NewMessage};
use reserv_domain::sms::{SmsChannel, SmsEstimate};
use reserv_domain::sms_failover::{ActiveSmsProvider, ProviderRole};
use reserv_store::{DeliveryCounts, MessageEstimate, ReceivedMessage, RollCall};

/// Who a message goes to: everyone named by any part, each person once.
#[derive(InputObject, Default)]
pub struct AudienceInput {
    /// Every staff member (not external contacts).
    #[graphql(default)]
    pub everyone: bool,
    /// The people whose accounts hold any of these roles.
    #[graphql(default)]
    pub roles: Vec<Role>,
    /// The people attached to these units or to units below them, with or without an
    /// account.
    #[graphql(default)]
    pub unit_ids: Vec<ID>,
    /// The unit managers of these units: the people whose accounts hold the unit
    /// manager role for one of them.
    #[graphql(default)]
    pub managers_of_unit_ids: Vec<ID>,
    #[graphql(default)]
    pub person_ids: Vec<ID>,
    /// The people assigned to these tasks.
    #[graphql(default)]
    pub task_ids: Vec<ID>,
}

#[derive(InputObject)]
pub struct SendMessageInput {
    pub incident_id: Option<ID>,
    pub audience: AudienceInput,
    /// The Swedish text. Placeholders: {namn} the recipient's name, {incident} the
    /// incident's title.
    pub body_sv: String,
    /// The text for recipients who read English; they get the Swedish one without it.
    pub body_en: Option<String>,
    /// Internal (confidentiality 1) when left out. Above 1 the SMS carries only a
    /// notice with the message's reference.
    pub classification: Option<ClassificationInput>,
    /// Minutes (1 to 1440) a recipient may leave the message unacknowledged before the
    /// next step: her SMS when push reached her first, after as long again a notice to
    /// her unit managers; each step in the crisis log. Left out: no escalation.
    pub escalate_after_minutes: Option<i32>,
}

fn parse_ids<T>(field: &str, ids: &[ID], wrap: fn(i64) -> T) -> async_graphql::Result<Vec<T>> {
    ids.iter().map(|id| parse_id(field, id).map(wrap)).collect()
}

impl SendMessageInput {
    fn into_request(self) -> async_graphql::Result<NewMessage> {
        let audience = self.audience;
        Ok(NewMessage {
            incident_id: self
                .incident_id
                .map(|id| parse_id("incidentId", &id).map(IncidentId))
                .transpose()?,
            audience: Audience {
                everyone: audience.everyone,
                roles: audience.roles.into_iter().map(Into::into).collect(),
                unit_ids: parse_ids("audience.unitIds", &audience.unit_ids, UnitId)?,
                managers_of: parse_ids(
                    "audience.managersOfUnitIds",
                    &audience.managers_of_unit_ids,
                    UnitId,
                )?,
                person_ids: parse_ids("audience.personIds", &audience.person_ids, PersonId)?,
                task_ids: parse_ids("audience.taskIds", &audience.task_ids, TaskId)?,
            },
            body_sv: self.body_sv,
            body_en: self.body_en,
            classification: self
                .classification
                .as_ref()
                .map(ClassificationInput::to_domain)
                .transpose()
                .api()?,
            escalate_after_minutes: self.escalate_after_minutes.map(i64::from),
        })
    }
}

pub struct MessageObject(pub Message);

#[Object(name = "Message")]
impl MessageObject {
    async fn id(&self) -> ID {
        self.0.id.0.into()
    }
    /// The short reference recipients quote when they answer by SMS (`OK M42`).
    async fn reference(&self) -> String {
        self.0.reference()
    }
    async fn incident_id(&self) -> Option<ID> {
        self.0.incident_id.map(|id| id.0.into())
    }
    async fn body_sv(&self) -> &str {
        &self.0.body_sv
    }
    async fn body_en(&self) -> Option<&str> {
        self.0.body_en.as_deref()
    }
    async fn classification(&self) -> Classification {
        self.0.classification.into()
    }
    /// Sent for an exercise: every copy is marked ÖVNING / EXERCISE.
    async fn exercise(&self) -> bool {
        self.0.exercise
    }
    async fn sent_by(&self) -> &str {
        &self.0.sent_by
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    async fn recipient_count(&self) -> u64 {
        self.0.recipient_count
    }
    /// Minutes without acknowledgement before each escalation step; null when the
    /// message does not escalate.
    async fn escalate_after_minutes(&self) -> Option<i64> {
        self.0.escalate_after_minutes
    }
}

/// Where a message's copies stand. Each recipient counts once, by the furthest any of
/// their copies got; acknowledged beats delivered.
#[derive(SimpleObject)]
pub struct DeliveryCountsObject {
    pub recipients: u64,
    pub queued: u64,
    pub sent: u64,
    pub delivered: u64,
    pub acknowledged: u64,
    pub failed: u64,
    /// No channel reaches them: no phone number.
    pub unreachable: u64,
}

impl From<DeliveryCounts> for DeliveryCountsObject {
    fn from(counts: DeliveryCounts) -> Self {
        Self {
            recipients: counts.recipients,
            queued: counts.queued,
            sent: counts.sent,
            delivered: counts.delivered,
            acknowledged: counts.acknowledged,
            failed: counts.failed,
            unreachable: counts.unreachable,
        }
    }
}

pub struct UnitRollCall(UnitId, DeliveryCounts);

#[Object]
impl UnitRollCall {
    async fn unit(&self, ctx: &Context<'_>) -> async_graphql::Result<Unit> {
        let mut units = load_all(ctx, &[self.0]).await?;
        Ok(Unit(units.remove(0)))
    }
    async fn counts(&self) -> DeliveryCountsObject {
        self.1.clone().into()
    }
}

/// Texts through the SMS sender pool and how long they take. The provider, not Reserv,
/// sets the pace: an ordinary sender number takes about one segment a second.
pub struct SmsEstimateObject(SmsEstimate);

#[Object(name = "SmsEstimate")]
impl SmsEstimateObject {
    async fn texts(&self) -> u64 {
        self.0.texts
    }
    /// SMS segments in all: a long text, or one with characters outside GSM 7-bit such
    /// as emoji, takes several.
    async fn segments(&self) -> u64 {
        self.0.segments
    }
    async fn senders(&self) -> u64 {
        self.0.senders as u64
    }
    /// Seconds until the last text has left, at the configured rate per sender.
    async fn seconds(&self) -> u64 {
        self.0.duration.as_secs()
    }
    /// One line for the crisis lead, like "1 600 sms via 4 avsändare ≈ 7 min".
    async fn summary(
        &self,
        #[graphql(default_with = "Language::Sv")] language: Language,
    ) -> String {
        self.0.summary(language.into())
    }
}

/// What sending a message would do, before it is sent.
pub struct MessageEstimateObject(MessageEstimate);

#[Object(name = "MessageEstimate")]
impl MessageEstimateObject {
    async fn recipients(&self) -> u64 {
        self.0.recipients
    }
    /// Recipients without a phone number: they see the message in the app only.
    async fn without_phone(&self) -> u64 {
        self.0.without_phone
    }
    /// The texts and how long they take; null when SMS is off.
    async fn sms(&self) -> Option<SmsEstimateObject> {
        self.0.sms.map(SmsEstimateObject)
    }
}

/// Whether this server sends SMS, and how much it can carry.
#[derive(SimpleObject)]
pub struct SmsChannelObject {
    /// False when no SMS provider is configured: messages then reach the app only.
    pub enabled: bool,
    /// Sender numbers in the pool (a messaging service counts as one); 0 when off.
    pub senders: u64,
    /// Segments the whole pool sends per second; 0 when off.
    pub segments_per_second: f64,
    /// The longest text accepted, in segments; 0 when off.
    pub max_segments: u64,
    /// The provider SMS go out through now (`twilio` or `46elks`); null when SMS is
    /// off or no outbox worker runs in this server.
    pub active_provider: Option<String>,
    /// True while the failover provider carries the traffic because the primary fails.
    pub on_failover: bool,
    /// When traffic last moved between the providers; null if it never has.
    pub active_since: Option<DateTime<Utc>>,
}

impl SmsChannelObject {
    fn new(channel: SmsChannel, active: Option<ActiveSmsProvider>) -> Self {
        let (senders, segments_per_second, max_segments) = match channel {
            SmsChannel::Off => (0, 0.0, 0),
            SmsChannel::On(capacity) => (
                capacity.senders.max(1) as u64,
                capacity.segments_per_second(),
                capacity.max_segments as u64,
            ),
        };
        Self {
            enabled: channel != SmsChannel::Off,
            senders,
            segments_per_second,
            max_segments,
            on_failover: active
                .as_ref()
                .is_some_and(|active| active.role == ProviderRole::Failover),
            active_since: active.as_ref().and_then(|active| active.since),
            active_provider: active.map(|active| active.name),
        }
    }
}

pub struct RollCallObject(RollCall);

#[Object(name = "RollCall")]
impl RollCallObject {
    async fn message_id(&self) -> ID {
        self.0.message_id.0.into()
    }
    async fn overall(&self) -> DeliveryCountsObject {
        self.0.overall.clone().into()
    }
    /// Per unit the recipients are attached to; a person in two units counts in both.
    async fn units(&self) -> Vec<UnitRollCall> {
        self.0
            .units
            .iter()
            .map(|(unit, counts)| UnitRollCall(*unit, counts.clone()))
            .collect()
    }
    /// The texts still waiting to leave and how long they take; null when none wait or
    /// SMS is off.
    async fn sms_left(&self) -> Option<SmsEstimateObject> {
        self.0.sms_left.map(SmsEstimateObject)
    }
    /// Recipients whose copy has neither been delivered nor acknowledged.
    async fn not_reached(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<PersonObject>> {
        let people = load_all(ctx, &self.0.not_reached).await?;
        Ok(people.into_iter().map(PersonObject).collect())
    }
    /// The recipients an escalation step was taken for, with the last step.
    async fn escalations(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<Vec<RecipientEscalationObject>> {
        let ids: Vec<PersonId> = self.0.escalated.iter().map(|(id, _)| *id).collect();
        let people = load_all(ctx, &ids).await?;
        Ok(people
            .into_iter()
            .zip(&self.0.escalated)
            .map(|(person, (_, step))| RecipientEscalationObject {
                person: PersonObject(person),
                escalation_step: (*step).into(),
            })
            .collect())
    }
}

/// How far a recipient's escalation has gone.
#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(name = "EscalationStep")]
pub enum EscalationStepValue {
    /// Nothing beyond the first send.
    None,
    /// Her SMS, held back while push might reach her, was queued.
    Sms,
    /// Her unit managers were told she has not acknowledged.
    Managers,
}

impl From<EscalationStep> for EscalationStepValue {
    fn from(step: EscalationStep) -> Self {
        match step {
            EscalationStep::None => Self::None,
            EscalationStep::Sms => Self::Sms,
            EscalationStep::Managers => Self::Managers,
        }
    }
}

/// One recipient's escalation in the roll-call.
#[derive(SimpleObject)]
#[graphql(name = "RecipientEscalation")]
pub struct RecipientEscalationObject {
    pub person: PersonObject,
    pub escalation_step: EscalationStepValue,
}

/// A message sent to the signed-in person.
pub struct ReceivedMessageObject(ReceivedMessage);

#[Object(name = "ReceivedMessage")]
impl ReceivedMessageObject {
    async fn message(&self) -> MessageObject {
        MessageObject(self.0.message.clone())
    }
    /// When the person acknowledged it; null until they have.
    async fn acknowledged_at(&self) -> Option<DateTime<Utc>> {
        self.0.acknowledged_at
    }
}

/// How many messages a list gives when `first` is left out, and at most.
const MESSAGES_FIRST: u64 = 50;

fn first_or_default(first: Option<i32>) -> u64 {
    first
        .and_then(|n| u64::try_from(n).ok())
        .unwrap_or(MESSAGES_FIRST)
        .min(MESSAGES_FIRST)
}

#[derive(Default)]
pub struct MessageQuery;

#[Object]
impl MessageQuery {
    async fn message(&self, ctx: &Context<'_>, id: ID) -> async_graphql::Result<MessageObject> {
        let id = MessageId(parse_id("id", &id)?);
        Ok(MessageObject(
            store(ctx)?.message(principal(ctx)?, id).await.api()?,
        ))
    }

    /// The messages sent to the signed-in person, newest first (at most 50), with
    /// when they acknowledged each.
    async fn my_messages(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
    ) -> async_graphql::Result<Vec<ReceivedMessageObject>> {
        let received = store(ctx)?
            .received_messages(principal(ctx)?, first_or_default(first))
            .await
            .api()?;
        Ok(received.into_iter().map(ReceivedMessageObject).collect())
    }

    /// The latest messages sent, newest first (at most 50): for those who send
    /// messages, to follow up their roll-call.
    async fn recent_messages(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
    ) -> async_graphql::Result<Vec<MessageObject>> {
        let sent = store(ctx)?
            .recent_messages(principal(ctx)?, first_or_default(first))
            .await
            .api()?;
        Ok(sent.into_iter().map(MessageObject).collect())
    }

    /// Whether messages also go out by SMS: for those who send messages, so that they
    /// know before a crisis whether texts will reach phones.
    async fn sms_channel(&self, ctx: &Context<'_>) -> async_graphql::Result<SmsChannelObject> {
        principal(ctx)?
            .authorize_somewhere(Action::SendMessages)
            .api()?;
        let store = store(ctx)?;
        Ok(SmsChannelObject::new(
            store.sms_channel(),
            store.active_sms_provider(),
        ))
    }

    /// What sending this message would do (recipients, texts, time through the sender
    /// pool) without sending it. Refuses what `sendMessage` would refuse.
    async fn message_estimate(
        &self,
        ctx: &Context<'_>,
        input: SendMessageInput,
    ) -> async_graphql::Result<MessageEstimateObject> {
        let request = input.into_request()?;
        Ok(MessageEstimateObject(
            store(ctx)?
                .estimate_message(principal(ctx)?, request)
                .await
                .api()?,
        ))
    }

    /// Who a message has reached: for those who send messages.
    async fn roll_call(
        &self,
        ctx: &Context<'_>,
        message_id: ID,
    ) -> async_graphql::Result<RollCallObject> {
        let id = MessageId(parse_id("messageId", &message_id)?);
        Ok(RollCallObject(
            store(ctx)?.roll_call(principal(ctx)?, id).await.api()?,
        ))
    }
}

#[derive(Default)]
pub struct MessageMutation;

#[Object]
impl MessageMutation {
    /// Sends a message to an audience: every recipient is queued for SMS in one step,
    /// or nobody is.
    async fn send_message(
        &self,
        ctx: &Context<'_>,
        input: SendMessageInput,
    ) -> async_graphql::Result<MessageObject> {
        let request = input.into_request()?;
        Ok(MessageObject(
            store(ctx)?
                .send_message(principal(ctx)?, request)
                .await
                .api()?,
        ))
    }

    /// The signed-in person has read the message.
    async fn acknowledge_message(
        &self,
        ctx: &Context<'_>,
        id: ID,
    ) -> async_graphql::Result<MessageObject> {
        let id = MessageId(parse_id("id", &id)?);
        Ok(MessageObject(
            store(ctx)?
                .acknowledge_message(principal(ctx)?, id)
                .await
                .api()?,
        ))
    }
}
