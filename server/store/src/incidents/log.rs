//! The crisis log: append-only, time-stamped, authored entries.
//!
//! This module only ever inserts. There is no function that changes or removes an entry,
//! and the database refuses UPDATE and DELETE on the table as well; a mistake is mended
//! by a new entry that points to the one it corrects.

use super::visibility::part_clearances;
use super::{locate, touch_open_incident};
use crate::audit::{Audit, AuditedObject, Change};
use crate::convert;
use crate::entities::crisis_log_entries;
use crate::per_key::{PerKey, answer_for};
use crate::{Result, Store};
use reserv_domain::DomainError;
use reserv_domain::access::{Action, Principal};
use reserv_domain::audit::AuditAction;
use reserv_domain::classification::Confidentiality;
use reserv_domain::ids::{IncidentId, LogEntryId};
use reserv_domain::incidents::{
    ClientWriteId, IncidentChange, LogEntry, NewLogEntry, PaperNote, correction_confidentiality,
    ensure_correction_target, ensure_open, part_confidentiality,
};
use sea_orm::ActiveValue::{NotSet, Set};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder,
};
use std::collections::HashMap;

/// Where an entry comes from besides the app: a paper note typed in afterwards, or an
/// SMS a crisis lead texted in.
#[derive(Debug, Clone)]
pub(crate) enum EntrySource {
    App,
    Paper(PaperNote),
    /// The provider's MessageSid, unique among entries.
    Sms {
        message_sid: String,
    },
}

impl AuditedObject for LogEntry {
    fn audit_id(&self) -> Option<String> {
        Some(self.id.to_string())
    }
}

impl Store {
    /// Appends an entry to an open incident's crisis log. Organisation-wide roles write
    /// in the log of any incident they are cleared to read; unit staff only in the logs
    /// of incidents affecting their units.
    pub async fn add_log_entry(
        &self,
        who: &Principal,
        incident_id: IncidentId,
        entry: NewLogEntry,
    ) -> Result<LogEntry> {
        self.append_log_entry(who, incident_id, entry, None, EntrySource::App)
            .await
    }

    /// Appends an entry entered afterwards from a paper note, marked as such with who
    /// wrote the note; `client_id` makes a retry apply once, as for
    /// [`Store::add_log_entry_once`].
    pub async fn add_paper_log_entry(
        &self,
        who: &Principal,
        incident_id: IncidentId,
        entry: NewLogEntry,
        paper: PaperNote,
        client_id: Option<ClientWriteId>,
    ) -> Result<LogEntry> {
        let paper = paper.validate(&entry)?;
        if let Some(id) = &client_id
            && let Some(first) = self.replayed_entry(who, incident_id, id).await?
        {
            return Ok(first);
        }
        self.append_log_entry(
            who,
            incident_id,
            entry,
            client_id,
            EntrySource::Paper(paper),
        )
        .await
    }

    /// Appends an entry at most once per `client_id` and author: a retry of an entry
    /// already written returns that first entry and changes nothing, so a phone may
    /// resend its offline writes until it sees an answer.
    pub async fn add_log_entry_once(
        &self,
        who: &Principal,
        incident_id: IncidentId,
        entry: NewLogEntry,
        client_id: ClientWriteId,
    ) -> Result<LogEntry> {
        if let Some(first) = self.replayed_entry(who, incident_id, &client_id).await? {
            return Ok(first);
        }
        self.append_log_entry(who, incident_id, entry, Some(client_id), EntrySource::App)
            .await
    }

    /// The entry the caller already wrote with `client_id`, if any.
    async fn replayed_entry(
        &self,
        who: &Principal,
        incident_id: IncidentId,
        client_id: &ClientWriteId,
    ) -> Result<Option<LogEntry>> {
        let Some(first) = self.entry_by_client_id(who, client_id).await? else {
            return Ok(None);
        };
        if first.incident_id != incident_id {
            return Err(DomainError::conflict(format!(
                "clientId {} was already used for an entry in another incident",
                client_id.as_str()
            ))
            .into());
        }
        // The caller must still be allowed to read the log the entry is in.
        self.readable_incident(who, incident_id, "crisis_log")
            .await?;
        Ok(Some(first))
    }

    async fn entry_by_client_id(
        &self,
        who: &Principal,
        client_id: &ClientWriteId,
    ) -> Result<Option<LogEntry>> {
        let Some(account) = who.account_id else {
            return Ok(None);
        };
        crisis_log_entries::Entity::find()
            .filter(crisis_log_entries::Column::AuthorId.eq(account.0))
            .filter(crisis_log_entries::Column::ClientId.eq(client_id.as_str()))
            .one(&self.db)
            .await?
            .map(log_entry)
            .transpose()
    }

