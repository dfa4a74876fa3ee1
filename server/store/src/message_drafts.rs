//! Message drafts: preparing a playbook's messages at activation, and the crisis lead's
//! listing, editing, discarding and sending of them.
//!
//! A draft is prepared inside the activation's change, so that an activation that is
//! rolled back or replayed leaves no drafts of its own. Sending a draft is sending a
//! crisis message through [`Store::send_message_in`], with every rule of that path
//! (outbox rows, no classified content by SMS, ÖVNING / EXERCISE on an exercise's
//! copies), in one change with marking the draft sent; the draft for the public is
//! published as a public notice instead. This module never writes to the outbox itself.

use crate::activation::{action_entry, exercise_prefix};
use crate::audit::{Audit, AuditedObject, Change};
use crate::entities::{incident_plan_activations, message_drafts, people, units};
use crate::incidents::rows::locate;
use crate::{Result, Store, convert};
use chrono::{DateTime, Utc};
use reserv_domain::DomainError;
use reserv_domain::access::{Action, Principal};
use reserv_domain::audit::AuditAction;
use reserv_domain::ids::{IncidentId, MessageDraftId, MessageId, NoticeId, UnitId};
use reserv_domain::incidents::{Incident, LogEntryKind, NewLogEntry};
use reserv_domain::message_drafts::{
    DraftAudience, DraftEdit, DraftState, MessageDraft, unfilled_mark,
};
use reserv_domain::messages::NewMessage;
use reserv_domain::notices::{Localized, NoticeDraft};
use reserv_domain::people::Language;
use reserv_domain::swedish_time;
use reserv_playbooks::{Audience, Playbook};
use sea_orm::ActiveValue::{NotSet, Set};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder,
};
use std::collections::{BTreeMap, HashMap};

/// What fills the placeholders of a playbook's messages that the database does not
/// hold: the residents' hotline and the public status page's address. A placeholder
/// without a value stays in the draft as written, and the draft cannot be sent until
/// someone writes it in.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DraftSettings {
    pub hotline: Option<String>,
    pub status_url: Option<String>,
}

impl AuditedObject for MessageDraft {
    fn audit_id(&self) -> Option<String> {
        Some(self.id.to_string())
    }
}

/// What an activation knows when it prepares its drafts.
pub(crate) struct DraftOccasion<'a> {
    pub playbook: &'a Playbook,
    pub incident: &'a Incident,
    pub activation_id: i64,
    pub units: &'a [units::Model],
    pub exercise: bool,
    pub activated_at: DateTime<Utc>,
}

impl Store {
    /// The same store filling draft placeholders from `settings`. Call it right after
    /// [`Store::open`]: clones made before keep the old settings.
    pub fn with_draft_settings(self, settings: DraftSettings) -> Self {
        Self {
            draft_settings: settings,
            ..self
        }
    }

