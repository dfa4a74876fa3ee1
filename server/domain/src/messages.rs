//! Crisis messages: who they go to, what each recipient reads in their own language,
//! and what may go out by SMS.
//!
//! An audience "unit" means the people attached to the unit or a unit below it (the
//! people's own units), whether or not they have an account: that is who a crisis lead
//! means by "everyone in Hemtjänst Norr". Roles, by contrast, are held by accounts, so a
//! role audience reaches the people linked to accounts with that role.
//!
//! This module must never send anything: it decides the text, the outbox sends it.

use crate::access::Role;
use crate::classification::Classification;
use crate::disclosure::{self, Disclosure};
use crate::escalation::EscalationPlan;
use crate::ids::{IncidentId, MessageId, PersonId, TaskId, UnitId};
use crate::people::Language;
use crate::sms::{Segments, count_segments};
use crate::validate::{optional_text, required_text};
use crate::{DomainError, Result};

crate::named_enum! {
    /// How a message reaches a recipient.
    pub enum Channel as "channel" {
            Sms = "sms",
            /// Web push to a device the person subscribed in the PWA.
            Push = "push",
        }
}

crate::named_enum! {
    /// Where one recipient's copy of a message stands.
    pub enum DeliveryState as "state" {
            /// Written to the outbox, not yet handed to a provider.
            Queued = "queued",
            /// Accepted by the provider.
            Sent = "sent",
            /// The provider reports it reached the phone.
            Delivered = "delivered",
            /// It could not be delivered; the reason is kept.
            Failed = "failed",
            /// The recipient has no channel Reserv can use (no phone number).
            Unreachable = "unreachable",
        }
}

/// Who a message goes to: the union of every part given. Each person gets it once.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Audience {
    /// Every staff member; external contacts are named or reached through units.
    pub everyone: bool,
    pub roles: Vec<Role>,
    /// The people attached to these units or to units below them.
    pub unit_ids: Vec<UnitId>,
    /// The unit managers of these units: the people whose enabled accounts hold the
    /// unit manager role for one of them.
    pub managers_of: Vec<UnitId>,
    pub person_ids: Vec<PersonId>,
    /// The people assigned to these tasks.
    pub task_ids: Vec<TaskId>,
}

impl Audience {
    fn is_empty(&self) -> bool {
        !self.everyone
            && self.roles.is_empty()
            && self.unit_ids.is_empty()
            && self.managers_of.is_empty()
            && self.person_ids.is_empty()
            && self.task_ids.is_empty()
    }
}

/// A message as the crisis staff write it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewMessage {
    /// The incident the message is about; an exercise incident marks the message.
    pub incident_id: Option<IncidentId>,
    pub audience: Audience,
    /// The Swedish text; placeholders `{namn}` (the recipient's name) and `{incident}`
    /// (the incident's title).
    pub body_sv: String,
    /// The English text for recipients who read English; the Swedish one otherwise.
    pub body_en: Option<String>,
    pub classification: Option<Classification>,
    /// Minutes without acknowledgement before the next step (push → SMS → the unit
    /// managers); `None` for no escalation.
    pub escalate_after_minutes: Option<i64>,
}

/// A message once every rule holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidMessage {
    pub incident_id: Option<IncidentId>,
    pub audience: Audience,
    pub body_sv: String,
    pub body_en: Option<String>,
    pub classification: Classification,
    pub escalation: Option<EscalationPlan>,
}

/// The placeholders a template may use, in both languages' spelling.
const PLACEHOLDERS: &[&str] = &["namn", "name", "incident"];

impl NewMessage {
    pub fn validate(self) -> Result<ValidMessage> {
        if self.audience.is_empty() {
            return Err(DomainError::validation(
                "audience",
                "names nobody; choose everyone, roles, units, unit managers, people or tasks",
            ));
        }
        let body_sv = required_text("bodySv", &self.body_sv, 1_000)?;
        let body_en = optional_text("bodyEn", self.body_en.as_deref(), 1_000)?;
        check_placeholders("bodySv", &body_sv)?;
        if let Some(body) = &body_en {
            check_placeholders("bodyEn", body)?;
        }
        Ok(ValidMessage {
            incident_id: self.incident_id,
            audience: self.audience,
            body_sv,
            body_en,
            classification: self.classification.unwrap_or_default(),
            escalation: self
                .escalate_after_minutes
                .map(|minutes| EscalationPlan::new("escalateAfterMinutes", minutes))
                .transpose()?,
        })
    }
}

