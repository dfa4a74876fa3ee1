//! When a hotline answers, read from the opening hours a communicator wrote on a public
//! notice ("Dygnet runt", "Vardagar 08–17", "Weekdays 8 am–5 pm").
//!
//! The hours are free text for residents to read, so this reads only the forms people
//! commonly write and answers "unknown" for the rest: the phone line then connects the
//! caller rather than wrongly telling them the line is closed. Times are Swedish wall
//! clock times ([`crate::swedish_time::local`]).

use chrono::{Datelike, Duration, NaiveDateTime, NaiveTime, Timelike, Weekday};

/// A hotline's opening hours, as far as they could be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OpeningHours {
    Always,
    /// Open when any of the periods is.
    Periods(Vec<Period>),
}

/// Open on `days` (Monday first) from `opens` to `closes`, in minutes after midnight;
/// `closes` may be 24 × 60.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Period {
    pub days: [bool; 7],
    pub opens: u32,
    pub closes: u32,
}

const EVERY_DAY: [bool; 7] = [true; 7];
const WEEKDAYS: [bool; 7] = [true, true, true, true, true, false, false];
const WEEKENDS: [bool; 7] = [false, false, false, false, false, true, true];

impl OpeningHours {
    /// Reads `text`; `None` when it is not in a form Reserv knows.
    pub fn parse(text: &str) -> Option<Self> {
        let text = text.to_lowercase();
        const ALWAYS: &[&str] = &[
            "dygnet runt",
            "hela dygnet",
            "alltid öppet",
            "24/7",
            "24 timmar",
            "around the clock",
            "24 hours",
        ];
        if ALWAYS.iter().any(|words| text.contains(words)) {
            return Some(Self::Always);
        }
        let periods: Vec<Period> = text.split([',', ';', '\n']).filter_map(period).collect();
        (!periods.is_empty()).then_some(Self::Periods(periods))
    }

    /// Whether the line is open at the Swedish wall-clock time `local`.
    pub fn is_open(&self, local: NaiveDateTime) -> bool {
        match self {
            Self::Always => true,
            Self::Periods(periods) => {
                let day = local.weekday().num_days_from_monday() as usize;
                let minute = local.hour() * 60 + local.minute();
                periods.iter().any(|period| {
                    period.days.get(day).copied().unwrap_or(false)
                        && (period.opens..period.closes).contains(&minute)
                })
            }
        }
    }

    /// When the line opens next after `local`, within a week; `None` when it is open
    /// now or never opens.
    pub fn next_opening(&self, local: NaiveDateTime) -> Option<NaiveDateTime> {
        let Self::Periods(periods) = self else {
            return None;
        };
        if self.is_open(local) {
            return None;
        }
        (0..=7)
            .flat_map(|ahead| {
                let date = local.date() + Duration::days(ahead);
                let day = date.weekday().num_days_from_monday() as usize;
                periods
                    .iter()
                    .filter(move |period| period.days.get(day).copied().unwrap_or(false))
                    .filter_map(move |period| {
                        NaiveTime::from_hms_opt(period.opens / 60, period.opens % 60, 0)
                            .map(|time| date.and_time(time))
                    })
            })
            .filter(|opens| *opens > local)
            .min()
    }
}

/// One period: optional days, then optional times ("vardagar 08–17", "10.00-14.00").
fn period(part: &str) -> Option<Period> {
    let days = days_in(part);
    let times = times_in(part);
    match (days, times.as_slice()) {
        (days, [opens, closes, ..]) if opens < closes => Some(Period {
            days: days.unwrap_or(EVERY_DAY),
            opens: *opens,
            closes: *closes,
        }),
        (Some(days), []) => Some(Period {
            days,
            opens: 0,
            closes: 24 * 60,
        }),
        _ => None,
    }
}

fn days_in(part: &str) -> Option<[bool; 7]> {
    const NAMED: &[(&str, [bool; 7])] = &[
        ("vardag", WEEKDAYS),
        ("weekday", WEEKDAYS),
        ("mån–fre", WEEKDAYS),
        ("mån-fre", WEEKDAYS),
        ("måndag–fredag", WEEKDAYS),
        ("måndag-fredag", WEEKDAYS),
        ("mon–fri", WEEKDAYS),
        ("mon-fri", WEEKDAYS),
        ("monday–friday", WEEKDAYS),
        ("monday-friday", WEEKDAYS),
        ("helg", WEEKENDS),
        ("weekend", WEEKENDS),
        ("lör–sön", WEEKENDS),
        ("lör-sön", WEEKENDS),
        ("sat–sun", WEEKENDS),
        ("sat-sun", WEEKENDS),
        ("alla dagar", EVERY_DAY),
        ("varje dag", EVERY_DAY),
        ("every day", EVERY_DAY),
        ("daily", EVERY_DAY),
    ];
    NAMED
        .iter()
        .find(|(words, _)| part.contains(words))
        .map(|(_, days)| *days)
}

