//! The use cases behind Reserv's inbound SMS line: staff acknowledging messages, asking
//! for the status, opting out, and crisis leads texting into the crisis log.
//!
//! A sender is known only by the registered phone number of exactly one person, and acts
//! with that person's account (its roles, units and clearance), so that an SMS can do no
//! more than the app would let them do; `STATUS` never tells anything above
//! confidentiality 1, because SMS is not a confidential channel. Each change runs in one
//! transaction with its audit event. This module never logs a number or a text, and
//! knows nothing of the provider that carried the SMS.

use crate::accounts::principal_of;
use crate::audit::Audit;
use crate::entities::{accounts, crisis_log_entries, message_recipients, people, sms_opt_outs};
use crate::incidents::log::{EntrySource, log_entry};
use crate::incidents::open_incidents_readable;
use crate::{Result, Store, StoreError, convert};
use reserv_domain::DomainError;
use reserv_domain::access::{Principal, Role};
use reserv_domain::audit::AuditAction;
use reserv_domain::audit::AuditOutcome;
use reserv_domain::classification::Confidentiality;
use reserv_domain::disclosure::Channel;
use reserv_domain::ids::{IncidentId, MessageId, PersonId};
use reserv_domain::incidents::{IncidentState, LogEntryKind, NewLogEntry};
use reserv_domain::notices::NoticeContent;
use reserv_domain::people::Language;
use reserv_domain::phone::E164;
use reserv_domain::sms_commands::{StaffReply, StatusLine};
use sea_orm::ActiveValue::Set;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, EntityTrait, ModelTrait, QueryFilter, QueryOrder, QuerySelect,
};

/// Why the outbox holds back SMS to a number, as its copies record it.
pub const OPTED_OUT_REASON: &str =
    "the recipient answered STOP and gets no SMS until they answer START";

/// How many incidents a `STATUS` answer names; the rest are counted.
const STATUS_LINES: usize = 3;

/// A staff member known by the number an SMS came from.
#[derive(Debug, Clone)]
pub struct SmsSender {
    pub person_id: PersonId,
    pub language: Language,
    /// The person's account, when they have one that is enabled.
    principal: Option<Principal>,
}

/// The inbound SMS line's handle on the store, a system principal of its own for the
/// events no person can be named for (an unknown number, a refused request).
#[derive(Debug, Clone)]
pub struct SmsLine {
    store: Store,
    principal: Principal,
}

impl Store {
    pub fn sms_line(&self) -> SmsLine {
        SmsLine {
            store: self.clone(),
            principal: Principal {
                account_id: None,
                username: "system (sms line)".into(),
                person_id: None,
                grants: Vec::new(),
                client_address: Some("sms".into()),
            },
        }
    }
}

impl SmsLine {
    pub fn now(&self) -> chrono::DateTime<chrono::Utc> {
        self.store.now()
    }

    /// The person whose registered number is `phone`, when exactly one person has it.
    pub async fn sender(&self, phone: &E164) -> Result<Option<SmsSender>> {
        let db = &self.store.db;
        let mut found = people::Entity::find()
            .filter(people::Column::Phone.eq(phone.as_str()))
            .limit(2)
            .all(db)
            .await?;
        let (Some(person), None) = (found.pop(), found.pop()) else {
            return Ok(None);
        };
        let account = accounts::Entity::find()
            .filter(accounts::Column::PersonId.eq(person.id))
            .filter(accounts::Column::Disabled.eq(false))
            .order_by_asc(accounts::Column::Id)
            .one(db)
            .await?;
        let principal = match account {
            Some(account) => Some(principal_of(db, account, Some("sms".into())).await?),
            None => None,
        };
        Ok(Some(SmsSender {
            person_id: PersonId(person.id),
            language: convert::stored(&person.language, "people.language")?,
            principal,
        }))
    }

    /// Audits an SMS from a number no one is registered with; the number is not kept.
    pub async fn record_unknown_sender(&self) -> Result<()> {
        self.store
            .record_alone(
                &self.principal,
                &Audit::new(AuditAction::RefuseUnknownSender, "sms_line"),
                AuditOutcome::Denied,
                Some("an SMS from a number that is not registered to one person".into()),
            )
            .await
    }

