//! What residents hear and read on the information lines: the SMS answer to `INFO` and
//! the phone line that reads the current public notice aloud.
//!
//! Only a public notice (confidentiality 0 by [`crate::notices::NoticeDraft::validate`])
//! or the configured neutral text is ever said here. Texts for the ear are short
//! sentences with numbers read digit by digit; this module builds words, never TwiML.

use crate::notices::{Hotline, NoticeContent, ServiceState};
use crate::opening_hours::{OpeningHours, opening_in_words};
use crate::people::Language;
use crate::phone::E164;
use crate::swedish_time;
use chrono::{DateTime, Utc};

/// The answer to a resident's SMS: the notice's headline and its hotlines with their
/// hours, in Swedish, dropping hotlines from the end until the text `fits` (the
/// provider's segment budget); without a notice, `without_notice`.
pub fn information_sms(
    notice: Option<&NoticeContent>,
    without_notice: &str,
    fits: impl Fn(&str) -> bool,
) -> String {
    let Some(notice) = notice else {
        return sms_safe(without_notice);
    };
    let headline = sms_safe(&notice.headline.sv);
    let lines: Vec<String> = notice
        .hotlines
        .iter()
        .map(|hotline| {
            sms_safe(&format!(
                "Ring {}: {} ({})",
                hotline.name.sv,
                hotline.phone.for_reading(),
                hotline.opening_hours.sv
            ))
        })
        .collect();
    for kept in (0..=lines.len()).rev() {
        let text = std::iter::once(headline.clone())
            .chain(lines.iter().take(kept).cloned())
            .collect::<Vec<_>>()
            .join("\n");
        if fits(&text) {
            return text;
        }
    }
    // Even the headline alone is too long: shorten it.
    let mut short: String = headline.chars().collect();
    while !short.is_empty() && !fits(&format!("{short}...")) {
        short.pop();
    }
    format!("{}...", short.trim_end())
}

/// Dashes and quotes that would force an SMS out of the GSM alphabet (and so into
/// segments less than half as long) are written with their plain forms.
fn sms_safe(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            '–' | '—' | '‒' => '-',
            '’' | '‘' => '\'',
            '”' | '“' => '"',
            other => other,
        })
        .collect()
}

/// The notice read aloud in `language`: headline, text, services and hotlines, in short
/// sentences; without a notice, `without_notice`.
pub fn notice_for_the_ear(
    notice: Option<&NoticeContent>,
    language: Language,
    without_notice: &str,
) -> String {
    let Some(notice) = notice else {
        return for_the_ear(without_notice, language);
    };
    let mut sentences = vec![
        sentence(notice.headline.get(language)),
        sentence(notice.body.get(language)),
    ];
    for service in &notice.services {
        let state = match (service.state, language) {
            (ServiceState::Working, Language::Sv) => "fungerar",
            (ServiceState::Disrupted, Language::Sv) => "fungerar delvis",
            (ServiceState::Down, Language::Sv) => "fungerar inte",
            (ServiceState::Working, Language::En) => "working",
            (ServiceState::Disrupted, Language::En) => "partly working",
            (ServiceState::Down, Language::En) => "not working",
        };
        sentences.push(format!("{}: {state}.", service.name.get(language)));
    }
    for hotline in &notice.hotlines {
        let (call, open) = match language {
            Language::Sv => ("ring", "Öppet"),
            Language::En => ("call", "Open"),
        };
        sentences.push(format!(
            "{}: {call} {}.",
            hotline.name.get(language),
            digits_for_the_ear(&hotline.phone, language)
        ));
        sentences.push(sentence(&format!(
            "{open}: {}",
            lowercase_first(hotline.opening_hours.get(language))
        )));
    }
    for_the_ear(&sentences.join(" "), language)
}

