//! Reads within one request, recorded once. A GraphQL request that opens an incident
//! with its log and tasks touches the store several times; the audit trail wants one
//! event saying who read which incident and which parts of it, and one event for a
//! list of plan versions naming their ids, not one per field or per row.
//!
//! A request gets its own [`Store::for_request`] copy that gathers reads in a ledger;
//! [`Store::record_request_reads`] then writes them in one batch before the response
//! leaves. A store without a ledger (the CLI, background work, subscriptions) records
//! each read at once.
//!
//! A response served again from the read cache must still leave its read events: the
//! reads a request recorded are returned as [`RequestReads`], kept with the cached
//! response, and [`Store::record_reads_again`] writes them anew for the next reader.
//!
//! The ledger also notes whether the request read live data: state that changes
//! without a change event in the audit chain (delivery states the outbox worker and
//! the providers' status callbacks write, the sender pool's failover, the fallback
//! site's publication status, sessions' last use). The data version cannot see those
//! changes, so an answer built from them must not be kept ([`RequestReads::live`]).

use super::Audit;
use crate::{Result, Store};
use reserv_domain::access::Principal;
use reserv_domain::audit::{AuditAction, AuditOutcome, DETAIL_MAX_CHARS};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

/// One read noted during a request.
#[derive(Debug, Clone)]
struct ReadNote {
    who: Principal,
    object_type: &'static str,
    object_id: String,
    part: &'static str,
}

/// What one request read (without who read it or when): enough to record the same
/// reads again for another request that is answered with the same response.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RequestReads {
    reads: Vec<ObjectPartRead>,
    live: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct ObjectPartRead {
    object_type: &'static str,
    object_id: String,
    part: &'static str,
}

impl RequestReads {
    /// Whether the request read nothing that is recorded.
    pub fn is_empty(&self) -> bool {
        self.reads.is_empty()
    }

    /// Whether the request read state that changes without a change event (see the
    /// module documentation): its answer may be stale as soon as it is made, so a
    /// cache must not keep it.
    pub fn live(&self) -> bool {
        self.live
    }

    /// Roughly how many bytes this takes in memory, for a cache's weight.
    pub fn size_in_bytes(&self) -> usize {
        self.reads
            .iter()
            .map(|read| std::mem::size_of::<ObjectPartRead>() + read.object_id.len())
            .sum()
    }
}

/// The reads of one request, waiting to be recorded.
#[derive(Debug, Default)]
pub(crate) struct ReadLedger {
    notes: Mutex<Vec<ReadNote>>,
    live: AtomicBool,
}

/// Who read, as far as grouping is concerned.
type ReaderKey = (Option<i64>, String, Option<String>);

impl Store {
    /// A copy of the store for one request, whose reads are gathered and recorded
    /// together by [`Store::record_request_reads`].
    pub fn for_request(&self) -> Store {
        Store {
            read_ledger: Some(Arc::new(ReadLedger::default())),
            ..self.clone()
        }
    }

    /// Notes that this request read live state (see the module documentation), so
    /// that its answer is not kept. Does nothing for a store that is not serving a
    /// request.
    pub(crate) fn note_live_read(&self) {
        if let Some(ledger) = &self.read_ledger {
            ledger.live.store(true, Ordering::Relaxed);
        }
    }

    /// Records that `who` read `part` of an object whose confidentiality requires it:
    /// gathered when this store serves a request, written at once otherwise.
    pub(crate) async fn record_read(
        &self,
        who: &Principal,
        object_type: &'static str,
        id: impl ToString,
        part: &'static str,
    ) -> Result<()> {
        let note = ReadNote {
            who: who.clone(),
            object_type,
            object_id: id.to_string(),
            part,
        };
        match &self.read_ledger {
            Some(ledger) => {
                if let Ok(mut notes) = ledger.notes.lock() {
                    notes.push(note);
                    return Ok(());
                }
                // A poisoned ledger cannot gather; record the read on its own instead.
                self.record_reads(vec![note]).await
            }
            None => self.record_reads(vec![note]).await,
        }
    }

    /// Writes the reads gathered during this request, one event per reader and kind of
    /// object, and returns once they are durable, with what was read. Does nothing for
    /// a store that is not serving a request.
    pub async fn record_request_reads(&self) -> Result<RequestReads> {
        let notes = match &self.read_ledger {
            Some(ledger) => ledger
                .notes
                .lock()
                .map(|mut notes| std::mem::take(&mut *notes))
                .unwrap_or_default(),
            None => return Ok(RequestReads::default()),
        };
        let live = self
            .read_ledger
            .as_ref()
            .is_some_and(|ledger| ledger.live.load(Ordering::Relaxed));
        let reads = RequestReads {
            reads: notes
                .iter()
                .map(|note| ObjectPartRead {
                    object_type: note.object_type,
                    object_id: note.object_id.clone(),
                    part: note.part,
                })
                .collect(),
            live,
        };
        self.record_reads(notes).await?;
        Ok(reads)
    }

