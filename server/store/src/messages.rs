//! Crisis messages: sending one to an audience, acknowledging it, and the roll-call of
//! who has been reached.
//!
//! Sending writes the message, a delivery record per recipient and an outbox row per
//! (recipient, channel) in one transaction with its audit event: either every
//! recipient is queued or nobody is. This module never talks to a provider; the
//! notify crate's worker sends what the outbox holds.

use crate::audit::{Audit, AuditedObject, Change};
use crate::bulk::{Rows, Values, any_of};
use crate::directory::ensure_units_exist;
use crate::entities::{
    account_roles, accounts, message_recipients, messages, outbox, people, person_units,
    push_subscriptions, tasks,
};
use crate::incidents::rows::locate;
use crate::subtree::Subtrees;
use crate::{Result, Store, convert};
use reserv_domain::DomainError;
use reserv_domain::access::{Action, Principal, Scope};
use reserv_domain::audit::AuditAction;
use reserv_domain::escalation::EscalationStep;
use reserv_domain::ids::{IncidentId, MessageId, PersonId, UnitId};
use reserv_domain::incidents::Incident;
use reserv_domain::messages::{
    Audience, Channel, DeliveryState, Message, NewMessage, Recipient, Rendering, ValidMessage,
    reference,
};
use reserv_domain::sms::{SmsChannel, SmsEstimate, count_segments};
use sea_orm::ActiveValue::{NotSet, Set};
use sea_orm::sea_query::{Expr, ExprTrait, Query, SelectStatement};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, EntityTrait, PaginatorTrait,
    QueryFilter, QueryOrder, QuerySelect,
};
use std::collections::{BTreeMap, HashMap};

impl AuditedObject for Message {
    fn audit_id(&self) -> Option<String> {
        Some(self.id.to_string())
    }
}

/// Counts of where a message's copies stand, for the whole audience or one unit.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DeliveryCounts {
    pub recipients: u64,
    pub queued: u64,
    pub sent: u64,
    pub delivered: u64,
    pub acknowledged: u64,
    pub failed: u64,
    pub unreachable: u64,
}

impl DeliveryCounts {
    fn count(&mut self, state: RecipientState) {
        self.recipients += 1;
        match state {
            RecipientState::Acknowledged => self.acknowledged += 1,
            RecipientState::Delivery(DeliveryState::Queued) => self.queued += 1,
            RecipientState::Delivery(DeliveryState::Sent) => self.sent += 1,
            RecipientState::Delivery(DeliveryState::Delivered) => self.delivered += 1,
            RecipientState::Delivery(DeliveryState::Failed) => self.failed += 1,
            RecipientState::Delivery(DeliveryState::Unreachable) => self.unreachable += 1,
        }
    }
}

/// What a send would do; see [`Store::estimate_message`].
#[derive(Debug, Clone, PartialEq)]
pub struct MessageEstimate {
    pub recipients: u64,
    /// Recipients without a phone number, reached in the app only.
    pub without_phone: u64,
    /// The texts and their time through the sender pool; `None` when SMS is off.
    pub sms: Option<SmsEstimate>,
}

/// Who has been reached by a message: overall, per unit, and the people not yet
/// reached (neither delivered nor acknowledged).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RollCall {
    pub message_id: MessageId,
    pub overall: DeliveryCounts,
    /// Per unit the recipients are attached to; a person in two units counts in both.
    pub units: Vec<(UnitId, DeliveryCounts)>,
    pub not_reached: Vec<PersonId>,
    /// The recipients an escalation step was taken for, with the last step taken.
    pub escalated: Vec<(PersonId, EscalationStep)>,
    /// The SMS texts still waiting in the outbox and how long they take, while SMS is
    /// on and any wait.
    pub sms_left: Option<SmsEstimate>,
}

/// A message as its recipient sees it: the message and when they acknowledged it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReceivedMessage {
    pub message: Message,
    pub acknowledged_at: Option<chrono::DateTime<chrono::Utc>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum RecipientState {
    Acknowledged,
    Delivery(DeliveryState),
}