/// The choices offered after the notice, in `language`; English is offered in English.
pub fn menu_for_the_ear(hotline: Option<&Hotline>, language: Language) -> String {
    let call = hotline.map(|hotline| match language {
        Language::Sv => format!(
            "Tryck noll för att ringa {}.",
            lowercase_first(&hotline.name.sv)
        ),
        Language::En => format!("Press zero to call {}.", hotline.name.get(Language::En)),
    });
    let again = match language {
        Language::Sv => "Tryck ett för att höra meddelandet igen.",
        Language::En => "Press one to hear the message in Swedish.",
    };
    call.into_iter()
        .chain(std::iter::once(again.to_owned()))
        .collect::<Vec<_>>()
        .join(" ")
}

/// The offer of the English text, said in English after the Swedish one.
pub const ENGLISH_OFFER: &str = "For information in English, press two.";

/// Whether a hotline answers at `now`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HotlineHours {
    /// Open, or hours Reserv cannot read: the caller is put through.
    Open,
    /// Closed; `opens` in words when it opens within a week.
    Closed { opens: Option<String> },
}

/// Whether `hotline` answers at `now`, read from its Swedish hours (or the English ones
/// when the Swedish cannot be read).
pub fn hotline_hours(hotline: &Hotline, now: DateTime<Utc>, language: Language) -> HotlineHours {
    let hours = OpeningHours::parse(&hotline.opening_hours.sv).or_else(|| {
        hotline
            .opening_hours
            .en
            .as_deref()
            .and_then(OpeningHours::parse)
    });
    let local = swedish_time::local(now);
    match hours {
        Some(hours) if !hours.is_open(local) => HotlineHours::Closed {
            opens: hours
                .next_opening(local)
                .map(|opens| opening_in_words(opens, local, language == Language::En)),
        },
        _ => HotlineHours::Open,
    }
}

/// What a caller hears before being put through.
pub fn connecting_for_the_ear(hotline: &Hotline, language: Language) -> String {
    match language {
        Language::Sv => format!("Du kopplas nu till {}.", lowercase_first(&hotline.name.sv)),
        Language::En => format!(
            "You are now being connected to {}.",
            hotline.name.get(Language::En)
        ),
    }
}

/// What a caller hears when the hotline is closed.
pub fn closed_for_the_ear(hotline: &Hotline, opens: Option<&str>, language: Language) -> String {
    let hours = lowercase_first(hotline.opening_hours.get(language));
    let text = match (language, opens) {
        (Language::Sv, Some(opens)) => format!(
            "{} är stängd just nu. Den öppnar {opens}. Öppettider: {hours}.",
            hotline.name.sv
        ),
        (Language::Sv, None) => format!(
            "{} är stängd just nu. Öppettider: {hours}.",
            hotline.name.sv
        ),
        (Language::En, Some(opens)) => format!(
            "{} is closed now. It opens {opens}. Opening hours: {hours}.",
            hotline.name.get(Language::En)
        ),
        (Language::En, None) => format!(
            "{} is closed now. Opening hours: {hours}.",
            hotline.name.get(Language::En)
        ),
    };
    let emergency = match language {
        Language::Sv => " Vid fara för liv eller hälsa, ring 112.",
        Language::En => " If a life is in danger, call 112.",
    };
    for_the_ear(&format!("{text}{emergency}"), language)
}

/// A phone number read digit by digit in the groups people write it in: "+46701740690"
/// is "noll sju noll, ett sju fyra, noll sex, nio noll".
pub fn digits_for_the_ear(phone: &E164, language: Language) -> String {
    spoken_digits(&phone.for_reading(), language)
}

fn spoken_digits(written: &str, language: Language) -> String {
    let mut groups: Vec<String> = Vec::new();
    for group in written.split([' ', '-']).filter(|group| !group.is_empty()) {
        let digits: Vec<char> = group.chars().collect();
        // A long run without spaces is read in threes, as people say numbers.
        for chunk in digits.chunks(if digits.len() > 4 { 3 } else { 4 }) {
            groups.push(
                chunk
                    .iter()
                    .map(|c| digit_word(*c, language))
                    .collect::<Vec<_>>()
                    .join(" "),
            );
        }
    }
    groups.join(", ")
}

