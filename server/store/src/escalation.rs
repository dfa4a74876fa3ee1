//! The escalation pass: for recipients who have not acknowledged an escalating message
//! in time, queues the SMS held back while push might reach them, later tells their
//! unit managers (or the crisis leads, when no manager of hers can be reached), and
//! after a third period tells the message's crisis leads, once, who has still not
//! acknowledged; each step with a crisis log entry on the message's incident. Notices
//! go by push and, with SMS on, by SMS.
//!
//! A pass finds the due recipients and messages with indexed range queries
//! (`message_recipients.escalation_due_at`, `messages.crisis_leads_due_at`), decides each
//! step with the domain's rules, and writes the outbox rows, the log entries and the new
//! step in one transaction. The step recorded moves the due time on, so a second pass at
//! the same time finds nothing: a step happens once. This module never sends; the
//! outbox worker does. A closed incident gets no log entries: its record no longer
//! changes.

use crate::audit::{Audit, append_chained, begin_write};
use crate::entities::{
    account_roles, accounts, crisis_log_entries, incidents, message_recipients, messages, outbox,
    people, person_units,
};
use crate::messages::{QueuedCopy, push_devices, queued_copy};
use crate::{OutboxWorker, Result, convert};
use reserv_domain::DomainError;
use reserv_domain::access::Role;
use reserv_domain::audit::{AuditAction, AuditRecord};
use reserv_domain::classification::Confidentiality;
use reserv_domain::disclosure;
use reserv_domain::escalation::{
    EscalationPlan, EscalationStep, ManagersStepGoesTo, NoticeAbout, RecipientEscalation, Told,
    crisis_leads_log_text, escalation_notice, escalation_notice_title, log_text,
    managers_step_goes_to, next_escalation_step,
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

/// A unit manager or crisis lead to tell, as the queries find them.
#[derive(Clone)]
struct PersonToTell {
    person_id: i64,
    phone: Option<String>,
    language: String,
    /// Her browsers subscribed for push (subscription ids).
    browsers: Vec<i64>,
}

impl PersonToTell {
    fn reachable(&self, sms_on: bool) -> bool {
        (sms_on && self.phone.is_some()) || !self.browsers.is_empty()
    }
}

/// One escalation notice to queue: what it is about, on which message, and for the
/// outbox which recipient (or lead) it concerns and how its idempotency keys begin.
struct Notice<'a> {
    message: &'a messages::Model,
    level: Confidentiality,
    about: NoticeAbout<'a>,
    /// The recipient the notice is about; none for the crisis leads' notice about the
    /// whole message, whose copies are marked as about the lead each goes to.
    about_recipient: Option<i64>,
    key: String,
}

