//! Message drafts: the messages a playbook prepares when it is activated, one per
//! audience, with its placeholders filled. The crisis lead reads them, edits them and
//! sends each one as a crisis message, or discards it; the one for the public is
//! published as a public notice instead, since residents are reached through the status
//! page and the fallback site, not by SMS.
//!
//! This module must never send anything: sending a draft is sending a message, with
//! every rule of [`crate::messages`].

use crate::access::Role;
use crate::classification::{Classification, Confidentiality, lowering_detail};
use crate::ids::{IncidentId, MessageDraftId, MessageId, NoticeId, UnitId};
use crate::messages::Audience;
use crate::validate::{optional_text, required_text};
use crate::{DomainError, Result};
use chrono::{DateTime, Utc};

crate::named_enum! {
    /// Who a draft is for, as the playbook names it.
    pub enum DraftAudience as "audience" {
            /// The people of the units the activation covers.
            Staff = "staff",
            /// The unit managers of the units the activation covers.
            Managers = "managers",
            /// The crisis leads and communicators.
            CrisisGroup = "crisis_group",
            /// Residents and relatives, through the status page.
            Public = "public",
        }
}

impl DraftAudience {
    /// Who the draft reaches when sent as a crisis message, for the units the
    /// activation covers; `None` for the public, whose draft becomes a public notice.
    pub fn recipients(self, units: &[UnitId]) -> Option<Audience> {
        match self {
            DraftAudience::Staff => Some(Audience {
                unit_ids: units.to_vec(),
                ..Audience::default()
            }),
            DraftAudience::Managers => Some(Audience {
                managers_of: units.to_vec(),
                ..Audience::default()
            }),
            DraftAudience::CrisisGroup => Some(Audience {
                roles: vec![Role::CrisisLead, Role::Communicator],
                ..Audience::default()
            }),
            DraftAudience::Public => None,
        }
    }

    /// The audience in a Swedish sentence of the crisis log.
    pub fn in_swedish(self) -> &'static str {
        match self {
            DraftAudience::Staff => "personalen",
            DraftAudience::Managers => "enhetscheferna",
            DraftAudience::CrisisGroup => "krisledningsgruppen",
            DraftAudience::Public => "allmänheten (statussidan)",
        }
    }

    /// How classified a new draft for this audience is: the public's is public by
    /// definition, the others internal like any crisis message left unclassified.
    pub fn initial_classification(self) -> Classification {
        match self {
            DraftAudience::Public => Classification {
                confidentiality: Confidentiality::PUBLIC,
                ..Classification::default()
            },
            _ => Classification::default(),
        }
    }
}

crate::named_enum! {
    /// Where a draft stands: open for editing, or done with one way or the other.
    pub enum DraftState as "state" {
            Draft = "draft",
            Sent = "sent",
            Discarded = "discarded",
        }
}

/// A prepared message, as the crisis lead sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageDraft {
    pub id: MessageDraftId,
    pub incident_id: IncidentId,
    pub audience: DraftAudience,
    /// The units the activation covers, which staff and manager drafts reach.
    pub unit_ids: Vec<UnitId>,
    pub body_sv: String,
    pub body_en: Option<String>,
    pub classification: Classification,
    /// Prepared by an exercise activation: sent, every copy says ÖVNING / EXERCISE.
    pub exercise: bool,
    /// The playbook's time to acknowledge before the message escalates; `None` when
    /// the playbook has no escalation rule.
    pub escalate_after_minutes: Option<i64>,
    pub state: DraftState,
    /// The message it was sent as.
    pub message_id: Option<MessageId>,
    /// The public notice it was published as.
    pub notice_id: Option<NoticeId>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// Who last edited, sent or discarded it; `None` while it is as prepared.
    pub updated_by: Option<String>,
}

/// How a placeholder that could not be filled at activation stays in the text: as the
/// playbook wrote it, so that the crisis lead sees what is missing.
pub fn unfilled_mark(name: &str) -> String {
    format!("{{{{ {name} }}}}")
}

/// The placeholders still written `{{ name }}` in `text`.
pub fn unfilled_in(text: &str) -> Vec<String> {
    let mut names = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find("{{") {
        let after = &rest[start + 2..];
        let Some(end) = after.find("}}") else {
            break;
        };
        names.push(after[..end].trim().to_owned());
        rest = &after[end + 2..];
    }
    names
}

impl MessageDraft {
    /// Refuses a change to a draft that has been sent or discarded.
    pub fn ensure_open(&self) -> Result<()> {
        match (self.state, self.message_id, self.notice_id) {
            (DraftState::Draft, _, _) => Ok(()),
            (DraftState::Sent, Some(message), _) => Err(DomainError::conflict(format!(
                "message draft {} was already sent as message {}",
                self.id,
                crate::messages::reference(message)
            ))),
            (DraftState::Sent, _, Some(notice)) => Err(DomainError::conflict(format!(
                "message draft {} was already published as public notice {notice}",
                self.id
            ))),
            (state, _, _) => Err(DomainError::conflict(format!(
                "message draft {} is {state} and can no longer change",
                self.id
            ))),
        }
    }

