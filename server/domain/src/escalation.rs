//! Escalation of unacknowledged crisis messages: when a recipient has not acknowledged
//! within the message's time, the next channel is tried (push → SMS), and after the same
//! time again her unit managers are told.
//!
//! This module only decides what is due and when; it never sends or stores anything.
//! The store records each step, so that a step happens once however often it is asked.

use crate::{DomainError, Result};
use chrono::{DateTime, Duration, Utc};

/// The longest escalation time accepted: a day. A crisis message nobody follows up
/// within a day needs a new message, not an escalation.
pub const MAX_ESCALATE_AFTER_MINUTES: i64 = 24 * 60;

/// How long a recipient may leave a message unacknowledged before each next step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EscalationPlan {
    after_minutes: i64,
}

impl EscalationPlan {
    /// A plan escalating after `minutes` (1 to a day), as given in the field named `field`.
    pub fn new(field: &str, minutes: i64) -> Result<Self> {
        if !(1..=MAX_ESCALATE_AFTER_MINUTES).contains(&minutes) {
            return Err(DomainError::validation(
                field,
                format!(
                    "is {minutes}; give 1 to {MAX_ESCALATE_AFTER_MINUTES} minutes (a day), or leave it out for no escalation"
                ),
            ));
        }
        Ok(Self {
            after_minutes: minutes,
        })
    }

    pub fn after_minutes(self) -> i64 {
        self.after_minutes
    }

    fn after(self) -> Duration {
        Duration::minutes(self.after_minutes)
    }

    /// When the first step for a recipient is due, for a message sent at `sent_at`:
    /// the SMS after one period when it was held back, else the managers after two.
    pub fn first_due(self, sent_at: DateTime<Utc>, sms_held: bool) -> DateTime<Utc> {
        if sms_held {
            sent_at + self.after()
        } else {
            sent_at + self.after() + self.after()
        }
    }
}

crate::named_enum! {
    /// How far one recipient's escalation has gone.
    pub enum EscalationStep as "escalation step" {
            /// Nothing has been done beyond the first send.
            None = "none",
            /// Her SMS copy, held back while push might reach her, was queued.
            Sms = "sms",
            /// Her unit managers were told she has not acknowledged.
            Managers = "managers",
        }
}

impl EscalationStep {
    /// The step as stored (0, 1, 2), kept as a number so that "not yet at step n" is
    /// one comparison in SQL.
    pub fn number(self) -> i16 {
        match self {
            EscalationStep::None => 0,
            EscalationStep::Sms => 1,
            EscalationStep::Managers => 2,
        }
    }

    pub fn from_number(number: i16) -> Result<Self> {
        match number {
            0 => Ok(EscalationStep::None),
            1 => Ok(EscalationStep::Sms),
            2 => Ok(EscalationStep::Managers),
            other => Err(DomainError::validation(
                "message_recipients.escalation_step",
                format!("holds {other}; only 0, 1 and 2 are steps"),
            )),
        }
    }
}

/// Where one recipient of an escalating message stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecipientEscalation {
    pub sent_at: DateTime<Utc>,
    pub acknowledged: bool,
    /// The last step taken.
    pub done: EscalationStep,
    /// She was reached by push only and her SMS copy waits for this escalation.
    pub sms_held: bool,
}

/// What is due for one recipient now, and when she is to be looked at again; the
/// default is nothing, ever.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct EscalationDecision {
    /// The step to take now, if any.
    pub step: Option<EscalationStep>,
    /// When the step after that is due; `None` once nothing is left.
    pub next_due: Option<DateTime<Utc>>,
}

/// The next escalation step for one recipient at `now`. An acknowledged recipient is
/// never escalated. Steps fall due one period apart from the send, so that a pass that
/// runs late (the server was down) takes the step that is due and leaves the next for
/// its own time.
pub fn next_escalation_step(
    plan: EscalationPlan,
    recipient: RecipientEscalation,
    now: DateTime<Utc>,
) -> EscalationDecision {
    let nothing_left = EscalationDecision {
        step: None,
        next_due: None,
    };
    if recipient.acknowledged {
        return nothing_left;
    }
    let sms_due = recipient.sent_at + plan.after();
    let managers_due = sms_due + plan.after();
    match recipient.done {
        EscalationStep::None if recipient.sms_held => {
            if now >= sms_due {
                EscalationDecision {
                    step: Some(EscalationStep::Sms),
                    next_due: Some(managers_due),
                }
            } else {
                EscalationDecision {
                    step: None,
                    next_due: Some(sms_due),
                }
            }
        }
        EscalationStep::None | EscalationStep::Sms => {
            if now >= managers_due {
                EscalationDecision {
                    step: Some(EscalationStep::Managers),
                    next_due: None,
                }
            } else {
                EscalationDecision {
                    step: None,
                    next_due: Some(managers_due),
                }
            }
        }
        EscalationStep::Managers => nothing_left,
    }
}