impl Store {
    /// Sends a message to an audience: resolves the audience in one query and queues a
    /// copy per recipient and channel. People without a phone number are recorded as
    /// recipients all the same, and show as unreachable in the roll-call. With SMS on,
    /// a text that makes too many segments for any recipient is refused before anything
    /// is written.
    pub async fn send_message(&self, who: &Principal, request: NewMessage) -> Result<Message> {
        let mut change = self.change().await?;
        let result = self.send_message_in(&mut change, who, request).await;
        self.conclude(
            change,
            who,
            Audit::new(AuditAction::Send, "message"),
            result,
        )
        .await
    }

    /// [`Store::send_message`] as part of a larger change, such as sending a draft.
    pub(crate) async fn send_message_in(
        &self,
        change: &mut Change,
        who: &Principal,
        request: NewMessage,
    ) -> Result<Message> {
        let tx = change.tx();
        let prepared = prepare(tx, who, request).await?;
        let now = self.now();
        let message = &prepared.message;
        let row = messages::ActiveModel {
            id: NotSet,
            incident_id: Set(message.incident_id.map(|id| id.0)),
            body_sv: Set(message.body_sv.clone()),
            body_en: Set(message.body_en.clone()),
            confidentiality: Set(message.classification.confidentiality.level().into()),
            integrity: Set(message.classification.integrity.into()),
            availability: Set(message.classification.availability.into()),
            traceability: Set(message.classification.traceability.map(i16::from)),
            exercise: Set(prepared.exercise()),
            sent_by: Set(who.username.chars().take(64).collect()),
            sent_by_account_id: Set(who.account_id.map(|id| id.0)),
            created_at: Set(now),
            escalate_after_minutes: Set(message
                .escalation
                .map(|plan| i32::try_from(plan.after_minutes()).unwrap_or(i32::MAX))),
            crisis_leads_due_at: Set(message.escalation.map(|plan| plan.crisis_leads_due(now))),
        }
        .insert(tx)
        .await?;
        let rendering = prepared.rendering(MessageId(row.id));
        let bodies = sms_bodies(&prepared, rendering, self.sms_channel)?;
        let browsers = browsers_of(tx, &prepared).await?;
        // With escalation and SMS on, the SMS of those push reaches waits for the first
        // escalation step, so that a person who taps Kvittera on the notification is
        // not texted as well.
        let push_first = matches!(
            (message.escalation, self.sms_channel),
            (Some(_), SmsChannel::On(_))
        );
        let copies = queue(
            tx,
            &prepared,
            rendering,
            bodies,
            &browsers,
            push_first,
            MessageId(row.id),
            now,
        )
        .await?;
        change.queued(copies);
        let sent = stored_message(row, prepared.recipients.len() as u64)?;
        change.audited(self, who, &Audit::new(AuditAction::Send, "message"), &sent);
        Ok(sent)
    }

    /// What sending `request` would do, without sending it: how many people it
    /// reaches, how many have no phone, and with SMS on how long the texts take through
    /// the sender pool. Refuses what sending would refuse, so the crisis lead learns of
    /// a too-long text before pressing send.
    pub async fn estimate_message(
        &self,
        who: &Principal,
        request: NewMessage,
    ) -> Result<MessageEstimate> {
        let prepared = prepare(&self.db, who, request).await?;
        // The reference in a classified message's SMS grows with its id; the longest
        // one a database will reach keeps the estimate on the safe side.
        let rendering = prepared.rendering(MessageId(i64::from(u32::MAX)));
        let bodies = sms_bodies(&prepared, rendering, self.sms_channel)?;
        let segments: u64 = bodies
            .iter()
            .flatten()
            .map(|body| count_segments(body).count as u64)
            .sum();
        let texts = bodies.iter().flatten().count() as u64;
        Ok(MessageEstimate {
            recipients: prepared.recipients.len() as u64,
            without_phone: prepared.recipients.len() as u64 - texts,
            sms: match self.sms_channel {
                SmsChannel::Off => None,
                SmsChannel::On(capacity) => Some(capacity.estimate(texts, segments)),
            },
        })
    }

