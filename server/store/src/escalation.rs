//! The escalation pass: for recipients who have not acknowledged an escalating message
//! in time, queues the SMS held back while push might reach them, and later tells their
//! unit managers; each step with a crisis log entry on the message's incident.
//!
//! A pass finds the due recipients with one indexed range query
//! (`message_recipients.escalation_due_at`), decides each step with
//! [`next_escalation_step`], and writes the outbox rows, the log entries and the new
//! step in one transaction. The step recorded moves the due time on, so a second pass at
//! the same time finds nothing: a step happens once. This module never sends; the
//! outbox worker does. A closed incident gets no log entries: its record no longer
//! changes.

use crate::audit::begin_write;
use crate::entities::{
    account_roles, accounts, crisis_log_entries, incidents, message_recipients, messages, outbox,
    people, person_units,
};
use crate::messages::{QueuedCopy, queued_copy};
use crate::{OutboxWorker, Result};
use reserv_domain::access::Role;
use reserv_domain::escalation::{
    EscalationPlan, EscalationStep, RecipientEscalation, log_text, managers_notice,
    next_escalation_step,
};
use reserv_domain::incidents::{IncidentState, LogEntryKind};
use reserv_domain::messages::{Channel, reference};
use reserv_domain::people::Language;
use reserv_domain::sms::SmsChannel;
use sea_orm::ActiveValue::{NotSet, Set};
use sea_orm::sea_query::{Expr, ExprTrait, LockBehavior, LockType, Query};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseTransaction, DbBackend, EntityTrait,
    QueryFilter, QueryOrder, QuerySelect,
};
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// How many due recipients one pass takes; the worker loops while a pass is full.
const ESCALATION_BATCH: u64 = 200;

/// A unit manager to tell, as the one query finds them.
struct ManagerToTell {
    person_id: i64,
    phone: Option<String>,
    language: String,
}

impl OutboxWorker {
    /// Takes every escalation step that is due now; answers how many steps it took.
    pub async fn escalate_unacknowledged(&self) -> Result<usize> {
        let db = self.db();
        let tx = begin_write(db).await?;
        let now = self.now();
        let mut due = message_recipients::Entity::find()
            .filter(message_recipients::Column::EscalationDueAt.lte(now))
            .filter(message_recipients::Column::AcknowledgedAt.is_null())
            .order_by_asc(message_recipients::Column::EscalationDueAt)
            .limit(ESCALATION_BATCH);
        if db.get_database_backend() == DbBackend::Postgres {
            // Another instance's pass takes the rows this one skips.
            due = due.lock_with_behavior(LockType::Update, LockBehavior::SkipLocked);
        }
        let rows = due.all(&tx).await?;
        if rows.is_empty() {
            tx.commit().await?;
            return Ok(0);
        }
        let messages: HashMap<i64, messages::Model> = messages::Entity::find()
            .filter(messages::Column::Id.is_in(rows.iter().map(|row| row.message_id)))
            .all(&tx)
            .await?
            .into_iter()
            .map(|row| (row.id, row))
            .collect();
        // A closed incident's record no longer changes: its messages still escalate,
        // without log entries.
        // With each open incident's level, which its escalation entries take.
        let open_incidents: BTreeMap<i64, i16> = incidents::Entity::find()
            .select_only()
            .column(incidents::Column::Id)
            .column(incidents::Column::Confidentiality)
            .filter(
                incidents::Column::Id
                    .is_in(messages.values().filter_map(|message| message.incident_id)),
            )
            .filter(incidents::Column::State.ne(IncidentState::Closed.as_str()))
            .into_tuple::<(i64, i16)>()
            .all(&tx)
            .await?
            .into_iter()
            .collect();
        let recipients: HashMap<i64, people::Model> = people::Entity::find()
            .filter(people::Column::Id.is_in(rows.iter().map(|row| row.person_id)))
            .all(&tx)
            .await?
            .into_iter()
            .map(|row| (row.id, row))
            .collect();
        let mut decided = Vec::new();
        for row in rows {
            let Some(message) = messages.get(&row.message_id) else {
                continue;
            };
            let decision = match message.escalate_after_minutes {
                Some(minutes) => next_escalation_step(
                    EscalationPlan::new("messages.escalate_after_minutes", minutes.into())?,
                    RecipientEscalation {
                        sent_at: message.created_at,
                        acknowledged: false,
                        done: EscalationStep::from_number(row.escalation_step)?,
                        sms_held: row.held_sms.is_some(),
                    },
                    now,
                ),
                None => Default::default(),
            };
            decided.push((row, decision));
        }
        let awaiting_managers: Vec<i64> = decided
            .iter()
            .filter(|(_, decision)| decision.step == Some(EscalationStep::Managers))
            .map(|(row, _)| row.person_id)
            .collect();
        let managers = managers_of(&tx, &awaiting_managers).await?;
        let sms_on = matches!(self.sms_channel(), SmsChannel::On(_));
        let mut steps = 0;
        for (row, decision) in decided {
            let Some(message) = messages.get(&row.message_id) else {
                continue;
            };
            let reference = reference(reserv_domain::ids::MessageId(message.id));
            let name = recipients
                .get(&row.person_id)
                .map(|person| person.name.as_str())
                .unwrap_or("(okänd)");
            let mut copies = Vec::new();
            let mut told = 0;
            match decision.step {
                Some(EscalationStep::Sms) => {
                    let phone = recipients
                        .get(&row.person_id)
                        .and_then(|person| person.phone.clone());
                    if let (Some(phone), Some(body)) = (phone, row.held_sms.clone()) {
                        copies.push(queued_copy(QueuedCopy {
                            message_id: message.id,
                            person_id: row.person_id,
                            channel: Channel::Sms,
                            destination: phone,
                            body,
                            idempotency_key: format!(
                                "m{}-p{}-{}",
                                message.id,
                                row.person_id,
                                Channel::Sms
                            ),
                            now,
                            escalation_about: None,
                        }));
                    }
                }
                Some(EscalationStep::Managers) if sms_on => {
                    for manager in managers.get(&row.person_id).into_iter().flatten() {
                        let Some(phone) = manager.phone.clone() else {
                            continue;
                        };
                        told += 1;
                        copies.push(queued_copy(QueuedCopy {
                            message_id: message.id,
                            person_id: manager.person_id,
                            channel: Channel::Sms,
                            destination: phone,
                            body: managers_notice(
                                name,
                                &reference,
                                manager.language == Language::En.as_str(),
                            ),
                            idempotency_key: format!(
                                "m{}-p{}-escalation-p{}",
                                message.id, row.person_id, manager.person_id
                            ),
                            now,
                            escalation_about: Some(row.person_id),
                        }));
                    }
                }
                _ => {}
            }
            let mut update = message_recipients::Entity::update_many()
                .col_expr(
                    message_recipients::Column::EscalationDueAt,
                    Expr::value(decision.next_due),
                )
                .filter(message_recipients::Column::MessageId.eq(row.message_id))
                .filter(message_recipients::Column::PersonId.eq(row.person_id))
                // The step read is the step changed: when a concurrent pass got here
                // first, nothing is updated and this pass writes nothing for her.
                .filter(message_recipients::Column::EscalationStep.eq(row.escalation_step));
            if let Some(step) = decision.step {
                update = update.col_expr(
                    message_recipients::Column::EscalationStep,
                    Expr::value(step.number()),
                );
                if step == EscalationStep::Sms {
                    update = update.col_expr(
                        message_recipients::Column::HeldSms,
                        Expr::value(Option::<String>::None),
                    );
                }
            }
            if update.exec(&tx).await?.rows_affected == 0 {
                continue;
            }
            if decision.step.is_some() {
                steps += 1;
            }
            if !copies.is_empty() {
                outbox::Entity::insert_many(copies)
                    .exec_without_returning(&tx)
                    .await?;
            }
            if let (Some(step), Some((incident_id, level))) = (
                decision.step,
                message.incident_id.and_then(|incident| {
                    open_incidents
                        .get(&incident)
                        .map(|level| (incident, *level))
                }),
            ) {
                crisis_log_entries::ActiveModel {
                    id: NotSet,
                    incident_id: Set(incident_id),
                    kind: Set(LogEntryKind::Message.as_str().to_owned()),
                    text: Set(log_text(step, name, &reference, told)),
                    occurred_at: Set(now),
                    recorded_at: Set(now),
                    author_id: Set(None),
                    author: Set(self.principal().username.chars().take(64).collect()),
                    corrects_id: Set(None),
                    client_id: Set(None),
                    from_paper: Set(false),
                    on_behalf_of: Set(None),
                    sms_message_sid: Set(None),
                    confidentiality: Set(level),
                }
                .insert(&tx)
                .await?;
            }
        }
        tx.commit().await?;
        Ok(steps)
    }
}