/// The short SMS her managers get: "Karin Ek har inte kvitterat M42".
pub fn managers_notice(recipient_name: &str, reference: &str, english: bool) -> String {
    if english {
        format!("{recipient_name} has not acknowledged {reference}")
    } else {
        format!("{recipient_name} har inte kvitterat {reference}")
    }
}

/// The crisis log's entry for a step taken.
pub fn log_text(
    step: EscalationStep,
    recipient_name: &str,
    reference: &str,
    told: usize,
) -> String {
    match step {
        EscalationStep::Sms => format!(
            "Eskalering {reference}: {recipient_name} har inte kvitterat pushnotisen; SMS skickas"
        ),
        EscalationStep::Managers if told == 0 => format!(
            "Eskalering {reference}: {recipient_name} har inte kvitterat; ingen enhetschef med telefon att meddela"
        ),
        EscalationStep::Managers => format!(
            "Eskalering {reference}: {recipient_name} har inte kvitterat; {told} enhetschef(er) meddelade"
        ),
        EscalationStep::None => format!("Eskalering {reference}: {recipient_name}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(minutes: i64) -> DateTime<Utc> {
        DateTime::<Utc>::UNIX_EPOCH + Duration::days(20_000) + Duration::minutes(minutes)
    }

    fn plan() -> EscalationPlan {
        EscalationPlan::new("escalateAfterMinutes", 30)
            .unwrap_or_else(|_| unreachable!("30 minutes is a valid plan"))
    }

    fn pushed_only(done: EscalationStep) -> RecipientEscalation {
        RecipientEscalation {
            sent_at: at(0),
            acknowledged: false,
            done,
            sms_held: true,
        }
    }

    #[test]
    fn a_push_only_recipient_gets_an_sms_after_one_period_and_her_managers_after_two() {
        let waiting = next_escalation_step(plan(), pushed_only(EscalationStep::None), at(29));
        assert_eq!(waiting.step, None);
        assert_eq!(waiting.next_due, Some(at(30)));
        let sms = next_escalation_step(plan(), pushed_only(EscalationStep::None), at(30));
        assert_eq!(sms.step, Some(EscalationStep::Sms));
        assert_eq!(sms.next_due, Some(at(60)));
        let early = next_escalation_step(plan(), pushed_only(EscalationStep::Sms), at(59));
        assert_eq!(early.step, None);
        let managers = next_escalation_step(plan(), pushed_only(EscalationStep::Sms), at(60));
        assert_eq!(managers.step, Some(EscalationStep::Managers));
        assert_eq!(managers.next_due, None);
        let done = next_escalation_step(plan(), pushed_only(EscalationStep::Managers), at(600));
        assert_eq!(done.step, None);
        assert_eq!(done.next_due, None);
    }

    #[test]
    fn a_late_pass_takes_one_step_and_leaves_the_next_for_its_time() {
        let late = next_escalation_step(plan(), pushed_only(EscalationStep::None), at(90));
        assert_eq!(late.step, Some(EscalationStep::Sms));
        assert_eq!(late.next_due, Some(at(60)));
    }

    #[test]
    fn without_a_held_sms_the_managers_are_told_after_two_periods() {
        let texted = RecipientEscalation {
            sms_held: false,
            ..pushed_only(EscalationStep::None)
        };
        assert_eq!(next_escalation_step(plan(), texted, at(45)).step, None);
        assert_eq!(
            next_escalation_step(plan(), texted, at(60)).step,
            Some(EscalationStep::Managers)
        );
        assert_eq!(plan().first_due(at(0), false), at(60));
        assert_eq!(plan().first_due(at(0), true), at(30));
    }

    #[test]
    fn an_acknowledged_recipient_is_never_escalated() {
        let acknowledged = RecipientEscalation {
            acknowledged: true,
            ..pushed_only(EscalationStep::None)
        };
        let decision = next_escalation_step(plan(), acknowledged, at(1_000));
        assert_eq!(decision.step, None);
        assert_eq!(decision.next_due, None);
    }

    #[test]
    fn a_plan_outside_a_minute_to_a_day_is_refused_naming_the_field() {
        for minutes in [0, -5, MAX_ESCALATE_AFTER_MINUTES + 1] {
            assert!(matches!(
                EscalationPlan::new("escalateAfterMinutes", minutes),
                Err(DomainError::Validation { field, .. }) if field == "escalateAfterMinutes"
            ));
        }
    }

    #[test]
    fn the_managers_read_who_and_which_message() {
        assert_eq!(
            managers_notice("Karin Ek", "M42", false),
            "Karin Ek har inte kvitterat M42"
        );
        assert_eq!(
            managers_notice("Karin Ek", "M42", true),
            "Karin Ek has not acknowledged M42"
        );
    }
}