    /// A message, for those who may follow messages up and for its recipients.
    pub async fn message(&self, who: &Principal, id: MessageId) -> Result<Message> {
        let row = find_message(&self.db, id).await?;
        if !who.may(Action::SendMessages, Scope::Organisation) {
            ensure_recipient(&self.db, who, id).await?;
        }
        let level = convert::confidentiality(row.confidentiality)?;
        if !who.may(Action::SendMessages, Scope::Organisation)
            && level > who.highest_clearance(Action::ReadIncidents)
        {
            return Err(DomainError::forbidden(format!(
                "{} may not read information at confidentiality level {}",
                who.username,
                level.level()
            ))
            .into());
        }
        let count = message_recipients::Entity::find()
            .filter(message_recipients::Column::MessageId.eq(id.0))
            .count(&self.db)
            .await?;
        stored_message(row, count)
    }

    /// The signed-in person says they have read a message. Acknowledging twice keeps
    /// the first time.
    pub async fn acknowledge_message(&self, who: &Principal, id: MessageId) -> Result<Message> {
        let tx = self.begin().await?;
        let result = async {
            let row = find_message(&tx, id).await?;
            let person = ensure_recipient(&tx, who, id).await?;
            message_recipients::Entity::update_many()
                .col_expr(
                    message_recipients::Column::AcknowledgedAt,
                    Expr::value(self.now()),
                )
                .filter(message_recipients::Column::MessageId.eq(id.0))
                .filter(message_recipients::Column::PersonId.eq(person.0))
                .filter(message_recipients::Column::AcknowledgedAt.is_null())
                .exec(&tx)
                .await?;
            let count = message_recipients::Entity::find()
                .filter(message_recipients::Column::MessageId.eq(id.0))
                .count(&tx)
                .await?;
            stored_message(row, count)
        }
        .await;
        self.finish(
            tx,
            who,
            Audit::new(AuditAction::Acknowledge, "message").on(id),
            result,
        )
        .await
    }

    /// The messages sent to the signed-in person, newest first, with when they
    /// acknowledged each: what the phone shows under Meddelanden. Messages above the
    /// person's clearance are left out, as `message` refuses them.
    pub async fn received_messages(
        &self,
        who: &Principal,
        first: u64,
    ) -> Result<Vec<ReceivedMessage>> {
        let Some(person) = who.person_id else {
            return Ok(Vec::new());
        };
        let mine: BTreeMap<i64, Option<chrono::DateTime<chrono::Utc>>> =
            message_recipients::Entity::find()
                .filter(message_recipients::Column::PersonId.eq(person.0))
                .all(&self.db)
                .await?
                .into_iter()
                .map(|row| (row.message_id, row.acknowledged_at))
                .collect();
        let clearance = who.highest_clearance(Action::ReadIncidents);
        let sender = who.may(Action::SendMessages, Scope::Organisation);
        let rows = messages::Entity::find()
            .filter(messages::Column::Id.is_in(mine.keys().copied()))
            .order_by_desc(messages::Column::CreatedAt)
            .order_by_desc(messages::Column::Id)
            .all(&self.db)
            .await?;
        let mut readable = Vec::new();
        for row in rows {
            if sender || convert::confidentiality(row.confidentiality)? <= clearance {
                readable.push(row);
            }
            if readable.len() as u64 >= first {
                break;
            }
        }
        let counts = recipient_counts(&self.db, readable.iter().map(|row| row.id)).await?;
        readable
            .into_iter()
            .map(|row| {
                let acknowledged_at = mine.get(&row.id).copied().flatten();
                let count = counts.get(&row.id).copied().unwrap_or(0);
                Ok(ReceivedMessage {
                    message: stored_message(row, count)?,
                    acknowledged_at,
                })
            })
            .collect()
    }

    /// The latest messages sent, newest first: for those who follow messages up.
    pub async fn recent_messages(&self, who: &Principal, first: u64) -> Result<Vec<Message>> {
        who.authorize(Action::SendMessages, Scope::Organisation)?;
        let rows = messages::Entity::find()
            .order_by_desc(messages::Column::CreatedAt)
            .order_by_desc(messages::Column::Id)
            .limit(first)
            .all(&self.db)
            .await?;
        let counts = recipient_counts(&self.db, rows.iter().map(|row| row.id)).await?;
        rows.into_iter()
            .map(|row| {
                let count = counts.get(&row.id).copied().unwrap_or(0);
                stored_message(row, count)
            })
            .collect()
    }