    /// Records `reads`, which an earlier request made, as read now by `who`: for a
    /// response served again without running the query, which must leave the same
    /// trail as running it. Returns once the events are durable.
    pub async fn record_reads_again(&self, who: &Principal, reads: &RequestReads) -> Result<()> {
        let notes = reads
            .reads
            .iter()
            .map(|read| ReadNote {
                who: who.clone(),
                object_type: read.object_type,
                object_id: read.object_id.clone(),
                part: read.part,
            })
            .collect();
        self.record_reads(notes).await
    }

    async fn record_reads(&self, notes: Vec<ReadNote>) -> Result<()> {
        let mut grouped: BTreeMap<(ReaderKey, &'static str), (Principal, ObjectsRead)> =
            BTreeMap::new();
        for note in notes {
            let key = (
                (
                    note.who.account_id.map(|id| id.0),
                    note.who.username.clone(),
                    note.who.client_address.clone(),
                ),
                note.object_type,
            );
            grouped
                .entry(key)
                .or_insert_with(|| (note.who.clone(), ObjectsRead::default()))
                .1
                .note(note.object_id, note.part);
        }
        let mut records = vec![];
        for ((_, object_type), (who, objects)) in grouped {
            for (object_id, detail) in objects.events() {
                let mut audit = Audit::new(AuditAction::Read, object_type);
                audit.object_id = object_id;
                records.push(self.audit_record(
                    &who,
                    &audit,
                    audit.object_id.clone(),
                    AuditOutcome::Success,
                    Some(detail),
                ));
            }
        }
        self.audit_writer.append(records).await
    }
}

/// The objects of one kind a reader read, with the parts read of each.
#[derive(Debug, Default)]
struct ObjectsRead {
    parts: BTreeMap<String, BTreeSet<&'static str>>,
}

impl ObjectsRead {
    fn note(&mut self, object_id: String, part: &'static str) {
        self.parts.entry(object_id).or_default().insert(part);
    }

    /// The events to write: one naming the object and its parts when a single object
    /// was read, otherwise as few events as hold every id within the longest detail an
    /// event keeps, so that no id is cut off.
    fn events(self) -> Vec<(Option<String>, String)> {
        if self.parts.len() == 1 {
            return self
                .parts
                .into_iter()
                .map(|(id, parts)| (Some(id), format!("read {}", join(parts.iter()))))
                .collect();
        }
        let parts: BTreeSet<&str> = self.parts.values().flatten().copied().collect();
        let parts = join(parts.iter());
        let ids: Vec<String> = self.parts.into_keys().collect();
        let total = ids.len();
        // The prefix's longest form, with the counts at their widest.
        let prefix_chars = format!("read {total} of {total} objects ({parts}): ids ").len();
        let room = DETAIL_MAX_CHARS.saturating_sub(prefix_chars).max(1);
        let mut chunks: Vec<Vec<String>> = vec![];
        let mut used = room;
        for id in ids {
            let needs = id.chars().count() + 2;
            match chunks.last_mut() {
                Some(chunk) if used + needs <= room => {
                    chunk.push(id);
                    used += needs;
                }
                _ => {
                    used = needs;
                    chunks.push(vec![id]);
                }
            }
        }
        chunks
            .into_iter()
            .map(|chunk| {
                (
                    None,
                    format!(
                        "read {} of {total} objects ({parts}): ids {}",
                        chunk.len(),
                        chunk.join(", ")
                    ),
                )
            })
            .collect()
    }
}

fn join<'a>(items: impl Iterator<Item = &'a &'a str>) -> String {
    items.copied().collect::<Vec<_>>().join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_object_is_named_with_its_parts() {
        let mut read = ObjectsRead::default();
        read.note("7".into(), "incident");
        read.note("7".into(), "crisis_log");
        read.note("7".into(), "incident_tasks");
        read.note("7".into(), "crisis_log");
        assert_eq!(
            read.events(),
            vec![(
                Some("7".into()),
                "read crisis_log, incident, incident_tasks".into()
            )]
        );
    }

    #[test]
    fn a_long_list_is_split_so_that_every_id_is_named() {
        let mut read = ObjectsRead::default();
        for id in 1..=1_300 {
            read.note(format!("{id:06}"), "plan_version");
        }
        let events = read.events();
        // 1 300 ids of six digits and a separator take 10 400 characters, 181 to an event.
        assert_eq!(events.len(), 8);
        assert!(events.iter().all(|(object_id, _)| object_id.is_none()));
        assert!(
            events
                .iter()
                .all(|(_, detail)| detail.chars().count() <= DETAIL_MAX_CHARS)
        );
        assert!(
            events[0]
                .1
                .starts_with("read 181 of 1300 objects (plan_version): ids 000001, 000002,")
        );
        let named: Vec<&str> = events
            .iter()
            .flat_map(|(_, detail)| {
                detail
                    .split("ids ")
                    .nth(1)
                    .map(|ids| ids.split(", ").collect::<Vec<_>>())
                    .unwrap_or_default()
            })
            .collect();
        assert_eq!(named.len(), 1_300);
        assert_eq!(named[1_299], "001300");
    }
}