    /// Refuses to send a draft that is no longer open or still has a placeholder that
    /// could not be filled, naming the text and the placeholder.
    pub fn ensure_ready_to_send(&self) -> Result<()> {
        self.ensure_open()?;
        let texts = [
            ("bodySv", Some(&self.body_sv)),
            ("bodyEn", self.body_en.as_ref()),
        ];
        for (field, text) in texts {
            if let Some(name) = text.and_then(|text| unfilled_in(text).into_iter().next()) {
                return Err(DomainError::validation(
                    field,
                    format!(
                        "still says {}: nothing was known to fill it at activation; write it into the draft before sending",
                        unfilled_mark(&name)
                    ),
                ));
            }
        }
        Ok(())
    }
}

/// A change the crisis lead makes to a draft; what is left out stays.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DraftEdit {
    pub body_sv: Option<String>,
    /// `Some(None)` removes the English text.
    pub body_en: Option<Option<String>>,
    pub classification: Option<Classification>,
    /// Why the confidentiality is lowered, when it is: a lower level may go by SMS.
    pub lowering_reason: Option<String>,
}

/// A draft's texts and level after an edit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EditedDraft {
    pub body_sv: String,
    pub body_en: Option<String>,
    pub classification: Classification,
    /// The audit detail of a lowered confidentiality.
    pub lowered: Option<String>,
}

/// The longest text a draft may hold: what a crisis message may hold.
const BODY_MAX: usize = 1_000;

impl DraftEdit {
    /// Applies the edit to `draft`, refusing what sending would refuse: empty or too
    /// long texts, and anything but public for the draft that goes to the public.
    pub fn apply_to(self, draft: &MessageDraft) -> Result<EditedDraft> {
        draft.ensure_open()?;
        let body_sv = required_text(
            "bodySv",
            self.body_sv.as_deref().unwrap_or(&draft.body_sv),
            BODY_MAX,
        )?;
        let body_en = match self.body_en {
            None => draft.body_en.clone(),
            Some(text) => optional_text("bodyEn", text.as_deref(), BODY_MAX)?,
        };
        let classification = self.classification.unwrap_or(draft.classification);
        if draft.audience == DraftAudience::Public
            && classification.confidentiality != Confidentiality::PUBLIC
        {
            return Err(DomainError::validation(
                "classification.confidentiality",
                format!(
                    "is {}; the draft for the public is published on the status page, so only level 0 (public) fits",
                    classification.confidentiality.level()
                ),
            ));
        }
        let lowered = lowering_detail(
            draft.classification.confidentiality,
            classification.confidentiality,
            self.lowering_reason.as_deref(),
        )?;
        Ok(EditedDraft {
            body_sv,
            body_en,
            classification,
            lowered,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn draft(audience: DraftAudience, body_sv: &str) -> MessageDraft {
        let now = Utc::now();
        MessageDraft {
            id: MessageDraftId(3),
            incident_id: IncidentId(1),
            audience,
            unit_ids: vec![UnitId(4)],
            body_sv: body_sv.into(),
            body_en: None,
            classification: audience.initial_classification(),
            exercise: false,
            escalate_after_minutes: None,
            state: DraftState::Draft,
            message_id: None,
            notice_id: None,
            created_at: now,
            updated_at: now,
            updated_by: None,
        }
    }

    #[test]
    fn an_unfilled_placeholder_stops_the_send_and_is_named() {
        let waiting = draft(
            DraftAudience::Public,
            "Ring {{ hotline }} eller läs {{status_url}}",
        );
        assert_eq!(unfilled_in(&waiting.body_sv), ["hotline", "status_url"]);
        let refused = waiting.ensure_ready_to_send().err().map(|e| e.to_string());
        assert!(
            refused
                .as_deref()
                .is_some_and(|text| text.contains("{{ hotline }}")),
            "{refused:?}"
        );
        assert!(
            draft(DraftAudience::Staff, "Logga inte in")
                .ensure_ready_to_send()
                .is_ok()
        );
    }

    #[test]
    fn the_public_draft_stays_public_and_a_sent_draft_stays_sent() {
        let public = draft(DraftAudience::Public, "Hemtjänsten kommer som vanligt");
        let secret = DraftEdit {
            classification: Some(Classification::default()),
            ..DraftEdit::default()
        };
        assert!(
            matches!(secret.apply_to(&public), Err(DomainError::Validation { field, .. }) if field == "classification.confidentiality")
        );
        let sent = MessageDraft {
            state: DraftState::Sent,
            message_id: Some(MessageId(42)),
            ..draft(DraftAudience::Staff, "Hej")
        };
        let refused = DraftEdit::default()
            .apply_to(&sent)
            .err()
            .map(|e| e.to_string());
        assert!(
            refused.as_deref().is_some_and(|text| text.contains("M42")),
            "{refused:?}"
        );
    }

    #[test]
    fn managers_are_reached_through_their_units_and_the_public_not_by_message() {
        let units = [UnitId(4), UnitId(5)];
        let managers = DraftAudience::Managers.recipients(&units);
        assert_eq!(
            managers.map(|audience| audience.managers_of),
            Some(units.to_vec())
        );
        assert!(DraftAudience::Public.recipients(&units).is_none());
    }
}