    /// Who a message has reached, in three queries whatever the audience's size.
    pub async fn roll_call(&self, who: &Principal, id: MessageId) -> Result<RollCall> {
        who.authorize(Action::SendMessages, Scope::Organisation)?;
        // Delivery states and escalation steps change without a change event.
        self.note_live_read();
        find_message(&self.db, id).await?;
        let recipients = message_recipients::Entity::find()
            .filter(message_recipients::Column::MessageId.eq(id.0))
            .order_by_asc(message_recipients::Column::PersonId)
            .all(&self.db)
            .await?;
        let mut best: HashMap<i64, DeliveryState> = HashMap::new();
        let (mut texts_left, mut segments_left) = (0, 0);
        for row in outbox::Entity::find()
            .filter(outbox::Column::MessageId.eq(id.0))
            .filter(outbox::Column::EscalationAbout.is_null())
            .all(&self.db)
            .await?
        {
            let state: DeliveryState = convert::stored(&row.state, "outbox.state")?;
            if state == DeliveryState::Queued && row.channel == Channel::Sms.as_str() {
                texts_left += 1;
                segments_left += count_segments(&row.body).count as u64;
            }
            let entry = best.entry(row.person_id).or_insert(state);
            if progress(state) > progress(*entry) {
                *entry = state;
            }
        }
        let mut units_of: HashMap<i64, Vec<i64>> = HashMap::new();
        for row in person_units::Entity::find()
            .filter(
                person_units::Column::PersonId.in_subquery(
                    Query::select()
                        .column(message_recipients::Column::PersonId)
                        .from(message_recipients::Entity)
                        .and_where(message_recipients::Column::MessageId.eq(id.0))
                        .to_owned(),
                ),
            )
            .all(&self.db)
            .await?
        {
            units_of.entry(row.person_id).or_default().push(row.unit_id);
        }
        let mut overall = DeliveryCounts::default();
        let mut units: BTreeMap<i64, DeliveryCounts> = BTreeMap::new();
        let mut not_reached = Vec::new();
        let mut escalated = Vec::new();
        for recipient in recipients {
            let step = EscalationStep::from_number(recipient.escalation_step)?;
            if step != EscalationStep::None {
                escalated.push((PersonId(recipient.person_id), step));
            }
            let state = match recipient.acknowledged_at {
                Some(_) => RecipientState::Acknowledged,
                None => RecipientState::Delivery(
                    best.get(&recipient.person_id)
                        .copied()
                        .unwrap_or(DeliveryState::Unreachable),
                ),
            };
            overall.count(state);
            for unit in units_of.get(&recipient.person_id).into_iter().flatten() {
                units.entry(*unit).or_default().count(state);
            }
            if !matches!(
                state,
                RecipientState::Acknowledged | RecipientState::Delivery(DeliveryState::Delivered)
            ) {
                not_reached.push(PersonId(recipient.person_id));
            }
        }
        Ok(RollCall {
            message_id: id,
            overall,
            units: units
                .into_iter()
                .map(|(unit, counts)| (UnitId(unit), counts))
                .collect(),
            not_reached,
            escalated,
            sms_left: match self.sms_channel {
                SmsChannel::On(capacity) if texts_left > 0 => {
                    Some(capacity.estimate(texts_left, segments_left))
                }
                _ => None,
            },
        })
    }
}

/// How far a copy got, so that a person reached on one channel counts as reached.
/// A push service's 201 is `Sent`, like an SMS provider's acceptance: it holds the
/// message, but the phone may be off for hours. Only a delivery report (SMS) or the
/// person's acknowledgement (one tap on the notification's Kvittera) counts as reached.
fn progress(state: DeliveryState) -> u8 {
    match state {
        DeliveryState::Unreachable => 0,
        DeliveryState::Failed => 1,
        DeliveryState::Queued => 2,
        DeliveryState::Sent => 3,
        DeliveryState::Delivered => 4,
    }
}