fn check_placeholders(field: &str, template: &str) -> Result<()> {
    let mut rest = template;
    while let Some(start) = rest.find('{') {
        let after = &rest[start + 1..];
        let Some(end) = after.find('}') else {
            return Err(DomainError::validation(
                field,
                "has a '{' that is not closed",
            ));
        };
        let name = &after[..end];
        if !PLACEHOLDERS.contains(&name) {
            return Err(DomainError::validation(
                field,
                format!(
                    "has an unknown placeholder {{{name}}}; use {}",
                    PLACEHOLDERS
                        .iter()
                        .map(|known| format!("{{{known}}}"))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            ));
        }
        rest = &after[end + 1..];
    }
    Ok(())
}

/// A sent message, as its senders see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    pub id: MessageId,
    pub incident_id: Option<IncidentId>,
    pub body_sv: String,
    pub body_en: Option<String>,
    pub classification: Classification,
    pub exercise: bool,
    pub sent_by: String,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub recipient_count: u64,
    /// Minutes without acknowledgement before each escalation step; `None` when the
    /// message does not escalate.
    pub escalate_after_minutes: Option<i64>,
}

impl Message {
    /// The short reference recipients quote (`OK M42`) and that a confidential SMS
    /// carries instead of the content.
    pub fn reference(&self) -> String {
        reference(self.id)
    }
}

pub fn reference(id: MessageId) -> String {
    format!("M{id}")
}

/// One person a message goes to, with what the text needs of them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recipient {
    pub person_id: PersonId,
    pub name: String,
    pub language: Language,
}

/// What fills a template for one recipient.
#[derive(Debug, Clone, Copy)]
pub struct Rendering<'a> {
    pub message_id: MessageId,
    pub incident_title: Option<&'a str>,
    pub exercise: bool,
}

impl ValidMessage {
    /// The full text `recipient` reads in the app: their language, placeholders filled,
    /// and marked when it is an exercise.
    pub fn text_for(&self, recipient: &Recipient, rendering: Rendering<'_>) -> String {
        let template = match (recipient.language, &self.body_en) {
            (Language::En, Some(english)) => english,
            _ => &self.body_sv,
        };
        let incident = rendering.incident_title.unwrap_or_default();
        let text = template
            .replace("{namn}", &recipient.name)
            .replace("{name}", &recipient.name)
            .replace("{incident}", incident);
        with_exercise_mark(text, recipient.language, rendering.exercise)
    }

    /// What goes out by SMS. SMS is not a confidential channel: above what it carries
    /// (see [`disclosure::Channel::Sms`]) the SMS only says that there is a message, and its reference.
    pub fn sms_for(&self, recipient: &Recipient, rendering: Rendering<'_>) -> String {
        if disclosure::Channel::Sms.carries(self.classification.confidentiality) != Disclosure::Full
        {
            let reference = reference(rendering.message_id);
            let notice = match recipient.language {
                Language::Sv => format!(
                    "Krisledningen har skickat ett meddelande till dig ({reference}). Läs det i Reserv. Svara OK {reference} när du har läst."
                ),
                Language::En => format!(
                    "The crisis management team has sent you a message ({reference}). Read it in Reserv. Reply OK {reference} once you have read it."
                ),
            };
            return with_exercise_mark(notice, recipient.language, rendering.exercise);
        }
        self.text_for(recipient, rendering)
    }
}

/// What a web push notification shows on the lock screen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PushText {
    pub title: String,
    pub body: String,
}

impl ValidMessage {
    /// What goes out by web push. Push passes through the browser maker's push service
    /// (Google, Apple, Mozilla) and shows on a locked screen, so like SMS it carries the
    /// content only up to confidentiality 1; above that only a notice with the reference.
    pub fn push_for(&self, recipient: &Recipient, rendering: Rendering<'_>) -> PushText {
        let reference = reference(rendering.message_id);
        let title = match recipient.language {
            Language::Sv => format!("Krismeddelande {reference}"),
            Language::En => format!("Crisis message {reference}"),
        };
        let body = if disclosure::Channel::Push.carries(self.classification.confidentiality)
            != Disclosure::Full
        {
            let notice = match recipient.language {
                Language::Sv => format!("Nytt meddelande från krisledningen ({reference})"),
                Language::En => {
                    format!("New message from the crisis management team ({reference})")
                }
            };
            with_exercise_mark(notice, recipient.language, rendering.exercise)
        } else {
            self.text_for(recipient, rendering)
        };
        PushText {
            title: with_exercise_mark(title, recipient.language, rendering.exercise),
            body,
        }
    }
}

