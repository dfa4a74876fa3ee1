//! Audit events: who did what to which object, when, from where, and how it ended.
//! Events are only ever appended, and each one is chained to the one before it by a
//! SHA-256 hash, so that a changed or removed event is found by walking the chain.

use crate::ids::{AccountId, AuditEventId};
use chrono::{DateTime, SecondsFormat, Utc};
use sha2::{Digest, Sha256};

crate::named_enum! {
    pub enum AuditOutcome as "outcome" {
            Success = "success",
            /// The policy refused the request.
            Denied = "denied",
            /// The request was allowed but failed (invalid input, conflict, error).
            Failed = "failed",
        }
}

crate::named_enum! {
    /// What an event records being done. Stored as its text, which the chain's hashes
    /// cover: a text never changes once events carry it, and a retired action stays
    /// here so that old events still read and verify.
    pub enum AuditAction as "action" {
        Acknowledge = "acknowledge",
        Activate = "activate",
        Approve = "approve",
        AssignCommander = "assign_commander",
        BeginEnrolment = "begin_enrolment",
        /// A sign-in with a sealed emergency code.
        BreakGlassSignIn = "break_glass_sign_in",
        /// The first step of a break-glass sign-in when SMS works: a one-time code was
        /// texted to the person's phone.
        BreakGlassSmsCode = "break_glass_sms_code",
        /// The genesis of the chain, written by the migration that started it.
        ChainStarted = "chain_started",
        ChangeState = "change_state",
        Comment = "comment",
        Create = "create",
        CreateDraft = "create_draft",
        DeliveryFailed = "delivery_failed",
        Disable = "disable",
        Discard = "discard",
        Enable = "enable",
        Enrol = "enrol",
        /// The escalation pass took a step for a message nobody acknowledged in time.
        Escalate = "escalate",
        Expire = "expire",
        Import = "import",
        Issue = "issue",
        OptIn = "opt_in",
        OptOut = "opt_out",
        Publish = "publish",
        /// A read of information whose confidentiality requires it to be recorded.
        Read = "read",
        Record = "record",
        /// An inbound SMS refused because no account has its number.
        RefuseUnknownSender = "refuse_unknown_sender",
        /// An inbound webhook call refused for a missing or wrong signature.
        RefuseUnsigned = "refuse_unsigned",
        Register = "register",
        Remove = "remove",
        Rename = "rename",
        Report = "report",
        Retire = "retire",
        Revoke = "revoke",
        RevokeAll = "revoke_all",
        Send = "send",
        SetClearance = "set_clearance",
        SetDue = "set_due",
        SetState = "set_state",
        SetSystems = "set_systems",
        SetUnits = "set_units",
        SignIn = "sign_in",
        /// A sign-in at the organisation's OpenID Connect identity provider.
        SignInOidc = "sign_in_oidc",
        /// The second step of a sign-in with a WebAuthn passkey.
        SignInPasskey = "sign_in_passkey",
        SignInPassword = "sign_in_password",
        SignInRecoveryCode = "sign_in_recovery_code",
        SignOut = "sign_out",
        /// A test message sent to check a channel.
        Test = "test",
        Tick = "tick",
        Untick = "untick",
        Update = "update",
        Withdraw = "withdraw",
    }
}

/// The hash the first event of a chain (its genesis) points back to.
pub const GENESIS_PREVIOUS_HASH: &str =
    "0000000000000000000000000000000000000000000000000000000000000000";

/// The longest `detail` an event keeps, in characters: room for a read event naming
/// some two hundred ids, so that a request reading a whole plan tree leaves a handful
/// of events rather than dozens, while the row stays under PostgreSQL's 2 kB TOAST
/// threshold (a longer detail is compressed on every insert).
pub const DETAIL_MAX_CHARS: usize = 1_500;

/// What an event records, before it takes its place in the chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditRecord {
    pub at: DateTime<Utc>,
    pub actor_id: Option<AccountId>,
    pub actor: Option<String>,
    pub action: AuditAction,
    pub object_type: String,
    pub object_id: Option<String>,
    pub client_address: Option<String>,
    pub outcome: AuditOutcome,
    pub detail: Option<String>,
}