/// The people an audience names, each once, in one query. Named people, units and
/// tasks that do not exist are refused rather than silently reaching fewer people.
async fn resolve_audience(
    db: &impl ConnectionTrait,
    audience: &Audience,
) -> Result<Vec<(Recipient, Option<String>)>> {
    ensure_units_exist(db, &audience.unit_ids).await?;
    if !audience.managers_of.is_empty() {
        ensure_units_exist(db, &audience.managers_of).await?;
    }
    let task_ids: Vec<i64> = audience.task_ids.iter().map(|id| id.0).collect();
    let found_tasks = tasks::Entity::find()
        .filter(tasks::Column::Id.is_in(task_ids.clone()))
        .count(db)
        .await?;
    if found_tasks != task_ids.len() as u64 {
        return Err(DomainError::validation(
            "audience.taskIds",
            "names a task that does not exist",
        )
        .into());
    }
    let subtrees = Subtrees::of(db, &audience.unit_ids).await?;
    let mut anyone = Condition::any();
    if audience.everyone {
        anyone = anyone.add(people::Column::External.eq(false));
    }
    if !audience.person_ids.is_empty() {
        anyone = anyone.add(people::Column::Id.is_in(audience.person_ids.iter().map(|id| id.0)));
    }
    if !audience.unit_ids.is_empty() {
        anyone = anyone.add(
            people::Column::Id.in_subquery(
                Query::select()
                    .column(person_units::Column::PersonId)
                    .from(person_units::Entity)
                    .and_where(
                        person_units::Column::UnitId
                            .in_subquery(subtrees.units_covered_by(&audience.unit_ids)),
                    )
                    .to_owned(),
            ),
        );
    }
    if !audience.roles.is_empty() {
        anyone = anyone.add(people::Column::Id.in_subquery(holders_of(&audience.roles)));
    }
    if !audience.managers_of.is_empty() {
        anyone = anyone.add(
            people::Column::Id.in_subquery(
                holders_of(&[reserv_domain::access::Role::UnitManager])
                    .and_where(
                        Expr::col((account_roles::Entity, account_roles::Column::UnitId))
                            .is_in(audience.managers_of.iter().map(|id| id.0)),
                    )
                    .to_owned(),
            ),
        );
    }
    if !task_ids.is_empty() {
        anyone = anyone.add(
            people::Column::Id.in_subquery(
                Query::select()
                    .column(tasks::Column::AssigneeId)
                    .from(tasks::Entity)
                    .and_where(tasks::Column::Id.is_in(task_ids))
                    .and_where(tasks::Column::AssigneeId.is_not_null())
                    .to_owned(),
            ),
        );
    }
    let rows = people::Entity::find()
        .filter(anyone)
        .order_by_asc(people::Column::Id)
        .all(db)
        .await?;
    if let Some(missing) = audience
        .person_ids
        .iter()
        .find(|id| !rows.iter().any(|row| row.id == id.0))
    {
        return Err(DomainError::not_found("person", missing).into());
    }
    rows.into_iter()
        .map(|row| {
            Ok((
                Recipient {
                    person_id: PersonId(row.id),
                    language: convert::stored(&row.language, "people.language")?,
                    name: row.name,
                },
                row.phone,
            ))
        })
        .collect()
}

/// The people linked to enabled accounts holding any of `roles`.
fn holders_of(roles: &[reserv_domain::access::Role]) -> SelectStatement {
    Query::select()
        .column((accounts::Entity, accounts::Column::PersonId))
        .from(accounts::Entity)
        .inner_join(
            account_roles::Entity,
            Expr::col((account_roles::Entity, account_roles::Column::AccountId))
                .equals((accounts::Entity, accounts::Column::Id)),
        )
        .and_where(
            Expr::col((account_roles::Entity, account_roles::Column::Role))
                .is_in(roles.iter().map(|role| role.as_str())),
        )
        .and_where(Expr::col((accounts::Entity, accounts::Column::Disabled)).eq(false))
        .and_where(Expr::col((accounts::Entity, accounts::Column::PersonId)).is_not_null())
        .to_owned()
}

/// A message checked and its audience resolved, ready to be sent or estimated.
struct Prepared {
    message: ValidMessage,
    incident: Option<Incident>,
    /// Each recipient with their phone number, when they have one.
    recipients: Vec<(Recipient, Option<String>)>,
}

impl Prepared {
    fn exercise(&self) -> bool {
        self.incident
            .as_ref()
            .is_some_and(|incident| incident.exercise)
    }

    fn rendering(&self, message_id: MessageId) -> Rendering<'_> {
        Rendering {
            message_id,
            incident_title: self
                .incident
                .as_ref()
                .map(|incident| incident.title.as_str()),
            exercise: self.exercise(),
        }
    }
}

