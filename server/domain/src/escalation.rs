//! Escalation of unacknowledged crisis messages: when a recipient has not acknowledged
//! within the message's time, the next channel is tried (push → SMS); after the same
//! time again her unit managers are told (the crisis leads, when she has none); and
//! after a third period the crisis leads are told, once per message, who has still not
//! acknowledged. Notices go by push and SMS, and say only the reference when the
//! channel may not carry the message itself.
//!
//! This module only decides what is due and when; it never sends or stores anything.
//! The store records each step, so that a step happens once however often it is asked.

use crate::classification::Confidentiality;
use crate::disclosure::{self, Disclosure};
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

    /// When the crisis leads are told who has still not acknowledged a message sent at
    /// `sent_at`: a period after the managers, whichever way each recipient went.
    pub fn crisis_leads_due(self, sent_at: DateTime<Utc>) -> DateTime<Utc> {
        sent_at + self.after() + self.after() + self.after()
    }
}

/// Who hears of a recipient at the managers' step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ManagersStepGoesTo {
    /// The unit managers of her units.
    UnitManagers,
    /// The crisis leads, since no manager of hers can be reached (she is attached to no
    /// unit with a manager, or none of them has a phone or a browser for push).
    CrisisLeads,
}

/// Where the managers' step for one recipient goes, given how many of her managers can
/// be reached by SMS or push.
pub fn managers_step_goes_to(reachable_managers: usize) -> ManagersStepGoesTo {
    if reachable_managers == 0 {
        ManagersStepGoesTo::CrisisLeads
    } else {
        ManagersStepGoesTo::UnitManagers
    }
}

/// Names listed in one notice to the crisis leads; the rest are counted.
const NAMES_IN_A_NOTICE: usize = 5;

