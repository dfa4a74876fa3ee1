//! The commands staff text to Reserv's SMS line, and the answers they get.
//!
//! A care worker with no data network answers a message with `OK`, asks for `STATUS`,
//! and a crisis lead with no computer writes `LOGG <text>` into the crisis log. This
//! module reads the text and words the answer in the person's language; it knows
//! nothing of providers, HTTP or the database, and must never decide who may do what
//! (the store does that with the access policy).

use crate::ids::{IncidentId, LogEntryId, MessageId};
use crate::incidents::IncidentState;
use crate::people::Language;

/// What a staff member's SMS asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StaffCommand {
    /// `OK` or `OK M42`: the latest message, or the one named, has been read.
    Acknowledge { message: Option<MessageId> },
    /// `STATUS`: a short summary of the open incidents for the sender's units.
    Status,
    /// `HJÄLP` or `HELP`.
    Help,
    /// `STOP`: no more SMS to this number.
    Stop,
    /// `START`: SMS again after a `STOP`.
    Start,
    /// `LOGG <text>` or `LOGG #12 <text>`: an observation for the crisis log.
    Log {
        incident: Option<IncidentId>,
        text: String,
    },
    /// `LOGG` with nothing to write.
    LogWithoutText,
    /// Anything else.
    Unknown,
}

/// The words providers and carriers treat as an opt-out; honoured whatever the case.
const STOP_WORDS: &[&str] = &[
    "STOP",
    "STOPP",
    "STOPALL",
    "UNSUBSCRIBE",
    "CANCEL",
    "END",
    "QUIT",
];
const START_WORDS: &[&str] = &["START", "UNSTOP"];

impl StaffCommand {
    /// Reads an SMS. Case does not matter, nor punctuation after the command word
    /// ("Ok!", "status."), nor spaces around it.
    pub fn parse(body: &str) -> Self {
        let body = body.trim();
        let (word, rest) = match body.split_once(char::is_whitespace) {
            Some((word, rest)) => (word, rest.trim()),
            None => (body, ""),
        };
        let word = word
            .trim_end_matches(['.', ',', '!', ':', '?'])
            .to_uppercase();
        match word.as_str() {
            "OK" | "OKEJ" | "OKAY" => Self::Acknowledge {
                message: rest.split_whitespace().next().and_then(message_reference),
            },
            "STATUS" | "LÄGE" => Self::Status,
            "HJÄLP" | "HJALP" | "HELP" | "" if rest.is_empty() => Self::Help,
            "LOGG" | "LOG" => log_command(rest),
            stop if STOP_WORDS.contains(&stop) => Self::Stop,
            start if START_WORDS.contains(&start) => Self::Start,
            _ if body == "?" => Self::Help,
            _ => Self::Unknown,
        }
    }
}

/// `M42`, `m42` or `42`: a message's reference as [`crate::messages::reference`] writes it.
fn message_reference(word: &str) -> Option<MessageId> {
    let word = word.trim_end_matches(['.', ',', '!']);
    let digits = word
        .strip_prefix(['M', 'm'])
        .unwrap_or(word)
        .trim_start_matches('#');
    digits
        .parse::<i64>()
        .ok()
        .filter(|id| *id > 0)
        .map(MessageId)
}

fn log_command(rest: &str) -> StaffCommand {
    let (incident, text) = match rest.strip_prefix('#') {
        Some(named) => {
            let (reference, text) = named.split_once(char::is_whitespace).unwrap_or((named, ""));
            match reference.parse::<i64>() {
                Ok(id) if id > 0 => (Some(IncidentId(id)), text.trim()),
                _ => (None, rest),
            }
        }
        None => (None, rest),
    };
    if text.is_empty() {
        return StaffCommand::LogWithoutText;
    }
    StaffCommand::Log {
        incident,
        text: text.to_owned(),
    }
}

/// How an incident is named by SMS: `#12`, as `LOGG #12 …` expects.
pub fn incident_reference(id: IncidentId) -> String {
    format!("#{id}")
}

/// How a crisis log entry is named in a confirmation: `L305`.
pub fn log_entry_reference(id: LogEntryId) -> String {
    format!("L{id}")
}

/// One open incident in a `STATUS` answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusLine {
    pub incident: IncidentId,
    pub title: String,
    pub state: IncidentState,
}

/// What the line answers, before it is worded in the sender's language.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StaffReply {
    Acknowledged {
        message: MessageId,
    },
    NothingToAcknowledge,
    /// The message does not exist or did not go to the sender.
    NoSuchMessage {
        message: MessageId,
    },
    /// The open incidents the sender may be told about, newest first; `more` are left
    /// out to keep the SMS short.
    Status {
        lines: Vec<StatusLine>,
        more: usize,
    },
    Help,
    Stopped,
    Started,
    Logged {
        entry: LogEntryId,
        incident: IncidentId,
    },
    /// `LOGG` without `#ref` from someone with several open incidents.
    NameTheIncident {
        candidates: Vec<IncidentId>,
    },
    NoOpenIncident,
    /// Only crisis leads and incident commanders write in the log by SMS.
    LogNotAllowed,
    LogWithoutText,
    /// The sender's number is known but has no account that may do this.
    NotAllowed,
    Unknown,
}

