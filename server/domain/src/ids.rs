//! Typed identifiers, so that a person's id can never be passed where a unit's is meant.

use serde::{Deserialize, Serialize};
use std::fmt;

macro_rules! id_type {
    ($($(#[$doc:meta])* $name:ident),* $(,)?) => {$(
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub i64);

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }
    )*};
}

id_type!(
    /// An organisation unit.
    UnitId,
    /// A staff member or external contact.
    PersonId,
    /// A sign-in account.
    AccountId,
    /// An IT system that activities depend on.
    SystemId,
    /// A continuity plan (all of its versions).
    PlanId,
    /// One version of a continuity plan.
    PlanVersionId,
    /// A critical activity within a plan version.
    ActivityId,
    /// A dependency of a critical activity.
    DependencyId,
    /// A fallback routine within a plan version.
    RoutineId,
    /// An incident.
    IncidentId,
    /// An entry of an incident's crisis log.
    LogEntryId,
    /// A task within an incident.
    TaskId,
    /// An audit event.
    AuditEventId,
    /// A public notice (all of its revisions).
    NoticeId,
    /// A crisis message.
    MessageId,
    /// A message prepared at activation, not yet sent.
    MessageDraftId,
);