/// The checks every send makes, in the order a sender should hear of them: may they
/// send, is the message well formed, may they send at its level, and who does it reach.
async fn prepare(
    db: &impl ConnectionTrait,
    who: &Principal,
    request: NewMessage,
) -> Result<Prepared> {
    who.authorize_somewhere(Action::SendMessages)?;
    let message = request.validate()?;
    let level = message.classification.confidentiality;
    if who.highest_clearance(Action::SendMessages) < level {
        return Err(DomainError::forbidden(format!(
            "{} may not send messages at confidentiality level {}",
            who.username,
            level.level()
        ))
        .into());
    }
    let incident = match message.incident_id {
        Some(id) => {
            let located = locate(db, id).await?;
            located.authorize(who, Action::ReadIncidents)?;
            Some(located.incident)
        }
        None => None,
    };
    let recipients = resolve_audience(db, &message.audience).await?;
    Ok(Prepared {
        message,
        incident,
        recipients,
    })
}

/// The SMS text per recipient (none for those without a phone), each checked against
/// the channel's segment limit when SMS is on.
fn sms_bodies(
    prepared: &Prepared,
    rendering: Rendering<'_>,
    channel: SmsChannel,
) -> Result<Vec<Option<String>>> {
    prepared
        .recipients
        .iter()
        .map(|(recipient, phone)| {
            if phone.is_none() {
                return Ok(None);
            }
            let body = match channel {
                SmsChannel::Off => prepared.message.sms_for(recipient, rendering),
                SmsChannel::On(capacity) => {
                    let (body, _) =
                        prepared
                            .message
                            .sms_within(recipient, rendering, capacity.max_segments)?;
                    body
                }
            };
            Ok(Some(body))
        })
        .collect()
}

