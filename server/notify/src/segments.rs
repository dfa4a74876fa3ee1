//! How many SMS segments a text takes. A text in the GSM 7-bit alphabet (which has å,
//! ä, ö, é and ü) fits 160 characters in one segment and 153 per segment when split;
//! any other character (an emoji, a Polish ł) makes the whole text UCS-2, with 70 and
//! 67. Providers bill, and phones reassemble, per segment.

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
    fn extension_characters_take_two_septets() {
        assert_eq!(count_segments(&"€".repeat(80)).count, 1);
        assert_eq!(count_segments(&"€".repeat(81)).count, 2);
    }
}