fn digit_word(c: char, language: Language) -> &'static str {
    const SV: [&str; 10] = [
        "noll", "ett", "två", "tre", "fyra", "fem", "sex", "sju", "åtta", "nio",
    ];
    const EN: [&str; 10] = [
        "zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine",
    ];
    match (c.to_digit(10), language) {
        (Some(digit), Language::Sv) => SV.get(digit as usize).copied().unwrap_or(""),
        (Some(digit), Language::En) => EN.get(digit as usize).copied().unwrap_or(""),
        (None, Language::Sv) if c == '+' => "plus",
        (None, Language::En) if c == '+' => "plus",
        _ => "",
    }
}

/// Prepares written text for a speech engine: phone numbers (six digits or more,
/// starting with 0 or +) read digit by digit, "08–17" read as "08 till 17", dashes and
/// line breaks as pauses.
fn for_the_ear(text: &str, language: Language) -> String {
    let until = match language {
        Language::Sv => " till ",
        Language::En => " to ",
    };
    let chars: Vec<char> = text.chars().collect();
    let mut spoken = String::new();
    let mut at = 0;
    while let Some(&c) = chars.get(at) {
        let starts_number =
            (c == '+' || c == '0') && chars.get(at + 1).is_some_and(char::is_ascii_digit);
        if starts_number && (at == 0 || !chars[at - 1].is_ascii_digit()) {
            let run: String = chars[at..]
                .iter()
                .take_while(|c| c.is_ascii_digit() || matches!(c, ' ' | '-' | '+'))
                .collect();
            let run = run.trim_end_matches([' ', '-']);
            if run.chars().filter(char::is_ascii_digit).count() >= 6 {
                spoken.push_str(&spoken_digits(run, language));
                at += run.chars().count();
                continue;
            }
        }
        // "08–17", "8 am–5 pm": a dash after a time and before a digit is a range.
        let between_digits = chars[at.saturating_sub(4)..at]
            .iter()
            .any(char::is_ascii_digit)
            && chars.get(at + 1).is_some_and(char::is_ascii_digit);
        match c {
            '–' | '—' | '-' if between_digits => spoken.push_str(until),
            '–' | '—' => spoken.push(','),
            '\n' | '\r' => spoken.push(' '),
            other => spoken.push(other),
        }
        at += 1;
    }
    spoken.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn sentence(text: &str) -> String {
    let text = text.trim();
    if text.is_empty() || text.ends_with(['.', '!', '?']) {
        text.to_owned()
    } else {
        format!("{text}.")
    }
}

fn lowercase_first(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_lowercase().chain(chars).collect(),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::notices::{AffectedService, Localized};
    use chrono::TimeZone;

    fn text(sv: &str, en: &str) -> Localized {
        Localized {
            sv: sv.into(),
            en: Some(en.into()),
        }
    }

    fn phone(number: &str) -> E164 {
        E164::parse("phone", number).unwrap_or_else(|_| unreachable!("a valid number"))
    }

    fn notice() -> NoticeContent {
        NoticeContent {
            headline: text(
                "Hemtjänstens journalsystem är nere",
                "Home care's records system is down",
            ),
            body: text(
                "Besöken blir av som vanligt. Frågor? Ring 0921-123 45.",
                "Visits go ahead as usual.",
            ),
            services: vec![AffectedService {
                name: text("Trygghetslarm", "Safety alarms"),
                state: ServiceState::Working,
            }],
            hotlines: vec![
                Hotline {
                    name: text("Hemtjänst och boenden", "Home care and care homes"),
                    phone: phone("+46701740690"),
                    opening_hours: text("Dygnet runt", "Around the clock"),
                },
                Hotline {
                    name: text("Socialtjänstens mottagning", "Social services reception"),
                    phone: phone("+46701740691"),
                    opening_hours: text("Vardagar 08–17", "Weekdays 8 am–5 pm"),
                },
            ],
            valid_from: Utc.timestamp_opt(0, 0).single().unwrap_or_default(),
            valid_to: None,
        }
    }

    #[test]
    fn numbers_are_read_digit_by_digit_in_their_groups() {
        assert_eq!(
            digits_for_the_ear(&phone("+46701740690"), Language::Sv),
            "noll sju noll, ett sju fyra, noll sex, nio noll"
        );
        assert_eq!(
            digits_for_the_ear(&phone("+46701740690"), Language::En),
            "zero seven zero, one seven four, zero six, nine zero"
        );
    }

    #[test]
    fn the_notice_is_read_in_short_sentences_for_the_ear() {
        let swedish = notice_for_the_ear(Some(&notice()), Language::Sv, "");
        assert_eq!(
            swedish,
            "Hemtjänstens journalsystem är nere. Besöken blir av som vanligt. Frågor? Ring \
             noll nio två ett, ett två tre, fyra fem. Trygghetslarm: fungerar. \
             Hemtjänst och boenden: ring noll sju noll, ett sju fyra, noll sex, nio noll. \
             Öppet: dygnet runt. Socialtjänstens mottagning: ring noll sju noll, ett sju \
             fyra, noll sex, nio ett. Öppet: vardagar 08 till 17."
        );
        let english = notice_for_the_ear(Some(&notice()), Language::En, "");
        assert!(english.starts_with("Home care's records system is down. Visits go ahead"));
        assert!(
            english.contains("Open: weekdays 8 am to 5 pm."),
            "{english}"
        );
        assert_eq!(
            notice_for_the_ear(None, Language::Sv, "Inget störningsmeddelande just nu."),
            "Inget störningsmeddelande just nu."
        );
    }

    #[test]
    fn the_information_sms_keeps_to_its_budget() {
        let full = information_sms(Some(&notice()), "", |_| true);
        assert_eq!(
            full,
            "Hemtjänstens journalsystem är nere\nRing Hemtjänst och boenden: 070-174 06 90 (Dygnet runt)\nRing Socialtjänstens mottagning: 070-174 06 91 (Vardagar 08-17)"
        );
        let short = information_sms(Some(&notice()), "", |text| text.chars().count() < 100);
        assert_eq!(
            short,
            "Hemtjänstens journalsystem är nere\nRing Hemtjänst och boenden: 070-174 06 90 (Dygnet runt)"
        );
        let tiny = information_sms(Some(&notice()), "", |text| text.chars().count() <= 15);
        assert_eq!(tiny, "Hemtjänstens...");
        assert_eq!(
            information_sms(None, "Inget just nu", |_| true),
            "Inget just nu"
        );
    }

    #[test]
    fn a_closed_hotline_says_when_it_opens() {
        let reception = &notice().hotlines[1];
        // Friday 11 December 2026 at 18.30 Swedish time (UTC+1).
        let friday_evening = Utc
            .with_ymd_and_hms(2026, 12, 11, 17, 30, 0)
            .single()
            .unwrap_or_default();
        let hours = hotline_hours(reception, friday_evening, Language::Sv);
        assert_eq!(
            hours,
            HotlineHours::Closed {
                opens: Some("på måndag klockan 08.00".into())
            }
        );
        let HotlineHours::Closed { opens } = hours else {
            unreachable!()
        };
        assert_eq!(
            closed_for_the_ear(reception, opens.as_deref(), Language::Sv),
            "Socialtjänstens mottagning är stängd just nu. Den öppnar på måndag klockan 08.00. \
             Öppettider: vardagar 08 till 17. Vid fara för liv eller hälsa, ring 112."
        );
        let monday_morning = Utc
            .with_ymd_and_hms(2026, 12, 14, 8, 0, 0)
            .single()
            .unwrap_or_default();
        assert_eq!(
            hotline_hours(reception, monday_morning, Language::Sv),
            HotlineHours::Open
        );
        assert_eq!(
            hotline_hours(&notice().hotlines[0], friday_evening, Language::Sv),
            HotlineHours::Open
        );
    }
}