/// The times in `part`, in minutes after midnight: "08", "8.30", "08:30", "5 pm".
fn times_in(part: &str) -> Vec<u32> {
    let mut times = Vec::new();
    let chars: Vec<char> = part.chars().collect();
    let mut at = 0;
    while at < chars.len() {
        if !chars[at].is_ascii_digit() || (at > 0 && chars[at - 1].is_ascii_digit()) {
            at += 1;
            continue;
        }
        let number = |from: usize| {
            let digits: String = chars[from..]
                .iter()
                .take_while(|c| c.is_ascii_digit())
                .collect();
            (digits.len(), digits.parse::<u32>().ok())
        };
        let (length, hour) = number(at);
        at += length;
        let Some(mut hour) = hour.filter(|hour| length <= 2 && *hour <= 24) else {
            continue;
        };
        let mut minute = 0;
        if matches!(chars.get(at), Some('.' | ':'))
            && let (2, Some(minutes)) = number(at + 1)
            && minutes < 60
        {
            minute = minutes;
            at += 3;
        }
        let rest: String = chars[at..].iter().collect();
        let rest = rest.trim_start();
        if rest.starts_with("pm") && hour < 12 {
            hour += 12;
        } else if rest.starts_with("am") && hour == 12 {
            hour = 0;
        }
        times.push(hour * 60 + minute);
    }
    times
}

/// "måndag kl. 08.00" or "Monday at 08:00": when a line opens, for the ear and the eye.
pub fn opening_in_words(opens: NaiveDateTime, now: NaiveDateTime, english: bool) -> String {
    let day = if opens.date() == now.date() {
        if english { "today" } else { "i dag" }.to_owned()
    } else if opens.date() == now.date() + Duration::days(1) {
        if english { "tomorrow" } else { "i morgon" }.to_owned()
    } else {
        weekday_name(opens.weekday(), english).to_owned()
    };
    if english {
        format!("{day} at {}", opens.format("%H:%M"))
    } else {
        format!("{day} klockan {}", opens.format("%H.%M"))
    }
}

fn weekday_name(day: Weekday, english: bool) -> &'static str {
    match (day, english) {
        (Weekday::Mon, false) => "på måndag",
        (Weekday::Tue, false) => "på tisdag",
        (Weekday::Wed, false) => "på onsdag",
        (Weekday::Thu, false) => "på torsdag",
        (Weekday::Fri, false) => "på fredag",
        (Weekday::Sat, false) => "på lördag",
        (Weekday::Sun, false) => "på söndag",
        (Weekday::Mon, true) => "on Monday",
        (Weekday::Tue, true) => "on Tuesday",
        (Weekday::Wed, true) => "on Wednesday",
        (Weekday::Thu, true) => "on Thursday",
        (Weekday::Fri, true) => "on Friday",
        (Weekday::Sat, true) => "on Saturday",
        (Weekday::Sun, true) => "on Sunday",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;

    fn at(day: u32, hour: u32, minute: u32) -> NaiveDateTime {
        // 7 December 2026 is a Monday.
        NaiveDate::from_ymd_opt(2026, 12, day)
            .and_then(|date| date.and_hms_opt(hour, minute, 0))
            .unwrap_or_default()
    }

    #[test]
    fn the_forms_communicators_write_are_read() {
        assert_eq!(
            OpeningHours::parse("Dygnet runt"),
            Some(OpeningHours::Always)
        );
        assert_eq!(
            OpeningHours::parse("Around the clock"),
            Some(OpeningHours::Always)
        );
        let weekdays = Some(OpeningHours::Periods(vec![Period {
            days: WEEKDAYS,
            opens: 8 * 60,
            closes: 17 * 60,
        }]));
        assert_eq!(OpeningHours::parse("Vardagar 08–17"), weekdays);
        assert_eq!(OpeningHours::parse("Weekdays 8 am–5 pm"), weekdays);
        assert_eq!(OpeningHours::parse("mån-fre 08.00-17.00"), weekdays);
        assert_eq!(
            OpeningHours::parse("10:30–14"),
            Some(OpeningHours::Periods(vec![Period {
                days: EVERY_DAY,
                opens: 10 * 60 + 30,
                closes: 14 * 60,
            }]))
        );
        assert_eq!(OpeningHours::parse("Ring när du behöver"), None);
    }

    #[test]
    fn a_weekday_line_is_closed_at_night_and_over_the_weekend() {
        let Some(hours) = OpeningHours::parse("Vardagar 08–17, helger 10–14") else {
            unreachable!("the hours should be read");
        };
        assert!(hours.is_open(at(7, 8, 0)));
        assert!(hours.is_open(at(7, 16, 59)));
        assert!(!hours.is_open(at(7, 17, 0)));
        assert!(!hours.is_open(at(12, 9, 0)), "Saturday morning");
        assert!(hours.is_open(at(12, 10, 0)));
        assert_eq!(hours.next_opening(at(7, 18, 0)), Some(at(8, 8, 0)));
        assert_eq!(hours.next_opening(at(12, 15, 0)), Some(at(13, 10, 0)));
        assert_eq!(hours.next_opening(at(7, 9, 0)), None, "open now");
        assert_eq!(
            opening_in_words(at(8, 8, 0), at(7, 18, 0), false),
            "i morgon klockan 08.00"
        );
        assert_eq!(
            opening_in_words(at(14, 8, 0), at(11, 18, 0), true),
            "on Monday at 08:00"
        );
    }
}
