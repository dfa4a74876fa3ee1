//! Audit events: who did what to which object, when, from where, and how it ended.
//! Events are only ever appended.

use crate::ids::{AccountId, AuditEventId};
use chrono::{DateTime, Utc};

crate::named_enum! {
    pub enum AuditOutcome as "outcome" {
            Success = "success",
            /// The policy refused the request.
            Denied = "denied",
            /// The request was allowed but failed (invalid input, conflict, error).
            Failed = "failed",
        }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEvent {
    pub id: AuditEventId,
    pub at: DateTime<Utc>,
    pub actor_id: Option<AccountId>,
    pub actor: Option<String>,
    pub action: String,
    pub object_type: String,
    pub object_id: Option<String>,
    pub client_address: Option<String>,
    pub outcome: AuditOutcome,
    pub detail: Option<String>,
}