    /// Prepares a draft per message of the playbook, its placeholders filled, with a
    /// crisis log entry for each; returns how many it prepared.
    pub(crate) async fn prepare_message_drafts_in(
        &self,
        change: &mut Change,
        who: &Principal,
        occasion: DraftOccasion<'_>,
    ) -> Result<usize> {
        if occasion.playbook.messages.is_empty() {
            return Ok(0);
        }
        let commander = commander_name(change.tx(), occasion.incident, who).await?;
        let unit_names: Vec<&str> = occasion
            .units
            .iter()
            .map(|unit| unit.name.as_str())
            .collect();
        let values = |language: Language| {
            let known = |name: &'static str, value: &Option<String>| {
                (name, value.clone().unwrap_or_else(|| unfilled_mark(name)))
            };
            BTreeMap::from([
                ("incident", occasion.incident.title.clone()),
                ("units", unit_names.join(", ")),
                ("commander", commander.clone()),
                (
                    "activated_at",
                    swedish_time::in_words(occasion.activated_at, language),
                ),
                known("hotline", &self.draft_settings.hotline),
                known("status_url", &self.draft_settings.status_url),
            ])
        };
        let (sv, en) = (values(Language::Sv), values(Language::En));
        // Whole minutes, at least one: the escalation counts in minutes.
        let escalate_after_minutes = occasion.playbook.escalation.as_ref().map(|rule| {
            i32::try_from(rule.unacknowledged_after.as_secs().div_ceil(60).max(1))
                .unwrap_or(i32::MAX)
        });
        for (index, planned) in occasion.playbook.messages.iter().enumerate() {
            let audience = draft_audience(planned.audience);
            let text = planned.filled(&sv, &en).map_err(|problem| {
                DomainError::validation(
                    "playbookId",
                    format!(
                        "message {} of playbook \"{}\" cannot be filled in: {problem}",
                        index + 1,
                        occasion.playbook.id
                    ),
                )
            })?;
            let classification = audience.initial_classification();
            message_drafts::ActiveModel {
                id: NotSet,
                incident_id: Set(occasion.incident.id.0),
                activation_id: Set(occasion.activation_id),
                audience: Set(audience.as_str().to_owned()),
                body_sv: Set(text.sv),
                body_en: Set(text.en),
                confidentiality: Set(classification.confidentiality.level().into()),
                integrity: Set(classification.integrity.into()),
                availability: Set(classification.availability.into()),
                traceability: Set(classification.traceability.map(i16::from)),
                exercise: Set(occasion.exercise),
                escalate_after_minutes: Set(escalate_after_minutes),
                state: Set(DraftState::Draft.as_str().to_owned()),
                message_id: Set(None),
                notice_id: Set(None),
                created_at: Set(occasion.activated_at),
                updated_at: Set(occasion.activated_at),
                updated_by: Set(None),
            }
            .insert(change.tx())
            .await?;
            let text = format!(
                "{}Utkast till meddelande till {} förberett enligt playbook \"{}\"; det skickas när krisledningen skickar det.",
                exercise_prefix(occasion.exercise),
                audience.in_swedish(),
                occasion.playbook.title.sv
            );
            self.append_log_entry_in(change, who, occasion.incident.id, action_entry(text), None)
                .await?;
        }
        Ok(occasion.playbook.messages.len())
    }

    /// The message drafts of an incident, oldest first: for those who send messages.
    pub async fn message_drafts(
        &self,
        who: &Principal,
        incident_id: IncidentId,
    ) -> Result<Vec<MessageDraft>> {
        who.authorize_somewhere(Action::SendMessages)?;
        self.readable_incident(who, incident_id, "message_drafts")
            .await?;
        let rows = message_drafts::Entity::find()
            .filter(message_drafts::Column::IncidentId.eq(incident_id.0))
            .order_by_asc(message_drafts::Column::Id)
            .all(&self.db)
            .await?;
        let units = activation_units(&self.db, rows.iter().map(|row| row.activation_id)).await?;
        rows.into_iter()
            .map(|row| {
                let unit_ids = units.get(&row.activation_id).cloned().unwrap_or_default();
                draft_of(row, unit_ids)
            })
            .collect()
    }

    /// Changes a draft's texts or classification before it is sent.
    pub async fn update_message_draft(
        &self,
        who: &Principal,
        id: MessageDraftId,
        edit: DraftEdit,
    ) -> Result<MessageDraft> {
        let mut change = self.change().await?;
        let result = async {
            let draft = self.open_draft(change.tx(), who, id).await?;
            let edited = edit.apply_to(&draft)?;
            let classification = edited.classification;
            mark_draft(
                change.tx(),
                &draft,
                message_drafts::ActiveModel {
                    body_sv: Set(edited.body_sv),
                    body_en: Set(edited.body_en),
                    confidentiality: Set(classification.confidentiality.level().into()),
                    integrity: Set(classification.integrity.into()),
                    availability: Set(classification.availability.into()),
                    traceability: Set(classification.traceability.map(i16::from)),
                    ..self.touched(who)
                },
            )
            .await?;
            let updated = find_draft(change.tx(), id).await?;
            let audit =
                Audit::new(AuditAction::Update, "message_draft").with_detail(edited.lowered);
            change.audited(self, who, &audit, &updated);
            Ok(updated)
        }
        .await;
        self.conclude(
            change,
            who,
            Audit::new(AuditAction::Update, "message_draft").on(id),
            result,
        )
        .await
    }

    /// Sets a draft aside for good, with a crisis log entry that says so.
    pub async fn discard_message_draft(
        &self,
        who: &Principal,
        id: MessageDraftId,
    ) -> Result<MessageDraft> {
        let mut change = self.change().await?;
        let result = async {
            let draft = self.open_draft(change.tx(), who, id).await?;
            draft.ensure_open()?;
            mark_draft(
                change.tx(),
                &draft,
                message_drafts::ActiveModel {
                    state: Set(DraftState::Discarded.as_str().to_owned()),
                    ..self.touched(who)
                },
            )
            .await?;
            let text = format!(
                "{}Utkastet till meddelande till {} kastades utan att skickas.",
                exercise_prefix(draft.exercise),
                draft.audience.in_swedish()
            );
            self.append_log_entry_in(
                &mut change,
                who,
                draft.incident_id,
                action_entry(text),
                None,
            )
            .await?;
            let discarded = find_draft(change.tx(), id).await?;
            change.audited(
                self,
                who,
                &Audit::new(AuditAction::Discard, "message_draft"),
                &discarded,
            );
            Ok(discarded)
        }
        .await;
        self.conclude(
            change,
            who,
            Audit::new(AuditAction::Discard, "message_draft").on(id),
            result,
        )
        .await
    }

    /// Sends a draft: as a crisis message to its audience, or for the public as a public
    /// notice; marks it sent and writes a crisis log entry, all in one change.
    pub async fn send_message_draft(
        &self,
        who: &Principal,
        id: MessageDraftId,
    ) -> Result<MessageDraft> {
        let mut change = self.change().await?;
        let result = self.send_message_draft_in(&mut change, who, id).await;
        let published = matches!(&result, Ok(draft) if draft.notice_id.is_some());
        let sent = self
            .conclude(
                change,
                who,
                Audit::new(AuditAction::Send, "message_draft").on(id),
                result,
            )
            .await?;
        if published {
            self.announce_notice_change();
        }
        Ok(sent)
    }

    async fn send_message_draft_in(
        &self,
        change: &mut Change,
        who: &Principal,
        id: MessageDraftId,
    ) -> Result<MessageDraft> {
        let draft = self.open_draft(change.tx(), who, id).await?;
        draft.ensure_ready_to_send()?;
        let (sent_as, text) = match draft.audience.recipients(&draft.unit_ids) {
            Some(audience) => {
                let message = self
                    .send_message_in(
                        change,
                        who,
                        NewMessage {
                            incident_id: Some(draft.incident_id),
                            audience,
                            body_sv: draft.body_sv.clone(),
                            body_en: draft.body_en.clone(),
                            classification: Some(draft.classification),
                            escalate_after_minutes: draft.escalate_after_minutes,
                        },
                    )
                    .await?;
                let text = format!(
                    "{}Meddelande {} skickat till {} ({} mottagare) från aktiveringens utkast.",
                    exercise_prefix(draft.exercise),
                    message.reference(),
                    draft.audience.in_swedish(),
                    message.recipient_count
                );
                (SentAs::Message(message.id), text)
            }
            None => {
                if draft.exercise {
                    return Err(DomainError::validation(
                        "id",
                        format!(
                            "message draft {id} is the public's draft of an exercise: an exercise is never published to residents; discard it"
                        ),
                    )
                    .into());
                }
                let notice = self
                    .publish_notice_in(
                        change,
                        who,
                        NoticeDraft {
                            confidentiality: draft.classification.confidentiality.level().into(),
                            headline: Localized {
                                sv: "Information från kommunen".into(),
                                en: Some("Information from the municipality".into()),
                            },
                            body: Localized {
                                sv: draft.body_sv.clone(),
                                en: draft.body_en.clone(),
                            },
                            services: Vec::new(),
                            hotlines: Vec::new(),
                            valid_from: None,
                            valid_to: None,
                            incident_id: Some(draft.incident_id),
                        },
                    )
                    .await?;
                let text = format!(
                    "Utkastet till allmänheten publicerat på statussidan som notis {}.",
                    notice.id
                );
                (SentAs::Notice(notice.id), text)
            }
        };
        let (message_id, notice_id) = match sent_as {
            SentAs::Message(message) => (Some(message.0), None),
            SentAs::Notice(notice) => (None, Some(notice.0)),
        };
        mark_draft(
            change.tx(),
            &draft,
            message_drafts::ActiveModel {
                state: Set(DraftState::Sent.as_str().to_owned()),
                message_id: Set(message_id),
                notice_id: Set(notice_id),
                ..self.touched(who)
            },
        )
        .await?;
        let entry = NewLogEntry {
            kind: LogEntryKind::Message,
            ..action_entry(text)
        };
        self.append_log_entry_in(change, who, draft.incident_id, entry, None)
            .await?;
        let sent = find_draft(change.tx(), id).await?;
        change.audited(
            self,
            who,
            &Audit::new(AuditAction::Send, "message_draft"),
            &sent,
        );
        Ok(sent)
    }

    /// A draft the signed-in person may handle: they may send messages, and read its
    /// incident.
    async fn open_draft(
        &self,
        db: &impl ConnectionTrait,
        who: &Principal,
        id: MessageDraftId,
    ) -> Result<MessageDraft> {
        who.authorize_somewhere(Action::SendMessages)?;
        let draft = find_draft(db, id).await?;
        locate(db, draft.incident_id)
            .await?
            .authorize(who, Action::ReadIncidents)?;
        Ok(draft)
    }

    /// The columns every change of a draft sets: when, and by whom.
    fn touched(&self, who: &Principal) -> message_drafts::ActiveModel {
        message_drafts::ActiveModel {
            updated_at: Set(self.now()),
            updated_by: Set(Some(who.username.chars().take(64).collect())),
            ..Default::default()
        }
    }
}