impl StaffReply {
    /// The answer as the sender reads it.
    pub fn text(&self, language: Language) -> String {
        match language {
            Language::Sv => self.swedish(),
            Language::En => self.english(),
        }
    }

    fn swedish(&self) -> String {
        match self {
            Self::Acknowledged { message } => format!(
                "Tack! Meddelande {} är kvitterat.",
                crate::messages::reference(*message)
            ),
            Self::NothingToAcknowledge => "Du har inget meddelande som väntar på kvittens.".into(),
            Self::NoSuchMessage { message } => format!(
                "Hittar inget meddelande {} till dig. Kontrollera numret och svara OK M<nummer>.",
                crate::messages::reference(*message)
            ),
            Self::Status { lines, more } if lines.is_empty() && *more == 0 => {
                "Inga öppna händelser för dina enheter just nu.".into()
            }
            Self::Status { lines, more } => status_list(lines, *more, Language::Sv),
            Self::Help => "Reserv sms: OK = kvittera senaste meddelandet, OK M12 = kvittera M12, \
                 STATUS = öppna händelser, LOGG text = skriv i krisloggen (LOGG #3 text för \
                 händelse 3), STOP = inga fler sms, START = sms igen."
                .into(),
            Self::Stopped => {
                "Du får inga fler sms från Reserv. Svara START om du vill få sms igen.".into()
            }
            Self::Started => "Du får sms från Reserv igen.".into(),
            Self::Logged { entry, incident } => format!(
                "Loggat i krisloggen för händelse {} som {}.",
                incident_reference(*incident),
                log_entry_reference(*entry)
            ),
            Self::NameTheIncident { candidates } => format!(
                "Du har flera öppna händelser ({}). Skriv LOGG #nummer följt av texten, till exempel LOGG {} text.",
                references(candidates),
                example(candidates)
            ),
            Self::NoOpenIncident => {
                "Hittar ingen öppen händelse att logga i. Ange den med LOGG #nummer text.".into()
            }
            Self::LogNotAllowed => {
                "Bara krisledare och händelsens ledare kan skriva i krisloggen med sms.".into()
            }
            Self::LogWithoutText => "Skriv LOGG följt av det du vill logga.".into(),
            Self::NotAllowed => {
                "Ditt nummer har inget konto i Reserv som får göra det. Kontakta krisledningen."
                    .into()
            }
            Self::Unknown => {
                "Det kommandot känner Reserv inte till. Svara HJÄLP för att se kommandona.".into()
            }
        }
    }

    fn english(&self) -> String {
        match self {
            Self::Acknowledged { message } => format!(
                "Thank you! Message {} is acknowledged.",
                crate::messages::reference(*message)
            ),
            Self::NothingToAcknowledge => "You have no message waiting to be acknowledged.".into(),
            Self::NoSuchMessage { message } => format!(
                "There is no message {} to you. Check the number and reply OK M<number>.",
                crate::messages::reference(*message)
            ),
            Self::Status { lines, more } if lines.is_empty() && *more == 0 => {
                "No open incidents for your units right now.".into()
            }
            Self::Status { lines, more } => status_list(lines, *more, Language::En),
            Self::Help => "Reserv SMS: OK = acknowledge the latest message, OK M12 = acknowledge M12, \
                 STATUS = open incidents, LOG text = write in the crisis log (LOG #3 text for \
                 incident 3), STOP = no more SMS, START = SMS again."
                .into(),
            Self::Stopped => {
                "You will get no more SMS from Reserv. Reply START to get SMS again.".into()
            }
            Self::Started => "You will get SMS from Reserv again.".into(),
            Self::Logged { entry, incident } => format!(
                "Logged in the crisis log of incident {} as {}.",
                incident_reference(*incident),
                log_entry_reference(*entry)
            ),
            Self::NameTheIncident { candidates } => format!(
                "You have several open incidents ({}). Write LOG #number and the text, for example LOG {} text.",
                references(candidates),
                example(candidates)
            ),
            Self::NoOpenIncident => {
                "There is no open incident to log in. Name it with LOG #number text.".into()
            }
            Self::LogNotAllowed => {
                "Only crisis leads and the incident's commander can write in the crisis log by SMS."
                    .into()
            }
            Self::LogWithoutText => "Write LOG followed by what you want to log.".into(),
            Self::NotAllowed => {
                "Your number has no Reserv account allowed to do that. Contact the crisis management team."
                    .into()
            }
            Self::Unknown => "Reserv does not know that command. Reply HELP to see the commands.".into(),
        }
    }
}