    /// `OK` / `OK M42`: acknowledges the sender's latest unacknowledged message, or the
    /// one named, exactly as acknowledging it in the app does.
    pub async fn acknowledge(
        &self,
        sender: &SmsSender,
        message: Option<MessageId>,
    ) -> Result<StaffReply> {
        let message = match message {
            Some(id) => id,
            None => {
                let latest = message_recipients::Entity::find()
                    .filter(message_recipients::Column::PersonId.eq(sender.person_id.0))
                    .filter(message_recipients::Column::AcknowledgedAt.is_null())
                    .order_by_desc(message_recipients::Column::MessageId)
                    .one(&self.store.db)
                    .await?;
                match latest {
                    Some(row) => MessageId(row.message_id),
                    None => return Ok(StaffReply::NothingToAcknowledge),
                }
            }
        };
        match self
            .store
            .acknowledge_message(&self.acting(sender), message)
            .await
        {
            Ok(_) => Ok(StaffReply::Acknowledged { message }),
            Err(StoreError::Domain(DomainError::NotFound { .. })) => {
                Ok(StaffReply::NoSuchMessage { message })
            }
            Err(error) => Err(error),
        }
    }

    /// `STATUS`: the open incidents the sender's account may read, at confidentiality 1
    /// at most, newest first.
    pub async fn status(&self, sender: &SmsSender) -> Result<StaffReply> {
        let Some(principal) = &sender.principal else {
            return Ok(StaffReply::NotAllowed);
        };
        let open =
            open_incidents_readable(&self.store.db, principal, Channel::Sms.ceiling()).await?;
        let more = open.len().saturating_sub(STATUS_LINES);
        let lines = open
            .into_iter()
            .take(STATUS_LINES)
            .map(|row| {
                let state: IncidentState = convert::stored(&row.state, "incidents.state")?;
                let title = match (row.exercise, sender.language) {
                    (true, Language::Sv) => format!("ÖVNING: {}", row.title),
                    (true, Language::En) => format!("EXERCISE: {}", row.title),
                    (false, _) => row.title,
                };
                Ok(StatusLine {
                    incident: IncidentId(row.id),
                    title,
                    state,
                })
            })
            .collect::<Result<_>>()?;
        Ok(StaffReply::Status { lines, more })
    }

    /// `STOP`: records that `phone` wants no more SMS; the outbox fails later copies to
    /// it with [`OPTED_OUT_REASON`]. Honoured for any number, known or not.
    pub async fn opt_out(&self, phone: &E164, sender: Option<&SmsSender>) -> Result<StaffReply> {
        self.set_opted_out(phone, sender, true).await?;
        Ok(StaffReply::Stopped)
    }

    /// `START`: SMS to `phone` again.
    pub async fn opt_in(&self, phone: &E164, sender: Option<&SmsSender>) -> Result<StaffReply> {
        self.set_opted_out(phone, sender, false).await?;
        Ok(StaffReply::Started)
    }

    async fn set_opted_out(
        &self,
        phone: &E164,
        sender: Option<&SmsSender>,
        opted_out: bool,
    ) -> Result<()> {
        let who = sender.map_or_else(|| self.principal.clone(), |sender| self.acting(sender));
        let tx = self.store.begin().await?;
        let result = async {
            let existing = sms_opt_outs::Entity::find_by_id(phone.as_str().to_owned())
                .one(&tx)
                .await?;
            match (existing, opted_out) {
                (None, true) => {
                    sms_opt_outs::ActiveModel {
                        phone: Set(phone.as_str().to_owned()),
                        reason: Set(OPTED_OUT_REASON.into()),
                        opted_out_at: Set(self.now()),
                    }
                    .insert(&tx)
                    .await?;
                }
                (Some(row), false) => {
                    row.delete(&tx).await?;
                }
                _ => {}
            }
            Ok(())
        }
        .await;
        let action = if opted_out {
            AuditAction::OptOut
        } else {
            AuditAction::OptIn
        };
        let audit = Audit::new(action, "sms_number");
        let audit = match sender {
            Some(sender) => audit.on(format!("person {}", sender.person_id)),
            None => audit.on("unregistered"),
        };
        self.store.finish(tx, &who, audit, result).await
    }