/// Writes the delivery records and outbox rows of a new message: for each recipient
/// their SMS (`bodies` holds each recipient's text, in the order of the recipients) and
/// a push copy per browser in `browsers`, side by side so that a slow SMS rate does not
/// hold the pushes back; the worker sends both and the roll-call counts whichever gets
/// further. With `push_first`, the SMS of a recipient with a browser is held on their
/// delivery record for the first escalation step instead. One statement per table on
/// PostgreSQL (see [`crate::bulk`]). Answers how many outbox copies it queued.
#[allow(clippy::too_many_arguments)]
async fn queue(
    db: &impl ConnectionTrait,
    prepared: &Prepared,
    rendering: Rendering<'_>,
    bodies: Vec<Option<String>>,
    browsers: &HashMap<i64, Vec<i64>>,
    push_first: bool,
    message_id: MessageId,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<usize> {
    let plan = prepared.message.escalation;
    let count = prepared.recipients.len();
    let mut copies = NewCopies::of(message_id);
    let mut person_ids = Vec::with_capacity(count);
    let mut languages = Vec::with_capacity(count);
    let mut held = Vec::with_capacity(count);
    let mut due = Vec::with_capacity(count);
    for ((recipient, phone), body) in prepared.recipients.iter().zip(bodies) {
        let person_id = recipient.person_id.0;
        let devices = browsers
            .get(&person_id)
            .map(Vec::as_slice)
            .unwrap_or_default();
        let held_sms = if push_first && !devices.is_empty() {
            body
        } else {
            if let (Some(phone), Some(body)) = (phone, body) {
                copies.add(person_id, Channel::Sms, phone.clone(), body, None);
            }
            None
        };
        for device in devices {
            copies.add(
                person_id,
                Channel::Push,
                format!("s{device}"),
                push_payload(prepared, recipient, rendering),
                Some(*device),
            );
        }
        person_ids.push(person_id);
        languages.push(recipient.language.as_str().to_owned());
        due.push(plan.map(|plan| plan.first_due(now, held_sms.is_some())));
        held.push(held_sms);
    }
    Rows::new("message_recipients", count)
        .constant("message_id", message_id.0)
        .column("person_id", Values::BigInt(person_ids))
        .column("language", Values::Text(languages))
        .constant(
            "acknowledged_at",
            Option::<chrono::DateTime<chrono::Utc>>::None,
        )
        .constant("escalation_step", EscalationStep::None.number())
        .column("escalation_due_at", Values::OptionalTimestamp(due))
        .column("held_sms", Values::OptionalText(held))
        .insert(db)
        .await?;
    let queued = copies.person_ids.len();
    copies.insert(db, now).await?;
    Ok(queued)
}

/// The outbox rows of a new message, each due at once, gathered to be written in one
/// statement on PostgreSQL (see [`crate::bulk`]).
struct NewCopies {
    message_id: i64,
    person_ids: Vec<i64>,
    channels: Vec<String>,
    destinations: Vec<String>,
    bodies: Vec<String>,
    idempotency_keys: Vec<String>,
}

impl NewCopies {
    fn of(message_id: MessageId) -> Self {
        Self {
            message_id: message_id.0,
            person_ids: Vec::new(),
            channels: Vec::new(),
            destinations: Vec::new(),
            bodies: Vec::new(),
            idempotency_keys: Vec::new(),
        }
    }

    /// A copy for `person_id` over `channel` to `destination`; `browser` is the push
    /// subscription, which a push copy's idempotency key names.
    fn add(
        &mut self,
        person_id: i64,
        channel: Channel,
        destination: String,
        body: String,
        browser: Option<i64>,
    ) {
        let message_id = self.message_id;
        self.idempotency_keys.push(match browser {
            Some(browser) => format!("m{message_id}-p{person_id}-{channel}-s{browser}"),
            None => format!("m{message_id}-p{person_id}-{channel}"),
        });
        self.person_ids.push(person_id);
        self.channels.push(channel.as_str().to_owned());
        self.destinations.push(destination);
        self.bodies.push(body);
    }

    async fn insert(
        self,
        db: &impl ConnectionTrait,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<()> {
        let none = || Option::<String>::None;
        Rows::new("outbox", self.person_ids.len())
            .constant("message_id", self.message_id)
            .column("person_id", Values::BigInt(self.person_ids))
            .column("channel", Values::Text(self.channels))
            .column("destination", Values::Text(self.destinations))
            .column("body", Values::Text(self.bodies))
            .column("idempotency_key", Values::Text(self.idempotency_keys))
            .constant("state", DeliveryState::Queued.as_str())
            .constant("attempts", 0_i32)
            .constant("next_attempt_at", now)
            .constant("lease_until", Option::<chrono::DateTime<chrono::Utc>>::None)
            .constant("provider_id", none())
            .constant("provider", none())
            .constant("last_error", none())
            .constant("created_at", now)
            .constant("updated_at", now)
            .constant("escalation_about", Option::<i64>::None)
            .constant("claim_token", none())
            .insert(db)
            .await
    }
}

/// One copy of a message for the outbox, before it is queued.
pub(crate) struct QueuedCopy {
    pub(crate) message_id: i64,
    pub(crate) person_id: i64,
    pub(crate) channel: Channel,
    pub(crate) destination: String,
    pub(crate) body: String,
    pub(crate) idempotency_key: String,
    pub(crate) now: chrono::DateTime<chrono::Utc>,
    /// On an escalation notice: whom it is about (see `outbox.escalation_about`).
    pub(crate) escalation_about: Option<i64>,
}

/// The outbox row of a copy due at once.
pub(crate) fn queued_copy(copy: QueuedCopy) -> outbox::ActiveModel {
    outbox::ActiveModel {
        id: NotSet,
        message_id: Set(copy.message_id),
        person_id: Set(copy.person_id),
        channel: Set(copy.channel.as_str().to_owned()),
        destination: Set(Some(copy.destination)),
        body: Set(copy.body),
        idempotency_key: Set(copy.idempotency_key),
        state: Set(DeliveryState::Queued.as_str().to_owned()),
        attempts: Set(0),
        next_attempt_at: Set(copy.now),
        lease_until: Set(None),
        provider_id: Set(None),
        provider: Set(None),
        last_error: Set(None),
        created_at: Set(copy.now),
        updated_at: Set(copy.now),
        escalation_about: Set(copy.escalation_about),
        claim_token: Set(None),
    }
}

/// The push payload the service worker shows: `{messageId, reference, title, body}`.
fn push_payload(prepared: &Prepared, recipient: &Recipient, rendering: Rendering<'_>) -> String {
    let text = prepared.message.push_for(recipient, rendering);
    serde_json::json!({
        "messageId": rendering.message_id.to_string(),
        "reference": reference(rendering.message_id),
        "title": text.title,
        "body": text.body,
    })
    .to_string()
}

/// The browsers (push subscription ids) of enabled accounts each recipient subscribed
/// for push, by person, in one query on PostgreSQL. The destination of a push copy is
/// the subscription's id (`s17`), looked up when sending, so that a browser removed
/// meanwhile is not pushed to.
async fn browsers_of(
    db: &impl ConnectionTrait,
    prepared: &Prepared,
) -> Result<HashMap<i64, Vec<i64>>> {
    let person_ids: Vec<i64> = prepared
        .recipients
        .iter()
        .map(|(recipient, _)| recipient.person_id.0)
        .collect();
    let mut browsers: HashMap<i64, Vec<i64>> = HashMap::new();
    for device in push_devices(db, &person_ids).await? {
        browsers
            .entry(device.person_id)
            .or_default()
            .push(device.id);
    }
    Ok(browsers)
}

/// The browsers of enabled accounts that these people subscribed for push. A disabled
/// account's browser (someone who left, a lost phone) gets nothing.
pub(crate) async fn push_devices(
    db: &impl ConnectionTrait,
    person_ids: &[i64],
) -> Result<Vec<push_subscriptions::Model>> {
    let mut devices = Vec::new();
    for people in any_of(
        push_subscriptions::Column::PersonId,
        person_ids,
        db.get_database_backend(),
    ) {
        devices.extend(
            push_subscriptions::Entity::find()
                .filter(people)
                .filter(
                    push_subscriptions::Column::AccountId.in_subquery(
                        Query::select()
                            .column(accounts::Column::Id)
                            .from(accounts::Entity)
                            .and_where(accounts::Column::Disabled.eq(false))
                            .to_owned(),
                    ),
                )
                .order_by_asc(push_subscriptions::Column::Id)
                .all(db)
                .await?,
        );
    }
    Ok(devices)
}

async fn find_message(db: &impl ConnectionTrait, id: MessageId) -> Result<messages::Model> {
    Ok(messages::Entity::find_by_id(id.0)
        .one(db)
        .await?
        .ok_or_else(|| DomainError::not_found("message", id))?)
}

/// The signed-in person, when the message went to them; otherwise the message does not
/// exist as far as they are concerned.
async fn ensure_recipient(
    db: &impl ConnectionTrait,
    who: &Principal,
    id: MessageId,
) -> Result<PersonId> {
    let not_found = || DomainError::not_found("message", id);
    let person = who.person_id.ok_or_else(not_found)?;
    message_recipients::Entity::find_by_id((id.0, person.0))
        .one(db)
        .await?
        .ok_or_else(not_found)?;
    Ok(person)
}

/// How many recipients each of these messages has, in one query.
async fn recipient_counts(
    db: &impl ConnectionTrait,
    ids: impl IntoIterator<Item = i64>,
) -> Result<HashMap<i64, u64>> {
    let counts: Vec<(i64, i64)> = message_recipients::Entity::find()
        .select_only()
        .column(message_recipients::Column::MessageId)
        .column_as(message_recipients::Column::PersonId.count(), "recipients")
        .filter(message_recipients::Column::MessageId.is_in(ids))
        .group_by(message_recipients::Column::MessageId)
        .into_tuple()
        .all(db)
        .await?;
    Ok(counts
        .into_iter()
        .map(|(id, count)| (id, u64::try_from(count).unwrap_or(0)))
        .collect())
}

fn stored_message(row: messages::Model, recipient_count: u64) -> Result<Message> {
    Ok(Message {
        id: MessageId(row.id),
        incident_id: row.incident_id.map(IncidentId),
        classification: convert::classification(
            row.confidentiality,
            row.integrity,
            row.availability,
            row.traceability,
        )?,
        body_sv: row.body_sv,
        body_en: row.body_en,
        exercise: row.exercise,
        sent_by: row.sent_by,
        created_at: row.created_at,
        recipient_count,
        escalate_after_minutes: row.escalate_after_minutes.map(i64::from),
    })
}
