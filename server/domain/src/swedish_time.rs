//! Moments as Swedish readers expect them: in Swedish time (Europe/Stockholm), in words
//! of the reader's language. Shared by every page Reserv renders (the status page, the
//! static fallback site, printed binders), so that all of them tell the same time.

use crate::people::Language;
use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveDateTime, TimeZone, Utc};

/// `at` as a wall-clock time in Sweden.
pub fn local(at: DateTime<Utc>) -> NaiveDateTime {
    (at + stockholm_offset(at)).naive_utc()
}

/// "10 februari 2026 kl. 08.40" or "10 February 2026, 08:40", in Swedish time.
pub fn in_words(at: DateTime<Utc>, language: Language) -> String {
    let local = local(at);
    match language {
        Language::Sv => format!(
            "{} kl. {}",
            date_words_sv(local.date()),
            local.format("%H.%M")
        ),
        Language::En => format!("{}, {}", local.format("%-d %B %Y"), local.format("%H:%M")),
    }
}

/// "10 februari 2026" or "10 February 2026": the date in Swedish time.
pub fn date_in_words(at: DateTime<Utc>, language: Language) -> String {
    let date = local(at).date();
    match language {
        Language::Sv => date_words_sv(date),
        Language::En => date.format("%-d %B %Y").to_string(),
    }
}

fn date_words_sv(date: NaiveDate) -> String {
    const MONTHS: [&str; 12] = [
        "januari",
        "februari",
        "mars",
        "april",
        "maj",
        "juni",
        "juli",
        "augusti",
        "september",
        "oktober",
        "november",
        "december",
    ];
    let month = MONTHS.get(date.month0() as usize).copied().unwrap_or("");
    format!("{} {month} {}", date.day(), date.year())
}

/// Sweden's offset from UTC: one hour, two in summer time, which in the EU runs from
/// 01:00 UTC on the last Sunday of March to 01:00 UTC on the last Sunday of October.
/// Worked out here because this is the only time zone Reserv shows, not worth a
/// time-zone database.
pub fn stockholm_offset(at: DateTime<Utc>) -> Duration {
    let year = at.year();
    let summer_starts = last_sunday_at_one(year, 3);
    let summer_ends = last_sunday_at_one(year, 10);
    match (summer_starts, summer_ends) {
        (Some(start), Some(end)) if at >= start && at < end => Duration::hours(2),
        _ => Duration::hours(1),
    }
}

fn last_sunday_at_one(year: i32, month: u32) -> Option<DateTime<Utc>> {
    let last_day = NaiveDate::from_ymd_opt(year, month + 1, 1)?.pred_opt()?;
    let back = last_day.weekday().num_days_from_sunday();
    let sunday = last_day - Duration::days(i64::from(back));
    Some(Utc.from_utc_datetime(&sunday.and_hms_opt(1, 0, 0)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_are_shown_in_swedish_time_across_summer_time() {
        let winter = Utc.with_ymd_and_hms(2026, 2, 10, 7, 40, 0).single();
        let summer = Utc.with_ymd_and_hms(2026, 7, 1, 7, 40, 0).single();
        let texts = [winter, summer].map(|at| at.map(|at| in_words(at, Language::Sv)));
        assert_eq!(
            texts,
            [
                Some("10 februari 2026 kl. 08.40".to_owned()),
                Some("1 juli 2026 kl. 09.40".to_owned())
            ]
        );
        let english = winter.map(|at| in_words(at, Language::En));
        assert_eq!(english.as_deref(), Some("10 February 2026, 08:40"));
        assert_eq!(
            winter.map(|at| date_in_words(at, Language::Sv)).as_deref(),
            Some("10 februari 2026")
        );
        // Summer time in 2026 starts on 29 March at 01:00 UTC.
        let before = Utc.with_ymd_and_hms(2026, 3, 29, 0, 59, 0).single();
        let after = Utc.with_ymd_and_hms(2026, 3, 29, 1, 0, 0).single();
        assert_eq!(before.map(stockholm_offset), Some(Duration::hours(1)));
        assert_eq!(after.map(stockholm_offset), Some(Duration::hours(2)));
        // Just before midnight UTC on New Year's Eve it is already next year in Sweden.
        let new_year = Utc.with_ymd_and_hms(2026, 12, 31, 23, 30, 0).single();
        assert_eq!(
            new_year.map(|at| in_words(at, Language::Sv)).as_deref(),
            Some("1 januari 2027 kl. 00.30")
        );
    }
}