/// The copies telling each of `people` of `notice`: an SMS to each phone when SMS is
/// on, and a push to each browser. Answers the copies and how many people they reach.
fn notice_copies(
    notice: &Notice<'_>,
    people: &[PersonToTell],
    sms_on: bool,
    now: chrono::DateTime<chrono::Utc>,
) -> (Vec<outbox::ActiveModel>, usize) {
    let reference = reference(reserv_domain::ids::MessageId(notice.message.id));
    let mut copies = Vec::new();
    let mut told = 0;
    for person in people.iter().filter(|person| person.reachable(sms_on)) {
        told += 1;
        let english = person.language == Language::En.as_str();
        let escalation_about = notice.about_recipient.unwrap_or(person.person_id);
        if let (true, Some(phone)) = (sms_on, person.phone.clone()) {
            copies.push(queued_copy(QueuedCopy {
                message_id: notice.message.id,
                person_id: person.person_id,
                channel: Channel::Sms,
                destination: phone,
                body: escalation_notice(
                    notice.about,
                    &reference,
                    notice.level,
                    disclosure::Channel::Sms,
                    english,
                ),
                idempotency_key: format!("{}-p{}", notice.key, person.person_id),
                now,
                escalation_about: Some(escalation_about),
            }));
        }
        for browser in &person.browsers {
            // No message id: the notification offers no Kvittera, as the one told is
            // not a recipient.
            let payload = serde_json::json!({
                "reference": reference,
                "title": escalation_notice_title(&reference, english),
                "body": escalation_notice(
                    notice.about,
                    &reference,
                    notice.level,
                    disclosure::Channel::Push,
                    english,
                ),
            });
            copies.push(queued_copy(QueuedCopy {
                message_id: notice.message.id,
                person_id: person.person_id,
                channel: Channel::Push,
                destination: format!("s{browser}"),
                body: payload.to_string(),
                idempotency_key: format!("{}-p{}-s{browser}", notice.key, person.person_id),
                now,
                escalation_about: Some(escalation_about),
            }));
        }
    }
    (copies, told)
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
            return self.tell_crisis_leads().await;
        }
        let messages: HashMap<i64, messages::Model> = messages::Entity::find()
            .filter(messages::Column::Id.is_in(rows.iter().map(|row| row.message_id)))
            .all(&tx)
            .await?
            .into_iter()
            .map(|row| (row.id, row))
            .collect();
        let incidents = Incidents::of(&tx, messages.values()).await?;
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
        let without_managers = decided.iter().any(|(row, decision)| {
            decision.step == Some(EscalationStep::Managers)
                && managers_step_goes_to(reachable(managers.get(&row.person_id), sms_on))
                    == ManagersStepGoesTo::CrisisLeads
        });
        let crisis_leads = if without_managers {
            CrisisLeads::load(&tx, &incidents).await?
        } else {
            CrisisLeads::default()
        };
        let mut steps = 0;
        let mut escalated: BTreeMap<i64, usize> = BTreeMap::new();
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
            let mut told = Told::default();
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
                Some(EscalationStep::Managers) => {
                    let her_managers = managers.get(&row.person_id);
                    let notice = Notice {
                        message,
                        level: convert::confidentiality(message.confidentiality)?,
                        about: NoticeAbout::One(name),
                        about_recipient: Some(row.person_id),
                        key: format!("m{}-p{}-escalation", message.id, row.person_id),
                    };
                    match managers_step_goes_to(reachable(her_managers, sms_on)) {
                        ManagersStepGoesTo::UnitManagers => {
                            let people = her_managers.map(Vec::as_slice).unwrap_or_default();
                            let (queued, count) = notice_copies(&notice, people, sms_on, now);
                            copies = queued;
                            told.managers = count;
                        }
                        ManagersStepGoesTo::CrisisLeads => {
                            let leads: Vec<PersonToTell> = crisis_leads
                                .of(message)
                                .into_iter()
                                .filter(|lead| lead.person_id != row.person_id)
                                .collect();
                            let notice = Notice {
                                key: format!("{}-lead", notice.key),
                                ..notice
                            };
                            let (queued, count) = notice_copies(&notice, &leads, sms_on, now);
                            copies = queued;
                            told.crisis_leads = count;
                        }
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
                *escalated.entry(message.id).or_default() += 1;
            }
            if !copies.is_empty() {
                outbox::Entity::insert_many(copies)
                    .exec_without_returning(&tx)
                    .await?;
            }
            if let (Some(step), Some(incident_id)) = (decision.step, incidents.open_one_of(message))
            {
                self.log_escalation(&tx, incident_id, log_text(step, name, &reference, told))
                    .await?;
            }
        }
        let events = escalated
            .into_iter()
            .map(|(message, recipients)| {
                self.escalation_event(message, format!("a step for {recipients} recipients"))
            })
            .collect();
        append_chained(&tx, events).await?;
        tx.commit().await?;
        Ok(steps + self.tell_crisis_leads().await?)
    }

    /// Tells the crisis leads of each message due, once, who has still not acknowledged
    /// it, with a crisis log entry; a message everyone acknowledged is only marked done.
    /// Answers how many messages' leads were told.
    async fn tell_crisis_leads(&self) -> Result<usize> {
        let db = self.db();
        let tx = begin_write(db).await?;
        let now = self.now();
        let mut due = messages::Entity::find()
            .filter(messages::Column::CrisisLeadsDueAt.lte(now))
            .order_by_asc(messages::Column::CrisisLeadsDueAt)
            .limit(ESCALATION_BATCH);
        if db.get_database_backend() == DbBackend::Postgres {
            due = due.lock_with_behavior(LockType::Update, LockBehavior::SkipLocked);
        }
        let due = due.all(&tx).await?;
        if due.is_empty() {
            tx.commit().await?;
            return Ok(0);
        }
        let incidents = Incidents::of(&tx, due.iter()).await?;
        let crisis_leads = CrisisLeads::load(&tx, &incidents).await?;
        let sms_on = matches!(self.sms_channel(), SmsChannel::On(_));
        let mut told_messages = 0;
        let mut told_about = Vec::new();
        for message in &due {
            let done = messages::Entity::update_many()
                .col_expr(
                    messages::Column::CrisisLeadsDueAt,
                    Expr::value(Option::<chrono::DateTime<chrono::Utc>>::None),
                )
                .filter(messages::Column::Id.eq(message.id))
                // The time read is the time cleared: a concurrent pass that got here
                // first leaves nothing for this one.
                .filter(messages::Column::CrisisLeadsDueAt.eq(message.crisis_leads_due_at))
                .exec(&tx)
                .await?;
            if done.rows_affected == 0 {
                continue;
            }
            let unacknowledged: Vec<String> = people::Entity::find()
                .select_only()
                .column(people::Column::Name)
                .filter(
                    people::Column::Id.in_subquery(
                        Query::select()
                            .column(message_recipients::Column::PersonId)
                            .from(message_recipients::Entity)
                            .and_where(message_recipients::Column::MessageId.eq(message.id))
                            .and_where(message_recipients::Column::AcknowledgedAt.is_null())
                            .to_owned(),
                    ),
                )
                .order_by_asc(people::Column::Name)
                .into_tuple::<String>()
                .all(&tx)
                .await?;
            if unacknowledged.is_empty() {
                continue;
            }
            told_messages += 1;
            told_about.push(message.id);
            let reference = reference(reserv_domain::ids::MessageId(message.id));
            let notice = Notice {
                message,
                level: convert::confidentiality(message.confidentiality)?,
                about: NoticeAbout::StillUnacknowledged(&unacknowledged),
                about_recipient: None,
                key: format!("m{}-crisis-leads", message.id),
            };
            let (copies, told) = notice_copies(&notice, &crisis_leads.of(message), sms_on, now);
            if !copies.is_empty() {
                outbox::Entity::insert_many(copies)
                    .exec_without_returning(&tx)
                    .await?;
            }
            if let Some(incident_id) = incidents.open_one_of(message) {
                self.log_escalation(
                    &tx,
                    incident_id,
                    crisis_leads_log_text(&reference, &unacknowledged, told),
                )
                .await?;
            }
        }
        let events = told_about
            .into_iter()
            .map(|message| self.escalation_event(message, "its crisis leads told".to_owned()))
            .collect();
        append_chained(&tx, events).await?;
        tx.commit().await?;
        Ok(told_messages)
    }

    /// The change event of a pass's steps for `message`, committed with them: the
    /// steps and their crisis log entries are a change like any other, and a cached
    /// answer older than them must become unreachable.
    fn escalation_event(&self, message: i64, detail: String) -> AuditRecord {
        self.change_event(
            &Audit::new(AuditAction::Escalate, "message").on(message),
            detail,
        )
    }

    async fn log_escalation(
        &self,
        tx: &DatabaseTransaction,
        incident_id: i64,
        text: String,
    ) -> Result<()> {
        // An escalation step names people: it takes the incident's own level.
        let level: i16 = incidents::Entity::find_by_id(incident_id)
            .select_only()
            .column(incidents::Column::Confidentiality)
            .into_tuple()
            .one(tx)
            .await?
            .ok_or_else(|| DomainError::not_found("incident", incident_id))?;
        crisis_log_entries::ActiveModel {
            id: NotSet,
            incident_id: Set(incident_id),
            kind: Set(LogEntryKind::Message.as_str().to_owned()),
            text: Set(text),
            occurred_at: Set(self.now()),
            recorded_at: Set(self.now()),
            author_id: Set(None),
            author: Set(self.principal().username.chars().take(64).collect()),
            corrects_id: Set(None),
            client_id: Set(None),
            from_paper: Set(false),
            on_behalf_of: Set(None),
            sms_message_sid: Set(None),
            confidentiality: Set(level),
        }
        .insert(tx)
        .await?;
        Ok(())
    }
}