    pub(crate) async fn append_log_entry(
        &self,
        who: &Principal,
        incident_id: IncidentId,
        entry: NewLogEntry,
        client_id: Option<ClientWriteId>,
        source: EntrySource,
    ) -> Result<LogEntry> {
        let mut change = self.change().await?;
        let result = self
            .append_entry_in(&mut change, who, incident_id, entry, client_id, source)
            .await;
        self.conclude(
            change,
            who,
            Audit::new(AuditAction::Create, "crisis_log_entry"),
            result,
        )
        .await
    }

    /// Appends an entry to the crisis log as part of a larger change; see
    /// [`Store::add_log_entry`] and [`Store::add_log_entry_once`].
    pub(crate) async fn append_log_entry_in(
        &self,
        change: &mut Change,
        who: &Principal,
        incident_id: IncidentId,
        entry: NewLogEntry,
        client_id: Option<ClientWriteId>,
    ) -> Result<LogEntry> {
        self.append_entry_in(change, who, incident_id, entry, client_id, EntrySource::App)
            .await
    }

    /// [`Store::append_log_entry_in`], from the given source.
    async fn append_entry_in(
        &self,
        change: &mut Change,
        who: &Principal,
        incident_id: IncidentId,
        entry: NewLogEntry,
        client_id: Option<ClientWriteId>,
        source: EntrySource,
    ) -> Result<LogEntry> {
        let tx = change.tx();
        let entry = async {
            let ceiling = ensure_log_writable(tx, who, incident_id).await?;
            let now = self.now();
            let entry = insert_entry(
                tx,
                who,
                (incident_id, ceiling),
                entry,
                client_id,
                source,
                now,
            )
            .await?;
            touch_open_incident(tx, incident_id, now).await?;
            Ok::<_, crate::StoreError>(entry)
        }
        .await?;
        change.audited(
            self,
            who,
            &Audit::new(AuditAction::Create, "crisis_log_entry"),
            &entry,
        );
        change.announce(IncidentChange::LogEntryAdded {
            entry: entry.clone(),
        });
        Ok(entry)
    }

    /// Appends several entries to one incident's log, in order, as part of a larger
    /// change: the same checks and events as [`Store::append_log_entry_in`] for each,
    /// but the incident is read and checked once and touched once. For one action that
    /// writes many entries, such as an activation.
    pub(crate) async fn append_log_entries_in(
        &self,
        change: &mut Change,
        who: &Principal,
        incident_id: IncidentId,
        entries: Vec<NewLogEntry>,
    ) -> Result<Vec<LogEntry>> {
        if entries.is_empty() {
            return Ok(Vec::new());
        }
        let tx = change.tx();
        let ceiling = ensure_log_writable(tx, who, incident_id).await?;
        let now = self.now();
        let mut written = Vec::with_capacity(entries.len());
        for entry in entries {
            written.push(
                insert_entry(
                    tx,
                    who,
                    (incident_id, ceiling),
                    entry,
                    None,
                    EntrySource::App,
                    now,
                )
                .await?,
            );
        }
        touch_open_incident(tx, incident_id, now).await?;
        for entry in &written {
            change.audited(
                self,
                who,
                &Audit::new(AuditAction::Create, "crisis_log_entry"),
                entry,
            );
            change.announce(IncidentChange::LogEntryAdded {
                entry: entry.clone(),
            });
        }
        Ok(written)
    }

    /// The incident's crisis log in the order things happened; entries written at the
    /// same moment stay in the order they were written.
    pub async fn crisis_log(
        &self,
        who: &Principal,
        incident_id: IncidentId,
    ) -> Result<Vec<LogEntry>> {
        answer_for(
            self.crisis_logs(who, &[incident_id]).await?,
            incident_id,
            "incident",
        )
    }