impl AuditRecord {
    /// The record as it is stored: time to whole microseconds (what both databases
    /// keep, so that the hash computed now is the hash verified later) and the detail
    /// cut to [`DETAIL_MAX_CHARS`].
    pub fn normalised(mut self) -> Self {
        self.at = to_micros(self.at);
        self.detail = self
            .detail
            .map(|text| text.chars().take(DETAIL_MAX_CHARS).collect());
        self
    }

    /// The hash of this record at chain position `seq` after an event with hash
    /// `previous_hash`: SHA-256, hex, over a length-prefixed encoding of every field
    /// in a fixed order, so that no two different events encode alike.
    pub fn chain_hash(&self, seq: i64, previous_hash: &str) -> String {
        let mut encoding = Vec::with_capacity(256);
        let mut field = |value: Option<&str>| match value {
            None => encoding.extend_from_slice(b"~;"),
            Some(text) => {
                encoding.extend_from_slice(text.len().to_string().as_bytes());
                encoding.push(b':');
                encoding.extend_from_slice(text.as_bytes());
                encoding.push(b';');
            }
        };
        field(Some("reserv-audit-v1"));
        field(Some(&seq.to_string()));
        field(Some(&self.at.to_rfc3339_opts(SecondsFormat::Micros, true)));
        field(self.actor_id.map(|id| id.0.to_string()).as_deref());
        field(self.actor.as_deref());
        field(Some(self.action.as_str()));
        field(Some(&self.object_type));
        field(self.object_id.as_deref());
        field(self.client_address.as_deref());
        field(Some(self.outcome.as_str()));
        field(self.detail.as_deref());
        field(Some(previous_hash));
        Sha256::digest(&encoding)
            .iter()
            .map(|byte| format!("{byte:02x}"))
            .collect()
    }
}

fn to_micros(at: DateTime<Utc>) -> DateTime<Utc> {
    DateTime::from_timestamp_micros(at.timestamp_micros()).unwrap_or(at)
}

/// A stored event with its place in the chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEvent {
    pub id: AuditEventId,
    /// Position in the chain: 0 is the genesis, each event one more than the last.
    /// `None` only for a row that was written around Reserv.
    pub seq: Option<i64>,
    pub record: AuditRecord,
    pub previous_hash: Option<String>,
    pub hash: Option<String>,
}

/// The first fault a walk of the chain finds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChainFault {
    /// The event's stored hash is not the hash of its fields: it was changed.
    Altered {
        id: AuditEventId,
        seq: i64,
        at: DateTime<Utc>,
    },
    /// The event does not point to the hash of the one before it.
    Broken {
        id: AuditEventId,
        seq: i64,
        at: DateTime<Utc>,
    },
    /// Positions are missing before this event: events were removed.
    Missing {
        expected_seq: i64,
        found: AuditEventId,
        found_seq: i64,
        at: DateTime<Utc>,
    },
    /// An event with no chain position: written around Reserv.
    Unchained { id: AuditEventId, at: DateTime<Utc> },
    /// The chain has no genesis event.
    NoGenesis,
}

impl std::fmt::Display for ChainFault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let time = |at: &DateTime<Utc>| at.to_rfc3339_opts(SecondsFormat::Secs, true);
        match self {
            Self::Altered { id, seq, at } => write!(
                f,
                "audit event {id} (position {seq}, {}) was changed after it was written: its hash does not match its contents",
                time(at)
            ),
            Self::Broken { id, seq, at } => write!(
                f,
                "audit event {id} (position {seq}, {}) does not point to the event before it",
                time(at)
            ),
            Self::Missing {
                expected_seq,
                found,
                found_seq,
                at,
            } => write!(
                f,
                "audit events are missing: position {expected_seq} is absent; the next present is event {found} (position {found_seq}, {})",
                time(at)
            ),
            Self::Unchained { id, at } => write!(
                f,
                "audit event {id} ({}) has no place in the chain: it was written around Reserv",
                time(at)
            ),
            Self::NoGenesis => write!(f, "the audit chain has no genesis event"),
        }
    }
}

/// Walks events in chain order, one at a time, remembering only the last hash; so a
/// chain of any length is checked in constant memory.
#[derive(Debug, Default)]
pub struct ChainWalk {
    last: Option<(i64, String)>,
    /// How many events were checked.
    pub checked: u64,
}