/// What an escalation notice is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NoticeAbout<'a> {
    /// One recipient who has not acknowledged.
    One(&'a str),
    /// Everyone who still has not acknowledged, by name (the crisis leads' notice).
    StillUnacknowledged(&'a [String]),
}

/// The text of an escalation notice to a manager or a crisis lead by `channel` (SMS or
/// push), for a message at `level`: names the people and the reference when the channel
/// carries the message in full, else only the reference, as who has not read a
/// confidential message is itself about it.
pub fn escalation_notice(
    about: NoticeAbout<'_>,
    reference: &str,
    level: Confidentiality,
    channel: disclosure::Channel,
    english: bool,
) -> String {
    if channel.carries(level) != Disclosure::Full {
        return if english {
            format!("Escalation: not every recipient has acknowledged {reference}. Open Reserv.")
        } else {
            format!("Eskalering: {reference} är inte kvitterat av alla. Öppna Reserv.")
        };
    }
    match about {
        NoticeAbout::One(name) if english => format!("{name} has not acknowledged {reference}"),
        NoticeAbout::One(name) => format!("{name} har inte kvitterat {reference}"),
        NoticeAbout::StillUnacknowledged(names) => {
            let listed = names
                .iter()
                .take(NAMES_IN_A_NOTICE)
                .map(String::as_str)
                .collect::<Vec<_>>()
                .join(", ");
            let more = names.len().saturating_sub(NAMES_IN_A_NOTICE);
            match (english, more) {
                (true, 0) => format!(
                    "{} still have not acknowledged {reference}: {listed}",
                    names.len()
                ),
                (true, more) => format!(
                    "{} still have not acknowledged {reference}: {listed} and {more} more",
                    names.len()
                ),
                (false, 0) => format!(
                    "{} har fortfarande inte kvitterat {reference}: {listed}",
                    names.len()
                ),
                (false, more) => format!(
                    "{} har fortfarande inte kvitterat {reference}: {listed} och {more} till",
                    names.len()
                ),
            }
        }
    }
}

/// The title of an escalation notice by push.
pub fn escalation_notice_title(reference: &str, english: bool) -> String {
    if english {
        format!("Escalation {reference}")
    } else {
        format!("Eskalering {reference}")
    }
}

/// The crisis log's entry when the crisis leads are told who has still not
/// acknowledged: everyone by name, as the log is read in Reserv.
pub fn crisis_leads_log_text(reference: &str, unacknowledged: &[String], told: usize) -> String {
    let told = if told == 0 {
        "ingen i krisledningen att meddela".to_owned()
    } else {
        format!("{told} i krisledningen meddelade")
    };
    format!(
        "Eskalering {reference}: {} har fortfarande inte kvitterat ({}); {told}",
        unacknowledged.len(),
        unacknowledged.join(", ")
    )
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

/// Who was told at a step, for its crisis log entry.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Told {
    pub managers: usize,
    pub crisis_leads: usize,
}

/// The crisis log's entry for a step taken about one recipient.
pub fn log_text(step: EscalationStep, recipient_name: &str, reference: &str, told: Told) -> String {
    match step {
        EscalationStep::Sms => format!(
            "Eskalering {reference}: {recipient_name} har inte kvitterat pushnotisen; SMS skickas"
        ),
        EscalationStep::Managers if told.managers > 0 => format!(
            "Eskalering {reference}: {recipient_name} har inte kvitterat; {} enhetschef(er) meddelade",
            told.managers
        ),
        EscalationStep::Managers if told.crisis_leads > 0 => format!(
            "Eskalering {reference}: {recipient_name} har inte kvitterat; ingen enhetschef att meddela, {} i krisledningen meddelade",
            told.crisis_leads
        ),
        EscalationStep::Managers => format!(
            "Eskalering {reference}: {recipient_name} har inte kvitterat; ingen enhetschef eller krisledare att meddela"
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
    fn the_crisis_leads_are_due_a_period_after_the_managers() {
        assert_eq!(plan().crisis_leads_due(at(0)), at(90));
    }

    #[test]
    fn a_recipient_without_a_reachable_manager_goes_to_the_crisis_leads() {
        assert_eq!(managers_step_goes_to(0), ManagersStepGoesTo::CrisisLeads);
        assert_eq!(managers_step_goes_to(2), ManagersStepGoesTo::UnitManagers);
    }

    #[test]
    fn the_managers_read_who_and_which_message() {
        let internal = Confidentiality::INTERNAL;
        for channel in [disclosure::Channel::Sms, disclosure::Channel::Push] {
            assert_eq!(
                escalation_notice(
                    NoticeAbout::One("Karin Ek"),
                    "M42",
                    internal,
                    channel,
                    false
                ),
                "Karin Ek har inte kvitterat M42"
            );
            assert_eq!(
                escalation_notice(NoticeAbout::One("Karin Ek"), "M42", internal, channel, true),
                "Karin Ek has not acknowledged M42"
            );
        }
    }

    #[test]
    fn a_notice_about_a_confidential_message_says_only_the_reference() {
        let names = ["Karin Ek".to_owned()];
        for level in [
            Confidentiality::SENSITIVE,
            Confidentiality::STRICTLY_CONFIDENTIAL,
        ] {
            for channel in [disclosure::Channel::Sms, disclosure::Channel::Push] {
                for about in [
                    NoticeAbout::One("Karin Ek"),
                    NoticeAbout::StillUnacknowledged(&names),
                ] {
                    let swedish = escalation_notice(about, "M42", level, channel, false);
                    assert_eq!(
                        swedish,
                        "Eskalering: M42 är inte kvitterat av alla. Öppna Reserv."
                    );
                    let english = escalation_notice(about, "M42", level, channel, true);
                    assert!(
                        english.contains("M42") && !english.contains("Karin"),
                        "{english}"
                    );
                }
            }
        }
    }

    #[test]
    fn the_crisis_leads_read_the_first_names_and_how_many_more() {
        let few = ["Karin Ek".to_owned(), "Per Olsson".to_owned()];
        assert_eq!(
            escalation_notice(
                NoticeAbout::StillUnacknowledged(&few),
                "M42",
                Confidentiality::PUBLIC,
                disclosure::Channel::Sms,
                false
            ),
            "2 har fortfarande inte kvitterat M42: Karin Ek, Per Olsson"
        );
        let many: Vec<String> = (1..=8).map(|n| format!("Person {n}")).collect();
        assert_eq!(
            escalation_notice(
                NoticeAbout::StillUnacknowledged(&many),
                "M42",
                Confidentiality::INTERNAL,
                disclosure::Channel::Push,
                true
            ),
            "8 still have not acknowledged M42: Person 1, Person 2, Person 3, Person 4, Person 5 and 3 more"
        );
        assert_eq!(
            crisis_leads_log_text("M42", &few, 3),
            "Eskalering M42: 2 har fortfarande inte kvitterat (Karin Ek, Per Olsson); 3 i krisledningen meddelade"
        );
    }

    #[test]
    fn the_log_says_who_was_told_at_the_managers_step() {
        let managers = Told {
            managers: 1,
            crisis_leads: 0,
        };
        let leads = Told {
            managers: 0,
            crisis_leads: 2,
        };
        let step = EscalationStep::Managers;
        assert!(log_text(step, "Anna", "M1", managers).ends_with("1 enhetschef(er) meddelade"));
        assert!(
            log_text(step, "Anna", "M1", leads)
                .ends_with("ingen enhetschef att meddela, 2 i krisledningen meddelade")
        );
        assert!(
            log_text(step, "Anna", "M1", Told::default())
                .ends_with("ingen enhetschef eller krisledare att meddela")
        );
    }
}