/// "Öppna händelser (3):" and a line per incident, with how many more there are.
fn status_list(lines: &[StatusLine], more: usize, language: Language) -> String {
    let (heading, more_text, state): (_, _, fn(IncidentState) -> &'static str) = match language {
        Language::Sv => ("Öppna händelser", "till i Reserv", state_sv),
        Language::En => ("Open incidents", "more in Reserv", state_en),
    };
    let mut text = format!("{heading} ({}):", lines.len() + more);
    for line in lines {
        text.push_str(&format!(
            "\n{} {} ({})",
            incident_reference(line.incident),
            line.title,
            state(line.state)
        ));
    }
    if more > 0 {
        text.push_str(&format!("\n+{more} {more_text}."));
    }
    text
}

/// The first candidate's reference, for an example the sender can copy.
fn example(candidates: &[IncidentId]) -> String {
    candidates
        .first()
        .map(|id| incident_reference(*id))
        .unwrap_or_else(|| "#1".into())
}

fn references(ids: &[IncidentId]) -> String {
    ids.iter()
        .map(|id| incident_reference(*id))
        .collect::<Vec<_>>()
        .join(", ")
}

fn state_sv(state: IncidentState) -> &'static str {
    match state {
        IncidentState::Reported => "rapporterad",
        IncidentState::Triaged => "bedömd",
        IncidentState::Active => "pågår",
        IncidentState::Recovering => "återställs",
        IncidentState::Closed => "avslutad",
    }
}

fn state_en(state: IncidentState) -> &'static str {
    match state {
        IncidentState::Reported => "reported",
        IncidentState::Triaged => "triaged",
        IncidentState::Active => "active",
        IncidentState::Recovering => "recovering",
        IncidentState::Closed => "closed",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn acknowledgements_name_the_latest_or_a_given_message() {
        for body in ["OK", "ok", " Ok! ", "okej", "OK tack"] {
            assert_eq!(
                StaffCommand::parse(body),
                StaffCommand::Acknowledge { message: None },
                "{body}"
            );
        }
        for body in ["OK M42", "ok m42", "OK 42", "Ok #42."] {
            assert_eq!(
                StaffCommand::parse(body),
                StaffCommand::Acknowledge {
                    message: Some(MessageId(42))
                },
                "{body}"
            );
        }
    }

    #[test]
    fn commands_are_read_in_swedish_and_english_whatever_the_case() {
        assert_eq!(StaffCommand::parse("status"), StaffCommand::Status);
        assert_eq!(StaffCommand::parse("Status."), StaffCommand::Status);
        for help in ["HJÄLP", "hjälp", "Hjalp", "help", "?", ""] {
            assert_eq!(StaffCommand::parse(help), StaffCommand::Help, "{help}");
        }
        for stop in ["STOP", "stopp", "Unsubscribe"] {
            assert_eq!(StaffCommand::parse(stop), StaffCommand::Stop, "{stop}");
        }
        assert_eq!(StaffCommand::parse("start"), StaffCommand::Start);
        assert_eq!(StaffCommand::parse("hej hej"), StaffCommand::Unknown);
        assert_eq!(StaffCommand::parse("hjälp mig"), StaffCommand::Unknown);
    }

    #[test]
    fn log_entries_keep_their_text_and_may_name_the_incident() {
        assert_eq!(
            StaffCommand::parse("LOGG Strömmen tillbaka på Solgården kl 14.10"),
            StaffCommand::Log {
                incident: None,
                text: "Strömmen tillbaka på Solgården kl 14.10".into()
            }
        );
        assert_eq!(
            StaffCommand::parse("log #7   Generator running"),
            StaffCommand::Log {
                incident: Some(IncidentId(7)),
                text: "Generator running".into()
            }
        );
        // A '#' that is not a reference is part of the text.
        assert_eq!(
            StaffCommand::parse("LOGG #hashtag kvar"),
            StaffCommand::Log {
                incident: None,
                text: "#hashtag kvar".into()
            }
        );
        assert_eq!(StaffCommand::parse("LOGG"), StaffCommand::LogWithoutText);
        assert_eq!(StaffCommand::parse("logg #3"), StaffCommand::LogWithoutText);
    }

    #[test]
    fn answers_are_in_the_senders_language() {
        let logged = StaffReply::Logged {
            entry: LogEntryId(305),
            incident: IncidentId(7),
        };
        assert_eq!(
            logged.text(Language::Sv),
            "Loggat i krisloggen för händelse #7 som L305."
        );
        assert_eq!(
            logged.text(Language::En),
            "Logged in the crisis log of incident #7 as L305."
        );
        assert!(StaffReply::Help.text(Language::Sv).contains("LOGG"));
        assert!(StaffReply::Help.text(Language::En).contains("LOG text"));
        let status = StaffReply::Status {
            lines: vec![StatusLine {
                incident: IncidentId(3),
                title: "Journalsystemet nere".into(),
                state: IncidentState::Active,
            }],
            more: 2,
        };
        assert_eq!(
            status.text(Language::Sv),
            "Öppna händelser (3):\n#3 Journalsystemet nere (pågår)\n+2 till i Reserv."
        );
        let ambiguous = StaffReply::NameTheIncident {
            candidates: vec![IncidentId(3), IncidentId(5)],
        };
        assert!(ambiguous.text(Language::Sv).contains("#3, #5"));
    }
}