impl ValidMessage {
    /// The SMS `recipient` gets with its segment count, refused when it takes more than
    /// `max_segments`: a long text costs and arrives in pieces, so the sender shortens it.
    pub fn sms_within(
        &self,
        recipient: &Recipient,
        rendering: Rendering<'_>,
        max_segments: usize,
    ) -> Result<(String, Segments)> {
        let text = self.sms_for(recipient, rendering);
        let segments = count_segments(&text);
        if segments.count > max_segments {
            let field = match (recipient.language, &self.body_en) {
                (Language::En, Some(_)) => "bodyEn",
                _ => "bodySv",
            };
            return Err(DomainError::validation(
                field,
                format!(
                    "makes an SMS of {} segments for some recipients (names and the incident \
                     title count too); at most {max_segments} are allowed: shorten the text",
                    segments.count
                ),
            ));
        }
        Ok((text, segments))
    }
}

fn with_exercise_mark(text: String, language: Language, exercise: bool) -> String {
    if !exercise {
        return text;
    }
    match language {
        Language::Sv => format!("ÖVNING: {text}"),
        Language::En => format!("EXERCISE: {text}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(confidentiality: i64) -> ValidMessage {
        NewMessage {
            incident_id: None,
            audience: Audience {
                everyone: true,
                ..Audience::default()
            },
            body_sv: "Hej {namn}, journalen är nere: {incident}.".into(),
            body_en: Some("Hi {name}, the journal is down: {incident}.".into()),
            classification: Some(Classification::new(confidentiality, 1, 1).unwrap_or_default()),
            escalate_after_minutes: None,
        }
        .validate()
        .unwrap_or_else(|_| unreachable!("the message is valid"))
    }

    fn recipient(language: Language) -> Recipient {
        Recipient {
            person_id: PersonId(1),
            name: "Karin".into(),
            language,
        }
    }

    const RENDERING: Rendering<'static> = Rendering {
        message_id: MessageId(42),
        incident_title: Some("Journalsystemet"),
        exercise: false,
    };

    #[test]
    fn each_recipient_reads_their_language_with_placeholders_filled() {
        let message = message(1);
        assert_eq!(
            message.text_for(&recipient(Language::Sv), RENDERING),
            "Hej Karin, journalen är nere: Journalsystemet."
        );
        assert_eq!(
            message.sms_for(&recipient(Language::En), RENDERING),
            "Hi Karin, the journal is down: Journalsystemet."
        );
    }

    #[test]
    fn an_exercise_says_so_first() {
        let exercise = Rendering {
            exercise: true,
            ..RENDERING
        };
        let message = message(0);
        assert!(
            message
                .sms_for(&recipient(Language::Sv), exercise)
                .starts_with("ÖVNING: ")
        );
        assert!(
            message
                .sms_for(&recipient(Language::En), exercise)
                .starts_with("EXERCISE: ")
        );
    }

    #[test]
    fn confidential_content_never_goes_by_sms() {
        let message = message(2);
        let sms = message.sms_for(&recipient(Language::Sv), RENDERING);
        assert!(!sms.contains("journalen"), "{sms}");
        assert!(sms.contains("M42"), "{sms}");
    }

    #[test]
    fn confidential_content_never_goes_by_push_and_exercises_say_so() {
        let secret = message(2).push_for(&recipient(Language::Sv), RENDERING);
        assert_eq!(secret.body, "Nytt meddelande från krisledningen (M42)");
        assert_eq!(secret.title, "Krismeddelande M42");
        let exercise = Rendering {
            exercise: true,
            ..RENDERING
        };
        let open = message(1).push_for(&recipient(Language::En), exercise);
        assert_eq!(open.title, "EXERCISE: Crisis message M42");
        assert_eq!(
            open.body,
            "EXERCISE: Hi Karin, the journal is down: Journalsystemet."
        );
    }

    #[test]
    fn unknown_placeholders_and_empty_audiences_are_refused() {
        let bad = NewMessage {
            body_sv: "Hej {förnamn}".into(),
            ..NewMessage {
                incident_id: None,
                audience: Audience {
                    everyone: true,
                    ..Audience::default()
                },
                body_sv: String::new(),
                body_en: None,
                classification: None,
                escalate_after_minutes: None,
            }
        };
        assert!(
            matches!(bad.clone().validate(), Err(DomainError::Validation { field, .. }) if field == "bodySv")
        );
        let nobody = NewMessage {
            body_sv: "Hej".into(),
            audience: Audience::default(),
            ..bad
        };
        assert!(
            matches!(nobody.validate(), Err(DomainError::Validation { field, .. }) if field == "audience")
        );
    }
}