/// What a sent draft became.
enum SentAs {
    Message(MessageId),
    Notice(NoticeId),
}

fn draft_audience(audience: Audience) -> DraftAudience {
    match audience {
        Audience::Staff => DraftAudience::Staff,
        Audience::Managers => DraftAudience::Managers,
        Audience::CrisisGroup => DraftAudience::CrisisGroup,
        Audience::Public => DraftAudience::Public,
    }
}

/// Who the drafts name as the crisis lead: the incident's commander, else whoever
/// activates.
async fn commander_name(
    db: &impl ConnectionTrait,
    incident: &Incident,
    who: &Principal,
) -> Result<String> {
    let Some(person) = incident.commander_id.or(who.person_id) else {
        return Ok(who.username.clone());
    };
    Ok(people::Entity::find_by_id(person.0)
        .one(db)
        .await?
        .map_or_else(|| who.username.clone(), |row| row.name))
}

/// Writes `change` to a draft that is still open; a draft sent or discarded meanwhile
/// by someone else is not overwritten.
async fn mark_draft(
    db: &impl ConnectionTrait,
    draft: &MessageDraft,
    change: message_drafts::ActiveModel,
) -> Result<()> {
    let updated = message_drafts::Entity::update_many()
        .set(change)
        .filter(message_drafts::Column::Id.eq(draft.id.0))
        .filter(message_drafts::Column::State.eq(DraftState::Draft.as_str()))
        .exec(db)
        .await?;
    if updated.rows_affected == 0 {
        return Err(DomainError::conflict(format!(
            "message draft {} was sent or discarded by someone else meanwhile; reload it",
            draft.id
        ))
        .into());
    }
    Ok(())
}