    /// `LOGG <text>`: an observation in the crisis log, authored by the sender and
    /// marked as received by SMS under the provider's `message_sid`. Crisis leads and
    /// incident commanders only. Without `incident`, the sender's one open incident: the
    /// ones they command, or for a crisis lead commanding none, every open one they may
    /// read; with several, the answer asks them to name one. The same `message_sid` a
    /// second time logs nothing and answers as the first time did.
    pub async fn log(
        &self,
        sender: &SmsSender,
        incident: Option<IncidentId>,
        text: &str,
        message_sid: &str,
    ) -> Result<StaffReply> {
        if let Some(first) = self.entry_by_sid(message_sid).await? {
            return Ok(first);
        }
        let Some(principal) = &sender.principal else {
            return Ok(StaffReply::LogNotAllowed);
        };
        let crisis_lead = principal
            .grants
            .iter()
            .any(|grant| grant.role == Role::CrisisLead);
        let open = open_incidents_readable(
            &self.store.db,
            principal,
            Confidentiality::STRICTLY_CONFIDENTIAL,
        )
        .await?;
        let commands =
            |row: &crate::entities::incidents::Model| row.commander_id == Some(sender.person_id.0);
        let target = match incident {
            Some(id) => match open.iter().find(|row| row.id == id.0) {
                Some(row) if crisis_lead || commands(row) => id,
                Some(_) => return Ok(StaffReply::LogNotAllowed),
                None => return Ok(StaffReply::NoOpenIncident),
            },
            None => {
                let commanded: Vec<IncidentId> = open
                    .iter()
                    .filter(|row| commands(row))
                    .map(|row| IncidentId(row.id))
                    .collect();
                let candidates = match (commanded.is_empty(), crisis_lead) {
                    (false, _) => commanded,
                    (true, true) => open.iter().map(|row| IncidentId(row.id)).collect(),
                    (true, false) => return Ok(StaffReply::LogNotAllowed),
                };
                match candidates.as_slice() {
                    [] => return Ok(StaffReply::NoOpenIncident),
                    [only] => *only,
                    _ => return Ok(StaffReply::NameTheIncident { candidates }),
                }
            }
        };
        let entry = NewLogEntry {
            kind: LogEntryKind::Observation,
            text: text.to_owned(),
            occurred_at: None,
            corrects: None,
            confidentiality: None,
        };
        let source = EntrySource::Sms {
            message_sid: message_sid.to_owned(),
        };
        match self
            .store
            .append_log_entry(principal, target, entry, None, source)
            .await
        {
            Ok(entry) => Ok(StaffReply::Logged {
                entry: entry.id,
                incident: entry.incident_id,
            }),
            // The provider sent the same SMS twice at once: the first one won.
            Err(error) if error.is_unique_violation() => {
                self.entry_by_sid(message_sid).await?.ok_or(error)
            }
            Err(StoreError::Domain(DomainError::Forbidden(_))) => Ok(StaffReply::LogNotAllowed),
            Err(StoreError::Domain(DomainError::Conflict(_) | DomainError::NotFound { .. })) => {
                Ok(StaffReply::NoOpenIncident)
            }
            Err(error) => Err(error),
        }
    }

    /// The confirmation of an entry already logged from the SMS `message_sid`.
    async fn entry_by_sid(&self, message_sid: &str) -> Result<Option<StaffReply>> {
        let Some(row) = crisis_log_entries::Entity::find()
            .filter(crisis_log_entries::Column::SmsMessageSid.eq(message_sid))
            .one(&self.store.db)
            .await?
        else {
            return Ok(None);
        };
        let entry = log_entry(row)?;
        Ok(Some(StaffReply::Logged {
            entry: entry.id,
            incident: entry.incident_id,
        }))
    }

    /// The current public notice, newest first if several are current: what the
    /// residents' SMS and phone lines tell. Public by the notice rules (confidentiality
    /// 0 only), so no principal is needed.
    pub async fn current_notice(&self) -> Result<Option<NoticeContent>> {
        let now = self.now();
        Ok(self
            .store
            .public_notices()
            .await?
            .into_iter()
            .find(|notice| notice.is_current(now))
            .and_then(|notice| notice.latest().map(|revision| revision.content.clone())))
    }

    /// Who the sender acts as: their account, or without one the person alone, which
    /// may acknowledge the messages sent to them and nothing else.
    fn acting(&self, sender: &SmsSender) -> Principal {
        sender.principal.clone().unwrap_or_else(|| Principal {
            account_id: None,
            username: format!("sms (person {})", sender.person_id),
            person_id: Some(sender.person_id),
            grants: Vec::new(),
            client_address: Some("sms".into()),
        })
    }
}
