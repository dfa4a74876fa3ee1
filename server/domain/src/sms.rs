//! What SMS can carry and how fast it goes.
//!
//! Segments: a text in the GSM 7-bit alphabet (which has å, ä, ö, é and ü) fits 160
//! characters in one segment and 153 per segment when split; any other character (an
//! emoji, a Polish ł) makes the whole text UCS-2, with 70 and 67. Providers bill, and
//! phones reassemble, per segment.
//!
//! Speed: the provider, not our CPU, decides how fast people are reached. An ordinary
//! sender number takes about one segment a second, so a crisis lead needs to know
//! before sending whether 1 600 texts take two minutes or half an hour.

use crate::people::Language;
use std::time::Duration;

/// The GSM 03.38 basic alphabet, one septet each.
const GSM_BASIC: &str = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà";
/// The extension table: two septets each (escape + character).
const GSM_EXTENSION: &str = "^{}\\[~]|€\u{c}";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    Gsm7,
    Ucs2,
}

/// A text's encoding and segment count.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Segments {
    pub encoding: Encoding,
    pub count: usize,
}

pub fn count_segments(text: &str) -> Segments {
    let septets: Option<usize> = text
        .chars()
        .map(|c| {
            if GSM_BASIC.contains(c) {
                Some(1)
            } else if GSM_EXTENSION.contains(c) {
                Some(2)
            } else {
                None
            }
        })
        .sum();
    let (encoding, units, single, multi) = match septets {
        Some(septets) => (Encoding::Gsm7, septets, 160, 153),
        None => (Encoding::Ucs2, text.encode_utf16().count(), 70, 67),
    };
    let count = if units <= single {
        1
    } else {
        units.div_ceil(multi)
    };
    Segments { encoding, count }
}

/// Whether SMS is configured, and how much it can carry.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum SmsChannel {
    /// No provider is configured: messages reach the app and push only.
    Off,
    On(SmsCapacity),
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SmsCapacity {
    /// Sender numbers in the pool; a messaging service counts as one.
    pub senders: usize,
    /// Segments one sender may send per second.
    pub rate_per_sender: f64,
    /// Texts longer than this are refused before anything is queued.
    pub max_segments: usize,
}

impl SmsCapacity {
    /// Segments the whole pool sends per second.
    pub fn segments_per_second(&self) -> f64 {
        self.rate_per_sender * self.senders.max(1) as f64
    }

    /// How long `segments` take through the pool, rounded up to whole seconds.
    pub fn time_for(&self, segments: u64) -> Duration {
        let rate = self.segments_per_second();
        if segments == 0 || rate <= 0.0 {
            return Duration::ZERO;
        }
        Duration::from_secs((segments as f64 / rate).ceil() as u64)
    }
}

/// How long one send takes through the pool, before it starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SmsEstimate {
    pub texts: u64,
    pub segments: u64,
    pub senders: usize,
    pub duration: Duration,
}

impl SmsCapacity {
    pub fn estimate(&self, texts: u64, segments: u64) -> SmsEstimate {
        SmsEstimate {
            texts,
            segments,
            senders: self.senders.max(1),
            duration: self.time_for(segments),
        }
    }
}

impl SmsEstimate {
    /// One line for the crisis lead: "1 600 sms via 4 avsändare ≈ 7 min".
    pub fn summary(&self, language: Language) -> String {
        let texts = grouped(self.texts);
        let senders = self.senders;
        let time = minutes_for_reading(self.duration);
        match (language, senders) {
            (Language::Sv, 1) => format!("{texts} sms via 1 avsändare ≈ {time}"),
            (Language::Sv, _) => format!("{texts} sms via {senders} avsändare ≈ {time}"),
            (Language::En, 1) => format!("{texts} SMS over 1 sender ≈ {time}"),
            (Language::En, _) => format!("{texts} SMS over {senders} senders ≈ {time}"),
        }
    }
}

/// A duration as a crisis lead reads it, the same in Swedish and English: "under 1 min",
/// "7 min", "1 h 5 min".
fn minutes_for_reading(duration: Duration) -> String {
    let seconds = duration.as_secs();
    if seconds < 60 {
        return "under 1 min".to_owned();
    }
    let minutes = seconds.div_ceil(60);
    if minutes < 60 {
        return format!("{minutes} min");
    }
    format!("{} h {} min", minutes / 60, minutes % 60)
}

/// Thousands grouped with a space, as both Swedish and the SI style write them.
fn grouped(number: u64) -> String {
    let digits = number.to_string();
    let mut out = String::new();
    for (index, digit) in digits.chars().enumerate() {
        if index > 0 && (digits.len() - index).is_multiple_of(3) {
            out.push('\u{a0}');
        }
        out.push(digit);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn swedish_letters_are_gsm7_and_emoji_are_not() {
        let swedish = "Ä".repeat(160);
        assert_eq!(
            count_segments(&swedish),
            Segments {
                encoding: Encoding::Gsm7,
                count: 1
            }
        );
        assert_eq!(count_segments(&"å".repeat(161)).count, 2);
        let with_emoji = format!("{}🙂", "a".repeat(68));
        assert_eq!(
            count_segments(&with_emoji),
            Segments {
                encoding: Encoding::Ucs2,
                count: 1
            }
        );
        assert_eq!(count_segments(&format!("{}🙂", "a".repeat(69))).count, 2);
    }

    #[test]
    fn a_pool_of_senders_shares_the_load() {
        let pool = SmsCapacity {
            senders: 4,
            rate_per_sender: 1.0,
            max_segments: 3,
        };
        assert_eq!(pool.time_for(1600), Duration::from_secs(400));
        assert_eq!(
            pool.estimate(1600, 1600).summary(Language::Sv),
            "1\u{a0}600 sms via 4 avsändare ≈ 7 min"
        );
        assert_eq!(
            pool.estimate(1600, 1600).summary(Language::En),
            "1\u{a0}600 SMS over 4 senders ≈ 7 min"
        );
        let one = SmsCapacity { senders: 1, ..pool };
        let read = |segments| minutes_for_reading(one.time_for(segments));
        assert_eq!(read(1600), "27 min");
        assert_eq!(read(3), "under 1 min");
        assert_eq!(read(3900), "1 h 5 min");
        assert_eq!(one.time_for(0), Duration::ZERO);
        assert_eq!(grouped(12_345_678), "12\u{a0}345\u{a0}678");
    }

    #[test]
    fn extension_characters_take_two_septets() {
        assert_eq!(count_segments(&"€".repeat(80)).count, 1);
        assert_eq!(count_segments(&"€".repeat(81)).count, 2);
    }
}