impl ChainWalk {
    /// Checks the next event (in ascending chain position).
    pub fn check(&mut self, event: &AuditEvent) -> Result<(), ChainFault> {
        let at = event.record.at;
        let Some(seq) = event.seq else {
            return Err(ChainFault::Unchained { id: event.id, at });
        };
        let (expected_seq, expected_previous) = match &self.last {
            None if seq != 0 => return Err(ChainFault::NoGenesis),
            None => (0, GENESIS_PREVIOUS_HASH.to_owned()),
            Some((last_seq, last_hash)) => (last_seq + 1, last_hash.clone()),
        };
        if seq != expected_seq {
            return Err(ChainFault::Missing {
                expected_seq,
                found: event.id,
                found_seq: seq,
                at,
            });
        }
        if event.previous_hash.as_deref() != Some(expected_previous.as_str()) {
            return Err(ChainFault::Broken {
                id: event.id,
                seq,
                at,
            });
        }
        let hash = event.record.chain_hash(seq, &expected_previous);
        if event.hash.as_deref() != Some(hash.as_str()) {
            return Err(ChainFault::Altered {
                id: event.id,
                seq,
                at,
            });
        }
        self.last = Some((seq, hash));
        self.checked += 1;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(detail: &str) -> AuditRecord {
        AuditRecord {
            at: DateTime::from_timestamp(1_795_000_000, 123_456_789).unwrap_or_default(),
            actor_id: Some(AccountId(2)),
            actor: Some("krisledare".into()),
            action: AuditAction::Read,
            object_type: "incident".into(),
            object_id: Some("7".into()),
            client_address: Some("127.0.0.1".into()),
            outcome: AuditOutcome::Success,
            detail: Some(detail.into()),
        }
        .normalised()
    }

    fn chain(details: &[&str]) -> Vec<AuditEvent> {
        let mut previous = GENESIS_PREVIOUS_HASH.to_owned();
        let mut events = vec![];
        for (seq, detail) in details.iter().enumerate() {
            let record = record(detail);
            let seq = seq as i64;
            let hash = record.chain_hash(seq, &previous);
            events.push(AuditEvent {
                id: AuditEventId(seq + 10),
                seq: Some(seq),
                record,
                previous_hash: Some(previous.clone()),
                hash: Some(hash.clone()),
            });
            previous = hash;
        }
        events
    }

    fn walk(events: &[AuditEvent]) -> Result<u64, ChainFault> {
        let mut walk = ChainWalk::default();
        for event in events {
            walk.check(event)?;
        }
        Ok(walk.checked)
    }

    #[test]
    fn an_intact_chain_verifies() {
        assert_eq!(walk(&chain(&["genesis", "a", "b", "c"])), Ok(4));
    }

    #[test]
    fn time_is_kept_to_microseconds() {
        assert_eq!(record("x").at.timestamp_subsec_nanos(), 123_456_000);
    }

    #[test]
    fn a_changed_field_is_found_with_its_event() {
        let mut events = chain(&["genesis", "a", "b", "c"]);
        events[2].record.detail = Some("b, men ändrad".into());
        assert!(matches!(
            walk(&events),
            Err(ChainFault::Altered { seq: 2, .. })
        ));
    }

    #[test]
    fn a_removed_event_is_a_gap() {
        let mut events = chain(&["genesis", "a", "b", "c"]);
        events.remove(2);
        let fault = walk(&events).err();
        assert!(matches!(
            fault,
            Some(ChainFault::Missing {
                expected_seq: 2,
                found_seq: 3,
                ..
            })
        ));
    }

    #[test]
    fn a_rewritten_event_with_a_fresh_hash_breaks_the_next_link() {
        let mut events = chain(&["genesis", "a", "b", "c"]);
        events[1].record.detail = Some("förfalskad".into());
        let previous = events[0].hash.clone().unwrap_or_default();
        events[1].hash = Some(events[1].record.chain_hash(1, &previous));
        assert!(matches!(
            walk(&events),
            Err(ChainFault::Broken { seq: 2, .. })
        ));
    }

    #[test]
    fn fields_cannot_be_shifted_into_each_other() {
        let mut a = record("x");
        let mut b = record("x");
        a.object_type = "incident".into();
        a.object_id = Some("17".into());
        b.object_type = "incident1".into();
        b.object_id = Some("7".into());
        assert_ne!(
            a.chain_hash(1, GENESIS_PREVIOUS_HASH),
            b.chain_hash(1, GENESIS_PREVIOUS_HASH)
        );
    }
}