async fn find_draft(db: &impl ConnectionTrait, id: MessageDraftId) -> Result<MessageDraft> {
    let row = message_drafts::Entity::find_by_id(id.0)
        .one(db)
        .await?
        .ok_or_else(|| DomainError::not_found("message draft", id))?;
    let unit_ids = activation_units(db, [row.activation_id])
        .await?
        .remove(&row.activation_id)
        .unwrap_or_default();
    draft_of(row, unit_ids)
}

/// The units each activation covers, in the order it activated them.
async fn activation_units(
    db: &impl ConnectionTrait,
    activation_ids: impl IntoIterator<Item = i64>,
) -> Result<HashMap<i64, Vec<UnitId>>> {
    let mut units: HashMap<i64, Vec<UnitId>> = HashMap::new();
    for row in incident_plan_activations::Entity::find()
        .filter(incident_plan_activations::Column::ActivationId.is_in(activation_ids))
        .order_by_asc(incident_plan_activations::Column::Id)
        .all(db)
        .await?
    {
        units
            .entry(row.activation_id)
            .or_default()
            .push(UnitId(row.unit_id));
    }
    Ok(units)
}

fn draft_of(row: message_drafts::Model, unit_ids: Vec<UnitId>) -> Result<MessageDraft> {
    Ok(MessageDraft {
        id: MessageDraftId(row.id),
        incident_id: IncidentId(row.incident_id),
        audience: convert::stored(&row.audience, "message_drafts.audience")?,
        unit_ids,
        classification: convert::classification(
            row.confidentiality,
            row.integrity,
            row.availability,
            row.traceability,
        )?,
        body_sv: row.body_sv,
        body_en: row.body_en,
        exercise: row.exercise,
        escalate_after_minutes: row.escalate_after_minutes.map(i64::from),
        state: convert::stored(&row.state, "message_drafts.state")?,
        message_id: row.message_id.map(MessageId),
        notice_id: row.notice_id.map(NoticeId),
        created_at: row.created_at,
        updated_at: row.updated_at,
        updated_by: row.updated_by,
    })
}