/// How many of `managers` a notice can reach.
fn reachable(managers: Option<&Vec<PersonToTell>>, sms_on: bool) -> usize {
    managers
        .into_iter()
        .flatten()
        .filter(|manager| manager.reachable(sms_on))
        .count()
}

/// The incidents of the messages a pass handles: which are open, and their commanders.
struct Incidents {
    /// Open incidents and their commanders. A closed incident's record no longer
    /// changes: its messages still escalate, without log entries.
    open: HashMap<i64, Option<i64>>,
    /// The commander of every incident, open or closed.
    commanders: HashMap<i64, i64>,
}

impl Incidents {
    async fn of(
        tx: &DatabaseTransaction,
        messages: impl Iterator<Item = &messages::Model>,
    ) -> Result<Self> {
        let rows: Vec<(i64, String, Option<i64>)> = incidents::Entity::find()
            .select_only()
            .column(incidents::Column::Id)
            .column(incidents::Column::State)
            .column(incidents::Column::CommanderId)
            .filter(incidents::Column::Id.is_in(messages.filter_map(|message| message.incident_id)))
            .into_tuple()
            .all(tx)
            .await?;
        let mut open = HashMap::new();
        let mut commanders = HashMap::new();
        for (id, state, commander) in rows {
            if state != IncidentState::Closed.as_str() {
                open.insert(id, commander);
            }
            if let Some(commander) = commander {
                commanders.insert(id, commander);
            }
        }
        Ok(Self { open, commanders })
    }

    /// The message's incident, when it is open.
    fn open_one_of(&self, message: &messages::Model) -> Option<i64> {
        message
            .incident_id
            .filter(|incident| self.open.contains_key(incident))
    }
}