/// The unit managers of each of these people's units, in one query: the people linked
/// to enabled accounts holding the unit manager role for a unit the person is attached
/// to. A manager is not told about herself.
async fn managers_of(
    tx: &DatabaseTransaction,
    person_ids: &[i64],
) -> Result<HashMap<i64, Vec<ManagerToTell>>> {
    if person_ids.is_empty() {
        return Ok(HashMap::new());
    }
    let query = Query::select()
        .expr_as(
            Expr::col((person_units::Entity, person_units::Column::PersonId)),
            "about",
        )
        .expr_as(Expr::col((people::Entity, people::Column::Id)), "manager")
        .expr_as(Expr::col((people::Entity, people::Column::Phone)), "phone")
        .expr_as(
            Expr::col((people::Entity, people::Column::Language)),
            "language",
        )
        .from(person_units::Entity)
        .inner_join(
            account_roles::Entity,
            Expr::col((account_roles::Entity, account_roles::Column::UnitId))
                .equals((person_units::Entity, person_units::Column::UnitId)),
        )
        .inner_join(
            accounts::Entity,
            Expr::col((accounts::Entity, accounts::Column::Id))
                .equals((account_roles::Entity, account_roles::Column::AccountId)),
        )
        .inner_join(
            people::Entity,
            Expr::col((people::Entity, people::Column::Id))
                .equals((accounts::Entity, accounts::Column::PersonId)),
        )
        .and_where(
            Expr::col((account_roles::Entity, account_roles::Column::Role))
                .eq(Role::UnitManager.as_str()),
        )
        .and_where(Expr::col((accounts::Entity, accounts::Column::Disabled)).eq(false))
        .and_where(
            Expr::col((person_units::Entity, person_units::Column::PersonId))
                .is_in(person_ids.iter().copied()),
        )
        .to_owned();
    let mut seen = BTreeSet::new();
    let mut managers: HashMap<i64, Vec<ManagerToTell>> = HashMap::new();
    for row in tx.query_all(&query).await? {
        let about: i64 = row.try_get("", "about")?;
        let manager: i64 = row.try_get("", "manager")?;
        if about == manager || !seen.insert((about, manager)) {
            continue;
        }
        managers.entry(about).or_default().push(ManagerToTell {
            person_id: manager,
            phone: row.try_get("", "phone")?,
            language: row.try_get("", "language")?,
        });
    }
    Ok(managers)
}