    /// The crisis logs of several incidents in one query, each as [`Store::crisis_log`].
    pub async fn crisis_logs(
        &self,
        who: &Principal,
        incident_ids: &[IncidentId],
    ) -> Result<PerKey<IncidentId, Vec<LogEntry>>> {
        let readable = self
            .readable_incidents(who, incident_ids, "crisis_log")
            .await?;
        let clearances = part_clearances(who, &readable);
        let mut logs: HashMap<IncidentId, Vec<LogEntry>> = HashMap::new();
        for row in crisis_log_entries::Entity::find()
            .filter(
                crisis_log_entries::Column::IncidentId.is_in(
                    readable
                        .iter()
                        .filter(|(_, answer)| answer.is_ok())
                        .map(|(id, _)| id.0),
                ),
            )
            .order_by_asc(crisis_log_entries::Column::OccurredAt)
            .order_by_asc(crisis_log_entries::Column::Id)
            .all(&self.db)
            .await?
        {
            let entry = log_entry(row)?;
            if clearances.get(&entry.incident_id) >= Some(&entry.confidentiality) {
                logs.entry(entry.incident_id).or_default().push(entry);
            }
        }
        Ok(readable
            .into_iter()
            .map(|(id, answer)| (id, answer.map(|_| logs.remove(&id).unwrap_or_default())))
            .collect())
    }
}

async fn find_entry(db: &impl ConnectionTrait, id: LogEntryId) -> Result<Option<LogEntry>> {
    crisis_log_entries::Entity::find_by_id(id.0)
        .one(db)
        .await?
        .map(log_entry)
        .transpose()
}

pub(crate) fn log_entry(row: crisis_log_entries::Model) -> Result<LogEntry> {
    Ok(LogEntry {
        id: LogEntryId(row.id),
        incident_id: IncidentId(row.incident_id),
        kind: convert::stored(&row.kind, "crisis_log_entries.kind")?,
        text: row.text,
        occurred_at: row.occurred_at,
        recorded_at: row.recorded_at,
        author: row.author,
        corrects: row.corrects_id.map(LogEntryId),
        paper: row.from_paper.then_some(PaperNote {
            written_by: row.on_behalf_of,
        }),
        by_sms: row.sms_message_sid.is_some(),
        confidentiality: convert::confidentiality(row.confidentiality)?,
    })
}

/// Allows `who` to write in the incident's log while it is open, or says why not; the
/// incident's confidentiality, the highest its entries may have.
async fn ensure_log_writable(
    tx: &impl ConnectionTrait,
    who: &Principal,
    incident_id: IncidentId,
) -> Result<Confidentiality> {
    who.authorize_somewhere(Action::WriteCrisisLog)?;
    let incident = locate(tx, incident_id).await?;
    incident.authorize(who, Action::WriteCrisisLog)?;
    ensure_open(incident.incident.state)?;
    Ok(incident.incident.classification.confidentiality)
}

/// Checks one entry and writes its row; the caller has checked the incident and gives
/// its confidentiality, the entry's ceiling.
async fn insert_entry(
    tx: &impl ConnectionTrait,
    who: &Principal,
    (incident_id, ceiling): (IncidentId, Confidentiality),
    entry: NewLogEntry,
    client_id: Option<ClientWriteId>,
    source: EntrySource,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<LogEntry> {
    let entry = entry.validate(now)?;
    let mut requested = entry.confidentiality;
    if let Some(corrects) = entry.corrects {
        let target = find_entry(tx, corrects).await?;
        ensure_correction_target(incident_id, target.as_ref(), corrects)?;
        if let Some(target) = target {
            requested = Some(correction_confidentiality(
                requested,
                target.confidentiality,
            )?);
        }
    }
    let confidentiality = part_confidentiality(requested, ceiling)?;
    let (paper, sms_message_sid) = match source {
        EntrySource::App => (None, None),
        EntrySource::Paper(note) => (Some(note), None),
        EntrySource::Sms { message_sid } => (None, Some(message_sid)),
    };
    let row = crisis_log_entries::ActiveModel {
        id: NotSet,
        incident_id: Set(incident_id.0),
        kind: Set(entry.kind.as_str().to_owned()),
        text: Set(entry.text),
        occurred_at: Set(entry.occurred_at.unwrap_or(now)),
        recorded_at: Set(now),
        author_id: Set(who.account_id.map(|id| id.0)),
        author: Set(who.username.chars().take(64).collect()),
        corrects_id: Set(entry.corrects.map(|id| id.0)),
        client_id: Set(client_id.map(|id| id.as_str().to_owned())),
        from_paper: Set(paper.is_some()),
        on_behalf_of: Set(paper.and_then(|note| note.written_by)),
        sms_message_sid: Set(sms_message_sid),
        confidentiality: Set(i16::from(confidentiality.level())),
    }
    .insert(tx)
    .await?;
    log_entry(row)
}