/// The crisis leads a pass may tell: the people of enabled accounts with the crisis lead
/// role, and the commanders of the messages' incidents.
#[derive(Default)]
struct CrisisLeads {
    with_role: Vec<PersonToTell>,
    commanders: HashMap<i64, PersonToTell>,
}

impl CrisisLeads {
    async fn load(tx: &DatabaseTransaction, incidents: &Incidents) -> Result<Self> {
        let query = Query::select()
            .distinct()
            .column((people::Entity, people::Column::Id))
            .from(people::Entity)
            .inner_join(
                accounts::Entity,
                Expr::col((accounts::Entity, accounts::Column::PersonId))
                    .equals((people::Entity, people::Column::Id)),
            )
            .inner_join(
                account_roles::Entity,
                Expr::col((account_roles::Entity, account_roles::Column::AccountId))
                    .equals((accounts::Entity, accounts::Column::Id)),
            )
            .and_where(
                Expr::col((account_roles::Entity, account_roles::Column::Role))
                    .eq(Role::CrisisLead.as_str()),
            )
            .and_where(Expr::col((accounts::Entity, accounts::Column::Disabled)).eq(false))
            .to_owned();
        let mut with_role = BTreeSet::new();
        for row in tx.query_all(&query).await? {
            with_role.insert(row.try_get::<i64>("", "id")?);
        }
        let everyone: BTreeSet<i64> = with_role
            .iter()
            .copied()
            .chain(incidents.commanders.values().copied())
            .collect();
        let people = people_to_tell(tx, &everyone).await?;
        Ok(Self {
            with_role: with_role
                .iter()
                .filter_map(|id| people.get(id).cloned())
                .collect(),
            commanders: incidents
                .commanders
                .iter()
                .filter_map(|(incident, commander)| {
                    Some((*incident, people.get(commander)?.clone()))
                })
                .collect(),
        })
    }

    /// The crisis leads of `message`: its incident's commander and those with the role,
    /// each once.
    fn of(&self, message: &messages::Model) -> Vec<PersonToTell> {
        let mut leads: Vec<PersonToTell> = message
            .incident_id
            .and_then(|incident| self.commanders.get(&incident))
            .into_iter()
            .cloned()
            .collect();
        for lead in &self.with_role {
            if !leads.iter().any(|known| known.person_id == lead.person_id) {
                leads.push(lead.clone());
            }
        }
        leads
    }
}

/// Phone, language and push browsers of each of these people.
async fn people_to_tell(
    tx: &DatabaseTransaction,
    ids: &BTreeSet<i64>,
) -> Result<HashMap<i64, PersonToTell>> {
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    let mut browsers: HashMap<i64, Vec<i64>> = HashMap::new();
    let ids: Vec<i64> = ids.iter().copied().collect();
    for device in push_devices(tx, &ids).await? {
        browsers
            .entry(device.person_id)
            .or_default()
            .push(device.id);
    }
    Ok(people::Entity::find()
        .filter(people::Column::Id.is_in(ids.iter().copied()))
        .all(tx)
        .await?
        .into_iter()
        .map(|person| {
            (
                person.id,
                PersonToTell {
                    person_id: person.id,
                    phone: person.phone,
                    language: person.language,
                    browsers: browsers.remove(&person.id).unwrap_or_default(),
                },
            )
        })
        .collect())
}

/// The unit managers of each of these people's units, with their push browsers, in two
/// queries: the people linked to enabled accounts holding the unit manager role for a
/// unit the person is attached to. A manager is not told about herself.
async fn managers_of(
    tx: &DatabaseTransaction,
    person_ids: &[i64],
) -> Result<HashMap<i64, Vec<PersonToTell>>> {
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
    let mut managers: HashMap<i64, Vec<PersonToTell>> = HashMap::new();
    for row in tx.query_all(&query).await? {
        let about: i64 = row.try_get("", "about")?;
        let manager: i64 = row.try_get("", "manager")?;
        if about == manager || !seen.insert((about, manager)) {
            continue;
        }
        managers.entry(about).or_default().push(PersonToTell {
            person_id: manager,
            phone: row.try_get("", "phone")?,
            language: row.try_get("", "language")?,
            browsers: Vec::new(),
        });
    }
    let everyone: Vec<i64> = managers
        .values()
        .flatten()
        .map(|m| m.person_id)
        .collect::<BTreeSet<i64>>()
        .into_iter()
        .collect();
    let mut browsers: HashMap<i64, Vec<i64>> = HashMap::new();
    if !everyone.is_empty() {
        for device in push_devices(tx, &everyone).await? {
            browsers
                .entry(device.person_id)
                .or_default()
                .push(device.id);
        }
    }
    for manager in managers.values_mut().flatten() {
        manager.browsers = browsers
            .get(&manager.person_id)
            .cloned()
            .unwrap_or_default();
    }
    Ok(managers)
}
